"""A fake OMS (order management system), implementing the contract in oms-api.txt.

Every `/api/v1/...` path needs `Authorization: Bearer <api_token>`. Bodies are JSON;
every success is 200. Errors answer `{"message": <reason>, "details": {<field>: <why>}}`,
the reason being the spec's name for the status ("Bad Request", "Unauthorized",
"Forbidden", "Not Found", "Server Error"). Nested fields are named by path, e.g.
`items.0.quantity`.

- Product categories, products, product variants: list (a JSON array), create, get,
  update (PUT, only the fields sent change), delete. Ids are integers from 1; each row
  also gets a `uuid` (a variant may be given its own on create, 36 characters). Every
  field has the type its endpoint documents: a category's `parent_id` and
  `default_location_id` are UIDs (strings), a product's and a variant's ids integers. A
  field the endpoint does not document is refused (400). A category is found by its id
  or its uuid in the path, and by its uuid in `parent_id`; a stored `parent_id` is
  always the parent's integer id.
- Orders (by `uid`): list, create, get, update (PUT), delete. Items sent with an update
  replace the order's items; an item that keeps its `ecommerce_order_item_id` keeps its
  `uid` and print status.
- `GET /api/v1/order-items/{ecommerce_order_item_id}/print`: the item's print file.
  Items of an order created with `create_print_files: true` move one step per poll,
  received -> processing -> ready; other items stay received until
  `/_sandbox/print-status` moves them. A ready file is served at its `url`.
- `POST /api/v1/batch-orders`: answers the batch with status "Batching".

Where the spec is silent: deleting a product deletes its variants; deleting a category
that still has subcategories or products is refused with 400; an `ecommerce_order_id`
is unique within its store and an `ecommerce_order_item_id` across all orders.

Options: `api_token` ("demo-oms-token"); `public_base`, the sandbox's own URL, which
print file URLs point at. Unknown options are ignored.

Fault switches, on top of the common ones (whose 500s take the OMS error shape):
- `fail_path`: requests to this path, or below it, answer 500 while it is set.
- `forbid_next`: the next N API requests answer 403.

Control paths, besides the common ones:
- `GET /_sandbox/state`: counts and rows of every table.
- `POST /_sandbox/print-status` `{"ecommerce_order_item_id": ..., "status": ...}`: sets
  an item's print status.
"""

import copy
import uuid
from dataclasses import dataclass
from functools import wraps
from urllib.parse import quote

from werkzeug.exceptions import HTTPException
from werkzeug.routing import Rule
from werkzeug.wrappers import Response

from sandbox.base import Fake, json_response

REASONS = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    500: "Server Error",
}

PRINT_STATUSES = ("received", "processing", "processingfailed", "ready")
NEXT_PRINT_STATUS = {"received": "processing", "processing": "ready"}


@dataclass(frozen=True)
class Field:
    kind: str
    required: bool = False
    default: object = None
    fields: dict | None = None  # the fields of an object, or of each object in an array
    choices: tuple = ()


def is_integer(value):
    return isinstance(value, int) and not isinstance(value, bool)


KINDS = {
    "string": (lambda value: isinstance(value, str), "Must be a string."),
    "integer": (is_integer, "Must be an integer."),
    "unsigned": (lambda value: is_integer(value) and value >= 0, "Must be an integer >= 0."),
    "number": (
        lambda value: is_integer(value) or isinstance(value, float), "Must be a number."
    ),
    "boolean": (lambda value: isinstance(value, bool), "Must be true or false."),
    "object": (lambda value: isinstance(value, dict), "Must be an object."),
    "array": (lambda value: isinstance(value, list), "Must be an array."),
    "strings": (
        lambda value: isinstance(value, list) and all(isinstance(v, str) for v in value),
        "Must be an array of strings.",
    ),
}

CATEGORY_FIELDS = {
    "name": Field("string", required=True),
    "parent_id": Field("string"),
    "description": Field("string"),
    "default_dpi": Field("integer", default=300),
    "editor_category_id": Field("string"),
    "default_location_id": Field("string"),
}

PRODUCT_FIELDS = {
    "category_id": Field("integer", required=True),
    "name": Field("string", required=True),
    "code": Field("string"),
    "order_column": Field("integer", required=True),
    "active": Field("boolean", required=True),
    "description": Field("string"),
    "default_dpi": Field("integer"),
    "team_id": Field("integer", required=True),
    "editor_category_id": Field("string"),
    "default_location_id": Field("integer"),
}

VARIANT_FIELDS = {
    "uuid": Field("string"),
    "name": Field("string", required=True),
    "product_variant_category_id": Field("integer"),
    "product_id": Field("integer", required=True),
    "price_id": Field("integer"),
    "editor_product_id": Field("string"),
    "weight": Field("unsigned"),
    "length": Field("integer"),
    "width": Field("integer"),
    "height": Field("integer"),
    "description": Field("string"),
    "country_id": Field("integer", required=True),
    "customs_code": Field("string"),
    "customs_description": Field("string"),
    "long_customs_description": Field("string"),
    "default_dpi": Field("unsigned"),
    "seo_details": Field("string"),
    "ecommerce_tags": Field("string"),
    "default_location_id": Field("integer"),
}
# The spec's update of a variant has no uuid.
VARIANT_UPDATE_FIELDS = {name: f for name, f in VARIANT_FIELDS.items() if name != "uuid"}

CUSTOMER_FIELDS = {
    "email": Field("string"),
    "ecommerce_customer_id": Field("string"),
    "name": Field("string"),
    "surname": Field("string"),
    "phone": Field("string"),
}

ITEM_FIELDS = {
    "ecommerce_order_item_id": Field("string", required=True),
    "ecommerce_variant_id": Field("string", required=True),
    "quantity": Field("integer", required=True),
    "price": Field("number"),
    "properties": Field("object"),
    "template_config": Field("string", required=True),
    "thumbnails": Field("strings", required=True),
    "design_version_id": Field("string"),
}

ADDRESS_FIELDS = {
    "type_id": Field("string", required=True, choices=("billing", "shipping")),
    "address_1": Field("string", required=True),
    "address_2": Field("string"),
    "post_code": Field("string", required=True),
    "city": Field("string", required=True),
    "county": Field("string"),
    "country_code": Field("string", required=True),
    "country_id": Field("integer"),
}

SHIPPING_FIELDS = {
    "code": Field("string", required=True),
    "shipping_price": Field("number", required=True),
}

ORDER_FIELDS = {
    "store_id": Field("string", required=True),
    "items": Field("array", required=True, fields=ITEM_FIELDS),
    "ecommerce_order_id": Field("string", required=True),
    "ecommerce_order_number": Field("string"),
    "total_price": Field("number"),
    "subtotal_price": Field("number"),
    "currency_code": Field("string"),
    "customer": Field("object", fields=CUSTOMER_FIELDS),
    "note": Field("string"),
    "addresses": Field("array", default=[], fields=ADDRESS_FIELDS),
    "shippings": Field("array", default=[], fields=SHIPPING_FIELDS),
    "create_print_files": Field("boolean", default=False),
}
ORDER_UPDATE_FIELDS = {
    name: ORDER_FIELDS[name]
    for name in (
        "customer", "items", "ecommerce_order_number", "total_price", "subtotal_price",
        "currency_code", "note", "addresses", "shippings",
    )
}

BATCH_ORDER_FIELDS = {
    "order_items": Field("strings", required=True),
    "print_templates": Field("strings", required=True),
}


@dataclass(frozen=True)
class Table:
    label: str  # as in "Product variant successfully deleted"
    id_name: str  # the id's name in the path and in the delete confirmation
    fields: dict
    update_fields: dict


TABLES = {
    "categories": Table("Product category", "category_id", CATEGORY_FIELDS, CATEGORY_FIELDS),
    "products": Table("Product", "product_id", PRODUCT_FIELDS, PRODUCT_FIELDS),
    "variants": Table("Product variant", "variant_id", VARIANT_FIELDS, VARIANT_UPDATE_FIELDS),
}


def error(status, details, headers=None):
    return json_response({"message": REASONS[status], "details": details}, status, headers)


def bad_request(details):
    return error(400, details)


def server_error():
    return error(500, {"server": "Internal server error."})


def is_empty(value):
    return value is None or value == "" or value == []


def validate(data, fields, partial=False, prefix=""):
    """The known fields of `data` checked against `fields`, and the problems by field path.

    A full check (a create) fills absent optional fields with their defaults; a partial
    one (an update) keeps only the fields sent. Unknown fields are dropped.
    """
    cleaned, errors = {}, {}
    for name, field in fields.items():
        path = f"{prefix}{name}"
        if name not in data:
            if partial:
                continue
            if field.required:
                errors[path] = "This field is required."
            else:
                cleaned[name] = copy.deepcopy(field.default)
            continue
        value = data[name]
        if field.required and is_empty(value):
            errors[path] = "This field may not be empty."
            continue
        if value is None:
            cleaned[name] = None
            continue
        check, message = KINDS[field.kind]
        if not check(value):
            errors[path] = message
        elif field.choices and value not in field.choices:
            errors[path] = f"Must be one of: {', '.join(field.choices)}."
        elif field.fields and field.kind == "object":
            cleaned[name], nested = validate(value, field.fields, prefix=f"{path}.")
            errors.update(nested)
        elif field.fields:
            cleaned[name] = []
            for index, element in enumerate(value):
                if not isinstance(element, dict):
                    errors[f"{path}.{index}"] = "Must be an object."
                    continue
                element, nested = validate(element, field.fields, prefix=f"{path}.{index}.")
                cleaned[name].append(element)
                errors.update(nested)
        else:
            cleaned[name] = value
    return cleaned, errors


def undocumented(data, fields):
    """The fields of `data` its endpoint does not document, each refused by name."""
    return {name: "This field is not allowed." for name in data if name not in fields}


def json_object(request):
    body = request.get_json(force=True, silent=True)
    return body if isinstance(body, dict) else None


NOT_AN_OBJECT = {"body": "Must be a JSON object."}


def api(handler):
    """Answer 401 without the right token; otherwise run the handler under the lock."""

    @wraps(handler)
    def guarded(self, request, **values):
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer" or token.strip() != self.api_token:
            return error(
                401, {"authorization": "Missing or invalid API token."},
                headers={"WWW-Authenticate": "Bearer"},
            )
        with self.lock:
            return handler(self, request, **values)

    return guarded


def blank_pdf():
    """A valid one-page blank PDF, served as every ready print file."""
    objects = [
        b"<</Type/Catalog/Pages 2 0 R>>",
        b"<</Type/Pages/Kids[3 0 R]/Count 1>>",
        b"<</Type/Page/Parent 2 0 R/MediaBox[0 0 595 842]>>",
    ]
    pdf = b"%PDF-1.4\n"
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(pdf))
        pdf += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(pdf)
    pdf += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    pdf += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    pdf += b"trailer\n<</Size %d/Root 1 0 R>>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1, xref,
    )
    return pdf


PRINT_FILE = blank_pdf()


class OMSFake(Fake):
    rules = [
        Rule("/api/v1/product-categories", endpoint="list_categories", methods=["GET"]),
        Rule("/api/v1/product-categories", endpoint="create_category", methods=["POST"]),
        Rule("/api/v1/product-categories/<ref>", endpoint="get_category", methods=["GET"]),
        Rule("/api/v1/product-categories/<ref>", endpoint="update_category", methods=["PUT"]),
        Rule(
            "/api/v1/product-categories/<ref>", endpoint="delete_category", methods=["DELETE"]
        ),
        Rule("/api/v1/products", endpoint="list_products", methods=["GET"]),
        Rule("/api/v1/products", endpoint="create_product", methods=["POST"]),
        Rule("/api/v1/products/<int:row_id>", endpoint="get_product", methods=["GET"]),
        Rule("/api/v1/products/<int:row_id>", endpoint="update_product", methods=["PUT"]),
        Rule("/api/v1/products/<int:row_id>", endpoint="delete_product", methods=["DELETE"]),
        Rule("/api/v1/product-variants", endpoint="list_variants", methods=["GET"]),
        Rule("/api/v1/product-variants", endpoint="create_variant", methods=["POST"]),
        Rule("/api/v1/product-variants/<int:row_id>", endpoint="get_variant", methods=["GET"]),
        Rule(
            "/api/v1/product-variants/<int:row_id>", endpoint="update_variant", methods=["PUT"]
        ),
        Rule(
            "/api/v1/product-variants/<int:row_id>", endpoint="delete_variant",
            methods=["DELETE"],
        ),
        Rule("/api/v1/orders", endpoint="list_orders", methods=["GET"]),
        Rule("/api/v1/orders", endpoint="create_order", methods=["POST"]),
        Rule("/api/v1/orders/<order_uid>", endpoint="get_order", methods=["GET"]),
        Rule("/api/v1/orders/<order_uid>", endpoint="update_order", methods=["PUT"]),
        Rule("/api/v1/orders/<order_uid>", endpoint="delete_order", methods=["DELETE"]),
        Rule(
            "/api/v1/order-items/<item_id>/print", endpoint="print_file_status", methods=["GET"]
        ),
        Rule("/api/v1/batch-orders", endpoint="create_batch_order", methods=["POST"]),
        Rule("/print-files/<item_id>.pdf", endpoint="print_file", methods=["GET"]),
        Rule("/_sandbox/state", endpoint="control_state", methods=["GET"]),
        Rule("/_sandbox/print-status", endpoint="control_print_status", methods=["POST"]),
    ]
    extra_faults = {"fail_path": None, "forbid_next": 0}

    def seed(self):
        self.api_token = self.options.get("api_token", "demo-oms-token")
        self.public_base = self.options.get("public_base", "http://127.0.0.1:8001").rstrip("/")
        self.state = {
            "categories": {}, "products": {}, "variants": {}, "orders": {}, "batch_orders": {},
        }
        self.next_ids = {table: 1 for table in TABLES}

    def new_id(self, table):
        row_id = self.next_ids[table]
        self.next_ids[table] += 1
        return row_id

    # -- errors and faults -------------------------------------------------------------

    def dispatch(self, request):
        # Unknown paths and methods answer in the OMS error shape too.
        if not request.path.startswith("/_sandbox/"):
            try:
                self.url_map.bind_to_environ(request.environ).match()
            except HTTPException as exc:
                return error(exc.code, {"path": f"No route for {request.method} {request.path}."})
        return super().dispatch(request)

    def injected_fault(self, request):
        if request.path.startswith("/print-files/"):
            return None
        fault = super().injected_fault(request)
        if fault is not None:
            return server_error() if fault.status_code == 500 else fault
        failing = (self.faults["fail_path"] or "").rstrip("/")
        if failing and (request.path == failing or request.path.startswith(failing + "/")):
            return server_error()
        if self._take("forbid_next"):
            return error(403, {"authorization": "This token may not perform this action."})
        return None

    # -- the catalog: categories, products, variants ------------------------------------

    def find_category(self, ref):
        """A category by its integer id (or its digits) or by its uuid, else None."""
        categories = self.state["categories"]
        if is_integer(ref) or (isinstance(ref, str) and ref.isdigit()):
            return categories.get(int(ref))
        return self.category_by_uid(ref)

    def category_by_uid(self, uid):
        return next((row for row in self.state["categories"].values() if row["uuid"] == uid),
                    None)

    def not_found(self, table, row_id):
        spec = TABLES[table]
        return error(404, {spec.id_name: f"{spec.label} {row_id} not found."})

    def reference_errors(self, table, fields, row_id=None):
        """Problems with the rows `fields` refer to; resolves a category's parent_id."""
        if table == "categories" and fields.get("parent_id") is not None:
            parent = self.category_by_uid(fields["parent_id"])
            if parent is None:
                return {"parent_id": f"Product category {fields['parent_id']} not found."}
            fields["parent_id"] = parent["id"]
            ancestor = parent
            while ancestor is not None:
                if ancestor["id"] == row_id:
                    return {"parent_id": "A category cannot be placed under itself."}
                ancestor = self.state["categories"].get(ancestor["parent_id"])
        if table == "products" and fields.get("category_id") is not None:
            if fields["category_id"] not in self.state["categories"]:
                return {"category_id": f"Product category {fields['category_id']} not found."}
        if table == "variants":
            if fields.get("product_id") is not None:
                if fields["product_id"] not in self.state["products"]:
                    return {"product_id": f"Product {fields['product_id']} not found."}
            if fields.get("uuid") is not None:
                if len(fields["uuid"]) != 36:
                    return {"uuid": "Must be 36 characters long."}
                if any(row["uuid"] == fields["uuid"] for row in self.state["variants"].values()):
                    return {"uuid": "Has already been taken."}
        return {}

    def list_rows(self, table):
        return json_response(list(self.state[table].values()))

    def create_row(self, request, table):
        body = json_object(request)
        if body is None:
            return bad_request(NOT_AN_OBJECT)
        fields, errors = validate(body, TABLES[table].fields)
        errors = {**undocumented(body, TABLES[table].fields), **errors}
        errors = errors or self.reference_errors(table, fields)
        if errors:
            return bad_request(errors)
        row_id = self.new_id(table)
        row = {"id": row_id, "uuid": fields.pop("uuid", None) or str(uuid.uuid4()), **fields}
        self.state[table][row_id] = row
        return json_response(row)

    def get_row(self, table, row_id):
        row = self.state[table].get(row_id)
        if row is None:
            return self.not_found(table, row_id)
        return json_response(row)

    def update_row(self, request, table, row):
        body = json_object(request)
        if body is None:
            return bad_request(NOT_AN_OBJECT)
        fields, errors = validate(body, TABLES[table].update_fields, partial=True)
        errors = {**undocumented(body, TABLES[table].update_fields), **errors}
        errors = errors or self.reference_errors(table, fields, row["id"])
        if errors:
            return bad_request(errors)
        row.update(fields)
        return json_response(row)

    def deleted(self, table, row_id):
        spec = TABLES[table]
        del self.state[table][row_id]
        return json_response(
            {"message": f"{spec.label} successfully deleted", spec.id_name: row_id}
        )

    @api
    def list_categories(self, request):
        return self.list_rows("categories")

    @api
    def create_category(self, request):
        return self.create_row(request, "categories")

    @api
    def get_category(self, request, ref):
        category = self.find_category(ref)
        if category is None:
            return self.not_found("categories", ref)
        return json_response(category)

    @api
    def update_category(self, request, ref):
        category = self.find_category(ref)
        if category is None:
            return self.not_found("categories", ref)
        return self.update_row(request, "categories", category)

    @api
    def delete_category(self, request, ref):
        category = self.find_category(ref)
        if category is None:
            return self.not_found("categories", ref)
        category_id = category["id"]
        children = sum(
            row["parent_id"] == category_id for row in self.state["categories"].values()
        )
        products = sum(
            row["category_id"] == category_id for row in self.state["products"].values()
        )
        if children or products:
            return bad_request({
                "category_id": f"Product category {category_id} still has {children} "
                f"subcategories and {products} products."
            })
        return self.deleted("categories", category_id)

    @api
    def list_products(self, request):
        return self.list_rows("products")

    @api
    def create_product(self, request):
        return self.create_row(request, "products")

    @api
    def get_product(self, request, row_id):
        return self.get_row("products", row_id)

    @api
    def update_product(self, request, row_id):
        product = self.state["products"].get(row_id)
        if product is None:
            return self.not_found("products", row_id)
        return self.update_row(request, "products", product)

    @api
    def delete_product(self, request, row_id):
        if row_id not in self.state["products"]:
            return self.not_found("products", row_id)
        variants = self.state["variants"]
        for variant_id in [key for key, row in variants.items() if row["product_id"] == row_id]:
            del variants[variant_id]
        return self.deleted("products", row_id)

    @api
    def list_variants(self, request):
        return self.list_rows("variants")

    @api
    def create_variant(self, request):
        return self.create_row(request, "variants")

    @api
    def get_variant(self, request, row_id):
        return self.get_row("variants", row_id)

    @api
    def update_variant(self, request, row_id):
        variant = self.state["variants"].get(row_id)
        if variant is None:
            return self.not_found("variants", row_id)
        return self.update_row(request, "variants", variant)

    @api
    def delete_variant(self, request, row_id):
        if row_id not in self.state["variants"]:
            return self.not_found("variants", row_id)
        return self.deleted("variants", row_id)

    # -- orders ------------------------------------------------------------------------

    def order_view(self, order):
        items = [
            {key: value for key, value in item.items() if key != "print_status"}
            for item in order["items"]
        ]
        return {**order, "items": items}

    def order_or_404(self, order_uid):
        order = self.state["orders"].get(order_uid)
        if order is None:
            return None, error(404, {"order_uid": f"Order {order_uid} not found."})
        return order, None

    def find_item(self, item_id):
        """The order and item of an ecommerce_order_item_id, else (None, None)."""
        for order in self.state["orders"].values():
            for item in order["items"]:
                if item["ecommerce_order_item_id"] == item_id:
                    return order, item
        return None, None

    def item_conflicts(self, items, order_uid=None):
        """Problems with item ids used twice in `items` or by another order."""
        errors = {}
        seen = set()
        for index, item in enumerate(items):
            item_id = item["ecommerce_order_item_id"]
            owner, _ = self.find_item(item_id)
            if item_id in seen or (owner is not None and owner["uid"] != order_uid):
                errors[f"items.{index}.ecommerce_order_item_id"] = "Has already been taken."
            seen.add(item_id)
        return errors

    def new_items(self, items, old_items=()):
        """Item rows for `items`, keeping the uid and print status of an item sent again."""
        kept = {item["ecommerce_order_item_id"]: item for item in old_items}
        rows = []
        for item in items:
            old = kept.get(item["ecommerce_order_item_id"])
            rows.append({
                "uid": old["uid"] if old else str(uuid.uuid4()),
                **item,
                "print_status": old["print_status"] if old else "received",
            })
        return rows

    @api
    def list_orders(self, request):
        return json_response([self.order_view(order) for order in self.state["orders"].values()])

    @api
    def create_order(self, request):
        body = json_object(request)
        if body is None:
            return bad_request(NOT_AN_OBJECT)
        fields, errors = validate(body, ORDER_FIELDS)
        if not errors:
            errors = self.item_conflicts(fields["items"])
            if any(
                (order["store_id"], order["ecommerce_order_id"])
                == (fields["store_id"], fields["ecommerce_order_id"])
                for order in self.state["orders"].values()
            ):
                errors["ecommerce_order_id"] = "Has already been taken in this store."
        if errors:
            return bad_request(errors)
        order_uid = str(uuid.uuid4())
        order = {"uid": order_uid, **fields, "items": self.new_items(fields["items"])}
        self.state["orders"][order_uid] = order
        return json_response(self.order_view(order))

    @api
    def get_order(self, request, order_uid):
        order, missing = self.order_or_404(order_uid)
        return missing or json_response(self.order_view(order))

    @api
    def update_order(self, request, order_uid):
        order, missing = self.order_or_404(order_uid)
        if missing:
            return missing
        body = json_object(request)
        if body is None:
            return bad_request(NOT_AN_OBJECT)
        fields, errors = validate(body, ORDER_UPDATE_FIELDS, partial=True)
        if not errors and "items" in fields:
            errors = self.item_conflicts(fields["items"], order_uid)
        if errors:
            return bad_request(errors)
        if "items" in fields:
            fields["items"] = self.new_items(fields["items"], order["items"])
        order.update(fields)
        return json_response(self.order_view(order))

    @api
    def delete_order(self, request, order_uid):
        order, missing = self.order_or_404(order_uid)
        if missing:
            return missing
        del self.state["orders"][order_uid]
        return json_response({"message": "Order successfully deleted", "order_uid": order_uid})

    # -- print files and batch orders --------------------------------------------------

    def print_url(self, item_id):
        return f"{self.public_base}/oms/print-files/{quote(item_id, safe='')}.pdf"

    @api
    def print_file_status(self, request, item_id):
        order, item = self.find_item(item_id)
        if item is None:
            return error(404, {"ecommerce_order_item_id": f"Order item {item_id} not found."})
        status = item["print_status"]
        if order["create_print_files"]:
            item["print_status"] = NEXT_PRINT_STATUS.get(status, status)
        return json_response({
            "ecommerce_order_item_id": item_id,
            "status": status,
            "url": self.print_url(item_id) if status == "ready" else None,
        })

    def print_file(self, request, item_id):
        with self.lock:
            _, item = self.find_item(item_id)
            ready = item is not None and item["print_status"] == "ready"
        if not ready:
            return error(404, {"ecommerce_order_item_id": f"No print file for {item_id}."})
        return Response(PRINT_FILE, mimetype="application/pdf")

    @api
    def create_batch_order(self, request):
        body = json_object(request)
        if body is None:
            return bad_request(NOT_AN_OBJECT)
        fields, errors = validate(body, BATCH_ORDER_FIELDS)
        if not errors:
            item_uids = {
                item["uid"] for order in self.state["orders"].values() for item in order["items"]
            }
            for index, item_uid in enumerate(fields["order_items"]):
                if item_uid not in item_uids:
                    errors[f"order_items.{index}"] = f"Order item {item_uid} not found."
        if errors:
            return bad_request(errors)
        batch_uid = str(uuid.uuid4())
        batch = {"uid": batch_uid, "status": "Batching", **fields}
        self.state["batch_orders"][batch_uid] = batch
        return json_response(batch)

    # -- control paths -----------------------------------------------------------------

    def control_state(self, request):
        with self.lock:
            return json_response({
                "counts": {table: len(rows) for table, rows in self.state.items()},
                **{table: list(rows.values()) for table, rows in self.state.items()},
            })

    def control_print_status(self, request):
        body = json_object(request) or {}
        status = body.get("status")
        if status not in PRINT_STATUSES:
            return json_response({"detail": f"status must be one of {list(PRINT_STATUSES)}"}, 422)
        with self.lock:
            _, item = self.find_item(body.get("ecommerce_order_item_id"))
            if item is None:
                return json_response({"detail": "unknown ecommerce_order_item_id"}, 422)
            item["print_status"] = status
        return json_response({"ecommerce_order_item_id": item["ecommerce_order_item_id"],
                              "status": status})

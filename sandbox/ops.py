"""A fake OnPrintShop (OPS) storefront: OAuth2 token endpoint and the GraphQL subset
described in spec/ops-graphql.md.

- `POST /oauth/token`: client credentials, JSON or form-encoded (at `/api/oauth/token`
  instead while `token_at_api` is set, as some tenants serve it; the other path is 404).
- `POST /api/`: GraphQL with `Authorization: Bearer <token>`, rate limited per storefront.
- `POST /_sandbox/expire-tokens`: invalidates every issued token.
- `GET /_sandbox/state`: the stored catalog and orders (counts and rows).
- `POST /_sandbox/place-order`: buyers place orders for products pushed to this
  storefront: `{"count": 1, "lines_per_order": 2, "lines": [{"products_id", "size_id",
  "quantity"}], "order": {field overrides, e.g. "tax_amount": "{...}"}, "placed_at":
  "YYYY-MM-DD HH:MM:SS"}` (all optional; without `lines` each order takes sizes of the
  pushed products in turn) → `{"orders_id": [...]}`.
- `POST /_sandbox/change-order`: `{"orders_id", "order_status"?, "quantities":
  {orders_products_id: n}?, "add_lines": n?}` changes an order as a buyer or the shop
  would, moving its last-modified dates.
- `POST /_sandbox/order-statuses`: `{"statuses": [{"title", "type": "Order"|"Product"}]}`
  replaces this storefront's status list.

Orders: `orders` filters by the order's placing date (`from_date`/`to_date`, whole
days, both inclusive), pages by `limit` (≤ 250) and `offset`, sorts by `orders_id`, and
answers "nothing found" as the GraphQL error `DATA_NOT_FOUND`, as OPS does. An order
placed with a junk `orders_date_finished` is still found by the day it was placed.

Options: `client_id`, `client_secret`, `token_ttl` (seconds), `rate_limit` and
`rate_window` (requests per rolling window in seconds), `clock` (a callable returning
seconds, for tests that move time). Unknown options are ignored.

The GraphQL schema is the spec's subset and nothing more: an input field it does not list
(such as a `delete` on `setProductPrice`, which OPS does not document) is a GraphQL error.

Extra fault switches:
- `result_false_next`: the next N mutation items answer `result: false` and store nothing.
- `graphql_error_next`: the next N GraphQL requests answer 200 with only `errors`.
- `fail_mutation`: a mutation name (e.g. "setProductPrice") that answers 500 while set.
- `token_at_api`: the token is served at `/api/oauth/token` instead of `/oauth/token`.
- `unauthenticated_as_200`: a missing, invalid or expired token answers as some tenants
  do: HTTP 200 with `errors[0].extensions.code = "UNAUTHENTICATED"` instead of a 401.
"""

import math
import secrets
import time
from collections import deque

from graphql import (
    GraphQLError,
    OperationType,
    build_schema,
    get_operation_ast,
    graphql_sync,
    parse,
)
from werkzeug.routing import Rule

from sandbox.base import Fake, json_response

MAX_LIMIT = 250

SDL = """
scalar JSON

type Query {
  productsDetails(products_id: Int, limit: Int = 50, offset: Int = 0): ProductsDetails
  productCategories(limit: Int = 50, offset: Int = 0): [Category!]
  orders(orders_id: Int, orders_products_id: Int, order_status: String,
         order_product_status: Int, store_id: String, customer_id: Int,
         customer_email: String, from_date: String, to_date: String, limit: Int = 50,
         offset: Int = 0): OrderList
  orderStatus(limit: Int = 50, offset: Int = 0): OrderStatusList
}

type OrderList {
  orders: [Order]!
  totalOrders: Int
  currentCount: Int
}

type Order {
  orders_id: Int
  order_number: String
  order_status: String
  orders_status_id: Int
  orders_date_finished: String
  order_last_modified_date: String
  total_amount: JSON
  order_amount: JSON
  shipping_amount: JSON
  tax_amount: JSON
  currency_code: String
  shipping_mode: String
  courier_company_name: String
  airway_bill_number: String
  order_note: String
  customer: OrderCustomer
  delivery_detail: DeliveryDetail
  billing_detail: BillingDetail
  shipment_detail: ShipmentDetail
  product: [OrderProduct]!
}

type OrderCustomer {
  customers_name: String
  customers_first_name: String
  customers_last_name: String
  customers_email_address: String
  customers_telephone: String
  customers_company: String
}

type DeliveryDetail {
  delivery_name: String
  delivery_company: String
  delivery_street_address: String
  delivery_suburb: String
  delivery_city: String
  delivery_postcode: String
  delivery_state: String
  delivery_state_code: String
  delivery_country: String
  delivery_country_code: String
  delivery_telephone: String
}

type BillingDetail {
  billing_name: String
  billing_company: String
  billing_street_address: String
  billing_suburb: String
  billing_city: String
  billing_postcode: String
  billing_state: String
  billing_state_code: String
  billing_country: String
  billing_country_code: String
  billing_telephone: String
}

type ShipmentDetail {
  shipment_company: String
  shipment_package: String
  shipment_tracking_number: String
  shipment_total_weight: String
}

type OrderProduct {
  orders_products_id: Int
  product_id: Int
  products_name: String
  products_sku: String
  products_quantity: Int
  products_price: JSON
  products_unit_price: JSON
  productsize: String
  product_size_details: JSON
  features_details: JSON
  template_info: JSON
  print_ready_files: JSON
  proof_files: JSON
  product_status: String
  product_status_id: Int
  orders_products_last_modified_date: String
}

type OrderStatusList {
  orderStatus: [OrderStatusRow!]!
  totalOrderStatus: Int
}

type OrderStatusRow {
  process_status_id: Int
  process_status_title: String
  status_type: String
}

type Mutation {
  setProductCategory(inputs: [ProductCategoryInput!]!): [MutationResult!]!
  setProduct(inputs: [ProductInput!]!): [MutationResult!]!
  setProductSize(inputs: [ProductSizeInput!]!): [MutationResult!]!
  setProductPrice(inputs: [ProductPriceInput!]!): [MutationResult!]!
  setProductsImageGallery(products_id: Int!, input: ImageGalleryInput!): [MutationResult!]!
}

type MutationResult {
  id: Int
  index: Int!
  result: Boolean!
  message: String
}

type ProductsDetails {
  products: [Product!]!
  totalProducts: Int!
}

type Product {
  products_id: Int!
  products_title: String
  main_sku: String
  external_ref: String
  category_id: Int
  visible: Int
  product_description: String
  image_url: String
  sizes: [ProductSize!]!
  prices: [ProductPrice!]!
  images: [ProductImage!]!
}

type ProductSize {
  size_id: Int!
  size_title: String
  size_width: Float
  size_height: Float
  sort_order: Int
  visible: Int
}

type ProductPrice {
  product_price_id: Int!
  size_id: Int
  qty: Int
  qty_to: Int
  price: Float
  vendor_price: Float
  user_type_id: String
  visible: Int
}

type ProductImage {
  image_url: String
  title: String
  sort_order: Int
}

type Category {
  category_id: Int!
  category_name: String
  parent_id: Int
  external_ref: String
}

input ProductCategoryInput {
  category_id: Int
  category_name: String
  parent_id: Int
  external_ref: String
  status: Int
}

input ProductInput {
  products_id: Int
  products_title: String
  products_internal_title: String
  main_sku: String
  external_ref: String
  category_id: Int
  visible: Int
  product_description: String
  image_url: String
  predefined_product_type: String
  price_defining_method: String
}

input ProductSizeInput {
  size_id: Int
  products_id: Int
  size_title: String
  size_width: Float
  size_height: Float
  sort_order: Int
  visible: Int
  delete: Int
}

input ProductPriceInput {
  product_price_id: Int
  products_id: Int
  size_id: Int
  qty: Int
  qty_to: Int
  price: Float
  vendor_price: Float
  user_type_id: String
  visible: Int
}

input ImageGalleryInput {
  image_arr: [ImageInput!]!
}

input ImageInput {
  image_url: String
  title: String
  sort_order: Int
  status: Int
}
"""

SCHEMA = build_schema(SDL)

CATALOG_TABLES = ("categories", "products", "sizes", "prices", "images")
FIRST_IDS = {"categories": 100, "products": 4800, "sizes": 900, "prices": 30000, "images": 7000,
             "orders": 1001, "order_products": 5001}
DEFAULT_ORDER_STATUSES = [
    ("Pending", "Order"), ("In Production", "Order"), ("Shipped", "Order"),
    ("Cancelled", "Order"), ("Pending", "Product"), ("Printing", "Product"),
    ("Ready", "Product"), ("Shipped", "Product"), ("Cancelled", "Product"),
]
OPS_DATE = "%Y-%m-%d %H:%M:%S"
BUYERS = [
    ("Ann", "Lee", "ann@example.com", "1 Main St", "Nashville", "TN", "37207"),
    ("Bo", "Chen", "bo@example.com", "22 Oak Ave", "Portland", "OR", "97201"),
    ("Cy", "Diaz", "cy@example.com", "5 Elm Rd", "Austin", "TX", "73301"),
]

CATEGORY_DEFAULTS = {"category_name": None, "parent_id": 0, "external_ref": None, "status": 1}
PRODUCT_DEFAULTS = {
    "products_title": None, "products_internal_title": None, "main_sku": None,
    "external_ref": None, "category_id": 0, "visible": 1, "product_description": None,
    "image_url": None, "predefined_product_type": None, "price_defining_method": None,
}
SIZE_DEFAULTS = {
    "size_title": None, "size_width": None, "size_height": None, "sort_order": 0, "visible": 1,
}
PRICE_DEFAULTS = {
    "size_id": 0, "qty": None, "qty_to": None, "price": None, "vendor_price": None,
    "user_type_id": None, "visible": 1,
}


def succeeded(row_id, message):
    return {"id": row_id, "result": True, "message": message}


def failed(message, row_id=None):
    return {"id": row_id, "result": False, "message": message}


def parse_day(value, name):
    """A YYYY-MM-DD argument as the same string (comparable), None when absent."""
    if value is None:
        return None
    try:
        time.strptime(value, "%Y-%m-%d")
    except ValueError:
        raise GraphQLError(f"{name} must be a date as YYYY-MM-DD") from None
    return value


def check_paging(limit, offset):
    if limit is None or not 0 <= limit <= MAX_LIMIT:
        raise GraphQLError(f"limit must be between 0 and {MAX_LIMIT}")
    if offset is None or offset < 0:
        raise GraphQLError("offset must not be negative")


class OPSFake(Fake):
    rules = [
        Rule("/oauth/token", endpoint="token", methods=["POST"]),
        Rule("/api/oauth/token", endpoint="api_token", methods=["POST"]),
        Rule("/api/", endpoint="api", methods=["POST"]),
        Rule("/_sandbox/expire-tokens", endpoint="control_expire_tokens", methods=["POST"]),
        Rule("/_sandbox/state", endpoint="control_state", methods=["GET"]),
        Rule("/_sandbox/place-order", endpoint="control_place_order", methods=["POST"]),
        Rule("/_sandbox/change-order", endpoint="control_change_order", methods=["POST"]),
        Rule("/_sandbox/order-statuses", endpoint="control_order_statuses",
             methods=["POST"]),
    ]
    extra_faults = {"result_false_next": 0, "graphql_error_next": 0, "fail_mutation": None,
                    "token_at_api": False, "unauthenticated_as_200": False}

    def __init__(self, **options):
        self.client_id = options.get("client_id", "demo-client")
        self.client_secret = options.get("client_secret", "demo-secret")
        self.token_ttl = options.get("token_ttl", 3600)
        self.rate_limit = options.get("rate_limit", 120)
        self.rate_window = options.get("rate_window", 60)
        self.clock = options.get("clock", time.monotonic)
        super().__init__(**options)

    def seed(self):
        # The catalog; orders are kept apart (self.placed_orders), as buyers place them.
        self.state = {name: {} for name in CATALOG_TABLES}
        self.placed_orders = {}
        self.next_ids = dict(FIRST_IDS)
        self.order_statuses = [
            {"process_status_id": n, "process_status_title": title, "status_type": kind}
            for n, (title, kind) in enumerate(
                self.options.get("order_statuses") or DEFAULT_ORDER_STATUSES, start=1)
        ]
        self.tokens = {}
        self.api_calls = deque()

    def new_id(self, table):
        row_id = self.next_ids[table]
        self.next_ids[table] += 1
        return row_id

    # -- OAuth2 ------------------------------------------------------------------------

    def token(self, request):
        if self.faults["token_at_api"]:
            return json_response({"detail": "Not Found"}, 404)
        return self.issue_token(request)

    def api_token(self, request):
        if not self.faults["token_at_api"]:
            return json_response({"detail": "Not Found"}, 404)
        return self.issue_token(request)

    def issue_token(self, request):
        if request.is_json:
            fields = request.get_json(silent=True)
            if not isinstance(fields, dict):
                return json_response({"error": "invalid_request"}, 400)
        else:
            fields = request.form
        if (fields.get("client_id"), fields.get("client_secret")) != (
            self.client_id, self.client_secret,
        ):
            return json_response({"error": "invalid_client"}, 401)
        if fields.get("grant_type") != "client_credentials":
            return json_response({"error": "unsupported_grant_type"}, 400)
        access_token = secrets.token_urlsafe(24)
        with self.lock:
            self.tokens[access_token] = self.clock() + self.token_ttl
        return json_response(
            {"access_token": access_token, "token_type": "Bearer", "expires_in": self.token_ttl}
        )

    def authorized(self, request):
        scheme, _, access_token = request.headers.get("Authorization", "").partition(" ")
        with self.lock:
            expires_at = self.tokens.get(access_token)
        return scheme.lower() == "bearer" and expires_at is not None and self.clock() < expires_at

    def control_expire_tokens(self, request):
        with self.lock:
            self.tokens.clear()
        return json_response({"expired": True})

    # -- GraphQL endpoint --------------------------------------------------------------

    def seconds_until_free_slot(self):
        """Count this call against the rolling window; None when it is allowed."""
        with self.lock:
            now = self.clock()
            while self.api_calls and self.api_calls[0] <= now - self.rate_window:
                self.api_calls.popleft()
            if len(self.api_calls) >= self.rate_limit:
                return max(1, math.ceil(self.api_calls[0] + self.rate_window - now))
            self.api_calls.append(now)
            return None

    def api(self, request):
        wait = self.seconds_until_free_slot()
        if wait is not None:
            return json_response(
                {"detail": "Too many requests"}, 429, headers={"Retry-After": str(wait)}
            )
        if not self.authorized(request):
            if self.faults["unauthenticated_as_200"]:
                return json_response({"data": None, "errors": [{
                    "message": "Unauthenticated.", "extensions": {"code": "UNAUTHENTICATED"},
                }]})
            return json_response(
                {"error": "invalid_token", "message": "Missing, invalid or expired token"}, 401,
                headers={"WWW-Authenticate": "Bearer"},
            )
        body = request.get_json(force=True, silent=True)
        if (
            not isinstance(body, dict)
            or not isinstance(body.get("query"), str)
            or not isinstance(body.get("variables") or {}, dict)
        ):
            return json_response(
                {"errors": [{"message": "Body must be a JSON object with a query"}]}, 400
            )
        if self._take("graphql_error_next"):
            return json_response({"data": None, "errors": [{"message": "Simulated error"}]})
        if self.runs_failing_mutation(body):
            return json_response({"detail": "Internal server error"}, 500)
        with self.lock:
            result = graphql_sync(
                SCHEMA, body["query"], root_value=self.resolvers(),
                variable_values=body.get("variables"),
                operation_name=body.get("operationName"),
            )
        return json_response(result.formatted)

    def runs_failing_mutation(self, body):
        name = self.faults["fail_mutation"]
        if not name:
            return False
        try:
            operation = get_operation_ast(parse(body["query"]), body.get("operationName"))
        except GraphQLError:
            return False
        return (
            operation is not None
            and operation.operation == OperationType.MUTATION
            and any(
                getattr(selection, "name", None) and selection.name.value == name
                for selection in operation.selection_set.selections
            )
        )

    def resolvers(self):
        return {
            "productsDetails": self.products_details,
            "productCategories": self.product_categories,
            "setProductCategory": self.set_product_category,
            "setProduct": self.set_product,
            "setProductSize": self.set_product_size,
            "setProductPrice": self.set_product_price,
            "setProductsImageGallery": self.set_products_image_gallery,
            "orders": self.orders,
            "orderStatus": self.order_status,
        }

    # -- reads -------------------------------------------------------------------------

    def products_details(self, info, limit, offset, products_id=None):
        check_paging(limit, offset)
        products = sorted(self.state["products"].values(), key=lambda row: row["products_id"])
        if products_id:
            products = [row for row in products if row["products_id"] == products_id]
        return {
            "products": [self.product_view(row) for row in products[offset:offset + limit]],
            "totalProducts": len(products),
        }

    def product_view(self, product):
        def rows(table, order):
            matching = [
                row for row in self.state[table].values()
                if row["products_id"] == product["products_id"]
            ]
            return sorted(matching, key=order)

        return {
            **product,
            "sizes": rows("sizes", lambda row: (row["sort_order"] or 0, row["size_id"])),
            "prices": rows(
                "prices",
                lambda row: (row["size_id"] or 0, row["qty"] or 0, row["product_price_id"]),
            ),
            "images": rows("images", lambda row: (row["sort_order"] or 0, row["image_id"])),
        }

    def product_categories(self, info, limit, offset):
        check_paging(limit, offset)
        categories = sorted(self.state["categories"].values(), key=lambda row: row["category_id"])
        return categories[offset:offset + limit]

    def orders(self, info, limit, offset, from_date=None, to_date=None, orders_id=None,
               **filters):
        check_paging(limit, offset)
        first, last = parse_day(from_date, "from_date"), parse_day(to_date, "to_date")
        rows = sorted(self.placed_orders.values(), key=lambda row: row["orders_id"])
        rows = [
            row for row in rows
            if (orders_id is None or row["orders_id"] == orders_id)
            and (first is None or row["_placed_day"] >= first)
            and (last is None or row["_placed_day"] <= last)
            and all(row.get(name) == value for name, value in filters.items()
                    if name in ("order_status",))
        ]
        if not rows:
            raise GraphQLError("No data found", extensions={"code": "DATA_NOT_FOUND"})
        page = rows[offset:offset + limit]
        return {"orders": page, "totalOrders": len(rows), "currentCount": len(page)}

    def order_status(self, info, limit, offset):
        check_paging(limit, offset)
        return {"orderStatus": self.order_statuses[offset:offset + limit],
                "totalOrderStatus": len(self.order_statuses)}

    # -- mutations ---------------------------------------------------------------------

    def batch(self, inputs, apply):
        results = []
        for index, item in enumerate(inputs):
            if self._take("result_false_next"):
                outcome = failed("Simulated failure")
            else:
                outcome = apply(item)
            results.append({**outcome, "index": index})
        return results

    def set_product_category(self, info, inputs):
        return self.batch(inputs, self.apply_category)

    def apply_category(self, item):
        categories = self.state["categories"]
        category_id = item.get("category_id")
        fields = {key: value for key, value in item.items() if key != "category_id"}
        if not category_id:
            if not item.get("category_name"):
                return failed("category_name is required")
            category_id = self.new_id("categories")
            categories[category_id] = {
                "category_id": category_id, **CATEGORY_DEFAULTS, **fields,
            }
            return succeeded(category_id, "Category created")
        if category_id not in categories:
            return failed(f"Category {category_id} not found", category_id)
        categories[category_id].update(fields)
        return succeeded(category_id, "Category updated")

    def set_product(self, info, inputs):
        return self.batch(inputs, self.apply_product)

    def apply_product(self, item):
        products = self.state["products"]
        products_id = item.get("products_id")
        fields = {key: value for key, value in item.items() if key != "products_id"}
        category_id = fields.get("category_id")
        if category_id and category_id not in self.state["categories"]:
            return failed(f"Category {category_id} not found", products_id)
        if not products_id:
            if not item.get("products_title"):
                return failed("products_title is required")
            products_id = self.new_id("products")
            products[products_id] = {"products_id": products_id, **PRODUCT_DEFAULTS, **fields}
            return succeeded(products_id, "Product created")
        if products_id not in products:
            return failed(f"Product {products_id} not found", products_id)
        products[products_id].update(fields)
        return succeeded(products_id, "Product updated")

    def set_product_size(self, info, inputs):
        return self.batch(inputs, self.apply_size)

    def apply_size(self, item):
        sizes = self.state["sizes"]
        size_id = item.get("size_id")
        if size_id and size_id not in sizes:
            return failed(f"Size {size_id} not found", size_id)
        if item.get("delete") == 1:
            if not size_id:
                return failed("size_id is required to delete a size")
            del sizes[size_id]
            prices = self.state["prices"]
            for price_id in [key for key, row in prices.items() if row["size_id"] == size_id]:
                del prices[price_id]
            return succeeded(size_id, "Size deleted")
        products_id = item.get("products_id") or (size_id and sizes[size_id]["products_id"])
        if not products_id:
            return failed("products_id is required")
        if products_id not in self.state["products"]:
            return failed(f"Product {products_id} not found", size_id)
        fields = {key: value for key, value in item.items() if key not in ("size_id", "delete")}
        if not size_id:
            size_id = self.new_id("sizes")
            sizes[size_id] = {"size_id": size_id, **SIZE_DEFAULTS, **fields}
            return succeeded(size_id, "Size created")
        sizes[size_id].update(fields)
        return succeeded(size_id, "Size updated")

    def set_product_price(self, info, inputs):
        return self.batch(inputs, self.apply_price)

    def apply_price(self, item):
        prices = self.state["prices"]
        price_id = item.get("product_price_id")
        if price_id and price_id not in prices:
            return failed(f"Price {price_id} not found", price_id)
        products_id = item.get("products_id") or (price_id and prices[price_id]["products_id"])
        if not products_id:
            return failed("products_id is required")
        if products_id not in self.state["products"]:
            return failed(f"Product {products_id} not found", price_id)
        size_id = item.get("size_id")
        if size_id and self.state["sizes"].get(size_id, {}).get("products_id") != products_id:
            return failed(f"Size {size_id} not found for product {products_id}", price_id)
        if not price_id:
            price_id = self.new_id("prices")
        if not item.get("user_type_id"):
            # OPS accepts such a price and reports success, but never stores it.
            return succeeded(price_id, "Price saved")
        fields = {key: value for key, value in item.items() if key != "product_price_id"}
        if price_id in prices:
            prices[price_id].update(fields)
            return succeeded(price_id, "Price updated")
        prices[price_id] = {"product_price_id": price_id, **PRICE_DEFAULTS, **fields}
        return succeeded(price_id, "Price created")

    def set_products_image_gallery(self, info, products_id, input):
        if products_id not in self.state["products"]:
            return [{**failed(f"Product {products_id} not found"), "index": 0}]
        images = self.state["images"]
        for image_id in [key for key, row in images.items() if row["products_id"] == products_id]:
            del images[image_id]

        def add_image(item):
            image_id = self.new_id("images")
            images[image_id] = {
                "image_id": image_id, "products_id": products_id, "image_url": None,
                "title": None, "sort_order": 0, "status": 1, **item,
            }
            return succeeded(image_id, "Image added")

        return self.batch(input["image_arr"], add_image)

    # -- orders placed by buyers (control paths) ---------------------------------------

    def sellable_sizes(self):
        """(product, size) of every size of every product pushed here, in id order."""
        return [
            (self.state["products"][size["products_id"]], size)
            for size in sorted(self.state["sizes"].values(), key=lambda row: row["size_id"])
            if size["products_id"] in self.state["products"]
        ]

    def unit_price(self, size):
        prices = [row for row in self.state["prices"].values()
                  if row["size_id"] == size["size_id"] and row.get("price") is not None]
        return min(prices, key=lambda row: row["qty"] or 0)["price"] if prices else 10.0

    def new_order_line(self, product, size, quantity, moment):
        unit_price = round(float(self.unit_price(size)), 2)
        return {
            "orders_products_id": self.new_id("order_products"),
            "product_id": product["products_id"], "products_name": product["products_title"],
            "products_sku": product["main_sku"], "products_quantity": quantity,
            "products_price": f"{unit_price * quantity:.2f}",
            "products_unit_price": f"{unit_price:.2f}", "productsize": size["size_title"],
            "product_size_details": {"size_id": size["size_id"]}, "features_details": "[]",
            "template_info": None,
            "print_ready_files": f'["https://files.example.com/{product["products_id"]}.pdf"]',
            "proof_files": "[]", "product_status": "Pending", "product_status_id": 5,
            "orders_products_last_modified_date": moment,
        }

    def place_order(self, lines, overrides, moment):
        orders_id = self.new_id("orders")
        first, last, email, street, city, state, postcode = BUYERS[orders_id % len(BUYERS)]
        subtotal = sum(float(line["products_price"]) for line in lines)
        order = {
            "orders_id": orders_id, "order_number": f"OPS-{orders_id}",
            "order_status": "Pending", "orders_status_id": 1,
            "orders_date_finished": moment, "order_last_modified_date": moment,
            "order_amount": f"{subtotal:.2f}", "shipping_amount": "9.99",
            "tax_amount": '{"total": 0}', "total_amount": f"{subtotal + 9.99:.2f}",
            "currency_code": "USD", "shipping_mode": "Ground", "courier_company_name": None,
            "airway_bill_number": None, "order_note": None,
            "customer": {"customers_name": f"{first} {last}", "customers_first_name": first,
                         "customers_last_name": last, "customers_email_address": email,
                         "customers_telephone": None, "customers_company": None},
            "delivery_detail": {
                "delivery_name": f"{first} {last}", "delivery_company": None,
                "delivery_street_address": street, "delivery_suburb": None,
                "delivery_city": city, "delivery_postcode": postcode, "delivery_state": state,
                "delivery_state_code": state, "delivery_country": "United States",
                "delivery_country_code": "US", "delivery_telephone": None,
            },
            "billing_detail": None, "shipment_detail": None,
            "product": lines,
            "_placed_day": moment[:10],
            **overrides,
        }
        self.placed_orders[orders_id] = order
        return orders_id

    def control_place_order(self, request):
        body = request.get_json(silent=True) or {}
        if not isinstance(body, dict):
            return json_response({"detail": "send a JSON object"}, 422)
        count = body.get("count", 1)
        per_order = body.get("lines_per_order", 2)
        overrides = body.get("order") or {}
        if not (isinstance(count, int) and 1 <= count <= 100_000 and isinstance(per_order, int)
                and 1 <= per_order <= 100 and isinstance(overrides, dict)):
            return json_response({"detail": "count 1-100000, lines_per_order 1-100, "
                                            "order an object"}, 422)
        moment = body.get("placed_at") or time.strftime(OPS_DATE, time.gmtime())
        with self.lock:
            sellable = self.sellable_sizes()
            wanted = body.get("lines")
            if wanted is not None:
                sizes = {size["size_id"]: (product, size) for product, size in sellable}
                try:
                    picked = [(*sizes[line["size_id"]], int(line.get("quantity", 1)))
                              for line in wanted]
                except (KeyError, TypeError, ValueError):
                    return json_response({"detail": "lines: [{size_id of a pushed size, "
                                                    "quantity}]"}, 422)
            elif not sellable:
                return json_response({"detail": "no product has been pushed here yet"}, 422)
            ids, turn = [], 0
            for _ in range(count):
                if wanted is None:
                    picked = []
                    for _ in range(per_order):
                        product, size = sellable[turn % len(sellable)]
                        picked.append((product, size, 1 + turn % 3))
                        turn += 1
                lines = [self.new_order_line(product, size, quantity, moment)
                         for product, size, quantity in picked]
                ids.append(self.place_order(lines, overrides, moment))
        return json_response({"orders_id": ids})

    def control_change_order(self, request):
        body = request.get_json(silent=True)
        if not isinstance(body, dict):
            return json_response({"detail": "send a JSON object"}, 422)
        moment = time.strftime(OPS_DATE, time.gmtime(time.time() + 1))
        with self.lock:
            order = self.placed_orders.get(body.get("orders_id"))
            if order is None:
                return json_response({"detail": "no such order"}, 404)
            if body.get("order_status"):
                order["order_status"] = body["order_status"]
            lines = {line["orders_products_id"]: line for line in order["product"]}
            for line_id, quantity in (body.get("quantities") or {}).items():
                line = lines.get(int(line_id))
                if line is None:
                    return json_response({"detail": f"no line {line_id}"}, 404)
                line["products_quantity"] = quantity
                line["orders_products_last_modified_date"] = moment
            sellable = self.sellable_sizes()
            for n in range(body.get("add_lines") or 0):
                product, size = sellable[n % len(sellable)]
                order["product"].append(self.new_order_line(product, size, 1, moment))
            order["order_last_modified_date"] = moment
        return json_response({"orders_id": order["orders_id"]})

    def control_order_statuses(self, request):
        body = request.get_json(silent=True)
        statuses = body.get("statuses") if isinstance(body, dict) else None
        if not isinstance(statuses, list) or not all(
            isinstance(row, dict) and row.get("title") and row.get("type") in ("Order", "Product")
            for row in statuses
        ):
            return json_response(
                {"detail": 'send {"statuses": [{"title", "type": "Order"|"Product"}]}'}, 422)
        with self.lock:
            self.order_statuses = [
                {"process_status_id": n, "process_status_title": row["title"],
                 "status_type": row["type"]}
                for n, row in enumerate(statuses, start=1)
            ]
        return json_response({"statuses": self.order_statuses})

    # -- control paths -----------------------------------------------------------------

    def control_state(self, request):
        with self.lock:
            return json_response({
                "counts": {table: len(rows) for table, rows in self.state.items()},
                **{table: list(rows.values()) for table, rows in self.state.items()},
                "orders": [
                    {key: value for key, value in order.items() if not key.startswith("_")}
                    for order in self.placed_orders.values()
                ],
            })

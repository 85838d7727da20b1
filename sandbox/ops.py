"""A fake OnPrintShop (OPS) storefront: OAuth2 token endpoint and the GraphQL subset
described in spec/ops-graphql.md.

- `POST /oauth/token`: client credentials, JSON or form-encoded (at `/api/oauth/token`
  instead while `token_at_api` is set, as some tenants serve it; the other path is 404).
- `POST /api/`: GraphQL with `Authorization: Bearer <token>`, rate limited per storefront.
- `POST /_sandbox/expire-tokens`: invalidates every issued token.
- `GET /_sandbox/state`: the stored catalog (counts and rows).

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
type Query {
  productsDetails(products_id: Int, limit: Int = 50, offset: Int = 0): ProductsDetails
  productCategories(limit: Int = 50, offset: Int = 0): [Category!]
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

FIRST_IDS = {"categories": 100, "products": 4800, "sizes": 900, "prices": 30000, "images": 7000}

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
        self.state = {name: {} for name in FIRST_IDS}
        self.next_ids = dict(FIRST_IDS)
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

    # -- control paths -----------------------------------------------------------------

    def control_state(self, request):
        with self.lock:
            return json_response({
                "counts": {table: len(rows) for table, rows in self.state.items()},
                **{table: list(rows.values()) for table, rows in self.state.items()},
            })

"""The HTTP client of an OnPrintShop (OPS) storefront, speaking the subset in ops-graphql.md.

Every OPS path, query, mutation and field name is in this module, so a different real
contract is a change here only; the storefront builds its inputs with the functions below.

Retries. Every attempt first takes a slot of the storefront's request budget, shared by
all workers. A 429 is waited out (Retry-After) and sent again, up to 3 times: OPS refused
it before acting. A 500/502/503/504 is sent again only when sending it twice cannot
duplicate anything: the token request, queries, and mutations whose every item carries
an id (updates, deletes, the gallery replacement). A mutation that creates (an id of 0)
is never sent again here, nor is any request that timed out: the server may have acted.
Those fail as retryable, and the push is retried later with the ids it obtained.
The session itself only retries failures to connect, which never reach OPS.

Tokens. The token URL is a per-storefront setting (`{store}/oauth/token`, or
`{base}/api/oauth/token` on some tenants). A refused token, answered 401 or, by some
tenants, 200 with a GraphQL error coded UNAUTHENTICATED, gets one new token and one more
try; OPS acted on nothing, so even a create is sent again.
"""

import logging
import re
import time

import requests

from hub import ratelimit
from hub.outbound import OutboundBlocked, guarded_session
from hub.values import is_whole
from integrations.models import OPSIntegration

logger = logging.getLogger(__name__)

API_PATH = "/api/"

# A stored token is replaced this long before it expires.
# OAuth2 makes expires_in optional; OPS documents an hour.
DEFAULT_TOKEN_LIFETIME = 3600
MAX_RATE_LIMIT_RETRIES = 3
MAX_RETRY_AFTER = 60
DEFAULT_RETRY_AFTER = 1
MAX_SERVER_RETRIES = 2
SERVER_ERRORS = (500, 502, 503, 504)
RATE_WINDOW = 60.0

# Tests replace this so they do not wait out a Retry-After or a backoff.
sleep = time.sleep

SET_CATEGORY = "setProductCategory"
SET_PRODUCT = "setProduct"
SET_SIZE = "setProductSize"
SET_PRICE = "setProductPrice"
SET_GALLERY = "setProductsImageGallery"

# Per batch mutation: its input type and the input field holding the id (0 = create).
MUTATIONS = {
    SET_CATEGORY: ("ProductCategoryInput", "category_id"),
    SET_PRODUCT: ("ProductInput", "products_id"),
    SET_SIZE: ("ProductSizeInput", "size_id"),
    SET_PRICE: ("ProductPriceInput", "product_price_id"),
}
# setProductSize documents `delete`; setProductPrice does not (its rows are hidden).
DELETE_FIELD = "delete"

UPDATE_ORDER_STATUS = "updateOrderStatus"
SET_SHIPMENT = "setShipment"
ORDER_TYPE = "order"
LINE_TYPE = "product"
ORDER_STATUS_TYPE = "Order"
LINE_STATUS_TYPE = "Product"
ORDER_STATUS_MUTATION = (
    "mutation Status($type: OrderStatusUpdateTypeEnum!, $orders_id: Int, "
    "$orders_products_id: Int, $input: UpdateOrderStatusInput!) { "
    + UPDATE_ORDER_STATUS + "(type: $type, orders_id: $orders_id, "
    "orders_products_id: $orders_products_id, input: $input) { id message result } }"
)
SHIPMENT_MUTATION = (
    "mutation Shipment($order_id: Int, $shipment_id: Int, $tracking_number: String, "
    "$shipmentinfo: JSON) { " + SET_SHIPMENT + "(order_id: $order_id, shipment_id: "
    "$shipment_id, tracking_number: $tracking_number, shipmentinfo: $shipmentinfo) "
    "{ id message result } }"
)

RESULT_FIELDS = "id index result message"
BATCH_MUTATION = (
    "mutation Save($inputs: [{input_type}!]!) {{ {name}(inputs: $inputs) {{ "
    + RESULT_FIELDS + " }} }}"
)
GALLERY_MUTATION = (
    "mutation Gallery($products_id: Int!, $input: ImageGalleryInput!) { "
    + SET_GALLERY + "(products_id: $products_id, input: $input) { " + RESULT_FIELDS + " } }"
)
PRODUCT_QUERY = """
query Product($products_id: Int) {
  productsDetails(products_id: $products_id, limit: 1) {
    totalProducts
    products { products_id sizes { size_id } prices { product_price_id } }
  }
}
"""

# Orders (ops-graphql.md, "Orders"). Reads page at most ORDERS_PAGE_SIZE rows.
ORDERS_PAGE_SIZE = 250
ORDER_FIELDS = """
orders_id order_number order_status orders_status_id orders_date_finished
order_last_modified_date total_amount order_amount shipping_amount tax_amount
currency_code shipping_mode courier_company_name airway_bill_number order_note
customer { customers_name customers_first_name customers_last_name
  customers_email_address customers_telephone customers_company }
delivery_detail { delivery_name delivery_company delivery_street_address delivery_suburb
  delivery_city delivery_postcode delivery_state delivery_state_code delivery_country
  delivery_country_code delivery_telephone }
billing_detail { billing_name billing_company billing_street_address billing_suburb
  billing_city billing_postcode billing_state billing_state_code billing_country
  billing_country_code billing_telephone }
product { orders_products_id product_id products_name products_sku products_quantity
  products_price products_unit_price productsize product_status product_status_id
  print_ready_files proof_files orders_products_last_modified_date }
"""
ORDERS_QUERY = (
    "query Orders($orders_id: Int, $from_date: String, $to_date: String, $limit: Int, "
    "$offset: Int) { orders(orders_id: $orders_id, from_date: $from_date, to_date: $to_date, "
    "limit: $limit, offset: $offset) { orders { " + ORDER_FIELDS + " } totalOrders "
    "currentCount } }"
)
ORDER_STATUS_QUERY = (
    "query Statuses($limit: Int, $offset: Int) { orderStatus(limit: $limit, offset: $offset) "
    "{ orderStatus { process_status_id process_status_title status_type } "
    "totalOrderStatus } }"
)
# "Nothing found" comes back as this GraphQL error code: an empty page, not a failure.
NOT_FOUND_CODE = "DATA_NOT_FOUND"
DATE_FORMAT = "%Y-%m-%d"
# How some tenants say the token is no good, with HTTP 200 (see unauthenticated()).
UNAUTHENTICATED = "UNAUTHENTICATED"
TOKEN_REFUSED = re.compile(r"\b(invalid|expired)\b.*\btoken\b|\btoken\b.*\b(invalid|expired)\b",
                           re.IGNORECASE)

# The only user type the hub prices for; OPS silently drops a price without one.
USER_TYPE_ID = "1"
PREDEFINED_PRODUCT_TYPE = "1"
PRICE_DEFINING_METHOD = "1"


class OPSError(Exception):
    """OPS failed or refused; the message is safe to show to the user."""

    def __init__(self, message, *, retryable=False, saved=None, code=None,
                 may_have_acted=False):
        super().__init__(message)
        self.message = message
        # The GraphQL error's extensions.code, when it gave one (DATA_NOT_FOUND, ...).
        self.code = code
        # True for failures that may heal on a later attempt (5xx, 429, timeouts).
        self.retryable = retryable
        # True when OPS may have carried the request out although it did not say so
        # (no answer in time, a 5xx, a body that is not JSON).
        self.may_have_acted = may_have_acted
        # For a batch mutation that failed part-way: {input index: id} of the items OPS saved.
        self.saved = saved or {}


# -- inputs ----------------------------------------------------------------------------


def category_input(*, name, parent_id, external_ref):
    """A new category."""
    return {"category_id": 0, "category_name": name, "parent_id": parent_id,
            "external_ref": external_ref, "status": 1}


def product_input(products_id, *, title, sku, external_ref, category_id, description,
                  image_url):
    return {
        "products_id": products_id, "products_title": title, "products_internal_title": sku,
        "main_sku": sku, "external_ref": external_ref, "category_id": category_id,
        "visible": 1, "product_description": description, "image_url": image_url,
        "predefined_product_type": PREDEFINED_PRODUCT_TYPE,
        "price_defining_method": PRICE_DEFINING_METHOD,
    }


def size_input(size_id, products_id, *, title, width, height, sort_order):
    return {"size_id": size_id, "products_id": products_id, "size_title": title,
            "size_width": width, "size_height": height, "sort_order": sort_order, "visible": 1}


def size_deletion(size_id, products_id):
    return {"size_id": size_id, "products_id": products_id, DELETE_FIELD: 1}


def price_input(price_id, products_id, *, size_id, qty, qty_to, price, vendor_price):
    """One quantity band; qty_to 0 means open-ended (qty and up)."""
    return {"product_price_id": price_id, "products_id": products_id, "size_id": size_id,
            "qty": qty, "qty_to": qty_to, "price": price, "vendor_price": vendor_price,
            "user_type_id": USER_TYPE_ID, "visible": 1}


def price_hiding(price_id, products_id):
    """A price row no longer sold, hidden: setProductPrice documents no `delete`."""
    return {"product_price_id": price_id, "products_id": products_id,
            "user_type_id": USER_TYPE_ID, "visible": 0}


def image_input(*, url, title, sort_order):
    return {"image_url": url, "title": title, "sort_order": sort_order, "status": 1}


# -- client ----------------------------------------------------------------------------


class OPSClient:
    def __init__(self, integration: OPSIntegration):
        self.integration = integration
        self.api_url = integration.base_url.rstrip("/") + API_PATH
        self.budget_key = f"ops:{integration.id}"
        self.session = guarded_session()

    # -- catalog -----------------------------------------------------------------------

    def product_rows(self, products_id: int) -> dict | None:
        """The ids OPS holds under a product: {"sizes": set, "prices": set}.

        None when OPS no longer has the product.
        """
        data = self.graphql(PRODUCT_QUERY, {"products_id": products_id})
        details = data.get("productsDetails")
        if not isinstance(details, dict) or not isinstance(details.get("totalProducts"), int):
            raise OPSError("OPS answered productsDetails with an unexpected body")
        if details["totalProducts"] == 0:
            return None
        products = [
            product for product in details.get("products") or []
            if isinstance(product, dict) and product.get("products_id") == products_id
        ]
        # Only an explicit "none" means the product is gone: creating it again otherwise
        # could duplicate it.
        if not products:
            raise OPSError(f"OPS answered productsDetails without product {products_id}")
        return {
            "sizes": ids_in(products[0].get("sizes"), "size_id"),
            "prices": ids_in(products[0].get("prices"), "product_price_id"),
        }

    def mutate(self, name: str, inputs: list[dict]) -> list:
        """Send one batch mutation; the id OPS gave each input, in input order.

        Raises OPSError when any item answers `result: false`, with the ids of the
        items that were saved in `saved`.
        """
        if not inputs:
            return []
        input_type, _ = MUTATIONS[name]
        data = self.graphql(
            BATCH_MUTATION.format(name=name, input_type=input_type), {"inputs": inputs},
            idempotent=not any(self._creates(name, item) for item in inputs),
        )
        return self._ids(name, data.get(name), inputs)

    def replace_gallery(self, products_id: int, images: list[dict]) -> list:
        """Replace the product's image gallery with these images (see image_input)."""
        data = self.graphql(
            GALLERY_MUTATION, {"products_id": products_id, "input": {"image_arr": images}}
        )
        return self._ids(SET_GALLERY, data.get(SET_GALLERY), images)

    def _ids(self, name, results, inputs):
        unexpected = OPSError(f"OPS answered {name} with an unexpected body")
        if not isinstance(results, list):
            raise unexpected
        saved, failures = {}, []
        for position, result in enumerate(results):
            if not isinstance(result, dict) or not isinstance(result.get("result"), bool):
                raise unexpected
            if not result["result"]:
                failures.append(result.get("message") or "no reason given")
                continue
            index = result.get("index", position)
            if not isinstance(index, int) or not 0 <= index < len(inputs) or index in saved:
                raise unexpected
            row_id = result.get("id")
            if not isinstance(row_id, int) or isinstance(row_id, bool):
                if self._creates(name, inputs[index]):
                    raise OPSError(f"OPS answered {name} without the id of what it created")
                row_id = None
            saved[index] = row_id
        if failures:
            raise OPSError(f"OPS did not save {name}: {failures[0]}", saved=saved)
        if len(saved) != len(inputs):
            raise unexpected
        return [saved[index] for index in range(len(inputs))]

    @staticmethod
    def _creates(name, item):
        return name in MUTATIONS and not item.get(MUTATIONS[name][1])

    # -- orders ------------------------------------------------------------------------

    def orders(self, *, from_date=None, to_date=None, orders_id=None, offset=0,
               limit=ORDERS_PAGE_SIZE):
        """One page of orders: (orders as OPS sends them, totalOrders or None).

        Dates are datetime.date; "nothing found" is an empty page.
        """
        variables = {"limit": min(limit, ORDERS_PAGE_SIZE), "offset": offset}
        if from_date is not None:
            variables["from_date"] = from_date.strftime(DATE_FORMAT)
        if to_date is not None:
            variables["to_date"] = to_date.strftime(DATE_FORMAT)
        if orders_id is not None:
            variables["orders_id"] = orders_id
        try:
            data = self.graphql(ORDERS_QUERY, variables)
        except OPSError as exc:
            if exc.code == NOT_FOUND_CODE:
                return [], 0
            raise
        answer = data.get("orders")
        rows = answer.get("orders") if isinstance(answer, dict) else None
        if not isinstance(rows, list):
            raise OPSError("OPS answered orders with an unexpected body")
        total = answer.get("totalOrders")
        return rows, total if is_whole(total) else None

    def order_statuses(self):
        """The storefront's status list: [{process_status_id, process_status_title,
        status_type}], every page."""
        statuses, offset = [], 0
        while True:
            data = self.graphql(ORDER_STATUS_QUERY,
                                {"limit": ORDERS_PAGE_SIZE, "offset": offset})
            answer = data.get("orderStatus")
            rows = answer.get("orderStatus") if isinstance(answer, dict) else None
            if not isinstance(rows, list):
                raise OPSError("OPS answered orderStatus with an unexpected body")
            statuses += [row for row in rows if isinstance(row, dict)]
            total = answer.get("totalOrderStatus")
            offset += len(rows)
            if len(rows) < ORDERS_PAGE_SIZE or not isinstance(total, int) or offset >= total:
                return statuses

    def update_order_status(self, *, orders_id=None, orders_products_id=None, status=None,
                            notify=False, comment=None, courier=None, tracking_number=None,
                            shipping_method=None):
        """Set an order's (orders_id) or one line's (orders_products_id) status title.

        Sending the same status twice changes nothing, so it is retried like a query.
        """
        line = orders_products_id is not None
        field = "order_product_status" if line else "order_status"
        variables = {
            "type": LINE_TYPE if line else ORDER_TYPE,
            "orders_id": None if line else int(orders_id),
            "orders_products_id": int(orders_products_id) if line else None,
            "input": {key: value for key, value in {
                field: status, "comment": comment, "notify": 1 if notify else 0,
                "courier_company_name": courier, "tracking_number": tracking_number,
                "shipping_method": shipping_method,
            }.items() if value is not None},
        }
        data = self.graphql(ORDER_STATUS_MUTATION, variables)
        return self._single(UPDATE_ORDER_STATUS, data.get(UPDATE_ORDER_STATUS))

    def set_shipment(self, *, order_id, tracking_number, packages) -> int:
        """Record a new shipment; the id OPS gave it.

        packages: [{"tracking", "lines": [(orders_products_id, quantity)], "weight", ...}].
        A create: never sent twice here (a lost answer fails as retryable and the caller
        decides; reads return no shipments to look in).
        """
        info = [{"packageinfo": [
            {"weight": package.get("weight") or 0, "length": package.get("length") or 0,
             "width": package.get("width") or 0, "height": package.get("height") or 0,
             "tracking": package.get("tracking") or tracking_number,
             "opdata": [{"opid": int(opid), "qty": str(quantity)}
                        for opid, quantity in package["lines"]]}
            for package in packages
        ]}]
        data = self.graphql(SHIPMENT_MUTATION, {
            "order_id": int(order_id), "shipment_id": 0, "tracking_number": tracking_number,
            "shipmentinfo": info,
        }, idempotent=False)
        shipment_id = self._single(SET_SHIPMENT, data.get(SET_SHIPMENT))
        if not isinstance(shipment_id, int) or isinstance(shipment_id, bool) or not shipment_id:
            raise OPSError("OPS answered setShipment without the shipment's id")
        return shipment_id

    @staticmethod
    def _single(name, result):
        """The id of a single-call answer {id, message, result}; result false raises."""
        if not isinstance(result, dict) or not isinstance(result.get("result"), bool):
            raise OPSError(f"OPS answered {name} with an unexpected body")
        if not result["result"]:
            raise OPSError(f"OPS did not save {name}: "
                           f"{result.get('message') or 'no reason given'}")
        return result.get("id")

    # -- GraphQL -----------------------------------------------------------------------

    def graphql(self, query: str, variables: dict | None = None, *, idempotent=True) -> dict:
        """The `data` of a GraphQL answer; GraphQL errors raise OPSError."""
        body = {"query": query, "variables": variables or {}}
        response = self._post(self.api_url, idempotent=idempotent, token=self.token(), json=body)
        if unauthenticated(response):
            # The token expired or was revoked early: one new token, one more try. OPS
            # refused the request before acting on it, so even a create is sent again.
            response = self._post(
                self.api_url, idempotent=idempotent, token=self.fetch_token(), json=body
            )
            if unauthenticated(response):
                raise OPSError("OPS refused the credentials")
        self._raise_for_status(response, "the API")
        if response.status_code != 200:
            message = first_error(safe_json(response))
            raise OPSError(f"OPS answered the API with {response.status_code}"
                           + (f": {message}" if message else ""))
        payload = self._json(response, "the API")
        message = first_error(payload)
        if message is not None:
            raise OPSError(f"OPS reported an error: {message}", code=first_error_code(payload))
        data = payload.get("data") if isinstance(payload, dict) else None
        if not isinstance(data, dict):
            raise OPSError("OPS answered the API without data", retryable=True,
                           may_have_acted=True)
        return data

    # -- authentication ----------------------------------------------------------------

    def token(self) -> str:
        """The stored token while it is good for another minute, else a new one."""
        return self.integration.usable_token() or self.fetch_token()

    def fetch_token(self) -> str:
        """Ask for a new token, store it on the integration, return it."""
        integration = self.integration
        fields = {
            "grant_type": "client_credentials",
            "client_id": integration.client_id,
            "client_secret": integration.client_secret,
        }
        response = self._post(integration.token_url, idempotent=True, json=fields)
        if response.status_code in (400, 415):
            # Some tenants only accept the fields form-encoded.
            response = self._post(integration.token_url, idempotent=True, data=fields)
        if response.status_code in (400, 401, 403):
            raise OPSError("OPS refused the credentials")
        self._raise_for_status(response, "the token request")
        if response.status_code != 200:
            raise OPSError(f"OPS answered the token request with {response.status_code}")
        body = self._json(response, "the token request")
        if not isinstance(body, dict):
            raise OPSError("OPS answered the token request with an unexpected body")
        token = body.get("access_token")
        lifetime = body.get("expires_in", DEFAULT_TOKEN_LIFETIME)
        if not isinstance(token, str) or not token or not is_positive_number(lifetime):
            raise OPSError("OPS answered the token request with an unexpected body")
        integration.keep_token(token, lifetime)
        logger.info("Got an OPS token for integration %s", integration.pk)
        return token

    # -- requests ----------------------------------------------------------------------

    def _post(self, url, *, idempotent, token=None, **kwargs):
        """The response, after waiting out 429s and, when idempotent, retrying 5xx answers."""
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        rate_limited = server_errors = 0
        while True:
            self._take_budget()
            response = self._request(url, headers=headers, **kwargs)
            status = response.status_code
            if status == 429 and rate_limited < MAX_RATE_LIMIT_RETRIES:
                rate_limited += 1
                sleep(retry_after(response))
            elif status in SERVER_ERRORS and idempotent and server_errors < MAX_SERVER_RETRIES:
                server_errors += 1
                sleep(2 ** (server_errors - 1))
            else:
                return response

    def _take_budget(self):
        integration = self.integration
        if not ratelimit.acquire(self.budget_key, integration.rate_limit_per_minute, RATE_WINDOW):
            raise OPSError("The request budget of this OPS storefront stayed used up",
                           retryable=True)

    def _request(self, url, **kwargs):
        # The messages name no URL: the token URL and headers may carry secrets.
        try:
            return self.session.post(url, **kwargs)
        except OutboundBlocked as exc:
            raise OPSError(f"OPS cannot be reached: {exc}") from None
        except requests.Timeout:
            raise OPSError("OPS did not answer in time", retryable=True,
                           may_have_acted=True) from None
        except requests.ConnectionError:
            raise OPSError("Could not connect to OPS", retryable=True) from None
        except requests.RequestException as exc:
            raise OPSError(
                f"The request to OPS failed ({exc.__class__.__name__})", retryable=True
            ) from None

    def _raise_for_status(self, response, what):
        status = response.status_code
        if status == 429:
            raise OPSError(
                f"OPS kept answering 429 (too many requests) to {what}"
                f" after {MAX_RATE_LIMIT_RETRIES} retries", retryable=True,
            )
        if status >= 500:
            raise OPSError(f"OPS answered {what} with {status}", retryable=True,
                           may_have_acted=True)

    def _json(self, response, what):
        try:
            return response.json()
        except ValueError:
            raise OPSError(
                f"OPS answered {what} with a body that is not JSON", retryable=True,
                may_have_acted=True,
            ) from None


def retry_after(response) -> int:
    """The seconds a 429 asks to wait: its whole-second Retry-After, capped."""
    value = response.headers.get("Retry-After", "").strip()
    if not (value.isascii() and value.isdigit()):
        return DEFAULT_RETRY_AFTER
    return min(int(value), MAX_RETRY_AFTER)


def unauthenticated(response) -> bool:
    """Whether OPS refused the token: a 401, or (some tenants) a 200 whose GraphQL error
    has the code UNAUTHENTICATED or a message naming an invalid or expired token."""
    if response.status_code == 401:
        return True
    # Only an answer with errors is read twice; a page of orders is not.
    if response.status_code != 200 or b'"errors"' not in response.content:
        return False
    payload = safe_json(response)
    errors = payload.get("errors") if isinstance(payload, dict) else None
    for error in errors if isinstance(errors, list) else []:
        if not isinstance(error, dict):
            continue
        extensions = error.get("extensions")
        if isinstance(extensions, dict) and extensions.get("code") == UNAUTHENTICATED:
            return True
        message = error.get("message")
        if isinstance(message, str) and TOKEN_REFUSED.search(message):
            return True
    return False


def ids_in(rows, id_field) -> set:
    return {row.get(id_field) for row in rows or [] if isinstance(row, dict)}


def safe_json(response):
    try:
        return response.json()
    except ValueError:
        return None


def first_error(payload) -> str | None:
    """The message of a GraphQL answer's first error; None when it has no errors."""
    errors = payload.get("errors") if isinstance(payload, dict) else None
    if not errors:
        return None
    first = errors[0] if isinstance(errors, list) else None
    message = first.get("message") if isinstance(first, dict) else None
    return message if isinstance(message, str) and message else "no message given"


def first_error_code(payload) -> str | None:
    """The extensions.code of a GraphQL answer's first error, if it has one."""
    errors = payload.get("errors") if isinstance(payload, dict) else None
    first = errors[0] if isinstance(errors, list) and errors else None
    extensions = first.get("extensions") if isinstance(first, dict) else None
    code = extensions.get("code") if isinstance(extensions, dict) else None
    return code if isinstance(code, str) else None


def is_positive_number(value) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and value > 0

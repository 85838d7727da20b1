"""The HTTP client of an order management system (OMS), speaking oms-api.txt: product
categories, products and product variants (pushes), orders, order items' print files and
batch orders (routing).

Every OMS path and field name is in this module, so a different real contract is a
change here only; the storefront builds its bodies with the functions below.

Requests carry `Authorization: Bearer <api_token>`. Every success is a 200 whose body is
the row (with its integer `id`). An error answers 400/401/403/404/500 with a JSON body
`{"message": ..., "details": {field: reason}}`; OMSError carries both, as the OMS wrote
them.

Retries. The session sends a GET, PUT or DELETE again after a 500/502/503/504 (sending
either twice changes nothing); a POST creates, so it is never sent again here, nor is
any request that timed out: the OMS may have acted. Those fail as retryable, and the
push is retried later with the ids it obtained. An OMSError's `may_have_acted` says a
POST may have been carried out although no answer came (a timeout, a lost connection, a
5xx or a body that is not JSON): the caller must look before creating again.

Finding an order already created. The spec documents no list or search of orders; it
reads an order only by its uid. What it does document is the print file of an order
item by the item's `ecommerce_order_item_id`, which the hub sets to its own line id, so
`order_item_known(line id)` tells whether the OMS already holds a line (404: not held).
The order's uid itself is only ever learnt from the create's answer, so it is saved the
moment that answer arrives.
"""

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from urllib.parse import quote

import requests

from hub.outbound import OutboundBlocked, guarded_session
from integrations.models import OMSIntegration

CATEGORIES = "/api/v1/product-categories"
PRODUCTS = "/api/v1/products"
VARIANTS = "/api/v1/product-variants"
ORDERS = "/api/v1/orders"
ORDER_ITEM_PRINT = "/api/v1/order-items/{item_id}/print"
BATCH_ORDERS = "/api/v1/batch-orders"

# Print file statuses of an order item (the spec's list).
PRINT_RECEIVED = "received"
PRINT_PROCESSING = "processing"
PRINT_FAILED = "processingfailed"
PRINT_READY = "ready"
PRINT_STATUSES = (PRINT_RECEIVED, PRINT_PROCESSING, PRINT_FAILED, PRINT_READY)
NOT_FOUND = 404

# A row's UID, as the OMS answers it (the spec calls it the auto-generated UUID).
UID_FIELD = "uuid"
# Every pushed product has the same place in the OMS's listings.
ORDER_COLUMN = 1
# The OMS gives no unit for a variant's length, width and height; its example (a
# T-shirt 70 × 50 × 5) reads as centimetres, so sizes are sent in whole centimetres.
MILLIMETRES_PER_DIMENSION_UNIT = Decimal(10)
TAG_SEPARATOR = ","


class OMSError(Exception):
    """The OMS failed or refused; the message is safe to show to the user."""

    def __init__(self, status, detail, *, retryable=False, may_have_acted=False):
        self.status = status  # the HTTP status, None when no answer came
        self.detail = detail
        # True for failures that may heal on a later attempt (5xx, 429, timeouts).
        self.retryable = retryable
        # True when the OMS may have carried the request out although it did not say so.
        self.may_have_acted = may_have_acted
        self.message = f"OMS answered {status}: {detail}" if status else detail
        super().__init__(self.message)


@dataclass(frozen=True)
class OMSOrder:
    uid: str
    item_uids: dict  # {ecommerce_order_item_id: order item uid}


@dataclass(frozen=True)
class PrintFile:
    status: str  # one of PRINT_STATUSES
    url: str | None  # only when ready


# -- bodies ----------------------------------------------------------------------------


def category_body(*, name, parent_uid, default_dpi, default_location):
    """A category. Unlike products and variants, a category names its parent and its
    location by UID, a string (the spec's example parent is a UUID)."""
    return present({
        "name": name, "parent_id": parent_uid, "default_dpi": default_dpi,
        "default_location_id": str(default_location) if default_location else None,
    })


def product_body(*, category_id, name, code, description, default_dpi, team_id,
                 default_location):
    return present({
        "category_id": integer_id(category_id), "name": name, "code": code,
        "order_column": ORDER_COLUMN, "active": True, "description": description,
        "default_dpi": default_dpi, "team_id": integer_id(team_id),
        "default_location_id": location_id(default_location),
    })


def deactivation_body():
    return {"active": False}


def variant_body(product_id, *, name, tags, weight, width_mm, height_mm, country_id,
                 default_dpi, default_location, uuid=None):
    """One variant; weight in the catalog's unit and sizes in millimetres, when known.

    `uuid` (36 characters) is sent on create only (the spec's update has none): the hub's
    id of the variant or size, so an order can name it by `ecommerce_variant_id`.
    """
    return present({
        "uuid": uuid, "product_id": integer_id(product_id), "name": name,
        "weight": whole(weight), "width": dimension(width_mm), "height": dimension(height_mm),
        "country_id": integer_id(country_id), "default_dpi": default_dpi,
        "ecommerce_tags": TAG_SEPARATOR.join(
            tag.replace(TAG_SEPARATOR, " ").strip() for tag in tags
        ),
        "default_location_id": location_id(default_location),
    })


def order_body(*, store_id, ecommerce_order_id, number, currency, total, subtotal,
               buyer, billing_address, shipping_address, shipping_code, shipping_price,
               items):
    """A whole order; money as numbers, addresses as dicts of address_body."""
    addresses = [
        address_body("billing", billing_address) if billing_address else None,
        address_body("shipping", shipping_address) if shipping_address else None,
    ]
    body = order_update_body(
        number=number, currency=currency, total=total, subtotal=subtotal, buyer=buyer,
        addresses=[address for address in addresses if address],
        shipping_code=shipping_code, shipping_price=shipping_price, items=items,
    )
    return {"store_id": str(store_id), "ecommerce_order_id": str(ecommerce_order_id), **body}


def order_update_body(*, number, currency, total, subtotal, buyer, addresses,
                      shipping_code, shipping_price, items):
    body = present({
        "ecommerce_order_number": number, "currency_code": currency,
        "total_price": number_or_none(total), "subtotal_price": number_or_none(subtotal),
        "customer": present(buyer or {}) or None,
        "addresses": addresses or None,
        "shippings": [{"code": shipping_code, "shipping_price": number_or_none(shipping_price)
                       or 0}] if shipping_code else None,
    })
    body["items"] = items
    return body


def customer_body(*, email, name, phone, customer_id=None):
    """The buyer; the OMS asks for first name and surname apart."""
    first, _, last = (name or "").strip().partition(" ")
    return present({"email": email, "ecommerce_customer_id": customer_id, "name": first,
                    "surname": last.strip(), "phone": phone})


def address_body(type_id, address):
    """An address (keys of the hub's address: address_1, city, postal_code, ...)."""
    return present({
        "type_id": type_id, "address_1": address.get("address_1"),
        "address_2": address.get("address_2"), "post_code": address.get("postal_code"),
        "city": address.get("city"), "county": address.get("state"),
        "country_code": address.get("country_code"),
    })


def item_body(*, line_id, variant_uuid, quantity, price, template_config, thumbnails):
    """One order item; template_config is the url-encoded JSON the spec asks for."""
    return present({
        "ecommerce_order_item_id": str(line_id), "ecommerce_variant_id": str(variant_uuid),
        "quantity": quantity, "price": number_or_none(price),
    }) | {"template_config": template_config, "thumbnails": list(thumbnails)}


def number_or_none(value):
    """Money as the JSON number the spec types it, or None."""
    if value is None or value == "":
        return None
    return float(Decimal(str(value)))


def present(body):
    """The body without the fields that have no value (the OMS keeps its defaults)."""
    return {name: value for name, value in body.items() if value is not None and value != ""}


def integer_id(value):
    """An id the OMS types as an integer: the integer when it is all digits; else as
    stored, for the OMS to refuse in its own words (e.g. a team id that is not a number)."""
    if isinstance(value, str) and value.isascii() and value.isdigit():
        return int(value)
    return value


def location_id(value):
    """The default location as products and variants take it, an integer id; None (left
    out, the OMS's default applies) when the setting is a UID, which only categories take."""
    value = integer_id(value)
    return value if isinstance(value, int) else None


def whole(value):
    """A non-negative whole number, or None when unknown or it rounds to nothing."""
    if value is None:
        return None
    rounded = int(Decimal(value).quantize(Decimal(1), ROUND_HALF_UP))
    return rounded if rounded > 0 else None


def dimension(millimetres):
    if millimetres is None:
        return None
    return whole(Decimal(millimetres) / MILLIMETRES_PER_DIMENSION_UNIT)


# -- client ----------------------------------------------------------------------------


class OMSClient:
    def __init__(self, integration: OMSIntegration):
        self.integration = integration
        self.base_url = integration.base_url.rstrip("/")
        self.session = guarded_session()

    def create_category(self, body) -> tuple[str, str]:
        """The new category's id (products name it by id) and its UID (child categories
        name their parent by UID)."""
        row = self._send("POST", CATEGORIES, body)
        return self._id(row, CATEGORIES), self._uid(row, CATEGORIES)

    def category_uid(self, category_id) -> str:
        """The UID of a category the hub knows by id."""
        path = f"{CATEGORIES}/{category_id}"
        return self._uid(self._send("GET", path), path)

    def create_product(self, body) -> str:
        return self._create(PRODUCTS, body)

    def update_product(self, product_id, body):
        self._send("PUT", f"{PRODUCTS}/{product_id}", body)

    def create_variant(self, body) -> str:
        return self._create(VARIANTS, body)

    def update_variant(self, variant_id, body):
        self._send("PUT", f"{VARIANTS}/{variant_id}", body)

    def delete_variant(self, variant_id):
        self._send("DELETE", f"{VARIANTS}/{variant_id}")

    def variant_uuid(self, variant_id) -> str:
        row = self._send("GET", f"{VARIANTS}/{variant_id}")
        value = row.get("uuid") if isinstance(row, dict) else None
        if not isinstance(value, str) or not value:
            raise OMSError(None, f"The OMS answered variant {variant_id} without its uuid")
        return value

    # -- orders ------------------------------------------------------------------------

    def create_order(self, body) -> "OMSOrder":
        return self._order(self._send("POST", ORDERS, body), "POST", ORDERS)

    def update_order(self, order_uid, body) -> "OMSOrder":
        path = f"{ORDERS}/{order_uid}"
        return self._order(self._send("PUT", path, body), "PUT", path)

    def get_order(self, order_uid) -> "OMSOrder":
        path = f"{ORDERS}/{order_uid}"
        return self._order(self._send("GET", path), "GET", path)

    def delete_order(self, order_uid):
        """Delete the order; one the OMS no longer has counts as deleted."""
        try:
            self._send("DELETE", f"{ORDERS}/{order_uid}")
        except OMSError as exc:
            if exc.status != NOT_FOUND:
                raise

    def order_item_known(self, line_id) -> bool:
        """Whether the OMS holds an order item of this line (see the module's notes)."""
        return self.print_file(line_id) is not None

    def print_file(self, line_id) -> "PrintFile | None":
        """The print file of the order item of this line; None when the OMS has no such item."""
        path = ORDER_ITEM_PRINT.format(item_id=quote(str(line_id), safe=""))
        try:
            body = self._send("GET", path)
        except OMSError as exc:
            if exc.status == NOT_FOUND:
                return None
            raise
        status = body.get("status") if isinstance(body, dict) else None
        url = body.get("url") if isinstance(body, dict) else None
        if status not in PRINT_STATUSES or (url is not None and not isinstance(url, str)):
            raise OMSError(None, f"The OMS answered GET {path} with an unexpected body",
                           retryable=True)
        if status == PRINT_READY and not url:
            raise OMSError(None, f"The OMS answered GET {path}: ready without a URL",
                           retryable=True)
        return PrintFile(status=status, url=url if status == PRINT_READY else None)

    def create_batch_order(self, order_item_uids, print_template_uids) -> dict:
        """The batch order the OMS made: {"uid", "status"}."""
        body = self._send("POST", BATCH_ORDERS, {
            "order_items": [str(uid) for uid in order_item_uids],
            "print_templates": [str(uid) for uid in print_template_uids],
        })
        uid = body.get("uid") if isinstance(body, dict) else None
        if not isinstance(uid, str) or not uid:
            raise OMSError(None, f"The OMS answered POST {BATCH_ORDERS} without a uid",
                           may_have_acted=True)
        return {"uid": uid, "status": body.get("status")}

    @staticmethod
    def _order(body, method, path) -> "OMSOrder":
        """The order's uid and its items' uids by ecommerce_order_item_id."""
        uid = body.get("uid") if isinstance(body, dict) else None
        items = body.get("items") if isinstance(body, dict) else None
        if not isinstance(uid, str) or not uid or not isinstance(items, list):
            raise OMSError(None, f"The OMS answered {method} {path} without the order's uid",
                           may_have_acted=method == "POST")
        item_uids = {
            str(item.get("ecommerce_order_item_id")): str(item.get("uid"))
            for item in items if isinstance(item, dict) and item.get("uid")
        }
        return OMSOrder(uid=uid, item_uids=item_uids)

    # -- requests ----------------------------------------------------------------------

    def _create(self, path, body) -> str:
        """POST a new row; the id the OMS gave it, as a string."""
        return self._id(self._send("POST", path, body), path)

    @staticmethod
    def _id(row, path) -> str:
        row_id = row.get("id") if isinstance(row, dict) else None
        if isinstance(row_id, bool) or not isinstance(row_id, int | str) or row_id == "":
            raise OMSError(None, f"The OMS answered {path} without an id")
        return str(row_id)

    @staticmethod
    def _uid(row, path) -> str:
        uid = row.get(UID_FIELD) if isinstance(row, dict) else None
        if not isinstance(uid, str) or not uid:
            raise OMSError(None, f"The OMS answered {path} without a {UID_FIELD}")
        return uid

    def _send(self, method, path, body=None):
        """The JSON of a 200 answer; anything else raises OMSError."""
        headers = {"Authorization": f"Bearer {self.integration.api_token}",
                   "Accept": "application/json"}
        # The messages name the path only: the base URL may carry credentials.
        try:
            response = self.session.request(method, self.base_url + path, json=body,
                                            headers=headers)
        except OutboundBlocked as exc:
            raise OMSError(None, f"The OMS cannot be reached: {exc}") from None
        except requests.ConnectTimeout:
            raise OMSError(None, "Could not connect to the OMS in time",
                           retryable=True) from None
        except requests.Timeout:
            raise OMSError(None, f"The OMS did not answer {method} {path} in time",
                           retryable=True, may_have_acted=True) from None
        except requests.ConnectionError:
            raise OMSError(None, "Could not connect to the OMS", retryable=True,
                           may_have_acted=True) from None
        except requests.RequestException as exc:
            raise OMSError(None, f"The request to the OMS failed ({exc.__class__.__name__})",
                           retryable=True, may_have_acted=True) from None
        status = response.status_code
        if status != 200:
            raise OMSError(status, error_detail(response),
                           retryable=status == 429 or status >= 500,
                           may_have_acted=status >= 500)
        try:
            return response.json()
        except ValueError:
            # A create is not retried blindly: it may have been carried out.
            raise OMSError(status, f"a body that is not JSON for {method} {path}",
                           retryable=method != "POST", may_have_acted=True) from None


def error_detail(response) -> str:
    """The OMS's own words for an error: its message, then its details by field."""
    try:
        body = response.json()
    except ValueError:
        body = None
    if not isinstance(body, dict):
        return response.reason or "no details given"
    message = body.get("message") or body.get("error") or response.reason or "no message"
    details = describe(body.get("details", body.get("errors")))
    return f"{message} ({details})" if details else str(message)


def describe(details) -> str:
    if isinstance(details, dict):
        return "; ".join(f"{name}: {describe(reason)}" for name, reason in details.items())
    if isinstance(details, list):
        return ", ".join(describe(reason) for reason in details)
    return "" if details is None else str(details)

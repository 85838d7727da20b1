"""The HTTP client of an order management system (OMS), speaking the catalog part of
oms-api.txt: product categories, products and product variants.

Every OMS path and field name is in this module, so a different real contract is a
change here only; the storefront builds its bodies with the functions below.

Requests carry `Authorization: Bearer <api_token>`. Every success is a 200 whose body is
the row (with its integer `id`). An error answers 400/401/403/404/500 with a JSON body
`{"message": ..., "details": {field: reason}}`; OMSError carries both, as the OMS wrote
them.

Retries. The session sends a PUT or a DELETE again after a 500/502/503/504 (sending
either twice changes nothing); a POST creates, so it is never sent again here, nor is
any request that timed out: the OMS may have acted. Those fail as retryable, and the
push is retried later with the ids it obtained.
"""

from decimal import ROUND_HALF_UP, Decimal

import requests

from hub.outbound import OutboundBlocked, guarded_session
from integrations.models import OMSIntegration

CATEGORIES = "/api/v1/product-categories"
PRODUCTS = "/api/v1/products"
VARIANTS = "/api/v1/product-variants"

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

    def __init__(self, status, detail, *, retryable=False):
        self.status = status  # the HTTP status, None when no answer came
        self.detail = detail
        # True for failures that may heal on a later attempt (5xx, 429, timeouts).
        self.retryable = retryable
        self.message = f"OMS answered {status}: {detail}" if status else detail
        super().__init__(self.message)


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
        except requests.Timeout:
            raise OMSError(None, f"The OMS did not answer {method} {path} in time",
                           retryable=True) from None
        except requests.ConnectionError:
            raise OMSError(None, "Could not connect to the OMS", retryable=True) from None
        except requests.RequestException as exc:
            raise OMSError(None, f"The request to the OMS failed ({exc.__class__.__name__})",
                           retryable=True) from None
        status = response.status_code
        if status != 200:
            raise OMSError(status, error_detail(response),
                           retryable=status == 429 or status >= 500)
        try:
            return response.json()
        except ValueError:
            raise OMSError(status, f"a body that is not JSON for {method} {path}",
                           retryable=method != "POST") from None


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

"""The HTTP client of the PrintOps API, speaking the contract in printops-api.txt.

Every PrintOps path and field name is a constant below, so a different real contract is
a change to this module (and to mapping.py for the base product fields). Reading base
products and shipping methods serves the source; stores, images and user products the
storefront (storefront.py); webhooks the webhook registration (webhooks.py).

Answers come in an envelope: `data`, `status`, `code` (a number, or a list of them) and
`messages`. A code outside 2xx is an error whose text is the envelope's messages. Lists
are paged: `links.next` (or `meta.current_page` / `meta.last_page`) names the next page;
only its page number is taken, the request goes to the integration's own base URL.

Rate limit: PrintOps allows 60 requests a minute per token. Every request first takes a
slot of the budget all workers share (hub.ratelimit); an answer whose
`x-ratelimit-remaining` is 0 makes the next request wait for the window to free; a 429 is
waited out (Retry-After) and sent again, up to MAX_RATE_LIMIT_WAITS times (a 429 means
PrintOps did nothing, so a POST is sent again too).

Errors are PrintOpsError (a SourceError): its `status` is the HTTP status (None when no
answer came) and `retryable` says whether a later attempt may succeed (5xx, 429, no
answer). A POST is never re-sent after a 5xx or a timeout: PrintOps may have acted.
"""

import logging
import time
from urllib.parse import parse_qs, urlsplit

import requests

from hub import ratelimit
from hub.outbound import OutboundBlocked, guarded_session
from hub.values import is_whole
from integrations.sources import SourceError

logger = logging.getLogger(__name__)

AUTHENTICATION_TEST_PATH = "api/authentication-test"
BASE_PRODUCTS_PATH = "api/base-products"
SHIPPING_METHODS_PATH = "api/shipping-methods"
STORES_PATH = "api/stores"
STORE_PATH = "api/stores/{store_id}"
IMAGES_PATH = "api/images"
USER_PRODUCTS_PATH = "api/stores/{store_id}/user-products"
ORDERS_PATH = "api/stores/{store_id}/orders"
ORDER_PATH = "api/stores/{store_id}/orders/{order_id}"
ORDER_CANCEL_PATH = "api/stores/{store_id}/orders/{order_id}/cancel"
WEBHOOKS_PATH = "api/webhooks"
WEBHOOK_PATH = "api/webhooks/{webhook_id}"

DATA_FIELD = "data"
STATUS_FIELD = "status"
CODE_FIELD = "code"
MESSAGES_FIELD = "messages"
MESSAGE_FIELD = "message"  # data.message on some errors
BASE_PRODUCTS_FIELD = "base_products"
SHIPPING_METHODS_FIELD = "shipping_methods"
STORES_FIELD = "stores"
STORE_FIELD = "store"
USER_PRODUCTS_FIELD = "user_products"
USER_PRODUCT_FIELD = "userProduct"
WEBHOOKS_FIELD = "webhooks"
ORDERS_FIELD = "orders"
ORDER_FIELD = "order"
TOTAL_FIELD = "total"
ID_FIELD = "id"
# An image import names the image it made in `image_id`; null while PrintOps processes it.
IMAGE_ID_FIELD = "image_id"

# Request bodies.
IMAGE_URL_FIELD = "image_url"
FILENAME_FIELD = "filename"
BASE_PRODUCT_ID_FIELD = "base_product_id"
USER_SKU_FIELD = "user_sku"
NAME_FIELD = "name"
DESCRIPTION_FIELD = "description"
SCALE_OPTION_FIELD = "scale_option"
IMAGE_FIELD = "image"
WEBHOOK_TYPE_FIELD = "type"
WEBHOOK_ACTIVE_FIELD = "is_active"
# The spec's create body sends is_active as a string.
WEBHOOK_ACTIVE = "true"
STORE_TYPE_FIELD = "type"
# The type a store made through the API is given (the spec's example type).
DEFAULT_STORE_TYPE = "generic"

SCALE_OPTIONS = ("fit", "fill", "stretch", "noscale")
WEBHOOK_TYPES = ("order_state_update", "order_shipment")

LINKS_FIELD = "links"
NEXT_LINK_FIELD = "next"
META_FIELD = "meta"
CURRENT_PAGE_FIELD = "current_page"
LAST_PAGE_FIELD = "last_page"

PAGE_PARAM = "page"
LIMIT_PARAM = "limit"
CATEGORY_PARAM = "product_category_id"

REMAINING_HEADER = "x-ratelimit-remaining"
RATE_LIMIT = 60
RATE_WINDOW = 60.0
MAX_RATE_LIMIT_WAITS = 10
MAX_RETRY_AFTER = 60
DEFAULT_RETRY_AFTER = 1
# Added to a wait for a used-up window, so the window has surely moved on by then.
WINDOW_MARGIN = 1

REFUSED_TOKEN = "PrintOps refused the API token"

# Tests replace this so they do not wait out a Retry-After or a used-up window.
sleep = time.sleep


class PrintOpsError(SourceError):
    """PrintOps failed or refused; the message is safe to show to the user."""

    def __init__(self, message, *, status=None, retryable=False):
        super().__init__(message)
        self.message = message
        self.status = status  # the HTTP status, None when no answer came
        # True for failures that may heal on a later attempt (5xx, 429, no answer).
        self.retryable = retryable


class PrintOpsClient:
    def __init__(self, base_url, api_token, *, budget_key=None):
        self.base_url = (base_url or "").rstrip("/")
        self.api_token = api_token
        # The key of the request budget shared by every worker (None: no shared budget).
        self.budget_key = budget_key
        self.session = guarded_session()
        # When the window PrintOps said was used up frees again (time.monotonic()).
        self.window_frees_at = None

    @classmethod
    def for_integration(cls, integration):
        return cls(integration.base_url, integration.api_token,
                   budget_key=f"printops:{integration.id}")

    # -- endpoints ---------------------------------------------------------------------

    def authentication_test(self) -> bool:
        """True when PrintOps accepts the token; raises SourceError otherwise."""
        self._call(AUTHENTICATION_TEST_PATH)
        return True

    def base_products(self, *, page_size=None, category_id=None):
        """Every base product (a dict as PrintOps sends it), first page to last."""
        params = {}
        if page_size:
            params[LIMIT_PARAM] = page_size
        if category_id is not None:
            params[CATEGORY_PARAM] = category_id
        yield from self._items(BASE_PRODUCTS_PATH, BASE_PRODUCTS_FIELD, params)

    def shipping_methods(self) -> list:
        """Every shipping method PrintOps offers (dicts as it sends them)."""
        return list(self._items(SHIPPING_METHODS_PATH, SHIPPING_METHODS_FIELD, {}))

    def stores(self) -> list:
        """Every store of the account (dicts as PrintOps sends them)."""
        return list(self._items(STORES_PATH, STORES_FIELD, {}))

    def store(self, store_id) -> dict:
        return self._field(self._call(STORE_PATH.format(store_id=store_id)), STORE_FIELD,
                           STORE_PATH)

    def create_store(self, name, store_type=DEFAULT_STORE_TYPE) -> dict:
        """The store PrintOps created (with its `id`)."""
        created = self._field(
            self._call(STORES_PATH, method="POST",
                       json={NAME_FIELD: name, STORE_TYPE_FIELD: store_type}),
            STORE_FIELD, STORES_PATH, method="POST",
        )
        if not is_whole(created.get(ID_FIELD)):
            raise PrintOpsError(f"PrintOps answered POST {STORES_PATH} without the store's id")
        return created

    def create_image(self, image_url, filename) -> dict:
        """The image import PrintOps made of the URL; its `image_id` may still be None."""
        body = self._call(IMAGES_PATH, method="POST",
                          json={IMAGE_URL_FIELD: image_url, FILENAME_FIELD: filename})
        if not isinstance(body[DATA_FIELD], dict):
            raise PrintOpsError(f"PrintOps answered POST {IMAGES_PATH} without the image")
        return body[DATA_FIELD]

    def user_products(self, store_id):
        """Every user product of a store, first page to last."""
        yield from self._items(USER_PRODUCTS_PATH.format(store_id=store_id),
                               USER_PRODUCTS_FIELD, {})

    def create_user_product(self, store_id, body) -> dict:
        """The user product PrintOps created (with its `id`); see user_product_body."""
        path = USER_PRODUCTS_PATH.format(store_id=store_id)
        created = self._field(self._call(path, method="POST", json=body), USER_PRODUCT_FIELD,
                              path, method="POST")
        if not is_whole(created.get(ID_FIELD)):
            raise PrintOpsError(f"PrintOps answered POST {path} without the user product's id")
        return created

    def order_pages(self, store_id, *, page_size=None):
        """Every order of a store, a page at a time: (orders as PrintOps sends them,
        the number of orders in all pages or None)."""
        params = {LIMIT_PARAM: page_size} if page_size else {}
        for body, items in self._pages(ORDERS_PATH.format(store_id=store_id), ORDERS_FIELD,
                                       params):
            meta = body.get(META_FIELD)
            total = meta.get(TOTAL_FIELD) if isinstance(meta, dict) else None
            yield items, total if is_whole(total) else None

    def order(self, store_id, order_id) -> dict | None:
        """One order of a store, with its shipments; None when PrintOps has no such order."""
        path = ORDER_PATH.format(store_id=store_id, order_id=order_id)
        try:
            return self._field(self._call(path), ORDER_FIELD, path)
        except PrintOpsError as exc:
            if exc.status == 404:
                return None
            raise

    def cancel_order(self, store_id, order_id) -> str:
        """Ask PrintOps to cancel an order; its message. A refusal (the order's state does
        not allow it) raises PrintOpsError with PrintOps's words."""
        path = ORDER_CANCEL_PATH.format(store_id=store_id, order_id=order_id)
        body = self._call(path, method="POST")
        data = body[DATA_FIELD]
        return (data.get(MESSAGE_FIELD) if isinstance(data, dict) else None) or "accepted"

    def webhooks(self) -> list:
        return list(self._items(WEBHOOKS_PATH, WEBHOOKS_FIELD, {}))

    def create_webhook(self, webhook_type) -> dict:
        """An active webhook of this type; PrintOps delivers it to the account's URL."""
        body = self._call(WEBHOOKS_PATH, method="POST", json={
            WEBHOOK_TYPE_FIELD: webhook_type, WEBHOOK_ACTIVE_FIELD: WEBHOOK_ACTIVE,
        })
        if not isinstance(body[DATA_FIELD], dict):
            raise PrintOpsError(f"PrintOps answered POST {WEBHOOKS_PATH} without the webhook")
        return body[DATA_FIELD]

    def delete_webhook(self, webhook_id):
        self._call(WEBHOOK_PATH.format(webhook_id=webhook_id), method="DELETE")

    @staticmethod
    def _field(body, field, path, method="GET"):
        data = body[DATA_FIELD]
        value = data.get(field) if isinstance(data, dict) else None
        if not isinstance(value, dict):
            raise PrintOpsError(f"PrintOps answered {method} {path} without {field}")
        return value

    # -- paging ------------------------------------------------------------------------

    def _items(self, path, field, params):
        """The items in data[field] of every page of a list, first page to last."""
        for _, items in self._pages(path, field, params):
            yield from items

    def _pages(self, path, field, params):
        """(the answer, the items in data[field]) of every page of a list, in order."""
        params = {**params, PAGE_PARAM: 1}
        while True:
            body = self._call(path, params=params)
            items = body[DATA_FIELD].get(field) if isinstance(body[DATA_FIELD], dict) else None
            if not isinstance(items, list):
                raise PrintOpsError(f"PrintOps answered GET {path} without a list of {field}")
            yield body, items
            next_page = next_page_of(body)
            if next_page is None:
                return
            # A next page that does not move forward would make the sync loop for ever.
            if next_page <= params[PAGE_PARAM]:
                raise PrintOpsError(
                    f"PrintOps answered GET {path} with next page {next_page}"
                    f" after page {params[PAGE_PARAM]}"
                )
            params[PAGE_PARAM] = next_page

    # -- requests ----------------------------------------------------------------------

    def _call(self, path, *, method="GET", params=None, json=None):
        """The answer's envelope (a dict with `data`) of a successful request."""
        response = self._send(method, path, params, json)
        status = response.status_code
        if status == 401:
            raise PrintOpsError(REFUSED_TOKEN, status=status)
        try:
            body = response.json()
        except ValueError:
            body = None
        retryable = status >= 500
        if not isinstance(body, dict):
            if not 200 <= status < 300:
                raise PrintOpsError(f"PrintOps answered {method} {path} with {status}",
                                    status=status, retryable=retryable)
            raise PrintOpsError(f"PrintOps answered {method} {path} with a body that is not JSON",
                                status=status, retryable=True)
        codes = envelope_codes(body, status)
        if not all(200 <= code < 300 for code in codes) or not 200 <= status < 300:
            raise PrintOpsError(error_message(method, path, body, codes, status),
                                status=status, retryable=retryable)
        if DATA_FIELD not in body:
            raise PrintOpsError(f"PrintOps answered {method} {path} without data", status=status)
        return body

    def _send(self, method, path, params, json):
        """The response, after waiting out up to MAX_RATE_LIMIT_WAITS answers of 429."""
        waits = 0
        while True:
            self._wait_for_window()
            self._take_budget()
            if method == "GET":
                response = self._request(path, params)
            else:
                response = self._http(method, path, params, json)
            if response.status_code != 429:
                self._note_remaining(response)
                return response
            if waits == MAX_RATE_LIMIT_WAITS:
                raise PrintOpsError(
                    f"PrintOps kept answering 429 (too many requests) to {method} {path}"
                    f" after {MAX_RATE_LIMIT_WAITS} waits", status=429, retryable=True,
                )
            waits += 1
            seconds = retry_after(response)
            logger.info("PrintOps answered 429 to %s %s; waiting %ss", method, path, seconds)
            sleep(seconds)

    def _take_budget(self):
        if self.budget_key and not ratelimit.acquire(self.budget_key, RATE_LIMIT, RATE_WINDOW):
            raise PrintOpsError("The PrintOps request budget of this integration stayed used up",
                                retryable=True)

    def _note_remaining(self, response):
        """When PrintOps says the window is used up, the next request waits for it to free."""
        if response.headers.get(REMAINING_HEADER, "").strip() == "0":
            seconds = retry_after(response, default=RATE_WINDOW) + WINDOW_MARGIN
            self.window_frees_at = time.monotonic() + seconds

    def _wait_for_window(self):
        if self.window_frees_at is None:
            return
        seconds = self.window_frees_at - time.monotonic()
        self.window_frees_at = None
        if seconds > 0:
            logger.info("PrintOps request window used up; waiting %.0fs", seconds)
            sleep(seconds)

    def _request(self, path, params):
        return self._http("GET", path, params, None)

    def _http(self, method, path, params, json):
        # The messages name the path only: the URL's query and the headers stay out.
        headers = {"Authorization": f"Bearer {self.api_token}", "Accept": "application/json"}
        try:
            return self.session.request(method, f"{self.base_url}/{path}", params=params,
                                        json=json, headers=headers)
        except OutboundBlocked as exc:
            raise PrintOpsError(f"PrintOps could not be reached: {exc}") from None
        except requests.Timeout:
            raise PrintOpsError(
                f"PrintOps could not be reached: {method} {path} was not answered in time",
                retryable=True,
            ) from None
        except requests.ConnectionError:
            raise PrintOpsError(
                f"PrintOps could not be reached: could not connect for {method} {path}",
                retryable=True,
            ) from None
        except requests.RequestException as exc:
            raise PrintOpsError(
                f"PrintOps could not be reached: {method} {path} failed"
                f" ({exc.__class__.__name__})", retryable=True,
            ) from None


def user_product_body(*, base_product_id, user_sku, name, description, scale_option,
                      image_id=None, image_url=None, filename=None):
    """A user product to create: of an image PrintOps holds (image_id), else of a URL."""
    body = {
        BASE_PRODUCT_ID_FIELD: base_product_id, USER_SKU_FIELD: user_sku, NAME_FIELD: name,
        DESCRIPTION_FIELD: description, SCALE_OPTION_FIELD: scale_option,
    }
    if image_id is not None:
        body[IMAGE_ID_FIELD] = image_id
    else:
        body[IMAGE_FIELD] = {IMAGE_URL_FIELD: image_url, FILENAME_FIELD: filename}
    return body


def check_credentials(base_url, api_token) -> None:
    """None when PrintOps at base_url accepts the token; raises SourceError otherwise.

    For saving an integration: the messages are "PrintOps refused the API token" or
    "PrintOps could not be reached: ...", or what PrintOps answered.
    """
    PrintOpsClient(base_url, api_token).authentication_test()


def next_page_of(body):
    """The number of the page after this one, or None on the last page."""
    links = body.get(LINKS_FIELD)
    if isinstance(links, dict) and NEXT_LINK_FIELD in links:
        link = links[NEXT_LINK_FIELD]
        if not link:
            return None
        page = page_in(link)
        if page is not None:
            return page
    meta = body.get(META_FIELD)
    if isinstance(meta, dict):
        current, last = meta.get(CURRENT_PAGE_FIELD), meta.get(LAST_PAGE_FIELD)
        if is_whole(current) and is_whole(last):
            return current + 1 if current < last else None
    if isinstance(links, dict) and links.get(NEXT_LINK_FIELD):
        raise PrintOpsError("PrintOps named a next page without a page number")
    return None


def page_in(link):
    """The `page` number in a link's query, or None."""
    if not isinstance(link, str):
        return None
    values = parse_qs(urlsplit(link).query).get(PAGE_PARAM) or []
    value = values[0] if values else ""
    return int(value) if value.isascii() and value.isdigit() else None


def envelope_codes(body, http_status):
    """The envelope's code(s) as whole numbers; the HTTP status when it gives none."""
    code = body.get(CODE_FIELD)
    codes = code if isinstance(code, list) else [code]
    codes = [int(c) for c in codes if is_whole(c) or (isinstance(c, str) and c.isdigit())]
    return codes or [http_status]


def error_message(method, path, body, codes, http_status):
    """"PrintOps answered GET path with 404 Not Found: <its messages>"."""
    status = body.get(STATUS_FIELD)
    status = " ".join(map(str, status)) if isinstance(status, list) else status
    code = next((c for c in codes if not 200 <= c < 300), http_status)
    answer = f"{code} {status}" if status else f"{code}"
    text = messages_text(body.get(MESSAGES_FIELD))
    data = body.get(DATA_FIELD)
    if not text and isinstance(data, dict):
        text = messages_text(data.get(MESSAGE_FIELD))
    return f"PrintOps answered {method} {path} with {answer}" + (f": {text}" if text else "")


def messages_text(messages) -> str:
    """Messages as one line: a string, a list of them, or {field: [messages]}."""
    if messages is None:
        return ""
    if isinstance(messages, str):
        return messages.strip()
    if isinstance(messages, dict):
        parts = [f"{key}: {messages_text(value)}" for key, value in messages.items()]
        return "; ".join(part for part in parts if not part.endswith(": "))
    if isinstance(messages, list):
        return "; ".join(text for text in map(messages_text, messages) if text)
    return str(messages)


def retry_after(response, default=DEFAULT_RETRY_AFTER) -> float:
    """The seconds a 429 (or a used-up window) asks to wait: its Retry-After, capped."""
    value = response.headers.get("Retry-After", "").strip()
    try:
        seconds = float(value)
    except ValueError:
        return default
    if not 0 <= seconds < float("inf"):
        return default
    return min(seconds, MAX_RETRY_AFTER)



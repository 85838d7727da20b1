"""The HTTP client of the OVS API, speaking the contract described in ovs-api.md.

Every OVS path and field name is a constant below, so a different real contract is a
change to this module (and to mapping.py for the product fields).
"""

import logging
import time
from datetime import UTC, datetime
from urllib.parse import quote

import requests
from django.utils import timezone

from hub.outbound import OutboundBlocked, guarded_session
from hub.values import is_whole
from integrations.models import OVSIntegration
from integrations.sources import SourceError

logger = logging.getLogger(__name__)

LOGIN_PATH = "/auth/login"
PRODUCTS_PATH = "/products"
PRODUCT_PATH = "/products/{code}"

LOGIN_USERNAME = "username"
LOGIN_PASSWORD = "password"
TOKEN_FIELD = "access_token"
TOKEN_LIFETIME_FIELD = "expires_in"

PAGE_PARAM = "page"
PAGE_SIZE_PARAM = "page_size"
UPDATED_SINCE_PARAM = "updated_since"
PAGE_ITEMS_FIELD = "items"
PAGE_TOTAL_FIELD = "total"
NEXT_PAGE_FIELD = "next_page"

# A stored token is replaced this long before it expires.
MAX_RATE_LIMIT_RETRIES = 5
MAX_RETRY_AFTER = 60
DEFAULT_RETRY_AFTER = 1

# Tests replace this so they do not wait out a Retry-After.
sleep = time.sleep


class OVSClient:
    def __init__(self, integration: OVSIntegration):
        self.integration = integration
        self.base_url = integration.base_url.rstrip("/")
        # Logging in only issues a token, so a login cut off by a 502-504 may be sent again.
        self.session = guarded_session(retry_post=True)

    # -- products ----------------------------------------------------------------------

    def iter_pages(self, updated_since: datetime | None = None, page_size: int = 100):
        """Yield each page of products (a dict with items, total, next_page), first to last."""
        params = {PAGE_PARAM: 1, PAGE_SIZE_PARAM: page_size}
        if updated_since is not None:
            params[UPDATED_SINCE_PARAM] = utc_timestamp(updated_since)
        while True:
            page = self._call("GET", PRODUCTS_PATH, params=params)
            if not is_page(page):
                raise SourceError(f"OVS answered GET {PRODUCTS_PATH} with an unexpected body")
            yield page
            next_page = page[NEXT_PAGE_FIELD]
            if next_page is None:
                return
            # A next page that does not move forward would make the sync loop for ever.
            if next_page <= params[PAGE_PARAM]:
                raise SourceError(
                    f"OVS answered GET {PRODUCTS_PATH} with next_page {next_page}"
                    f" after page {params[PAGE_PARAM]}"
                )
            params[PAGE_PARAM] = next_page

    def get_product(self, code: str) -> dict | None:
        """The product with this code, or None when OVS does not know it."""
        path = PRODUCT_PATH.format(code=quote(code, safe=""))
        product = self._call("GET", path, missing_ok=True)
        if product is not None and not isinstance(product, dict):
            raise SourceError(f"OVS answered GET {path} with an unexpected body")
        return product

    # -- authentication ----------------------------------------------------------------

    def token(self) -> str:
        """The stored token while it is good for another minute, else a fresh one."""
        return self.integration.usable_token() or self.login()

    def login(self) -> str:
        """Log in, store the new token on the integration, return it."""
        response = self._send("POST", LOGIN_PATH, json={
            LOGIN_USERNAME: self.integration.username,
            LOGIN_PASSWORD: self.integration.password,
        })
        if response.status_code == 401:
            raise SourceError("OVS refused the credentials (401)")
        body = self._json(response, "POST", LOGIN_PATH)
        token = body.get(TOKEN_FIELD) if isinstance(body, dict) else None
        lifetime = body.get(TOKEN_LIFETIME_FIELD) if isinstance(body, dict) else None
        if not isinstance(token, str) or not token or not is_positive_number(lifetime):
            raise SourceError(f"OVS answered POST {LOGIN_PATH} with an unexpected body")
        self.integration.keep_token(token, lifetime)
        logger.info("Logged in to OVS for integration %s", self.integration.pk)
        return token

    # -- requests ----------------------------------------------------------------------

    def _call(self, method, path, *, params=None, missing_ok=False):
        """An authenticated call's JSON body (None for a 404 when missing_ok)."""
        response = self._send(method, path, params=params, token=self.token())
        if response.status_code == 401:
            # The token expired or was revoked early: one fresh login, one more try.
            response = self._send(method, path, params=params, token=self.login())
            if response.status_code == 401:
                raise SourceError(f"OVS refused a fresh token on {method} {path} (401)")
        if response.status_code == 404 and missing_ok:
            return None
        return self._json(response, method, path)

    def _send(self, method, path, *, token=None, **kwargs):
        """The response, after waiting out up to MAX_RATE_LIMIT_RETRIES answers of 429."""
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        retries = 0
        while True:
            response = self._request(method, path, headers=headers, **kwargs)
            if response.status_code != 429:
                return response
            if retries == MAX_RATE_LIMIT_RETRIES:
                raise SourceError(
                    f"OVS kept answering 429 (too many requests) to {method} {path}"
                    f" after {MAX_RATE_LIMIT_RETRIES} retries"
                )
            retries += 1
            sleep(retry_after(response))

    def _request(self, method, path, **kwargs):
        # The messages name the path only: the URL's query and the headers stay out.
        try:
            return self.session.request(method, self.base_url + path, **kwargs)
        except OutboundBlocked as exc:
            raise SourceError(f"OVS cannot be reached: {exc}") from None
        except requests.Timeout:
            raise SourceError(f"OVS did not answer {method} {path} in time") from None
        except requests.ConnectionError:
            raise SourceError(f"Could not connect to OVS for {method} {path}") from None
        except requests.RequestException as exc:
            raise SourceError(
                f"The request {method} {path} to OVS failed ({exc.__class__.__name__})"
            ) from None

    def _json(self, response, method, path):
        if response.status_code != 200:
            raise SourceError(f"OVS answered {method} {path} with {response.status_code}")
        try:
            return response.json()
        except ValueError:
            raise SourceError(
                f"OVS answered {method} {path} with a body that is not JSON"
            ) from None


def retry_after(response) -> int:
    """The seconds a 429 asks to wait: its whole-second Retry-After, capped."""
    value = response.headers.get("Retry-After", "").strip()
    if not (value.isascii() and value.isdigit()):
        return DEFAULT_RETRY_AFTER
    return min(int(value), MAX_RETRY_AFTER)


def is_page(body) -> bool:
    if not isinstance(body, dict) or not isinstance(body.get(PAGE_ITEMS_FIELD), list):
        return False
    return all(
        is_whole_or_none(body.get(field)) for field in (NEXT_PAGE_FIELD, PAGE_TOTAL_FIELD)
    )


def is_whole_or_none(value) -> bool:
    """None, or a whole number (not a boolean)."""
    return value is None or is_whole(value)


def is_positive_number(value) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and value > 0


def utc_timestamp(moment: datetime) -> str:
    """ISO 8601 in UTC with a Z; a naive time is taken to be UTC already."""
    if timezone.is_naive(moment):
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")

"""The OVS client, mapping and source, driven over real HTTP against the sandbox fake."""

from datetime import timedelta

import pytest
import requests
from django.contrib.auth import get_user_model
from django.db import connection
from django.utils import timezone

from catalog.payload import content_hash, parse_product
from hub.secrets import decrypt
from integrations.models import OVSIntegration
from integrations.ovs import client as ovs_client
from integrations.ovs.client import OVSClient
from integrations.ovs.mapping import to_canonical
from integrations.ovs.source import OVSSource
from integrations.sources import InvalidProduct, ProductNotFound, SourceError

pytestmark = pytest.mark.django_db

ALL_CODES = [f"OVS-{index:05d}" for index in range(1, 41)]  # the sandbox fixture's 40


@pytest.fixture
def integration(sandbox):
    # A user without a password: hashing one would cost more than the test.
    owner = get_user_model().objects.create_user("owner")
    return OVSIntegration.objects.create(
        name="OVS", base_url=sandbox.url_of("ovs"), username="demo",
        password="demo-password", user=owner,
    )


@pytest.fixture
def ovs(sandbox):
    return sandbox.fakes["ovs"]


@pytest.fixture
def waits(monkeypatch):
    """The seconds the client was asked to sleep, instead of sleeping them."""
    asked = []
    monkeypatch.setattr(ovs_client, "sleep", asked.append)
    return asked


def logins(ovs):
    return [entry for entry in ovs.request_log if entry["path"] == "/auth/login"]


def fresh(integration):
    return OVSIntegration.objects.get(pk=integration.pk)


# -- paging --------------------------------------------------------------------------


def test_it_follows_every_page_until_there_is_no_next_page(integration, ovs):
    pages = list(OVSClient(integration).iter_pages(None, page_size=7))

    assert len(pages) == 6
    assert [item["code"] for page in pages for item in page["items"]] == ALL_CODES
    assert [page["next_page"] for page in pages] == [2, 3, 4, 5, 6, None]
    assert {page["total"] for page in pages} == {40}


def test_the_source_yields_every_product_mapped_with_the_total(integration):
    pages = list(OVSSource(integration).changed_products(None))

    assert [product["supplier_sku"] for page in pages for product in page.products] == ALL_CODES
    assert all(page.total == 40 and page.failures == [] for page in pages)


def test_it_asks_only_for_products_updated_since_a_moment(integration, sandbox, ovs):
    since = timezone.now() - timedelta(seconds=1)
    touched = ["OVS-00004", "OVS-00015", "OVS-00033"]
    requests.post(f"{sandbox.url_of('ovs')}/_sandbox/touch", json={"codes": touched}, timeout=5)

    pages = list(OVSSource(integration).changed_products(since))

    assert [product["supplier_sku"] for page in pages for product in page.products] == touched
    assert pages[0].total == 3
    (listing,) = [entry for entry in ovs.request_log if entry["path"] == "/products"]
    assert "updated_since=" in listing["query"]
    assert listing["query"].split("updated_since=")[1].endswith("Z")


# -- authentication ------------------------------------------------------------------


def test_it_stores_the_token_encrypted_and_reuses_it_across_clients(integration, ovs):
    OVSClient(integration).get_product("OVS-00001")
    OVSClient(fresh(integration)).get_product("OVS-00002")

    assert len(logins(ovs)) == 1
    token = fresh(integration).token
    assert token
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT token FROM {OVSIntegration._meta.db_table}")
        (stored,) = cursor.fetchone()
    assert stored != token
    assert decrypt(stored) == token


def test_it_logs_in_again_when_the_stored_token_expires_within_a_minute(integration, ovs):
    OVSClient(integration).get_product("OVS-00001")
    OVSIntegration.objects.filter(pk=integration.pk).update(
        token_expires_at=timezone.now() + timedelta(seconds=30)
    )

    OVSClient(fresh(integration)).get_product("OVS-00001")

    assert len(logins(ovs)) == 2
    assert fresh(integration).token_expires_at > timezone.now() + timedelta(minutes=50)


def test_it_logs_in_once_more_when_the_token_is_refused(integration, sandbox, ovs):
    client = OVSClient(integration)
    client.get_product("OVS-00001")
    first_token = fresh(integration).token
    requests.post(f"{sandbox.url_of('ovs')}/_sandbox/expire-tokens", timeout=5)

    product = client.get_product("OVS-00002")

    assert product["code"] == "OVS-00002"
    assert len(logins(ovs)) == 2
    assert [entry["status"] for entry in ovs.request_log] == [200, 200, 401, 200, 200]
    assert fresh(integration).token not in (None, first_token)


def test_a_wrong_password_is_a_source_error_without_the_password(integration, ovs):
    integration.password = "wrong-password"

    with pytest.raises(SourceError) as raised:
        OVSClient(integration).get_product("OVS-00001")

    assert str(raised.value) == "OVS refused the credentials (401)"
    assert len(logins(ovs)) == 1
    assert fresh(integration).token is None


# -- faults --------------------------------------------------------------------------


def test_it_waits_the_seconds_retry_after_asks_then_goes_on(integration, ovs, waits):
    client = OVSClient(integration)
    client.login()
    ovs.set_faults(rate_limit_next=2, retry_after=7)

    product = client.get_product("OVS-00001")

    assert product["code"] == "OVS-00001"
    assert waits == [7, 7]


def test_it_gives_up_after_five_429s_and_waits_at_most_a_minute_each(integration, ovs, waits):
    client = OVSClient(integration)
    client.login()
    ovs.set_faults(rate_limit_next=10, retry_after=3600)

    with pytest.raises(SourceError, match="OVS kept answering 429"):
        client.get_product("OVS-00001")

    assert waits == [60] * 5


def test_a_server_error_that_outlasts_the_retries_is_a_source_error(integration, ovs):
    client = OVSClient(integration)
    client.login()
    ovs.set_faults(fail_next=4)

    with pytest.raises(SourceError) as raised:
        list(client.iter_pages(None))

    assert str(raised.value) == "OVS answered GET /products with 500"


def test_a_body_that_is_not_json_is_a_source_error(integration, ovs):
    client = OVSClient(integration)
    client.login()
    ovs.set_faults(malformed_next=1)

    with pytest.raises(SourceError) as raised:
        list(client.iter_pages(None))

    assert str(raised.value) == "OVS answered GET /products with a body that is not JSON"


def test_malformed_products_are_page_failures_and_the_rest_are_mapped(integration, ovs):
    ovs.set_faults(bad_product_codes=["OVS-00003", "OVS-00005"])

    (page,) = OVSSource(integration).changed_products(None)

    assert page.failures == [
        {"code": code, "reason": f"{code}: no name; variants is not a list of objects"}
        for code in ("OVS-00003", "OVS-00005")
    ]
    assert [product["supplier_sku"] for product in page.products] == [
        code for code in ALL_CODES if code not in ("OVS-00003", "OVS-00005")
    ]


# -- one product ---------------------------------------------------------------------


def test_an_unknown_code_is_product_not_found(integration):
    with pytest.raises(ProductNotFound):
        OVSSource(integration).product_by_code("OVS-99999")


def test_a_code_is_quoted_into_the_path(integration, ovs):
    with pytest.raises(ProductNotFound):
        OVSSource(integration).product_by_code("OVS 1?x=y")

    assert ovs.request_log[-1]["path"] == "/products/OVS 1?x=y"
    assert ovs.request_log[-1]["query"] == ""


def test_an_apparel_product_maps_to_a_valid_payload(integration):
    product = parse_product(OVSSource(integration).product_by_code("OVS-00001"))

    assert product["product_type"] == "apparel"
    assert product["apparel_details"]["pricing_method"] == "tiered_variant"
    assert product["print_details"] is None
    variant = product["variants"][0]
    assert variant["sku"].startswith("OVS-00001-") and variant["size"]
    assert [price["quantity_min"] for price in variant["prices"]] == [1, 12, 144]
    assert variant["prices"][-1]["quantity_max"] is None
    assert variant["prices"][0]["price"] == variant["base_price"]
    assert product["images"][0]["image_type"] == "front"
    assert product["image_url"] == product["images"][0]["url"]


def test_a_print_product_maps_to_a_valid_payload_with_its_sizes(integration):
    product = parse_product(OVSSource(integration).product_by_code("OVS-00005"))

    assert product["product_type"] == "print"
    assert product["variants"] == []
    assert product["apparel_details"] is None
    details = product["print_details"]
    assert details["size_unit"] == "in"
    assert details["min_width"] < details["max_width"]
    assert details["base_price_per_sq_unit"] > 0
    assert product["sizes"] and all(size["unit"] == "in" for size in product["sizes"])
    assert all(size["label"].endswith(" in") for size in product["sizes"])


def test_a_one_size_product_maps_to_variants_without_a_size(integration):
    product = parse_product(OVSSource(integration).product_by_code("OVS-00007"))

    assert product["variants"]
    assert all(variant["size"] is None for variant in product["variants"])


def test_an_untouched_product_hashes_the_same_whenever_it_is_read(integration):
    source = OVSSource(integration)
    ovs_product = OVSClient(integration).get_product("OVS-00001")
    later = {**ovs_product, "updated_at": "2026-11-01T00:00:00Z"}

    payload = to_canonical(ovs_product)

    assert "updated_at" not in payload and "raw_payload" not in str(payload)
    first = content_hash(parse_product(source.product_by_code("OVS-00001")))
    assert content_hash(parse_product(source.product_by_code("OVS-00001"))) == first
    assert content_hash(parse_product(to_canonical(later))) == first


@pytest.mark.parametrize("ovs_product, reason", [
    (["OVS-1"], "(no code): the product is not an object"),
    ({"name": "Tee"}, "(no code): the product has no code"),
    ({"code": "OVS-1", "name": " "}, "OVS-1: no name"),
    ({"code": "OVS-1", "name": "Tee", "images": {"url": "x"}},
     "OVS-1: images is not a list of objects"),
    ({"code": "OVS-1", "name": "Tee", "variants": [{"price_tiers": "1.00"}]},
     "OVS-1: variants[0].price_tiers is not a list of objects"),
])
def test_a_product_of_the_wrong_shape_is_invalid(ovs_product, reason):
    with pytest.raises(InvalidProduct) as raised:
        to_canonical(ovs_product)

    assert str(raised.value) == reason

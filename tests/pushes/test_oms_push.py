"""Pushing products to a customer whose storefront is an OMS, through the push service,
against the sandbox OMS over real HTTP."""

import pytest
import requests

from catalog.ingest import ingest_products
from catalog.models import Product
from integrations.models import OMSIntegration
from pushes.models import CategoryMapping, Customer, MarkupRule, PushLog, StorefrontProduct
from pushes.services import push_product
from sandbox.testing import RunningSandbox
from tests.factories import apparel_payload

pytestmark = pytest.mark.django_db

CATALOG_TABLES = ("categories", "products", "variants")


@pytest.fixture
def sandbox():
    with RunningSandbox(catalog_size=1) as running:
        yield running


@pytest.fixture
def oms(sandbox):
    return sandbox.fakes["oms"]


@pytest.fixture
def customer(sandbox, staff_user):
    storefront = OMSIntegration.objects.create(
        name="Acme orders", user=staff_user, base_url=sandbox.url_of("oms"),
        api_token="demo-oms-token", store_id="store-7", team_id="5", country_id="44",
    )
    customer = Customer.objects.create(name="Acme", storefront=storefront)
    MarkupRule.objects.create(customer=customer, name="all +40%", markup_pct=40)
    return customer


@pytest.fixture
def product(supplier):
    ingest_products(supplier, [apparel_payload("PC61")])
    return Product.objects.get(supplier_sku="PC61")


def stored(sandbox):
    return requests.get(f"{sandbox.url_of('oms')}/_sandbox/state", timeout=5).json()


def counts(sandbox):
    state = stored(sandbox)
    return {table: state["counts"][table] for table in CATALOG_TABLES}


def requests_received(oms):
    with oms.lock:
        return len(oms.request_log)


def entry_of(customer, product):
    return StorefrontProduct.objects.get(customer=customer, product=product)


def push(customer, product):
    """(log, retryable) of one push, as the push task gets them."""
    return push_product(customer.pk, product.pk)


# -- create, update, unchanged ---------------------------------------------------------


def test_a_first_push_creates_the_product_and_keeps_its_ids(sandbox, customer, product):
    log, retryable = push(customer, product)

    assert (log.status, log.action, log.error, retryable) == ("pushed", "created", None, False)
    state = stored(sandbox)
    [stored_product] = state["products"]
    entry = entry_of(customer, product)
    assert entry.storefront_product_id == log.storefront_product_id == str(stored_product["id"])
    assert set(entry.refs["variants"]) == set(product.variants.values_list("variant_key",
                                                                          flat=True))
    assert sorted(entry.refs["variants"].values()) == sorted(
        str(variant["id"]) for variant in state["variants"]
    )
    assert CategoryMapping.objects.filter(customer=customer).count() == 2
    # The marked-up price (4.58 + 40%) travels in the variant's tags.
    assert "price:6.41" in state["variants"][0]["ecommerce_tags"].split(",")


def test_a_changed_product_is_updated_in_place(sandbox, customer, product, supplier):
    push(customer, product)
    ingest_products(supplier, [apparel_payload("PC61", name="Tee PC61 (new)", price="5.00")])

    log, _ = push(customer, product)

    assert (log.status, log.action) == ("pushed", "updated")
    assert counts(sandbox) == {"categories": 2, "products": 1, "variants": 4}
    state = stored(sandbox)
    assert state["products"][0]["name"] == "Tee PC61 (new)"
    assert all("price:7.00" in variant["ecommerce_tags"].split(",")
               for variant in state["variants"])


def test_an_unchanged_product_sends_nothing(sandbox, oms, customer, product):
    push(customer, product)
    before = requests_received(oms)

    log, _ = push(customer, product)

    assert (log.status, log.action) == ("pushed", "unchanged")
    assert requests_received(oms) == before


def test_a_variant_gone_from_the_catalog_is_deleted_in_the_oms(
    sandbox, customer, product, supplier
):
    push(customer, product)
    ingest_products(supplier, [apparel_payload("PC61", sizes=("S",))])

    log, _ = push(customer, product)

    assert (log.status, log.action) == ("pushed", "updated")
    assert counts(sandbox)["variants"] == 2
    assert sorted(v["name"] for v in stored(sandbox)["variants"]) == ["Black / S", "Natural / S"]
    assert len(entry_of(customer, product).refs["variants"]) == 2


# -- archiving -------------------------------------------------------------------------


def test_archiving_a_product_makes_it_inactive_in_the_oms(
    sandbox, customer, product, eager_tasks, django_capture_on_commit_callbacks
):
    push(customer, product)

    with django_capture_on_commit_callbacks(execute=True):
        product.archive()

    assert stored(sandbox)["products"][0]["active"] is False
    log = PushLog.objects.get(action="deactivated")
    assert (log.status, log.customer, log.product) == ("pushed", customer, product)
    assert log.storefront_product_id == entry_of(customer, product).storefront_product_id


# -- failures --------------------------------------------------------------------------


def test_a_product_without_a_category_is_refused_before_anything_is_sent(
    oms, customer, supplier
):
    ingest_products(supplier, [apparel_payload("PC62", category=())])
    product = Product.objects.get(supplier_sku="PC62")

    log, retryable = push(customer, product)

    assert (log.status, log.step, retryable) == ("failed", "check", False)
    assert log.error == "Product PC62 has no category; the OMS needs one for every product."
    assert requests_received(oms) == 0


def test_nothing_is_lost_when_a_push_fails_half_way(sandbox, oms, customer, product):
    oms.set_faults(fail_path="/api/v1/product-variants")

    failed, retryable = push(customer, product)

    assert (failed.status, failed.step, retryable) == ("failed", "variants", True)
    assert failed.error == "OMS answered 500: Server Error (server: Internal server error.)"
    entry = entry_of(customer, product)
    [stored_product] = stored(sandbox)["products"]
    assert entry.storefront_product_id == str(stored_product["id"])
    assert entry.pushed_hash == ""
    assert CategoryMapping.objects.filter(customer=customer).count() == 2

    oms.set_faults(fail_path=None)
    log, _ = push(customer, product)

    assert (log.status, log.action) == ("pushed", "updated")
    assert counts(sandbox) == {"categories": 2, "products": 1, "variants": 4}
    assert entry_of(customer, product).storefront_product_id == str(stored_product["id"])


# -- ids of other storefronts stay on their own records ---------------------------------


def test_an_oms_push_leaves_the_catalogs_ops_product_id_and_the_historys_alone(
    sandbox, customer, product, staff_api
):
    Product.objects.filter(pk=product.pk).update(ops_product_id="4821")

    log, _ = push(customer, product)

    assert log.status == "pushed" and log.ops_product_id is None
    [stored_product] = stored(sandbox)["products"]
    assert entry_of(customer, product).storefront_product_id == str(stored_product["id"])
    product.refresh_from_db()
    assert product.ops_product_id == "4821"
    [entry] = staff_api.get(f"/api/push/history/{customer.id}/{product.id}").json()
    assert (entry["status"], entry["action"], entry["ops_product_id"]) == (
        "pushed", "created", None
    )


def test_each_oms_variant_is_created_with_the_hubs_variant_id_as_its_uuid(
    sandbox, customer, product
):
    push(customer, product)

    assert sorted(variant["uuid"] for variant in stored(sandbox)["variants"]) == sorted(
        str(pk) for pk in product.variants.values_list("pk", flat=True)
    )

"""A storefront's ids are stored the moment it returns them, while the push still runs.

A push that dies between two requests must leave every id it obtained in the database,
so the next attempt updates instead of creating again. Each storefront of the sandbox is
made slow, the push runs in a thread, and the database is read while the push is half-way.
"""

import threading

import pytest
from django.db import connection

from catalog.ingest import ingest_products
from catalog.models import Product, ProductImage
from integrations.models import OMSIntegration, OPSIntegration, PrintOpsIntegration
from integrations.services import claim_sync, create_integration, run_sync
from pushes.models import Customer, MarkupRule, StorefrontProduct
from pushes.services import push_product
from tests.factories import apparel_payload
from tests.worker import wait_for

pytestmark = pytest.mark.django_db(transaction=True)


def ops_customer(sandbox, user, supplier):
    storefront = OPSIntegration.objects.create(
        name="Acme storefront", user=user, base_url=sandbox.url_of("ops"),
        token_url=f"{sandbox.url_of('ops')}/oauth/token", client_id="demo-client",
        client_secret="demo-secret",
    )
    ingest_products(supplier, [apparel_payload("PC61")])
    return Customer.objects.create(name="Acme", storefront=storefront), Product.objects.get()


def oms_customer(sandbox, user, supplier):
    storefront = OMSIntegration.objects.create(
        name="Acme orders", user=user, base_url=sandbox.url_of("oms"),
        api_token="demo-oms-token", store_id="7", team_id="5", country_id="44",
    )
    ingest_products(supplier, [apparel_payload("PC61")])
    return Customer.objects.create(name="Acme", storefront=storefront), Product.objects.get()


def printops_customer(sandbox, user, supplier):
    printops = create_integration(
        PrintOpsIntegration, name="PrintOps", base_url=sandbox.url_of("printops"),
        api_token="demo-printops-token", user=user,
    )
    run_sync(printops.pk, claim_sync(printops.pk))
    product = Product.objects.get(supplier=printops.supplier,
                                  supplier_sku="printops-category-7")
    ProductImage.objects.create(product=product, url="https://cdn.example.com/art.jpg")
    customer = Customer.objects.create(name="Poster shop", storefront=printops,
                                       storefront_options={"store_id": 786322})
    return customer, product


def unfinished(kind, fake):
    """Whether the storefront still lacks part of the push (4 sizes, each with 2 tiers)."""
    with fake.lock:
        if kind == "ops":
            return len(fake.state["prices"]) < 8
        if kind == "oms":
            return len(fake.state["variants"]) < 4
        return len([key for key in fake.state["user_products"] if key >= 48606]) < 4


@pytest.mark.parametrize("kind, make", [
    ("ops", ops_customer), ("oms", oms_customer), ("printops", printops_customer),
])
def test_ids_are_stored_as_they_come_not_when_the_push_ends(
    kind, make, sandbox, staff_user, supplier
):
    customer, product = make(sandbox, staff_user, supplier)
    MarkupRule.objects.create(customer=customer, markup_pct=40)
    fake = sandbox.fakes[kind]
    fake.set_faults(latency_ms=700)
    outcome = {}

    def push():
        try:
            outcome["log"], _ = push_product(customer.pk, product.pk)
        finally:
            connection.close()

    thread = threading.Thread(target=push)
    thread.start()
    try:
        def stored_while_running():
            """the storefront's first id to be stored while the push runs"""
            entry = StorefrontProduct.objects.filter(customer=customer, product=product).first()
            return entry and entry.storefront_product_id and (entry.storefront_product_id,
                                                               unfinished(kind, fake))

        half_way = wait_for(stored_while_running, timeout=60, interval=0.05)
        assert half_way[1], "the id was stored only once the storefront had everything"
    finally:
        fake.set_faults(latency_ms=0)
        thread.join(timeout=120)

    assert outcome["log"].status == "pushed", outcome["log"].error
    entry = StorefrontProduct.objects.get(customer=customer, product=product)
    assert entry.storefront_product_id == half_way[0]

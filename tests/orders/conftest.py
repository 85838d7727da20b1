import pytest
from django.contrib.auth import get_user_model

from catalog.ingest import ingest_products
from catalog.models import Product, Supplier
from hub import ratelimit
from integrations.models import OPSIntegration
from integrations.ops import client as ops_client
from integrations.printops import client as printops_client
from pushes.models import Customer, MarkupRule
from pushes.services import push_product
from sandbox.testing import RunningSandbox
from tests.factories import apparel_payload


@pytest.fixture
def sandbox():
    with RunningSandbox(catalog_size=40, rate_limit=1000) as running:
        yield running


@pytest.fixture(autouse=True)
def no_waiting(monkeypatch):
    """Budgets and Retry-After waits are recorded, not slept."""
    waits = []
    monkeypatch.setattr(ops_client, "sleep", waits.append)
    monkeypatch.setattr(printops_client, "sleep", waits.append)
    monkeypatch.setattr(ratelimit, "sleep", waits.append)
    return waits


@pytest.fixture
def owner(db):
    return get_user_model().objects.get_or_create(username="owner")[0]


@pytest.fixture
def tee(db):
    supplier = Supplier.objects.create(name="SanMar")
    ingest_products(supplier, [apparel_payload("PC61")])
    return Product.objects.get(supplier_sku="PC61")


def ops_customer(sandbox, owner, name="Demo Storefront Co."):
    url = sandbox.url_of("ops")
    storefront = OPSIntegration.objects.create(
        name=name, base_url=url, token_url=f"{url}/oauth/token", client_id="demo-client",
        client_secret="demo-secret", user=owner,
    )
    customer = Customer.objects.create(name=name, storefront=storefront)
    MarkupRule.objects.create(customer=customer, markup_pct=40)
    return customer


@pytest.fixture
def ops_shop(sandbox, owner, tee):
    """A customer on the sandbox OnPrintShop, with the tee pushed to it."""
    customer = ops_customer(sandbox, owner)
    push_product(customer.pk, tee.pk)
    assert customer.storefront_products.get().storefront_product_id
    return customer


def place_ops_orders(sandbox, **body):
    import requests

    response = requests.post(f"{sandbox.url_of('ops')}/_sandbox/place-order", json=body,
                             timeout=30)
    assert response.status_code == 200, response.text
    return response.json()["orders_id"]


@pytest.fixture
def capture_order_writes():
    """The INSERT, UPDATE and DELETE statements run on order tables inside the block."""
    from contextlib import contextmanager

    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    @contextmanager
    def capture():
        writes = []
        with CaptureQueriesContext(connection) as queries:
            yield writes
        writes.extend(
            q["sql"] for q in queries.captured_queries
            if q["sql"].split()[0] in ("INSERT", "UPDATE", "DELETE")
            and '"orders_order' in q["sql"] and "orders_orderpull" not in q["sql"]
        )

    return capture


PRINTOPS_STORE = 786322
ACRYLIC = "printops-category-7"


@pytest.fixture
def printops(sandbox, owner):
    from integrations.models import PrintOpsIntegration
    from integrations.services import claim_sync, create_integration, run_sync

    integration = create_integration(
        PrintOpsIntegration, name="PrintOps", base_url=sandbox.url_of("printops"),
        api_token="demo-printops-token", user=owner,
    )
    run_sync(integration.pk, claim_sync(integration.pk))
    integration.refresh_from_db()
    return integration


@pytest.fixture
def poster_shop(printops):
    """A customer whose storefront is a PrintOps store, with a print product pushed to it."""
    from catalog.models import ProductImage

    product = Product.objects.get(supplier=printops.supplier, supplier_sku=ACRYLIC)
    ProductImage.objects.create(product=product, url="https://cdn.example.com/art/dusk.jpg")
    customer = Customer.objects.create(
        name="Poster shop", storefront=printops,
        storefront_options={"store_id": PRINTOPS_STORE, "scale_option": "fit"},
    )
    MarkupRule.objects.create(customer=customer, markup_pct=50)
    push_product(customer.pk, product.pk)
    return customer


def pushed_user_products(customer):
    refs = customer.storefront_products.get().refs
    return {key: entry["id"] for key, entry in refs["user_products"].items()}


def place_printops_order(sandbox, **body):
    import requests

    response = requests.post(f"{sandbox.url_of('printops')}/_sandbox/place-order",
                             json={"store_id": PRINTOPS_STORE, **body}, timeout=30)
    assert response.status_code == 200, response.text
    return response.json()["order_ids"]

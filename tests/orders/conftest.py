"""What the order tests share: the sandbox, the catalog's tee, customers on each kind of
storefront, the sandbox OMS as a fulfiller, and helpers that place and take in orders."""

import pytest
import requests
from django.contrib.auth import get_user_model

from catalog.ingest import ingest_products
from catalog.models import Product, Supplier
from hub import ratelimit
from integrations.models import OMSIntegration, OPSIntegration
from integrations.ops import client as ops_client
from integrations.printops import client as printops_client
from orders import pulls
from orders.models import FulfilmentRoute, Order
from pushes.models import Customer, MarkupRule, PushLog
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
    response = requests.post(f"{sandbox.url_of('printops')}/_sandbox/place-order",
                             json={"store_id": PRINTOPS_STORE, **body}, timeout=30)
    assert response.status_code == 200, response.text
    return response.json()["order_ids"]


def pull(customer):
    """One pull of the customer's storefront orders, run here and now."""
    pulls.pull_of(customer)
    run_id = pulls.claim_pull(customer.pk)
    assert run_id is not None
    return pulls.run_pull(customer.pk, str(run_id))


# -- orders taken in through the API and routed to the sandbox OMS ----------------------


@pytest.fixture
def shop(db):
    """A customer without a storefront: its orders come in through the API."""
    return Customer.objects.create(name="Shop Co.")


@pytest.fixture
def production(sandbox, owner):
    """The sandbox OMS as a fulfiller, with the customer whose storefront it is."""
    integration = OMSIntegration.objects.create(
        user=owner, name="Print floor", base_url=sandbox.url_of("oms"),
        api_token="demo-oms-token", store_id="store-7", team_id="5", country_id="44",
    )
    customer = Customer.objects.create(name="Print floor catalog", storefront=integration)
    MarkupRule.objects.create(customer=customer, markup_pct=0)
    return integration


@pytest.fixture
def route(production, tee):
    """The tee's supplier is produced by the sandbox OMS."""
    return FulfilmentRoute.objects.create(supplier=tee.supplier,
                                          fulfiller_integration=production)


def push_to_production(route, tee):
    """Pushes the tee to the route's OMS, as the customer whose storefront it is."""
    log, _ = push_product(Customer.objects.get(storefront=route.fulfiller_integration).pk, tee.pk)
    assert log.status == PushLog.Status.PUSHED


def intake(api, customer, source_order_id="SHOP-1001", skus=("PC61-NAT-S",)):
    """An order posted to the intake API, one line of each SKU."""
    response = api.post("/api/orders", {
        "customer_id": str(customer.pk), "source_order_id": source_order_id,
        "order_number": source_order_id.split("-")[-1], "currency": "USD",
        "totals": {"subtotal": "40.00", "shipping": "9.99", "tax": "0.00", "total": "49.99"},
        "buyer": {"name": "Ann Lee", "email": "ann@example.com"},
        "shipping_address": {"name": "Ann Lee", "address_1": "1 Main St", "city": "Nashville",
                             "postal_code": "37207", "country_code": "US"},
        "lines": [{"source_line_id": str(n), "sku": sku, "quantity": 2, "unit_price": "7.00"}
                  for n, sku in enumerate(skus, 1)],
    }, format="json")
    assert response.status_code == 201, response.json()
    return Order.objects.get(pk=response.json()["id"])


def oms_orders(sandbox):
    """The orders the sandbox OMS holds."""
    return requests.get(f"{sandbox.url_of('oms')}/_sandbox/state", timeout=10).json()["orders"]

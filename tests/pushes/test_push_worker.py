"""A push end to end: API → Redis → a real worker → the sandbox storefront over HTTP."""

import pytest

from catalog.ingest import ingest_products
from catalog.models import Product
from integrations.models import OPSIntegration
from pushes.models import Customer, MarkupRule, PushLog
from tests.factories import apparel_payload
from tests.worker import running_worker

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.worker]


@pytest.fixture
def customer(sandbox, staff_user):
    storefront = OPSIntegration.objects.create(
        name="Acme storefront", user=staff_user, base_url=sandbox.url_of("ops"),
        token_url=f"{sandbox.url_of('ops')}/oauth/token", client_id="demo-client",
        client_secret="demo-secret",
    )
    customer = Customer.objects.create(name="Acme", storefront=storefront)
    MarkupRule.objects.create(customer=customer, markup_pct=40)
    return customer


def test_a_push_creates_then_updates_then_skips_an_unchanged_product(
    staff_api, customer, supplier, sandbox, settings
):
    settings.PUSH_WAIT_SECONDS = 60
    ingest_products(supplier, [apparel_payload("PC61")])
    product = Product.objects.get()
    url = f"/api/push/{customer.id}/{product.id}"

    with running_worker():
        created = staff_api.post(url)
        ingest_products(supplier, [apparel_payload("PC61", price="5.00")])
        updated = staff_api.post(url)
        unchanged = staff_api.post(url)

    assert [r.status_code for r in (created, updated, unchanged)] == [200, 200, 200]
    assert [r.json()["status"] for r in (created, updated, unchanged)] == ["success"] * 3
    actions = list(PushLog.objects.order_by("pushed_at").values_list("action", flat=True))
    assert actions == ["created", "updated", "unchanged"]
    state = sandbox.fakes["ops"].state
    assert len(state["products"]) == 1
    assert len(state["sizes"]) == 4
    # 4 sizes × 2 tiers, re-priced in place: 5.00 × 1.4 = 7.00 for the first tier.
    assert len(state["prices"]) == 8
    assert sorted({p["price"] for p in state["prices"].values()}) == [5.85, 7.0]
    history = staff_api.get(f"/api/push/history/{customer.id}/{product.id}").json()
    assert [h["status"] for h in history] == ["pushed"] * 3
    assert history[0]["ops_product_id"] == int(next(iter(state["products"])))

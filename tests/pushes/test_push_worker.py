"""A push end to end: API → Redis → a real worker → the sandbox storefront over HTTP."""

import os
import signal

import pytest

from catalog.ingest import ingest_products
from catalog.models import Product
from integrations.models import OPSIntegration
from pushes.models import Customer, MarkupRule, PushBatch, PushLog, StorefrontProduct
from tests.factories import apparel_payload
from tests.worker import running_worker, wait_for

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


def test_a_worker_killed_mid_push_leaves_no_duplicate_and_every_batch_item_counted_once(
    staff_api, customer, supplier, sandbox
):
    ingest_products(supplier, [apparel_payload(f"PC{n}") for n in range(3)])
    ops = sandbox.fakes["ops"]
    first = Product.objects.get(supplier_sku="PC0")

    with running_worker(concurrency=1) as worker:
        # Slow storefront: the push of the first product is caught between its steps.
        ops.set_faults(latency_ms=1500)
        response = staff_api.post(f"/api/push/{customer.id}",
                                  {"product_ids": [str(p.id) for p in
                                                   Product.objects.order_by("supplier_sku")]},
                                  format="json")
        assert response.status_code == 202
        batch_id = response.json()["batch_id"]

        def product_created_and_its_id_stored():
            """the storefront's product id to be stored while the push still runs"""
            return ops.state["products"] and StorefrontProduct.objects.filter(
                product=first, storefront_product_id__isnull=False
            ).exists()

        wait_for(product_created_and_its_id_stored, timeout=30, interval=0.05)
        assert not PushLog.objects.filter(product=first).exists()
        kill_the_process_running_a_task(worker)
        ops.set_faults(latency_ms=0)

        def batch_done():
            """the batch to count every item"""
            return PushBatch.objects.get(pk=batch_id).completed_at

        wait_for(batch_done, timeout=90)

    batch = PushBatch.objects.get(pk=batch_id)
    assert (batch.total, batch.succeeded, batch.failed) == (3, 3, 0)
    assert len(ops.state["products"]) == 3
    assert sorted(p["main_sku"] for p in ops.state["products"].values()) == ["PC0", "PC1", "PC2"]
    for product in Product.objects.all():
        logs = PushLog.objects.filter(product=product, batch_id=batch_id)
        assert logs.filter(status="pushed").count() == 1, product.supplier_sku
    assert PushLog.objects.get(product=first).action == "updated"


def kill_the_process_running_a_task(worker):
    """SIGKILL the pool process that is running a task, as the kernel's OOM killer would."""
    from hub.celery import app

    def running_pid():
        """a task to be running"""
        active = app.control.inspect(timeout=1).active() or {}
        return next((task["worker_pid"] for tasks in active.values() for task in tasks), None)

    pid = wait_for(running_pid, timeout=30)
    assert pid != worker.pid
    os.kill(pid, signal.SIGKILL)

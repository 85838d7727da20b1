"""The push endpoints, with tasks run in-process (eager) against the sandbox storefront.

A push request waits for its task, which is sent when the transaction commits: the tests
that need the outcome run outside a test transaction (transaction=True), so the task runs
inside the request, as a worker would while the request waits.
"""

import uuid
from datetime import timedelta

import pytest
from django.utils import timezone

from catalog.ingest import ingest_products
from catalog.models import Product, Supplier
from integrations.models import OPSIntegration
from pushes.models import Customer, MarkupRule, PushBatch, PushLog, StorefrontProduct
from tests.factories import apparel_payload, print_payload

pytestmark = pytest.mark.django_db
# Pushes whose outcome the request waits for.
runs_pushes = pytest.mark.django_db(transaction=True)

HISTORY_FIELDS = {
    "id", "status", "error", "pushed_at", "ops_product_id", "action", "step", "detail",
}
PREVIEW_FIELDS = {
    "product_id", "supplier_id", "supplier_sku", "name", "description", "brand",
    "product_type", "category_path", "items", "images", "rule_id", "payload_hash", "unchanged",
}
BATCH_FIELDS = {
    "id", "customer_id", "status", "total", "processed", "succeeded", "failed", "progress",
    "created_at", "completed_at",
}


@pytest.fixture(autouse=True)
def eager(eager_tasks):
    """Every push here runs in the test's process."""


def ops_storefront(sandbox, user, **fields):
    return OPSIntegration.objects.create(
        name="Acme storefront", user=user, base_url=sandbox.url_of("ops"),
        token_url=f"{sandbox.url_of('ops')}/oauth/token", client_id="demo-client",
        client_secret="demo-secret", **fields,
    )


@pytest.fixture
def customer(sandbox, staff_user):
    customer = Customer.objects.create(name="Acme", storefront=ops_storefront(sandbox, staff_user))
    MarkupRule.objects.create(customer=customer, name="all +40%", markup_pct=40)
    return customer


@pytest.fixture
def product(supplier):
    ingest_products(supplier, [apparel_payload("PC61")])
    return Product.objects.get(supplier_sku="PC61")


def push_url(customer, product, suffix=""):
    return f"/api/push/{customer.id}/{product.id}{suffix}"


def refusal(response, field):
    assert response.status_code == 422, response.json()
    [error] = response.json()["detail"]
    assert error["loc"] == ["path", field] and error["type"] == "push_refused"
    return error["msg"]


# -- one product -----------------------------------------------------------------------


@runs_pushes
def test_a_push_succeeds_then_is_unchanged_and_both_are_in_the_history(
    staff_api, sandbox, supplier
):
    created = staff_api.post("/api/customers", {"name": "Acme", "storefront": {
        "type": "ops", "base_url": sandbox.url_of("ops"),
        "token_url": f"{sandbox.url_of('ops')}/oauth/token", "client_id": "demo-client",
        "client_secret": "demo-secret",
    }}, format="json")
    assert created.status_code == 201
    customer = Customer.objects.get(pk=created.json()["id"])
    rule = staff_api.post(f"/api/customers/{customer.id}/markup-rules",
                          {"name": "all +40%", "markup_pct": 40}, format="json")
    assert rule.status_code == 201
    ingest_products(supplier, [apparel_payload("PC61")])
    product = Product.objects.get()

    first = staff_api.post(push_url(customer, product))

    assert first.status_code == 200, first.json()
    [stored_id] = sandbox.fakes["ops"].state["products"]
    assert first.json() == {
        "status": "success",
        "message": f"Product PC61 created in the storefront (storefront product id {stored_id})",
    }
    second = staff_api.post(push_url(customer, product))
    assert second.status_code == 200
    assert second.json()["status"] == "success"
    assert "unchanged" in second.json()["message"]

    history = staff_api.get(f"/api/push/history/{customer.id}/{product.id}")
    assert history.status_code == 200
    entries = history.json()
    assert [set(entry) for entry in entries] == [HISTORY_FIELDS] * 2
    assert [e["action"] for e in entries] == ["unchanged", "created"]
    assert [e["status"] for e in entries] == ["pushed", "pushed"]
    assert [(e["error"], e["step"]) for e in entries] == [(None, None)] * 2
    assert all(isinstance(e["detail"], str) for e in entries)
    assert [e["ops_product_id"] for e in entries] == [int(stored_id)] * 2
    assert all(type(e["ops_product_id"]) is int for e in entries)
    assert entries[0]["pushed_at"] > entries[1]["pushed_at"]
    # The catalog's customer filter lists what was pushed to the customer.
    listed = staff_api.get(f"/api/products?customer_id={customer.id}").json()
    assert [p["supplier_sku"] for p in listed] == ["PC61"]
    assert listed[0]["ops_product_id"] == str(stored_id)


@runs_pushes
def test_a_push_the_storefront_refuses_is_422_with_the_step_and_error(
    staff_api, customer, product, sandbox
):
    sandbox.fakes["ops"].set_faults(result_false_next=1)

    response = staff_api.post(push_url(customer, product))

    assert response.status_code == 422
    log = PushLog.objects.get()
    assert log.status == "failed" and log.error and log.refused
    assert response.json() == {"status": "failed", "message": f"{log.step}: {log.error}"}
    history = staff_api.get(f"/api/push/history/{customer.id}/{product.id}").json()
    assert [(e["status"], e["error"]) for e in history] == [("failed", log.error)]
    assert [(e["action"], e["step"], e["ops_product_id"]) for e in history] == [
        ("failed", log.step, None)
    ]


@runs_pushes
def test_a_failed_attempt_after_the_product_was_created_answers_a_null_ops_product_id(
    staff_api, customer, product, sandbox, supplier
):
    assert staff_api.post(push_url(customer, product)).status_code == 200
    [stored_id] = sandbox.fakes["ops"].state["products"]
    ingest_products(supplier, [apparel_payload("PC61", price="5.10")])
    sandbox.fakes["ops"].set_faults(result_false_next=1)

    # The storefront refused the change: a refusal, not a fault a retry heals.
    assert staff_api.post(push_url(customer, product)).status_code == 422

    failed = PushLog.objects.get(status="failed")
    # The log keeps the storefront's id for the retry; the history answers the spec's null.
    assert failed.storefront_product_id == str(stored_id)
    history = staff_api.get(f"/api/push/history/{customer.id}/{product.id}").json()
    assert [(e["status"], e["action"], e["step"], e["ops_product_id"]) for e in history] == [
        ("failed", "failed", "product", None), ("pushed", "created", None, int(stored_id)),
    ]


@runs_pushes
def test_a_push_failing_on_a_fault_that_may_heal_is_500(staff_api, customer, product, sandbox):
    sandbox.fakes["ops"].set_faults(fail_next=100)

    response = staff_api.post(push_url(customer, product))

    assert response.status_code == 500
    first = PushLog.objects.get(pk=PushLog.objects.order_by("pushed_at").first().pk)
    assert first.status == "failed" and not first.refused
    assert response.json() == {"status": "failed", "message": f"{first.step}: {first.error}"}


@runs_pushes
def test_a_product_no_rule_covers_fails_with_the_pricing_message(
    staff_api, customer, product, sandbox
):
    customer.markup_rules.all().delete()

    response = staff_api.post(push_url(customer, product))

    assert response.status_code == 422
    assert response.json()["status"] == "failed"
    assert response.json()["message"].startswith("pricing: No markup rule of Acme covers PC61")
    assert sandbox.fakes["ops"].request_log == []
    preview = staff_api.get(push_url(customer, product, "/preview"))
    assert preview.status_code == 422
    [error] = preview.json()["detail"]
    assert error["loc"] == ["path", "product_id"]
    assert error["msg"].startswith("No markup rule of Acme covers PC61")


def test_a_push_still_running_is_202_pending(
    staff_api, customer, product, settings, django_capture_on_commit_callbacks
):
    settings.PUSH_WAIT_SECONDS = 0

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = staff_api.post(push_url(customer, product))

    assert response.status_code == 202
    assert response.json() == {"status": "pending", "message": "The push is running on a worker"}
    assert len(callbacks) == 1
    assert not PushLog.objects.exists()


@pytest.mark.parametrize("customer_id, product_id, detail", [
    ("unknown", "known", "Customer not found"),
    ("not-a-uuid", "known", "Customer not found"),
    ("known", "unknown", "Product not found"),
    ("known", "not-a-uuid", "Product not found"),
])
def test_unknown_customers_and_products_are_404(
    staff_api, customer, product, customer_id, product_id, detail
):
    ids = {"known": None, "unknown": str(uuid.uuid4()), "not-a-uuid": "not-a-uuid"}
    customer_id = ids[customer_id] or customer.id
    product_id = ids[product_id] or product.id

    for method, url in (
        ("post", f"/api/push/{customer_id}/{product_id}"),
        ("get", f"/api/push/history/{customer_id}/{product_id}"),
        ("get", f"/api/push/{customer_id}/{product_id}/preview"),
    ):
        response = getattr(staff_api, method)(url)
        assert response.status_code == 404, url
        assert response.json() == {"detail": detail}
    assert not PushLog.objects.exists()


def test_an_inactive_customer_is_refused(staff_api, customer, product):
    Customer.objects.filter(pk=customer.pk).update(is_active=False)

    message = refusal(staff_api.post(push_url(customer, product)), "customer_id")
    assert message == "Customer Acme is inactive; nothing is pushed to it."


def test_an_archived_product_is_refused(staff_api, customer, product):
    product.archive()

    message = refusal(staff_api.post(push_url(customer, product)), "product_id")
    assert message == "Product PC61 is archived; restore it to push it."


def test_a_customer_without_a_storefront_is_refused(staff_api, product):
    customer = Customer.objects.create(name="Walk-in")

    message = refusal(staff_api.post(push_url(customer, product)), "customer_id")
    assert message == "Customer Walk-in has no storefront to push to."
    assert not PushLog.objects.exists()


# -- preview ---------------------------------------------------------------------------


def test_the_preview_shows_the_priced_payload_without_calling_the_storefront(
    staff_api, customer, product, sandbox
):
    response = staff_api.get(push_url(customer, product, "/preview"))

    assert response.status_code == 200
    body = response.json()
    assert set(body) == PREVIEW_FIELDS
    assert body["product_id"] == str(product.id) and body["supplier_sku"] == "PC61"
    assert body["rule_id"] == str(customer.markup_rules.get().id)
    assert [name for _, name in body["category_path"]] == ["Apparel", "T-Shirts"]
    assert len(body["items"]) == 4
    item = body["items"][0]
    assert (item["cost"], item["price"]) == ("4.5800", "6.41")  # 4.58 × 1.4
    assert [(t["quantity_min"], t["price"]) for t in item["tiers"]] == [(1, "6.41"), (12, "5.85")]
    assert len(body["images"]) == 2
    assert len(body["payload_hash"]) == 64
    assert body["unchanged"] is False
    assert sandbox.fakes["ops"].request_log == []


def test_the_preview_is_unchanged_when_it_matches_the_last_push(staff_api, customer, product):
    payload_hash = staff_api.get(push_url(customer, product, "/preview")).json()["payload_hash"]
    StorefrontProduct.objects.create(customer=customer, product=product, pushed_hash=payload_hash)
    assert staff_api.get(push_url(customer, product, "/preview")).json()["unchanged"] is False

    StorefrontProduct.objects.update(storefront_product_id="4821")
    assert staff_api.get(push_url(customer, product, "/preview")).json()["unchanged"] is True

    MarkupRule.objects.update(markup_pct=50)
    assert staff_api.get(push_url(customer, product, "/preview")).json()["unchanged"] is False


# -- many products ---------------------------------------------------------------------


@pytest.fixture
def catalog(supplier):
    other = Supplier.objects.create(name="Other Mills")
    ingest_products(supplier, [
        apparel_payload("PC61", brand="Port & Company"),
        apparel_payload("PC90H", brand="Port & Company", sizes=("L",)),
        print_payload("BAN1"),
    ])
    ingest_products(other, [apparel_payload("G500", brand="Gildan")])
    return {product.supplier_sku: product for product in Product.objects.all()}


def bulk_push(staff_api, customer, body, capture):
    with capture(execute=True):
        response = staff_api.post(f"/api/push/{customer.id}", body, format="json")
    assert response.status_code == 202, response.json()
    return response.json()


def test_a_bulk_push_by_ids_runs_every_product(
    staff_api, customer, catalog, django_capture_on_commit_callbacks
):
    ids = [str(catalog[sku].id) for sku in ("PC61", "G500", "PC61")]

    started = bulk_push(staff_api, customer, {"product_ids": ids},
                        django_capture_on_commit_callbacks)

    assert set(started) == {"batch_id", "status", "total"}
    assert started["total"] == 2  # duplicates pushed once
    batch = staff_api.get(f"/api/push/batches/{started['batch_id']}").json()
    assert set(batch) == BATCH_FIELDS
    assert batch["customer_id"] == str(customer.id)
    assert (batch["status"], batch["total"], batch["processed"], batch["succeeded"],
            batch["failed"], batch["progress"]) == ("completed", 2, 2, 2, 0, 100)
    assert batch["completed_at"] is not None
    assert PushLog.objects.filter(batch_id=started["batch_id"], status="pushed").count() == 2
    listed = staff_api.get(f"/api/products?customer_id={customer.id}").json()
    assert sorted(p["supplier_sku"] for p in listed) == ["G500", "PC61"]


def test_a_bulk_push_by_filters_pushes_what_the_product_list_would_show(
    staff_api, customer, catalog, supplier, django_capture_on_commit_callbacks
):
    catalog["PC90H"].archive()
    filters = {"supplier_id": str(supplier.id), "brand": "Port & Company"}

    started = bulk_push(staff_api, customer, {"filters": filters},
                        django_capture_on_commit_callbacks)

    assert started["total"] == 1
    batch = PushBatch.objects.get(pk=started["batch_id"])
    assert (batch.total, batch.succeeded, batch.failed, batch.status) == (1, 1, 0, "completed")
    assert [log.product.supplier_sku for log in PushLog.objects.all()] == ["PC61"]

    archived = bulk_push(staff_api, customer, {"filters": {"archived": True}},
                         django_capture_on_commit_callbacks)
    assert archived["total"] == 1
    batch = staff_api.get(f"/api/push/batches/{archived['batch_id']}").json()
    # An archived product is refused by the push itself: counted as failed.
    assert (batch["processed"], batch["succeeded"], batch["failed"]) == (1, 0, 1)


@pytest.mark.parametrize("body, loc", [
    ({}, ["body", "product_ids"]),
    ({"product_ids": []}, ["body", "product_ids"]),
    ({"product_ids": ["not-a-uuid"]}, ["body", "product_ids", 0]),
    ({"product_ids": [str(uuid.uuid4()) for _ in range(5001)]}, ["body", "product_ids"]),
    ({"product_ids": "{PC61}", "filters": {"brand": "Gildan"}}, ["body", "product_ids"]),
    ({"filters": {"supplier_id": "nope"}}, ["body", "filters", "supplier_id"]),
    ({"filters": {"category_id": "nope"}}, ["body", "filters", "category_id"]),
    ({"filters": {"archived": "maybe"}}, ["body", "filters", "archived"]),
    ({"filters": {"colour": "red"}}, ["body", "filters", "colour"]),
    ({"filters": {"brand": ["Gildan"]}}, ["body", "filters", "brand"]),
    ({"filters": {"brand": "Nobody"}}, ["body", "filters"]),
    ({"filters": "brand=Gildan"}, ["body", "filters"]),
])
def test_invalid_bulk_pushes_are_422(staff_api, customer, catalog, body, loc):
    if body.get("product_ids") == "{PC61}":
        body["product_ids"] = [str(catalog["PC61"].id)]

    response = staff_api.post(f"/api/push/{customer.id}", body, format="json")

    assert response.status_code == 422, response.json()
    assert [error["loc"] for error in response.json()["detail"]] == [loc]
    assert not PushBatch.objects.exists()


def test_a_bulk_push_lists_the_unknown_products(staff_api, customer, catalog):
    unknown = [str(uuid.uuid4()), str(uuid.uuid4())]
    ids = [unknown[0], str(catalog["PC61"].id), unknown[1]]

    response = staff_api.post(f"/api/push/{customer.id}", {"product_ids": ids}, format="json")

    assert response.status_code == 422
    errors = response.json()["detail"]
    assert [e["loc"] for e in errors] == [["body", "product_ids", 0], ["body", "product_ids", 2]]
    assert [e["type"] for e in errors] == ["not_found", "not_found"]
    assert all(pk in e["msg"] for pk, e in zip(unknown, errors, strict=True))


def test_a_bulk_push_to_an_inactive_customer_or_one_without_storefront_is_refused(
    staff_api, customer, catalog
):
    body = {"product_ids": [str(catalog["PC61"].id)]}
    Customer.objects.filter(pk=customer.pk).update(is_active=False)
    walk_in = Customer.objects.create(name="Walk-in")

    for target in (customer, walk_in):
        response = staff_api.post(f"/api/push/{target.id}", body, format="json")
        refusal(response, "customer_id")
    assert not PushBatch.objects.exists()
    unknown = staff_api.post(f"/api/push/{uuid.uuid4()}", body, format="json")
    assert unknown.status_code == 404 and unknown.json() == {"detail": "Customer not found"}


def test_an_unknown_batch_is_404(staff_api):
    for batch_id in (uuid.uuid4(), "nope"):
        response = staff_api.get(f"/api/push/batches/{batch_id}")
        assert response.status_code == 404
        assert response.json() == {"detail": "Push batch not found"}


# -- who may push ----------------------------------------------------------------------


def test_pushes_are_staff_only(api, anonymous_api, customer, product):
    batch = PushBatch.objects.create(customer=customer, total=1)
    requests = [
        ("post", push_url(customer, product)),
        ("get", f"/api/push/history/{customer.id}/{product.id}"),
        ("get", push_url(customer, product, "/preview")),
        ("post", f"/api/push/{customer.id}"),
        ("get", f"/api/push/batches/{batch.id}"),
    ]
    for client, status in ((api, 403), (anonymous_api, 401)):
        for method, url in requests:
            assert getattr(client, method)(url).status_code == status, (method, url)
    assert not PushLog.objects.exists()


# -- claims and batch counting ---------------------------------------------------------


def _claimed_by_another_push(customer, product, *, age=timedelta(0)):
    StorefrontProduct.objects.update_or_create(
        customer=customer, product=product,
        defaults={"claimed_at": timezone.now() - age, "claimed_by": "another-task"},
    )


def test_a_redelivered_push_takes_its_own_claim_back_at_once(customer, product):
    from pushes.services import PushBusy, push_product

    _claimed_by_another_push(customer, product)
    with pytest.raises(PushBusy):
        push_product(customer.pk, product.pk, claimant="a-third-task")

    log, _ = push_product(customer.pk, product.pk, claimant="another-task")

    assert log.status == "pushed"
    assert StorefrontProduct.objects.get(product=product).claimed_at is None


def test_the_claim_of_a_dead_push_expires_well_inside_the_busy_retries(customer, product):
    from pushes import tasks
    from pushes.services import CLAIM_EXPIRES, CLAIM_HEARTBEAT, push_product

    assert tasks.BUSY_DELAY * tasks.BUSY_RETRIES >= 3 * CLAIM_EXPIRES.total_seconds()
    assert CLAIM_HEARTBEAT * 3 <= CLAIM_EXPIRES
    _claimed_by_another_push(customer, product, age=CLAIM_EXPIRES + timedelta(seconds=1))

    log, _ = push_product(customer.pk, product.pk, claimant="a-redelivered-task")

    assert log.status == "pushed"


def test_a_push_that_stays_busy_gives_up_with_a_log_entry_counted_in_its_batch(
    customer, product
):
    from pushes.tasks import BUSY_RETRIES, push_product_task

    batch = PushBatch.objects.create(customer=customer, total=1)
    _claimed_by_another_push(customer, product)

    push_product_task.apply(args=(str(customer.pk), str(product.pk), None, str(batch.pk)),
                            retries=BUSY_RETRIES)

    batch.refresh_from_db()
    assert (batch.succeeded, batch.failed) == (0, 1)
    assert batch.completed_at is not None
    log = PushLog.objects.get(batch=batch)
    assert (log.status, log.step) == ("failed", "claim")
    assert "gave up" in log.error


def test_a_batch_item_that_runs_twice_is_counted_once(customer, product):
    from pushes.services import push_product

    batch = PushBatch.objects.create(customer=customer, total=2)

    push_product(customer.pk, product.pk, batch_id=batch.pk)
    push_product(customer.pk, product.pk, batch_id=batch.pk)  # a redelivered task

    batch.refresh_from_db()
    assert (batch.succeeded, batch.failed, batch.completed_at) == (1, 0, None)
    assert PushLog.objects.filter(batch=batch).count() == 2


# -- the task queue is down ------------------------------------------------------------

QUEUE_DOWN = "The task queue is unavailable; nothing was started. Try again later."


@pytest.fixture
def not_eager(monkeypatch):
    from hub.celery import app

    monkeypatch.setitem(app.conf, "task_always_eager", False)


@runs_pushes
def test_a_push_with_the_broker_down_is_503_and_logs_nothing(
    staff_api, customer, product, not_eager, broker_down
):
    response = staff_api.post(push_url(customer, product))

    assert response.status_code == 503
    assert response.json() == {"detail": QUEUE_DOWN}
    assert not PushLog.objects.exists()


@runs_pushes
def test_a_batch_with_the_broker_down_is_503_and_leaves_no_batch(
    staff_api, customer, product, not_eager, broker_down
):
    response = staff_api.post(f"/api/push/{customer.id}", {"product_ids": [str(product.id)]},
                              format="json")

    assert response.status_code == 503
    assert response.json() == {"detail": QUEUE_DOWN}
    assert not PushBatch.objects.exists()


@runs_pushes
def test_a_retry_that_cannot_be_queued_ends_the_batch_item_as_failed(
    customer, product, sandbox, not_eager, broker_down
):
    from pushes.tasks import push_product_task

    batch = PushBatch.objects.create(customer=customer, total=1)
    sandbox.fakes["ops"].set_faults(fail_mutation="setProductPrice")  # a 500: may heal

    push_product_task.apply(args=(str(customer.pk), str(product.pk), None, str(batch.pk)))

    batch.refresh_from_db()
    assert (batch.succeeded, batch.failed) == (0, 1)
    assert batch.completed_at is not None
    last = PushLog.objects.filter(batch=batch, counted=True).get()
    assert (last.status, last.step) == ("failed", "queue")

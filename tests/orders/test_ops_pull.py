"""Pulling OnPrintShop orders, over real HTTP against the sandbox storefront."""

import pytest
import requests

from orders import pulls
from orders.models import EventKind, LineStatus, Order, OrderLine, OrderPull, OrderStatus
from tests.orders.conftest import place_ops_orders, pull

pytestmark = pytest.mark.django_db


def test_a_pull_stores_each_order_once_with_its_lines_resolved(sandbox, ops_shop, tee):
    ids = place_ops_orders(sandbox, count=3, lines_per_order=2)

    result = pull(ops_shop)

    assert (result.created, result.updated, result.unchanged) == (3, 0, 0)
    orders = Order.objects.filter(customer=ops_shop).order_by("source_order_id")
    assert [o.source_order_id for o in orders] == [str(i) for i in ids]
    order = orders[0]
    assert order.source == "ops" and order.source_status == "Pending"
    assert order.buyer_email and order.total is not None and order.currency == "USD"
    assert order.addresses.get(kind="shipping").country_code == "US"
    lines = list(order.lines.all())
    assert len(lines) == 2
    variants = {v.pk: v for v in tee.variants.all()}
    for line in lines:
        assert line.status == LineStatus.RECEIVED and line.error is None
        assert line.product_id == tee.pk
        assert line.variant_id in variants
        assert line.size == f"{variants[line.variant_id].color} / {variants[line.variant_id].size}"
        assert line.artwork and line.artwork[0].startswith("https://")
    assert order.status == OrderStatus.RECEIVED
    assert [e.kind for e in order.events.all()] == [EventKind.RECEIVED]

    state = OrderPull.objects.get(customer=ops_shop)
    assert state.status == "completed" and state.last_error is None
    assert state.last_stats["created"] == 3
    titles = {row["title"] for row in state.storefront_statuses}
    assert {"Pending", "Shipped"} <= titles


def test_a_repeated_pull_with_nothing_changed_writes_no_order_row(
    sandbox, ops_shop, django_assert_max_num_queries, capture_order_writes
):
    place_ops_orders(sandbox, count=4, lines_per_order=3)
    pull(ops_shop)

    with capture_order_writes() as writes:
        result = pull(ops_shop)

    assert (result.created, result.updated, result.unchanged) == (0, 0, 4)
    assert writes == []
    assert OrderLine.objects.count() == 12


def test_a_changed_order_is_updated_in_place_and_never_duplicated(sandbox, ops_shop):
    [orders_id] = place_ops_orders(sandbox, count=1, lines_per_order=2)
    pull(ops_shop)
    order = Order.objects.get()
    first_line = order.lines.order_by("source_line_id").first()
    # Routing has taken the first line: a re-read must not reset it.
    OrderLine.objects.filter(pk=first_line.pk).update(
        status=LineStatus.IN_PRODUCTION, fulfiller_type="manual")

    requests.post(f"{sandbox.url_of('ops')}/_sandbox/change-order", json={
        "orders_id": orders_id, "order_status": "In Production",
        "quantities": {first_line.source_line_id: 7}, "add_lines": 1,
    }, timeout=10)
    result = pull(ops_shop)

    assert result.updated == 1 and Order.objects.count() == 1
    order.refresh_from_db()
    assert order.source_status == "In Production"
    assert order.lines.count() == 3
    first_line.refresh_from_db()
    assert first_line.quantity == 7
    assert (first_line.status, first_line.fulfiller_type) == (LineStatus.IN_PRODUCTION, "manual")
    updated = order.events.get(kind=EventKind.UPDATED).message
    assert "1 line added" in updated and "Pending → In Production" in updated
    assert f"quantity of line {first_line.source_line_id} " in updated


def test_malformed_orders_are_stored_as_far_as_sound_and_reported(sandbox, ops_shop):
    place_ops_orders(sandbox, count=1, order={
        "orders_date_finished": "Invalid date", "tax_amount": '{"GST": 1.5, "PST": 0.5}',
        "total_amount": "lots",
    })
    place_ops_orders(sandbox, count=1, order={"product": []})

    result = pull(ops_shop)

    assert result.created == 2
    junk, empty = Order.objects.order_by("source_order_id")
    # No sound placing date: the moment the hub first read the order.
    assert abs((junk.placed_at - junk.received_at).total_seconds()) < 5
    assert str(junk.tax) == "2.00" and junk.total is None
    problems = junk.events.get(kind=EventKind.MALFORMED).message
    assert "orders_date_finished 'Invalid date' is not a date" in problems
    assert "total_amount 'lots' is not an amount" in problems
    assert empty.lines.count() == 0
    assert "no lines" in empty.events.get(kind=EventKind.MALFORMED).message


def test_a_line_of_a_product_the_hub_did_not_push_is_unmatched_and_retried(
    sandbox, ops_shop, tee
):
    [orders_id] = place_ops_orders(sandbox, count=1, lines_per_order=1)
    # The storefront holds the product, the hub has forgotten pushing it.
    mapping = ops_shop.storefront_products.get()
    storefront_id = mapping.storefront_product_id
    mapping.storefront_product_id = None
    mapping.save()

    pull(ops_shop)

    order = Order.objects.get()
    line = order.lines.get()
    assert line.status == LineStatus.UNMATCHED and line.product_id is None
    assert f"OnPrintShop product {storefront_id}" in line.error
    assert ops_shop.name in line.error
    assert order.status == OrderStatus.NEEDS_ATTENTION

    mapping.storefront_product_id = storefront_id
    mapping.save()
    from orders.services import route_again

    assert len(route_again(order)) == 1
    line.refresh_from_db()
    order.refresh_from_db()
    assert line.status == LineStatus.RECEIVED and line.product_id == tee.pk
    assert order.status == OrderStatus.RECEIVED
    kinds = [e.kind for e in order.events.all()]
    assert kinds.count(EventKind.STATUS_CHANGED) == 2 and EventKind.RESOLVED in kinds


def test_a_pull_that_fails_midway_keeps_what_it_stored_and_resumes(sandbox, ops_shop):
    place_ops_orders(sandbox, count=260, lines_per_order=1)
    ops = sandbox.fakes["ops"]
    # The token and the status list pass, the first page passes, the second fails.
    calls = {"n": 0}
    original = ops.orders

    def failing_second_page(info, limit, offset, **kwargs):
        calls["n"] += 1
        if offset > 0:
            raise RuntimeError("boom")
        return original(info, limit, offset, **kwargs)

    ops.orders = failing_second_page
    pull(ops_shop)
    state = OrderPull.objects.get(customer=ops_shop)
    assert state.status == "error" and state.last_error
    assert Order.objects.count() == 250
    assert state.resume_from is not None

    ops.orders = original
    result = pull(ops_shop)
    assert Order.objects.count() == 260 and result.created == 10
    state.refresh_from_db()
    assert state.status == "completed" and state.resume_from is None


def test_only_one_pull_of_a_customer_runs_at_a_time(ops_shop):
    pulls.pull_of(ops_shop)
    assert pulls.claim_pull(ops_shop.pk) is not None
    assert pulls.claim_pull(ops_shop.pk) is None


def test_storefront_429s_are_waited_out(sandbox, ops_shop, no_waiting):
    place_ops_orders(sandbox, count=2)
    sandbox.fakes["ops"].set_faults(rate_limit_next=2, retry_after=3)

    result = pull(ops_shop)

    assert result.created == 2
    assert no_waiting.count(3) == 2


def test_an_expired_token_answered_as_a_graphql_error_is_fetched_again(
    sandbox, ops_shop, monkeypatch
):
    place_ops_orders(sandbox, count=1)
    ops = sandbox.fakes["ops"]
    original = ops.api
    answered = []

    def unauthenticated_once(request):
        if not answered:
            answered.append(True)
            from sandbox.base import json_response

            return json_response({"data": None, "errors": [
                {"message": "Token expired", "extensions": {"code": "UNAUTHENTICATED"}}]})
        return original(request)

    monkeypatch.setattr(ops, "api", unauthenticated_once)
    result = pull(ops_shop)

    assert result is not None and result.created == 1
    tokens = [e for e in ops.request_log if e["path"].endswith("/oauth/token")]
    assert len(tokens) == 2  # the push's token, then a new one for the refused call


def test_a_pull_whose_worker_died_is_marked_failed_by_the_sweeper(ops_shop, settings):
    from datetime import timedelta

    from django.utils import timezone

    pulls.pull_of(ops_shop)
    pulls.claim_pull(ops_shop.pk)
    OrderPull.objects.filter(customer=ops_shop).update(
        heartbeat_at=timezone.now() - timedelta(seconds=settings.SYNC_STALE_AFTER + 1))

    assert pulls.sweep_stale_pulls() == 1

    state = OrderPull.objects.get(customer=ops_shop)
    assert state.status == "error" and "worker was lost" in state.last_error
    assert pulls.claim_pull(ops_shop.pk) is not None


def test_the_schedule_follows_the_customers_storefront(ops_shop):
    pull = pulls.pull_of(ops_shop)
    assert pull.schedule.enabled
    assert pull.schedule.task == "orders.tasks.pull_orders"

    ops_shop.storefront = None
    ops_shop.save()
    pulls.customer_storefront_changed(ops_shop)

    pull.schedule.refresh_from_db()
    assert not pull.schedule.enabled

    ops_shop.delete()
    from django_celery_beat.models import PeriodicTask

    assert not PeriodicTask.objects.filter(pk=pull.schedule_id).exists()

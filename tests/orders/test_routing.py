"""Routing lines to production: routes, the OMS order created exactly once, later lines PUT,
every fault switch of the sandbox OMS ending in a truthful state."""

import pytest

from orders import routing
from orders.models import (
    EventKind,
    FulfillerType,
    FulfilmentRoute,
    LineStatus,
    OrderStatus,
    RemoteOrder,
)
from pushes.models import MarkupRule, PushLog
from tests.orders.conftest import intake, oms_orders, push_to_production

pytestmark = pytest.mark.django_db


def lines_of(order):
    return list(order.lines.order_by("source_line_id"))


def test_a_line_no_route_covers_is_manual_and_in_production(staff_api, shop, tee, sandbox):
    order = intake(staff_api, shop)
    routing.route_order(order.pk)

    [line] = lines_of(order)
    assert (line.fulfiller_type, line.status) == (FulfillerType.MANUAL, LineStatus.IN_PRODUCTION)
    order.refresh_from_db()
    assert order.status == OrderStatus.IN_PRODUCTION
    assert order.events.filter(kind=EventKind.ROUTED).get().message == \
        "1 line routed to manual fulfilment"
    assert oms_orders(sandbox) == []


def test_a_route_sends_the_order_to_the_oms_once_pushing_the_product_first(
        staff_api, shop, tee, route, sandbox):
    order = intake(staff_api, shop, skus=("PC61-NAT-S", "PC61-BLA-M"))

    routing.route_order(order.pk)

    [remote] = oms_orders(sandbox)
    assert remote["ecommerce_order_id"] == str(order.pk)
    assert remote["ecommerce_order_number"] == "1001" and remote["store_id"] == "store-7"
    assert remote["shippings"] == [{"code": "STANDARD", "shipping_price": 9.99}]
    lines = lines_of(order)
    assert [item["ecommerce_order_item_id"] for item in remote["items"]] == \
        [str(line.pk) for line in lines]
    # The product was never pushed to that OMS: it was pushed first, and logged.
    assert PushLog.objects.filter(product=tee, status=PushLog.Status.PUSHED).count() == 1
    refs = tee.storefront_products.get().refs
    variant_keys = [line.variant.variant_key for line in lines]
    assert [item["ecommerce_variant_id"] for item in remote["items"]] == \
        [refs["uuids"][key] for key in variant_keys]
    assert {(line.status, line.fulfiller_type, line.remote_order_id) for line in lines} == {
        (LineStatus.IN_PRODUCTION, FulfillerType.OMS, remote["uid"])}
    assert {line.remote_line_id for line in lines} == {item["uid"] for item in remote["items"]}
    assert RemoteOrder.objects.get(order=order).remote_order_id == remote["uid"]

    routing.route_order(order.pk)  # a task run twice sends nothing more
    assert len(oms_orders(sandbox)) == 1


def test_a_customer_route_beats_the_route_for_everyone(staff_api, shop, tee, route):
    FulfilmentRoute.objects.create(supplier=tee.supplier, customer=shop)  # manual for shop
    order = intake(staff_api, shop)
    routing.route_order(order.pk)
    assert lines_of(order)[0].fulfiller_type == FulfillerType.MANUAL


def test_a_later_line_updates_the_oms_order(staff_api, shop, tee, route, sandbox):
    order = intake(staff_api, shop)
    routing.route_order(order.pk)
    [first] = lines_of(order)
    # A new line arrives on the same order (as a pull of a changed order adds one).
    second = order.lines.create(source_line_id="2", sku="PC61-BLA-M", quantity=1,
                                product=tee, variant=tee.variants.get(sku="PC61-BLA-M"))

    routing.route_order(order.pk)

    [remote] = oms_orders(sandbox)
    assert [item["ecommerce_order_item_id"] for item in remote["items"]] == \
        [str(first.pk), str(second.pk)]
    second.refresh_from_db()
    assert second.status == LineStatus.IN_PRODUCTION and second.remote_order_id == remote["uid"]
    calls = [(c["method"], c["path"]) for c in sandbox.fakes["oms"].request_log
             if "/orders" in c["path"]]
    assert calls == [("POST", "/api/v1/orders"), ("PUT", f"/api/v1/orders/{remote['uid']}")]


def test_a_product_that_cannot_be_pushed_fails_the_line_with_the_reason(
        staff_api, shop, tee, route, sandbox):
    MarkupRule.objects.filter(customer__storefront=route.fulfiller_integration).delete()
    order = intake(staff_api, shop)

    routing.route_order(order.pk)

    [line] = lines_of(order)
    assert line.status == LineStatus.FAILED
    assert "was never pushed to Print floor and pushing it failed" in line.error
    order.refresh_from_db()
    assert order.status == OrderStatus.NEEDS_ATTENTION
    assert oms_orders(sandbox) == []


@pytest.mark.parametrize("faults", [{"fail_next": 1}, {"rate_limit_next": 1},
                                    {"malformed_next": 1}])
def test_a_failure_that_may_heal_is_retried_and_the_retry_creates_one_order(
        staff_api, shop, tee, route, sandbox, faults):
    order = intake(staff_api, shop)
    push_to_production(route, tee)
    sandbox.fakes["oms"].set_faults(**faults)

    first = routing.route_order(order.pk, final=False)

    [line] = lines_of(order)
    assert first.retry and line.status == LineStatus.ROUTED
    routing.route_order(order.pk)
    assert len(oms_orders(sandbox)) == 1
    line.refresh_from_db()
    assert line.status == LineStatus.IN_PRODUCTION


def test_a_create_refused_for_good_fails_the_line_and_sends_nothing_again(
        staff_api, shop, tee, route, sandbox):
    order = intake(staff_api, shop)
    push_to_production(route, tee)
    sandbox.fakes["oms"].set_faults(forbid_next=1)

    routing.route_order(order.pk)

    [line] = lines_of(order)
    assert line.status == LineStatus.FAILED
    assert "The OMS did not create the order: OMS answered 403" in line.error
    assert RemoteOrder.objects.get().create_sent_at is None  # nothing is held there


def test_a_lost_answer_is_never_created_twice(staff_api, shop, tee, route, sandbox, settings):
    """The OMS created the order but its answer never arrived (a timeout, or a worker
    killed between the answer and the write): the retry looks first and creates nothing."""
    order = intake(staff_api, shop)
    push_to_production(route, tee)
    settings.OUTBOUND_TIMEOUT = (2, 1)
    sandbox.fakes["oms"].set_faults(slow_answer_next=1, slow_answer_seconds=1.5)

    outcome = routing.route_order(order.pk, final=False)

    assert outcome.retry
    assert len(oms_orders(sandbox)) == 1  # the OMS did create it
    remote = RemoteOrder.objects.get()
    assert remote.remote_order_id is None and remote.create_sent_at is not None

    routing.route_order(order.pk)

    assert len(oms_orders(sandbox)) == 1  # and it was not created again
    [line] = lines_of(order)
    assert line.status == LineStatus.FAILED
    assert "The OMS holds this order already" in line.error

    # Staff enter the uid; routing again adds the lines to that order with a PUT.
    RemoteOrder.objects.filter(pk=remote.pk).update(
        remote_order_id=oms_orders(sandbox)[0]["uid"])
    routing.route_lines_again(order)
    routing.route_order(order.pk)
    line.refresh_from_db()
    assert line.status == LineStatus.IN_PRODUCTION
    assert len(oms_orders(sandbox)) == 1


def test_a_malformed_create_answer_is_looked_for_before_creating_again(
        staff_api, shop, tee, route, sandbox):
    order = intake(staff_api, shop)
    push_to_production(route, tee)
    sandbox.fakes["oms"].set_faults(fail_after_acting_next=1)

    assert routing.route_order(order.pk, final=False).retry
    routing.route_order(order.pk)

    assert len(oms_orders(sandbox)) == 1
    assert lines_of(order)[0].status == LineStatus.FAILED


def test_two_routings_of_one_order_at_once_create_one_oms_order(
        staff_api, shop, tee, route, sandbox):
    order = intake(staff_api, shop)
    routing.choose_fulfillers(order)
    remote = RemoteOrder.objects.create(order=order, integration=route.fulfiller_integration)
    assert routing.claim(remote) is True
    # While one worker holds the order, another is told to come back later.
    assert routing.route_order(order.pk, final=False).retry
    assert oms_orders(sandbox) == []

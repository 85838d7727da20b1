"""Orders out end to end on a real worker: an OnPrintShop order pulled, routed to the
sandbox OMS (its product pushed there first), its print file ready, shipped, and the
storefront showing each line's status and the shipment's tracking number; a PrintOps store
order in production and cancelled at PrintOps."""

import pytest
import requests

from catalog.ingest import ingest_products
from catalog.models import Product, Supplier
from orders.models import (
    FulfillerType,
    LineStatus,
    Order,
    OrderStatus,
    StorefrontUpdate,
    UpdateState,
)
from orders.tasks import poll_print_files
from pushes.services import push_product
from tests.factories import apparel_payload
from tests.orders.conftest import (
    place_ops_orders,
    place_printops_order,
    push_to_production,
    pushed_user_products,
)
from tests.worker import running_worker, wait_for

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.worker]


def state_of(sandbox, fake):
    return requests.get(f"{sandbox.url_of(fake)}/_sandbox/state", timeout=10).json()


def test_an_ops_order_goes_to_the_oms_and_its_statuses_and_tracking_come_back(
        staff_api, sandbox, ops_shop, tee, route):
    caps = Supplier.objects.create(name="Cap Co.")
    ingest_products(caps, [apparel_payload("CAP1", colors=("Red",), sizes=("OS",))])
    cap = Product.objects.get(supplier_sku="CAP1")
    push_product(ops_shop.pk, cap.pk)
    sizes = {row["size_title"]: row["size_id"] for row in state_of(sandbox, "ops")["sizes"]}
    place_ops_orders(sandbox, lines=[{"size_id": sizes["Natural / S"], "quantity": 2},
                                     {"size_id": sizes["Red / OS"], "quantity": 1}])

    with running_worker():
        assert staff_api.post(f"/api/customers/{ops_shop.pk}/orders/sync").status_code == 202

        def routed():
            """the tee's line to be with the OMS"""
            return Order.objects.filter(
                customer=ops_shop, lines__product=tee, lines__remote_line_id__isnull=False,
            ).first()

        order = wait_for(routed)
        assert order.status == OrderStatus.IN_PRODUCTION
        tee_line = order.lines.get(product=tee)
        cap_line = order.lines.get(product=cap)
        assert tee_line.fulfiller_type == FulfillerType.OMS
        assert cap_line.fulfiller_type == FulfillerType.MANUAL
        [oms_order] = state_of(sandbox, "oms")["orders"]
        assert oms_order["ecommerce_order_id"] == str(order.pk)

        requests.post(f"{sandbox.url_of('oms')}/_sandbox/print-status", json={
            "ecommerce_order_item_id": str(tee_line.pk), "status": "ready"}, timeout=10)
        order.lines.filter(pk=tee_line.pk).update(next_print_poll_at="2000-01-01T00:00:00Z")
        poll_print_files.delay()
        wait_for(lambda: order.lines.get(pk=tee_line.pk).status == LineStatus.READY)

        shipped = staff_api.post(f"/api/orders/{order.pk}/shipments", {
            "carrier": "UPS", "tracking_number": "1ZE2E",
            "lines": [{"line_id": str(cap_line.pk), "quantity": 1}]}, format="json")
        assert shipped.status_code == 201, shipped.json()

        def told():
            """the storefront to be told everything"""
            pending = StorefrontUpdate.objects.filter(order=order).exclude(
                state=UpdateState.SENT).exclude(state=UpdateState.SUPERSEDED)
            return not pending.exists() and order.shipments.get().reported_to_storefront_at

        wait_for(told)

    shown = state_of(sandbox, "ops")
    [ops_order] = shown["orders"]
    statuses = {line["orders_products_id"]: line["product_status"]
                for line in ops_order["product"]}
    assert statuses == {int(tee_line.source_line_id): "Ready",
                        int(cap_line.source_line_id): "Shipped"}
    [shipment] = shown["shipments"]
    assert shipment["tracking_number"] == "1ZE2E"
    assert shipment["shipmentinfo"][0]["packageinfo"][0]["opdata"] == [
        {"opid": int(cap_line.source_line_id), "qty": "1"}]
    assert ops_order["airway_bill_number"] == "1ZE2E"
    assert ops_order["courier_company_name"] == "UPS"
    assert order.shipments.get().storefront_shipment_id == str(shipment["shipment_id"])
    assert len(state_of(sandbox, "oms")["orders"]) == 1


def test_a_printops_order_is_in_production_and_cancelled_at_printops(
        staff_api, sandbox, poster_shop):
    [user_product_id, *_] = pushed_user_products(poster_shop).values()
    [order_id] = place_printops_order(
        sandbox, lines=[{"user_product_id": user_product_id, "quantity": 1}])

    with running_worker():
        staff_api.post(f"/api/customers/{poster_shop.pk}/orders/sync")

        def in_production():
            """the PrintOps order to be in production"""
            return Order.objects.filter(source_order_id=str(order_id),
                                        status=OrderStatus.IN_PRODUCTION).first()

        order = wait_for(in_production)
        assert staff_api.post(f"/api/orders/{order.pk}/cancel").status_code == 202
        wait_for(lambda: Order.objects.get(pk=order.pk).status == OrderStatus.CANCELLED)

    states = {row["id"]: row["state"] for row in state_of(sandbox, "printops")["orders"]}
    assert states[order_id] == "canceled"


def test_a_worker_killed_after_the_oms_answered_never_makes_it_print_twice(
        staff_api, sandbox, tee, shop, route):
    from datetime import timedelta

    from django.utils import timezone

    from orders.models import RemoteOrder
    from orders.tasks import sweep_stuck_routing

    push_to_production(route, tee)
    # The OMS creates the order, then takes 20 s to answer: the worker is killed meanwhile.
    sandbox.fakes["oms"].set_faults(slow_answer_next=1, slow_answer_seconds=20)

    with running_worker() as worker:
        response = staff_api.post("/api/orders", {
            "customer_id": str(shop.pk), "source_order_id": "KILL-1",
            "shipping_address": {"name": "Ann Lee", "address_1": "1 Main St",
                                 "city": "Nashville", "postal_code": "37207",
                                 "country_code": "US"},
            "lines": [{"source_line_id": "1", "sku": "PC61-NAT-S", "quantity": 1}],
        }, format="json")
        assert response.status_code == 201
        wait_for(lambda: state_of(sandbox, "oms")["orders"])
        worker.kill()
        worker.wait()

    order = Order.objects.get(source_order_id="KILL-1")
    remote = RemoteOrder.objects.get(order=order)
    assert remote.remote_order_id is None and remote.create_sent_at is not None
    assert order.lines.get().status == LineStatus.ROUTED
    # Time passes: the dead worker's claim expires and the sweeper finds the line stuck.
    RemoteOrder.objects.filter(pk=remote.pk).update(claimed_until=timezone.now())
    order.lines.update(updated_at=timezone.now() - timedelta(minutes=10))

    with running_worker(name="second"):
        sweep_stuck_routing.delay()
        wait_for(lambda: order.lines.get().status == LineStatus.FAILED)

    line = order.lines.get()
    assert "The OMS holds this order already" in line.error
    assert len(state_of(sandbox, "oms")["orders"]) == 1

"""Fulfilment routes API, manual shipments, cancel, print file polling and batch orders."""

from datetime import timedelta

import pytest
import requests
from django.utils import timezone

from orders import fulfilment, routing
from orders.models import (
    EventKind,
    FulfilmentRoute,
    LineStatus,
    OrderStatus,
    RemoteOrder,
)
from tests.orders.conftest import intake, oms_orders, push_to_production

pytestmark = pytest.mark.django_db


@pytest.fixture
def oms_order(staff_api, shop, tee, route):
    """An order whose two lines the sandbox OMS has."""
    push_to_production(route, tee)
    order = intake(staff_api, shop, skus=("PC61-NAT-S", "PC61-BLA-M"))
    routing.route_order(order.pk)
    assert set(order.lines.values_list("status", flat=True)) == {LineStatus.IN_PRODUCTION}
    return order


def set_print_status(sandbox, line, status):
    response = requests.post(f"{sandbox.url_of('oms')}/_sandbox/print-status", json={
        "ecommerce_order_item_id": str(line.pk), "status": status}, timeout=10)
    assert response.status_code == 200


def make_due(order):
    order.lines.update(next_print_poll_at=timezone.now() - timedelta(seconds=1))


# -- fulfilment routes API -------------------------------------------------------------


def test_routes_are_created_listed_changed_and_deleted(staff_api, tee, production, shop):
    created = staff_api.post("/api/fulfilment-routes", {
        "supplier_id": str(tee.supplier_id), "fulfiller_integration_id": str(production.pk),
    }, format="json")
    assert created.status_code == 201, created.json()
    route = created.json()
    assert route == {"id": route["id"], "supplier_id": str(tee.supplier_id),
                     "customer_id": None, "fulfiller_integration_id": str(production.pk),
                     "active": True}
    manual = staff_api.post("/api/fulfilment-routes", {
        "supplier_id": str(tee.supplier_id), "customer_id": str(shop.pk),
        "fulfiller_integration_id": None}, format="json")
    assert manual.status_code == 201

    assert [row["id"] for row in staff_api.get("/api/fulfilment-routes").json()] == \
        [route["id"], manual.json()["id"]]
    patched = staff_api.patch(f"/api/fulfilment-routes/{route['id']}", {"active": False},
                              format="json")
    assert patched.status_code == 200 and patched.json()["active"] is False
    assert staff_api.delete(f"/api/fulfilment-routes/{route['id']}").status_code == 204
    assert staff_api.get(f"/api/fulfilment-routes/{route['id']}").status_code == 404
    assert staff_api.get("/api/fulfilment-routes/not-a-uuid").json() == {
        "detail": "Fulfilment route not found"}


def test_a_route_to_an_integration_that_cannot_fulfil_or_twice_is_422(
        staff_api, tee, production, sandbox, owner):
    from integrations.models import OPSIntegration

    shop_front = OPSIntegration.objects.create(
        name="Shop", base_url=sandbox.url_of("ops"), token_url="https://x.test/token",
        client_id="a", client_secret="b", user=owner)
    refused = staff_api.post("/api/fulfilment-routes", {
        "supplier_id": str(tee.supplier_id), "fulfiller_integration_id": str(shop_front.pk),
    }, format="json")
    assert refused.status_code == 422
    assert refused.json()["detail"][0]["loc"] == ["body", "fulfiller_integration_id"]
    assert "cannot fulfil" in refused.json()["detail"][0]["msg"]

    body = {"supplier_id": str(tee.supplier_id)}
    assert staff_api.post("/api/fulfilment-routes", body, format="json").status_code == 201
    twice = staff_api.post("/api/fulfilment-routes", body, format="json")
    assert twice.status_code == 422
    assert twice.json()["detail"][0]["loc"] == ["body", "customer_id"]
    assert FulfilmentRoute.objects.count() == 1


def test_routes_are_for_staff_only(api):
    assert api.get("/api/fulfilment-routes").status_code == 403


# -- manual shipments ------------------------------------------------------------------


def test_staff_record_a_shipment_of_manual_lines(staff_api, shop, tee):
    order = intake(staff_api, shop)
    routing.route_order(order.pk)
    line = order.lines.get()

    response = staff_api.post(f"/api/orders/{order.pk}/shipments", {
        "carrier": "UPS", "tracking_number": "1Z999",
        "lines": [{"line_id": str(line.pk), "quantity": 1}]}, format="json")

    assert response.status_code == 201, response.json()
    shipment = response.json()
    assert (shipment["source"], shipment["carrier"], shipment["tracking_number"]) == \
        ("manual", "UPS", "1Z999")
    assert shipment["lines"] == [{"line_id": str(line.pk), "quantity": 1}]
    line.refresh_from_db()
    order.refresh_from_db()
    assert line.status == LineStatus.IN_PRODUCTION  # one of two shipped: keeps its state
    assert order.status == OrderStatus.PARTIALLY_SHIPPED

    over = staff_api.post(f"/api/orders/{order.pk}/shipments", {
        "carrier": "UPS", "tracking_number": "1Z2",
        "lines": [{"line_id": str(line.pk), "quantity": 2}]}, format="json")
    assert over.status_code == 422
    assert over.json()["detail"] == [{"loc": ["body", "lines", 0, "quantity"],
                                      "msg": "Only 1 of this line are still to ship.",
                                      "type": "invalid"}]
    rest = staff_api.post(f"/api/orders/{order.pk}/shipments", {
        "carrier": "UPS", "tracking_number": "1Z3",
        "lines": [{"line_id": str(line.pk), "quantity": 1}]}, format="json")
    assert rest.status_code == 201
    line.refresh_from_db()
    order.refresh_from_db()
    assert (line.status, order.status) == (LineStatus.SHIPPED, OrderStatus.SHIPPED)


def test_a_shipment_of_a_line_that_is_not_manual_is_422(staff_api, oms_order):
    line = oms_order.lines.first()
    response = staff_api.post(f"/api/orders/{oms_order.pk}/shipments", {
        "carrier": "UPS", "tracking_number": "1Z",
        "lines": [{"line_id": str(line.pk), "quantity": 1}]}, format="json")
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "lines", 0, "line_id"]
    assert oms_order.shipments.count() == 0


def test_a_shipment_of_an_unknown_order_is_404(staff_api):
    response = staff_api.post("/api/orders/nope/shipments", {}, format="json")
    assert response.status_code == 404 and response.json() == {"detail": "Order not found"}


# -- cancel ----------------------------------------------------------------------------


def test_cancelling_manual_and_unrouted_lines_is_at_once(staff_api, shop, tee, eager_tasks):
    order = intake(staff_api, shop, skus=("PC61-NAT-S", "NO-SUCH-SKU"))
    routing.route_order(order.pk)

    response = staff_api.post(f"/api/orders/{order.pk}/cancel")

    assert response.status_code == 202
    assert response.json()["status"] == "cancelled"
    assert set(order.lines.values_list("status", flat=True)) == {LineStatus.CANCELLED}
    kinds = list(order.events.values_list("kind", flat=True))
    assert EventKind.CANCEL_REQUESTED in kinds and EventKind.CANCELLED in kinds
    assert staff_api.post(f"/api/orders/{order.pk}/cancel").status_code == 409


def test_cancelling_oms_lines_deletes_the_oms_order(
        staff_api, oms_order, sandbox, eager_tasks, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = staff_api.post(f"/api/orders/{oms_order.pk}/cancel")

    assert response.status_code == 202
    assert oms_orders(sandbox) == []
    assert set(oms_order.lines.values_list("status", flat=True)) == {LineStatus.CANCELLED}
    assert RemoteOrder.objects.get(order=oms_order).deleted_at is not None


def test_a_cancel_the_oms_refuses_keeps_the_lines_and_says_why(
        staff_api, oms_order, sandbox, eager_tasks, django_capture_on_commit_callbacks):
    sandbox.fakes["oms"].set_faults(forbid_next=1)

    with django_capture_on_commit_callbacks(execute=True):
        staff_api.post(f"/api/orders/{oms_order.pk}/cancel")

    assert len(oms_orders(sandbox)) == 1
    assert set(oms_order.lines.values_list("status", flat=True)) == {LineStatus.IN_PRODUCTION}
    refused = oms_order.events.get(kind=EventKind.CANCEL_REFUSED)
    assert "Print floor did not cancel order" in refused.message and "403" in refused.message


# -- print files -----------------------------------------------------------------------


def test_print_files_are_polled_until_ready_or_failed(oms_order, sandbox):
    first, second = oms_order.lines.order_by("source_line_id")
    make_due(oms_order)
    assert fulfilment.poll_print_files() == 2
    first.refresh_from_db()
    assert first.print_file_status == "received" and first.print_polls == 1
    assert first.next_print_poll_at > timezone.now() + timedelta(seconds=50)  # backing off

    set_print_status(sandbox, first, "ready")
    set_print_status(sandbox, second, "processingfailed")
    make_due(oms_order)
    fulfilment.poll_print_files()

    first.refresh_from_db()
    second.refresh_from_db()
    assert first.status == LineStatus.READY and first.print_file_url.endswith(
        f"/oms/print-files/{first.pk}.pdf")
    assert first.next_print_poll_at is None
    assert second.status == LineStatus.FAILED and "processingfailed" in second.error
    oms_order.refresh_from_db()
    assert oms_order.status == OrderStatus.NEEDS_ATTENTION
    # Neither is asked about again.
    make_due(oms_order)
    assert fulfilment.poll_print_files() == 0


def test_a_failing_poll_waits_longer_and_changes_nothing(oms_order, sandbox):
    make_due(oms_order)
    sandbox.fakes["oms"].set_faults(fail_path="/api/v1/order-items")
    fulfilment.poll_print_files()
    line = oms_order.lines.first()
    assert line.status == LineStatus.IN_PRODUCTION and line.print_polls == 1


def test_ready_lines_go_to_a_batch_order_with_the_templates_chosen(oms_order, sandbox):
    first, second = oms_order.lines.order_by("source_line_id")
    set_print_status(sandbox, first, "ready")
    make_due(oms_order)
    fulfilment.poll_print_files()

    messages = fulfilment.send_to_batch(oms_order.lines.all(), ["TEMPLATE-1"])

    batches = requests.get(f"{sandbox.url_of('oms')}/_sandbox/state",
                           timeout=10).json()["batch_orders"]
    first.refresh_from_db()
    assert [batch["order_items"] for batch in batches] == [[first.remote_line_id]]
    assert batches[0]["print_templates"] == ["TEMPLATE-1"]
    assert messages[0] == f"Line {second.source_line_id} left out: only ready OMS lines " \
                          "are batched"
    assert "1 line sent to Print floor batch" in messages[1]



def test_routing_again_a_line_whose_print_file_failed_asks_the_oms_again(oms_order, sandbox):
    first, _ = oms_order.lines.order_by("source_line_id")
    set_print_status(sandbox, first, "processingfailed")
    make_due(oms_order)
    fulfilment.poll_print_files()
    first.refresh_from_db()
    assert first.status == LineStatus.FAILED

    set_print_status(sandbox, first, "ready")  # fixed in the OMS
    routing.route_lines_again(oms_order)
    fulfilment.poll_print_files()

    first.refresh_from_db()
    assert first.status == LineStatus.READY and first.error is None
    assert len(oms_orders(sandbox)) == 1

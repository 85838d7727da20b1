"""Lines of PrintOps store orders: PrintOps's from the start, its states followed, and
cancelled through its cancel request (a refusal keeps the lines and says why)."""

import pytest
import requests

from orders import routing
from orders.models import EventKind, FulfillerType, LineStatus, Order, OrderStatus
from tests.orders.conftest import (
    PRINTOPS_STORE,
    place_printops_order,
    pull,
    pushed_user_products,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def poster_order(sandbox, poster_shop):
    [user_product_id, *_] = pushed_user_products(poster_shop).values()
    [order_id] = place_printops_order(
        sandbox, lines=[{"user_product_id": user_product_id, "quantity": 2}])
    pull(poster_shop)
    order = Order.objects.get(source_order_id=str(order_id))
    routing.route_order(order.pk)
    return order


def printops_state(sandbox, order):
    orders = requests.get(f"{sandbox.url_of('printops')}/_sandbox/state", timeout=10).json()
    return next(row["state"] for row in orders["orders"]
                if str(row["id"]) == order.source_order_id)


def test_printops_lines_are_printops_s_and_in_production(poster_order):
    line = poster_order.lines.get()
    assert (line.fulfiller_type, line.status) == (FulfillerType.PRINTOPS,
                                                  LineStatus.IN_PRODUCTION)
    assert (line.remote_order_id, line.remote_line_id) == (poster_order.source_order_id,
                                                           line.source_line_id)
    poster_order.refresh_from_db()
    assert poster_order.status == OrderStatus.IN_PRODUCTION


def test_a_cancel_is_asked_of_printops_and_its_answer_cancels_the_lines(
        staff_api, sandbox, poster_order, eager_tasks, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = staff_api.post(f"/api/orders/{poster_order.pk}/cancel")

    assert response.status_code == 202
    assert printops_state(sandbox, poster_order) == "canceled"
    assert poster_order.lines.get().status == LineStatus.CANCELLED
    poster_order.refresh_from_db()
    assert poster_order.status == OrderStatus.CANCELLED
    assert "cancelled by PrintOps" in poster_order.events.get(kind=EventKind.CANCELLED).message


def test_a_cancel_printops_refuses_keeps_the_line_and_says_why(
        staff_api, sandbox, poster_order, eager_tasks, django_capture_on_commit_callbacks):
    # PrintOps shipped it meanwhile; the hub has not pulled that yet.
    requests.post(f"{sandbox.url_of('printops')}/_sandbox/ship-order", json={
        "store_id": PRINTOPS_STORE, "order_id": int(poster_order.source_order_id)}, timeout=10)

    with django_capture_on_commit_callbacks(execute=True):
        staff_api.post(f"/api/orders/{poster_order.pk}/cancel")

    assert poster_order.lines.get().status == LineStatus.IN_PRODUCTION
    refused = poster_order.events.get(kind=EventKind.CANCEL_REFUSED).message
    assert "PrintOps did not cancel order" in refused and "shipped" in refused


def test_an_order_printops_cancelled_cancels_its_lines_on_the_next_pull(
        sandbox, poster_shop, poster_order):
    requests.post(f"{sandbox.url_of('printops')}/_sandbox/send-webhook", json={
        "event": "order_state_update", "store_id": PRINTOPS_STORE,
        "order_id": int(poster_order.source_order_id), "state": "canceled"}, timeout=10)

    pull(poster_shop)

    assert poster_order.lines.get().status == LineStatus.CANCELLED
    poster_order.refresh_from_db()
    assert poster_order.status == OrderStatus.CANCELLED

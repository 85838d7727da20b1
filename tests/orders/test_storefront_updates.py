"""Status and tracking back to the OnPrintShop storefront, and the signed order webhooks:
each sent once, failures retried and visible, every fault switch ending truthfully."""

import hashlib
import hmac
import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
import requests
from django.utils import timezone

from orders import routing, storefront
from orders.fulfilment import record_manual_shipment
from orders.models import (
    EventKind,
    Order,
    StatusMapping,
    StatusScope,
    StorefrontUpdate,
    UpdateKind,
    UpdateState,
)
from tests.orders.conftest import place_ops_orders, pull

pytestmark = pytest.mark.django_db


def ops_state(sandbox):
    return requests.get(f"{sandbox.url_of('ops')}/_sandbox/state", timeout=10).json()


@pytest.fixture
def ops_order(sandbox, ops_shop):
    """An OnPrintShop order, pulled and routed (manual: no route), nothing delivered yet."""
    place_ops_orders(sandbox, lines_per_order=2)
    pull(ops_shop)
    order = Order.objects.get()
    routing.route_order(order.pk)
    return order


def deliver_now(order):
    StorefrontUpdate.objects.filter(order=order).update(next_attempt_at=timezone.now())
    storefront.deliver(order.pk)


def ship_everything(order):
    return record_manual_shipment(order, carrier="UPS", tracking_number="1Z999", lines=[
        {"line_id": line.pk, "quantity": line.quantity} for line in order.lines.all()])


def test_the_status_map_defaults_to_the_storefront_titles_that_match(ops_order):
    mapping = storefront.status_map(ops_order.customer)

    assert mapping[(StatusScope.LINE, "in_production")] == "Printing"
    assert mapping[(StatusScope.LINE, "ready")] == "Ready"
    assert mapping[(StatusScope.LINE, "shipped")] == "Shipped"
    assert mapping[(StatusScope.LINE, "unmatched")] == ""  # no such title: not sent
    assert mapping[(StatusScope.ORDER, "in_production")] == "In Production"
    assert mapping[(StatusScope.ORDER, "needs_attention")] == ""


def test_each_change_sets_the_line_and_order_statuses_once(sandbox, ops_order):
    deliver_now(ops_order)

    order = ops_state(sandbox)["orders"][0]
    assert order["order_status"] == "In Production"
    assert [line["product_status"] for line in order["product"]] == ["Printing", "Printing"]
    updates = ops_state(sandbox)["status_updates"]
    assert len(updates) == 3
    assert {update["notify"] for update in updates} == {0}

    storefront.order_changed([ops_order.pk])  # looked at again: nothing new to say
    deliver_now(ops_order)
    assert len(ops_state(sandbox)["status_updates"]) == 3
    assert ops_order.events.filter(kind=EventKind.STOREFRONT_UPDATED).count() == 3


def test_a_shipment_is_recorded_once_with_its_tracking_number(sandbox, ops_order):
    ops_order.customer.notify_buyer = True
    ops_order.customer.save()
    shipment = ship_everything(ops_order)
    deliver_now(ops_order)

    state = ops_state(sandbox)
    [recorded] = state["shipments"]
    lines = {int(line.source_line_id): line.quantity for line in ops_order.lines.all()}
    opdata = recorded["shipmentinfo"][0]["packageinfo"][0]["opdata"]
    assert {row["opid"]: int(row["qty"]) for row in opdata} == lines
    assert recorded["tracking_number"] == "1Z999"
    order = state["orders"][0]
    assert (order["courier_company_name"], order["airway_bill_number"]) == ("UPS", "1Z999")
    assert order["order_status"] == "Shipped"
    assert {line["product_status"] for line in order["product"]} == {"Shipped"}
    shipment.refresh_from_db()
    assert shipment.storefront_shipment_id == str(recorded["shipment_id"])
    assert shipment.reported_to_storefront_at is not None

    storefront.shipments_recorded([ops_order.pk])
    deliver_now(ops_order)
    assert len(ops_state(sandbox)["shipments"]) == 1


@pytest.mark.parametrize("faults", [
    {"graphql_error_next": 1}, {"result_false_next": 1},
    {"fail_mutation": "updateOrderStatus"},
    {"rate_limit_next": 4}, {"malformed_next": 1},
])
def test_a_status_update_that_fails_is_retried_and_visible_until_sent(
        sandbox, ops_order, faults):
    sandbox.fakes["ops"].set_faults(**faults)
    deliver_now(ops_order)

    failed = ops_order.events.filter(kind=EventKind.STOREFRONT_UPDATE_FAILED)
    assert failed.exists()
    assert Order.objects.filter(pk=ops_order.pk, storefront_updates__attempts__gt=0).exists()

    sandbox.fakes["ops"].set_faults(graphql_error_next=0, result_false_next=0,
                                    fail_mutation=None, rate_limit_next=0, malformed_next=0)
    deliver_now(ops_order)
    state = ops_state(sandbox)
    assert len(state["status_updates"]) == 3  # each status once, none lost
    assert not StorefrontUpdate.objects.filter(order=ops_order).exclude(
        state=UpdateState.SENT).exists()


def test_an_expired_token_answered_as_an_error_is_renewed_once(sandbox, ops_order):
    sandbox.fakes["ops"].set_faults(unauthenticated_as_200=True)
    requests.post(f"{sandbox.url_of('ops')}/_sandbox/expire-tokens", timeout=10)
    deliver_now(ops_order)
    assert len(ops_state(sandbox)["status_updates"]) == 3


def test_a_shipment_whose_answer_was_lost_is_not_recorded_twice(sandbox, ops_order, settings):
    deliver_now(ops_order)
    ship_everything(ops_order)
    settings.OUTBOUND_TIMEOUT = (2, 1)
    sandbox.fakes["ops"].set_faults(slow_answer_next=1, slow_answer_seconds=1.5)
    StorefrontUpdate.objects.filter(order=ops_order).exclude(kind=UpdateKind.SHIPMENT).update(
        next_attempt_at=timezone.now() + timezone.timedelta(hours=1))
    storefront.deliver(ops_order.pk)

    told = StorefrontUpdate.objects.get(order=ops_order, kind=UpdateKind.SHIPMENT)
    assert told.state == UpdateState.UNCERTAIN
    assert len(ops_state(sandbox)["shipments"]) == 1  # OPS recorded it
    deliver_now(ops_order)
    assert len(ops_state(sandbox)["shipments"]) == 1  # and it is not sent again
    event = ops_order.events.filter(kind=EventKind.STOREFRONT_UPDATE_FAILED).last()
    assert "check the storefront" in event.message

    assert storefront.mark_sent(StorefrontUpdate.objects.filter(pk=told.pk)) == 1
    assert ops_order.shipments.get().reported_to_storefront_at is not None


def test_a_state_without_a_title_is_not_sent(sandbox, ops_order):
    StatusMapping.objects.filter(customer=ops_order.customer, scope=StatusScope.LINE,
                                 hub_status="in_production").update(storefront_title="")
    StorefrontUpdate.objects.filter(order=ops_order, kind=UpdateKind.LINE_STATUS).delete()
    storefront.order_changed([ops_order.pk])
    deliver_now(ops_order)
    assert {line["product_status"] for line in ops_state(sandbox)["orders"][0]["product"]} == \
        {"Pending"}


# -- order webhooks --------------------------------------------------------------------


class Receiver(BaseHTTPRequestHandler):
    answers = []
    received = []

    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        Receiver.received.append((dict(self.headers), body))
        status = Receiver.answers.pop(0) if Receiver.answers else 200
        self.send_response(status)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def receiver():
    Receiver.answers, Receiver.received = [], []
    server = HTTPServer(("127.0.0.1", 0), Receiver)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/hooks"
    server.shutdown()
    server.server_close()


def test_each_status_change_is_one_signed_webhook_retried_until_delivered(
        sandbox, ops_shop, receiver, staff_api):
    ops_shop.order_webhook_url = receiver
    ops_shop.order_webhook_secret = "hook-secret"
    ops_shop.save()
    Receiver.answers = [500]
    place_ops_orders(sandbox, lines_per_order=1)
    pull(ops_shop)
    order = Order.objects.get()
    routing.route_order(order.pk)  # received → in_production
    deliver_now(order)

    assert order.events.filter(kind=EventKind.WEBHOOK_FAILED).count() == 1
    deliver_now(order)
    headers, raw = Receiver.received[-1]
    assert headers["X-Hub-Signature-256"] == "sha256=" + hmac.new(
        b"hook-secret", raw, hashlib.sha256).hexdigest()
    body = json.loads(raw)
    assert body["event"] == "order.status_changed"
    assert body["order"]["status"] == "in_production" and body["order"]["id"] == str(order.pk)
    assert "buyer" not in body["order"] and "shipping_address" not in body["order"]
    update = StorefrontUpdate.objects.get(order=order, kind=UpdateKind.WEBHOOK)
    assert headers["X-Hub-Delivery"] == str(update.pk)
    assert [h["X-Hub-Delivery"] for h, _ in Receiver.received] == [str(update.pk)] * 2
    assert order.events.filter(kind=EventKind.WEBHOOK_SENT).count() == 1

    ship_everything(order)
    deliver_now(order)
    assert json.loads(Receiver.received[-1][1])["event"] == "order.shipped"
    assert len(Receiver.received) == 3

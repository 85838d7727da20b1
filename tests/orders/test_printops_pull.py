"""Pulling a PrintOps store's orders and shipments, and the webhook nudge, over real HTTP
against the sandbox's PrintOps fake."""

from decimal import Decimal

import pytest
import requests

from catalog.models import PrintSize
from integrations.printops.webhooks import register_webhooks, webhook_url
from orders.models import EventKind, LineStatus, Order, OrderStatus, Shipment
from tests.orders.conftest import (
    PRINTOPS_STORE,
    place_printops_order,
    pull,
    pushed_user_products,
)

pytestmark = pytest.mark.django_db


def test_a_pull_stores_the_stores_orders_in_dollars_with_lines_resolved_to_print_sizes(
    sandbox, poster_shop
):
    user_products = pushed_user_products(poster_shop)
    key, user_product_id = sorted(user_products.items())[0]
    [order_id] = place_printops_order(
        sandbox, lines=[{"user_product_id": user_product_id, "quantity": 3}])

    result = pull(poster_shop)

    # The two seeded orders of the store, not made by the hub, and the new one.
    assert result.created == 3
    order = Order.objects.get(source_order_id=str(order_id))
    assert order.source == "printops" and order.source_status == "payment_pending"
    [line] = order.lines.all()
    size = PrintSize.objects.get(size_key=key)
    assert (line.product_id, line.print_size_id, line.quantity) == (size.product_id, size.pk, 3)
    assert line.status == LineStatus.RECEIVED
    assert order.subtotal == line.unit_price * 3
    assert order.subtotal + order.shipping + order.tax == order.total
    assert order.total.as_tuple().exponent == -2
    seeded = Order.objects.get(source_order_id="320101")
    assert seeded.lines.get().status == LineStatus.SHIPPED
    assert "not made by the hub" in Order.objects.get(source_order_id="320100").lines.get().error
    shipment = seeded.shipments.get()
    assert (shipment.carrier, shipment.tracking_number) == ("USPS", "9434611206219544571716")
    # PrintOps shipped it, though the hub never made its user product: shipped is shipped.
    assert seeded.status == OrderStatus.SHIPPED

    again = pull(poster_shop)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 3)
    assert Shipment.objects.count() == 1


def test_a_shipment_is_recorded_once_and_ships_the_whole_line(sandbox, poster_shop):
    [user_product_id, *_] = pushed_user_products(poster_shop).values()
    [order_id] = place_printops_order(
        sandbox, lines=[{"user_product_id": user_product_id, "quantity": 2}])
    pull(poster_shop)
    order = Order.objects.get(source_order_id=str(order_id))
    assert order.status == OrderStatus.RECEIVED

    requests.post(f"{sandbox.url_of('printops')}/_sandbox/ship-order",
                  json={"store_id": PRINTOPS_STORE, "order_id": order_id,
                        "tracking_number": "1ZTEST"}, timeout=10)
    pull(poster_shop)
    pull(poster_shop)

    order.refresh_from_db()
    shipment = order.shipments.get()
    assert shipment.tracking_number == "1ZTEST" and shipment.source == "printops"
    assert shipment.reported_to_storefront_at is None
    assert [(row.line.quantity, row.quantity) for row in shipment.lines.all()] == [(2, 2)]
    assert order.lines.get().status == LineStatus.SHIPPED
    assert order.status == OrderStatus.SHIPPED and order.source_status == "shipped"
    assert [e.kind for e in order.events.all()].count(EventKind.SHIPPED) == 1


@pytest.mark.django_db(transaction=True)
def test_a_webhook_nudge_reads_the_order_and_its_shipment_again(
    sandbox, poster_shop, printops, live_server, settings, eager_tasks
):
    settings.HUB_PUBLIC_URL = live_server.url
    register_webhooks(printops)
    # Staff enter the hub's delivery URL in PrintOps.
    requests.post(f"{sandbox.url_of('printops')}/_sandbox/delivery-url",
                  json={"url": webhook_url(printops)}, timeout=10)
    [user_product_id, *_] = pushed_user_products(poster_shop).values()
    [order_id] = place_printops_order(
        sandbox, lines=[{"user_product_id": user_product_id, "quantity": 1}])

    # Only the nudge brings the order in: no pull runs.
    response = requests.post(f"{sandbox.url_of('printops')}/_sandbox/ship-order",
                             json={"store_id": PRINTOPS_STORE, "order_id": order_id},
                             timeout=30)

    assert [d["status"] for d in response.json()["deliveries"]] == [200]
    order = Order.objects.get(source_order_id=str(order_id))
    assert order.status == OrderStatus.SHIPPED
    assert order.shipments.get().carrier == "UPS"
    assert Order.objects.count() == 1
    # The fake was asked for the order: the delivery itself was not trusted.
    paths = [entry["path"] for entry in sandbox.fakes["printops"].request_log]
    assert f"/api/stores/{PRINTOPS_STORE}/orders/{order_id}" in paths


def test_printops_cents_become_dollars():
    from integrations.printops.orders import map_order

    order = map_order({"id": 1, "line_items": [{"id": 2, "quantity": 1, "unit_price": 225,
                                                  "user_product": {"id": 3}}],
                       "order_total": {"line_items_total": 225, "shipping_total": 430,
                                       "fulfillment_total": 300, "handling": None,
                                       "tax_total": 88, "grand_total": 1043}})
    assert (order.subtotal, order.shipping, order.tax, order.total) == (
        Decimal("2.25"), Decimal("7.30"), Decimal("0.88"), Decimal("10.43"))
    assert order.lines[0].unit_price == Decimal("2.25")
    bad = map_order({"id": 1, "line_items": [{"id": 2, "quantity": 0}],
                     "order_total": {"grand_total": "10.43"}})
    assert bad.lines == [] and bad.total is None
    assert any("grand_total" in problem for problem in bad.problems)

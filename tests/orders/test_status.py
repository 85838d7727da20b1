import pytest

from orders.models import (
    EventKind,
    LineStatus,
    Order,
    OrderEvent,
    OrderLine,
    OrderStatus,
    Shipment,
    ShipmentLine,
)
from pushes.models import Customer

S = LineStatus


@pytest.mark.parametrize("lines, shipped, expected", [
    ([], False, OrderStatus.RECEIVED),
    ([S.RECEIVED, S.ROUTED], False, OrderStatus.RECEIVED),
    ([S.ROUTED, S.IN_PRODUCTION, S.READY], False, OrderStatus.IN_PRODUCTION),
    ([S.IN_PRODUCTION, S.UNMATCHED], False, OrderStatus.NEEDS_ATTENTION),
    ([S.SHIPPED, S.FAILED], False, OrderStatus.NEEDS_ATTENTION),
    ([S.SHIPPED, S.IN_PRODUCTION], False, OrderStatus.PARTIALLY_SHIPPED),
    ([S.IN_PRODUCTION], True, OrderStatus.PARTIALLY_SHIPPED),
    ([S.SHIPPED, S.CANCELLED], True, OrderStatus.SHIPPED),
    ([S.CANCELLED, S.CANCELLED], False, OrderStatus.CANCELLED),
    ([S.CANCELLED, S.UNMATCHED], False, OrderStatus.NEEDS_ATTENTION),
])
def test_the_order_status_is_derived_from_its_lines(lines, shipped, expected):
    assert Order.derive_status(lines, shipped) == expected


@pytest.mark.django_db
def test_refresh_status_stores_the_change_and_records_one_event():
    customer = Customer.objects.create(name="Shop")
    order = Order.objects.create(customer=customer, source="api", source_order_id="1")
    line = OrderLine.objects.create(order=order, source_line_id="1", status=S.UNMATCHED)

    assert order.refresh_status() is True
    assert order.refresh_status() is False

    order.refresh_from_db()
    assert order.status == OrderStatus.NEEDS_ATTENTION
    events = list(order.events.values_list("kind", "message"))
    assert events == [(EventKind.STATUS_CHANGED, "Received → Needs attention")]

    OrderLine.objects.filter(pk=line.pk).update(status=S.IN_PRODUCTION)
    shipment = Shipment.objects.create(order=order, source="manual")
    ShipmentLine.objects.create(shipment=shipment, line=line, quantity=1)
    order.refresh_status()
    order.refresh_from_db()
    assert order.status == OrderStatus.PARTIALLY_SHIPPED


@pytest.mark.django_db
def test_events_are_append_only():
    customer = Customer.objects.create(name="Shop")
    order = Order.objects.create(customer=customer, source="api", source_order_id="1")
    event = OrderEvent.objects.create(order=order, kind=EventKind.RECEIVED)
    event.message = "changed"
    with pytest.raises(ValueError):
        event.save()

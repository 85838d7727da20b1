"""Orders: the writes and business rules. Views, tasks and pulls call these.

`store_orders` is the one way an order gets in, from any source: new orders are created
with their lines resolved; a changed order is updated (new lines added, quantities and
source statuses updated, an `updated` event); an unchanged one is not written at all.
A line a fulfiller already holds is never reset.

Buyer data never goes to the log: log messages name orders by id and source id only.
"""

import logging
from dataclasses import dataclass, field

from django.db import IntegrityError, transaction
from django.utils import timezone

from orders.models import (
    UNROUTED_LINE_STATUSES,
    AddressKind,
    EventKind,
    LineStatus,
    Order,
    OrderAddress,
    OrderEvent,
    OrderLine,
    Shipment,
    ShipmentLine,
)
from orders.resolution import Resolver

logger = logging.getLogger(__name__)

ORDER_FIELDS = (
    "order_number", "source_status", "placed_at", "source_modified_at", "currency",
    "subtotal", "shipping", "tax", "total", "buyer_name", "buyer_email", "buyer_phone",
    "buyer_company",
)
LINE_FIELDS = ("sku", "name", "size", "quantity", "unit_price", "source_product_id",
               "source_status", "artwork")
# Changing one of these makes an unrouted line be resolved again.
LINE_REFERENCE_FIELDS = ("sku", "size", "source_product_id")
RESOLUTION_FIELDS = ("product", "variant", "print_size", "status", "error")


def record_event(order, kind, message=""):
    """Append one event to the order's trail."""
    return OrderEvent.objects.create(order=order, kind=kind, message=message)


def line_resolved(line):
    """Called for each line once it is resolved to a catalog product (status `received`).

    Routing plugs in here: it chooses the line's fulfiller and sends the line on. Until it
    does, a resolved line stays `received`.
    """
    return None


@dataclass
class StoreResult:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    # The stored order of each canonical order, by (source, source_order_id).
    orders: dict = field(default_factory=dict)
    # Lines resolved by this call, handed to routing once committed.
    resolved: list = field(default_factory=list)

    def add(self, other):
        self.created += other.created
        self.updated += other.updated
        self.unchanged += other.unchanged

    def stats(self):
        return {"created": self.created, "updated": self.updated, "unchanged": self.unchanged}


def take_in(customer, canonical):
    """Intake of one order from any system: (order, created). The same order again
    (customer and source id) is answered with the stored one, unchanged."""
    key = (canonical.source, canonical.source_order_id)
    stored = Order.objects.filter(customer=customer, source=canonical.source,
                                  source_order_id=canonical.source_order_id).first()
    if stored is not None:
        return stored, False
    result = store_orders(customer, [canonical], update_existing=False)
    return result.orders[key], bool(result.created)


def route_again(order):
    """Resolve the order's unrouted lines again and hand the resolved ones to routing."""
    return retry_unmatched(order)


def store_orders(customer, orders, *, resolver=None, update_existing=True):
    """Store canonical orders of one customer (see module doc); a StoreResult.

    A fixed number of queries per call, whatever the number of orders and lines. Two
    writers storing the same new order at once: the loser of the unique constraint
    starts again and finds the order stored.
    """
    resolver = resolver or Resolver(customer)
    unique = list({(o.source, o.source_order_id): o for o in orders}.values())
    for attempt in range(2):
        try:
            result = _store(customer, unique, resolver, update_existing)
            break
        except IntegrityError:
            if attempt:
                raise
    for line in result.resolved:
        line_resolved(line)
    return result


def _store(customer, orders, resolver, update_existing):
    result = StoreResult()
    now = timezone.now()
    with transaction.atomic():
        existing = {
            (order.source, order.source_order_id): order
            for order in Order.objects.select_for_update().filter(
                customer=customer, source__in={o.source for o in orders},
                source_order_id__in=[o.source_order_id for o in orders],
            ).order_by("pk")
        }
        new, changed = [], []
        for canonical in orders:
            stored = existing.get((canonical.source, canonical.source_order_id))
            digest = canonical.content_hash()
            if stored is None:
                new.append((canonical, digest))
            elif not update_existing or stored.source_hash == digest or (
                stored.source_modified_at is not None
                and stored.source_modified_at == canonical.source_modified_at
            ):
                result.unchanged += 1
                result.orders[(canonical.source, canonical.source_order_id)] = stored
            else:
                changed.append((canonical, digest, stored))
        if not new and not changed:
            return result
        writes = _Writes(now)
        for canonical, digest in new:
            order = Order(customer=customer, source=canonical.source,
                          source_order_id=canonical.source_order_id, source_hash=digest,
                          **{name: getattr(canonical, name) for name in ORDER_FIELDS})
            writes.new_order(order, canonical)
            result.orders[(canonical.source, canonical.source_order_id)] = order
        stored_lines = _lines_of([stored for _, _, stored in changed])
        for canonical, digest, stored in changed:
            writes.changed_order(stored, canonical, digest, stored_lines.get(stored.pk, {}))
            result.orders[(canonical.source, canonical.source_order_id)] = stored
        resolver.resolve(writes.to_resolve)
        writes.save()
        _apply_shipments(writes.shipments, writes.lines_by_order, now)
        Order.refresh_statuses(writes.orders)
        result.created, result.updated = len(new), len(changed)
        result.resolved = [line for line in writes.to_resolve
                           if line.status == LineStatus.RECEIVED and line.product_id]
    return result


def _lines_of(orders):
    lines = {}
    for line in OrderLine.objects.filter(order__in=orders):
        lines.setdefault(line.order_id, {})[line.source_line_id] = line
    return lines


class _Writes:
    """What one store_orders call writes, gathered so each table gets a bulk write."""

    def __init__(self, now):
        self.now = now
        self.new_orders, self.updated_orders, self.orders = [], [], []
        self.addresses, self.replaced_addresses = [], []
        self.new_lines, self.updated_lines, self.to_resolve = [], [], []
        self.events = []
        self.shipments = []  # (order, [CanonicalShipment])
        self.lines_by_order = {}  # order pk: {source_line_id: line}

    def new_order(self, order, canonical):
        # A source without a (sound) placing date: the moment the hub first read it.
        order.placed_at = order.placed_at or self.now
        self.new_orders.append(order)
        self.orders.append(order)
        self._addresses(order, canonical)
        lines = {}
        for item in canonical.lines:
            line = OrderLine(order=order, **_line_fields(item), source_line_id=item.source_line_id)
            lines[item.source_line_id] = line
            self.new_lines.append(line)
            self.to_resolve.append(line)
        self.lines_by_order[order.pk] = lines
        count = len(lines)
        self._event(order, EventKind.RECEIVED,
                    f"Received from {order.get_source_display()} with {count} "
                    f"line{'' if count == 1 else 's'}")
        self._problems(order, canonical)
        if canonical.shipments:
            self.shipments.append((order, canonical.shipments))

    def changed_order(self, order, canonical, digest, stored_lines):
        notes = []
        if order.source_status != canonical.source_status:
            notes.append(f"source status {order.source_status or '-'} → "
                         f"{canonical.source_status or '-'}")
        for name in ORDER_FIELDS:
            if name != "placed_at" or canonical.placed_at is not None:
                setattr(order, name, getattr(canonical, name))
        order.source_hash = digest
        order.updated_at = self.now
        self.updated_orders.append(order)
        self.orders.append(order)
        self.replaced_addresses.append(order.pk)
        self._addresses(order, canonical)
        lines = dict(stored_lines)
        added = 0
        for item in canonical.lines:
            line = lines.get(item.source_line_id)
            if line is None:
                line = OrderLine(order=order, **_line_fields(item),
                                 source_line_id=item.source_line_id)
                lines[item.source_line_id] = line
                self.new_lines.append(line)
                self.to_resolve.append(line)
                added += 1
                continue
            fields = _line_fields(item)
            if all(getattr(line, name) == value for name, value in fields.items()):
                continue
            if line.quantity != item.quantity:
                notes.append(f"quantity of line {item.source_line_id} {line.quantity} → "
                             f"{item.quantity}")
            reference_changed = any(getattr(line, name) != fields[name]
                                    for name in LINE_REFERENCE_FIELDS)
            for name, value in fields.items():
                setattr(line, name, value)
            line.order = order
            self.updated_lines.append(line)
            # Only a line no fulfiller holds is resolved again; a routed one stays as is.
            if reference_changed and not line.fulfiller_type and \
                    line.status in UNROUTED_LINE_STATUSES:
                self.to_resolve.append(line)
        if added:
            notes.insert(0, f"{added} line{'' if added == 1 else 's'} added")
        self.lines_by_order[order.pk] = lines
        self._event(order, EventKind.UPDATED,
                    "Updated from the source: " + ("; ".join(notes) if notes else
                                                   "order details changed"))
        self._problems(order, canonical)
        if canonical.shipments:
            self.shipments.append((order, canonical.shipments))

    def _addresses(self, order, canonical):
        for kind, address in ((AddressKind.SHIPPING, canonical.shipping_address),
                              (AddressKind.BILLING, canonical.billing_address)):
            if address is not None:
                self.addresses.append(OrderAddress(order=order, kind=kind, **vars(address)))

    def _problems(self, order, canonical):
        if canonical.problems:
            self._event(order, EventKind.MALFORMED,
                        "Stored as far as sound; the source sent: " + "; ".join(canonical.problems))

    def _event(self, order, kind, message):
        self.events.append(OrderEvent(order=order, kind=kind, message=message, at=self.now))

    def save(self):
        Order.objects.bulk_create(self.new_orders)
        if self.updated_orders:
            Order.objects.bulk_update(self.updated_orders,
                                      [*ORDER_FIELDS, "source_hash", "updated_at"])
        if self.replaced_addresses:
            OrderAddress.objects.filter(order_id__in=self.replaced_addresses).delete()
        OrderAddress.objects.bulk_create(self.addresses)
        OrderLine.objects.bulk_create(self.new_lines)
        if self.updated_lines:
            for line in self.updated_lines:
                line.updated_at = self.now
            OrderLine.objects.bulk_update(self.updated_lines,
                                          [*LINE_FIELDS, *RESOLUTION_FIELDS, "updated_at"])
        for line in self.to_resolve:
            if line.status == LineStatus.UNMATCHED:
                self._event(line.order, EventKind.UNMATCHED,
                            f"Line {line.source_line_id} unmatched: {line.error}")
        OrderEvent.objects.bulk_create(self.events)


def _line_fields(item):
    return {"sku": item.sku, "name": item.name, "size": item.size, "quantity": item.quantity,
            "unit_price": item.unit_price, "source_product_id": item.source_product_id,
            "source_status": item.source_status, "artwork": list(item.artwork)}


def _apply_shipments(shipments, lines_by_order, now):
    """Record the source's shipments not yet stored; mark wholly shipped lines `shipped`."""
    if not shipments:
        return
    orders = [order for order, _ in shipments]
    known = set(Shipment.objects.filter(order__in=orders, source_shipment_id__isnull=False)
                .values_list("order_id", "source", "source_shipment_id"))
    new_shipments, new_rows, events = [], [], []
    for order, items in shipments:
        lines = lines_by_order.get(order.pk, {})
        for item in items:
            if (order.pk, order.source, item.source_shipment_id) in known:
                continue
            shipment = Shipment(
                order=order, source=order.source, source_shipment_id=item.source_shipment_id,
                carrier=item.carrier, tracking_number=item.tracking_number,
                tracking_url=item.tracking_url, shipped_at=item.shipped_at or now,
            )
            new_shipments.append(shipment)
            for source_line_id, quantity in item.lines:
                line = lines.get(source_line_id)
                if line is not None and quantity > 0:
                    new_rows.append(ShipmentLine(shipment=shipment, line=line, quantity=quantity))
            events.append(OrderEvent(
                order=order, kind=EventKind.SHIPPED, at=now,
                message=f"Shipped by {item.carrier or 'carrier unknown'}"
                        f" (tracking {item.tracking_number or '-'})",
            ))
    if not new_shipments:
        return
    Shipment.objects.bulk_create(new_shipments)
    ShipmentLine.objects.bulk_create(new_rows)
    OrderEvent.objects.bulk_create(events)
    mark_shipped_lines({row.line_id for row in new_rows})


def mark_shipped_lines(line_ids):
    """Lines whose whole quantity has shipped become `shipped` (open lines only)."""
    from django.db.models import F, Sum

    shipped = (
        OrderLine.objects.filter(pk__in=line_ids)
        .exclude(status__in=[LineStatus.SHIPPED, LineStatus.CANCELLED])
        .annotate(shipped=Sum("shipment_lines__quantity"))
        .filter(shipped__gte=F("quantity"))
        .values_list("pk", flat=True)
    )
    OrderLine.objects.filter(pk__in=list(shipped)).update(
        status=LineStatus.SHIPPED, updated_at=timezone.now()
    )


def retry_unmatched(order):
    """Resolve the order's `received` and `unmatched` lines again (after the catalog was
    fixed); the lines that are now resolved go to routing. Returns them."""
    return retry_unmatched_lines(OrderLine.objects.filter(order=order))


def retry_unmatched_lines(lines):
    """retry_unmatched for any set of lines (admin action over many orders)."""
    by_customer = {}
    candidates = lines.filter(status__in=UNROUTED_LINE_STATUSES, fulfiller_type__isnull=True) \
        .select_related("order__customer")
    for line in candidates:
        by_customer.setdefault(line.order.customer_id, []).append(line)
    resolved = []
    with transaction.atomic():
        for group in by_customer.values():
            before = {line.pk: line.status for line in group}
            Resolver(group[0].order.customer).resolve(group)
            OrderLine.objects.bulk_update(group, [*RESOLUTION_FIELDS, "updated_at"])
            events = []
            for line in group:
                if line.status == LineStatus.RECEIVED and line.product_id:
                    resolved.append(line)
                    if before[line.pk] == LineStatus.UNMATCHED:
                        events.append(OrderEvent(order=line.order, kind=EventKind.RESOLVED,
                                                 message=f"Line {line.source_line_id} resolved "
                                                         "on retry"))
                else:
                    events.append(OrderEvent(order=line.order, kind=EventKind.UNMATCHED,
                                             message=f"Line {line.source_line_id} still "
                                                     f"unmatched: {line.error}"))
            OrderEvent.objects.bulk_create(events)
        Order.refresh_statuses(list({line.order_id: line.order for group in by_customer.values()
                                     for line in group}.values()))
    for line in resolved:
        line_resolved(line)
    return resolved

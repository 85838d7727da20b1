"""What happens to routed lines: print files, shipments, cancels (hub-orders-api.md).

- Print files: beat polls the OMS for each OMS line in production, waiting longer after
  each answer that is not final; `ready` stores the file's URL and makes the line
  `ready`, `processingfailed` makes it `failed` with the reason.
- Shipments of manual lines are recorded by staff; PrintOps shipments come with the
  desk's pulls. A line whose whole quantity shipped is `shipped`.
- Cancel: lines no fulfiller holds and manual lines are cancelled at once; OMS lines by
  deleting the OMS order (or updating it without them when other lines stay); PrintOps
  lines by PrintOps's cancel request. A refusal keeps the line's state; every outcome is
  an event.
- PrintOps's order state: `canceled` cancels the order's open lines; shipments make them
  shipped; any other state leaves them in production.
"""

import logging
from datetime import timedelta

from django.db import transaction
from django.db.models import Sum
from django.template.defaultfilters import pluralize
from django.utils import timezone

from integrations.oms import client as oms
from integrations.oms.client import OMSClient, OMSError
from integrations.printops.client import PrintOpsClient, PrintOpsError
from orders.models import (
    UNROUTED_LINE_STATUSES,
    EventKind,
    FulfillerType,
    LineStatus,
    Order,
    OrderEvent,
    OrderLine,
    OrderSource,
    RemoteOrder,
    Shipment,
    ShipmentLine,
    ShipmentSource,
)
from orders.services import mark_shipped_lines, record_event

logger = logging.getLogger(__name__)

CLOSED_LINE_STATUSES = (LineStatus.SHIPPED, LineStatus.CANCELLED)
PRINT_POLL_FIRST = timedelta(seconds=30)
PRINT_POLL_LONGEST = timedelta(hours=1)
PRINT_POLL_BATCH = 200
PRINTOPS_CANCELED = "canceled"


# -- manual shipments ------------------------------------------------------------------


def open_quantities(order):
    """{line id: {"manual": bool, "open": quantity not yet shipped}} of open lines."""
    lines = (
        OrderLine.objects.filter(order=order).exclude(status__in=CLOSED_LINE_STATUSES)
        .annotate(shipped=Sum("shipment_lines__quantity"))
    )
    return {
        line.pk: {"manual": line.fulfiller_type == FulfillerType.MANUAL,
                  "open": line.quantity - (line.shipped or 0)}
        for line in lines
    }


def record_manual_shipment(order, *, carrier, tracking_number, lines, tracking_url=None):
    """Store a shipment of manual lines (checked by the caller); the Shipment."""
    from orders.storefront import shipments_recorded

    with transaction.atomic():
        Order.objects.select_for_update().filter(pk=order.pk).first()
        shipment = Shipment.objects.create(
            order=order, source=ShipmentSource.MANUAL, carrier=carrier,
            tracking_number=tracking_number, tracking_url=tracking_url,
            shipped_at=timezone.now(),
        )
        ShipmentLine.objects.bulk_create([
            ShipmentLine(shipment=shipment, line_id=row["line_id"], quantity=row["quantity"])
            for row in lines
        ])
        record_event(order, EventKind.SHIPPED,
                     f"Shipped by {carrier} (tracking {tracking_number}), recorded by staff")
        mark_shipped_lines([row["line_id"] for row in lines])
        Order.refresh_statuses([order])
        shipments_recorded([order.pk])
    return Shipment.objects.prefetch_related("lines").get(pk=shipment.pk)


# -- cancel ----------------------------------------------------------------------------


def request_cancel(order):
    """Cancel the open lines (see module notes); False when no line is open."""
    with transaction.atomic():
        lines = list(OrderLine.objects.select_for_update().filter(order=order)
                     .exclude(status__in=CLOSED_LINE_STATUSES).order_by("pk"))
        if not lines:
            return False
        record_event(order, EventKind.CANCEL_REQUESTED,
                     f"Cancel requested for {len(lines)} open line{pluralize(len(lines))}")
        at_once = [line for line in lines
                   if line.status in (*UNROUTED_LINE_STATUSES, LineStatus.FAILED)
                   or not line.fulfiller_type or line.fulfiller_type == FulfillerType.MANUAL
                   or (line.fulfiller_type == FulfillerType.OMS and not line.remote_line_id)]
        cancel_lines(order, at_once, "cancelled at once: no fulfiller holds them")
        if len(at_once) < len(lines):
            from orders.tasks import cancel_with_fulfillers_task

            transaction.on_commit(lambda: cancel_with_fulfillers_task.delay(str(order.pk)))
    return True


def cancel_lines(order, lines, why):
    if not lines:
        return
    now = timezone.now()
    ids = [line.pk for line in lines]
    OrderLine.objects.filter(pk__in=ids).update(status=LineStatus.CANCELLED,
                                                next_print_poll_at=None, updated_at=now)
    record_event(order, EventKind.CANCELLED, f"{len(lines)} line{pluralize(len(lines))} {why}")
    Order.refresh_statuses([order])
    from orders.storefront import order_changed

    order_changed([order.pk])


def cancel_with_fulfillers(order_id):
    """Ask the OMS and PrintOps to cancel the order's open lines they hold."""
    order = Order.objects.select_related("customer").filter(pk=order_id).first()
    if order is None:
        return
    held = list(OrderLine.objects.filter(order=order).exclude(status__in=CLOSED_LINE_STATUSES)
                .exclude(remote_line_id__isnull=True)
                .filter(fulfiller_type__in=[FulfillerType.OMS, FulfillerType.PRINTOPS]))
    by_fulfiller = {}
    for line in held:
        by_fulfiller.setdefault((line.fulfiller_type, line.fulfiller_integration_id,
                                 line.remote_order_id), []).append(line)
    for (kind, integration_id, remote_order_id), lines in by_fulfiller.items():
        if kind == FulfillerType.PRINTOPS:
            cancel_at_printops(order, lines, remote_order_id)
        else:
            cancel_at_oms(order, lines, integration_id, remote_order_id)


def cancel_at_printops(order, lines, remote_order_id):
    integration = order.customer.storefront.typed()
    store_id = (order.customer.storefront_options or {}).get("store_id")
    try:
        PrintOpsClient.for_integration(integration).cancel_order(store_id, remote_order_id)
    except PrintOpsError as exc:
        record_event(order, EventKind.CANCEL_REFUSED,
                     f"PrintOps did not cancel order {remote_order_id}: {exc.message}")
        return
    with transaction.atomic():
        cancel_lines(order, lines, f"cancelled by PrintOps (order {remote_order_id})")


def cancel_at_oms(order, lines, integration_id, remote_order_id):
    """Delete the OMS order, or PUT it without these lines when other lines stay in it."""
    from orders.routing import ItemProblem, OMSRouting

    routing = OMSRouting(order, integration_id, final=True)
    cancelled = {line.pk for line in lines}
    staying = [line for line in routing.lines()
               if line.remote_line_id and line.pk not in cancelled
               and line.status != LineStatus.CANCELLED]
    name = routing.integration.name
    try:
        if staying:
            body = routing.order_body([routing.item(line) for line in staying], update=True)
            routing.client.update_order(remote_order_id, body)
            done = f"removed from {name} order {remote_order_id}"
        else:
            routing.client.delete_order(remote_order_id)
            RemoteOrder.objects.filter(order=order, integration_id=integration_id).update(
                deleted_at=timezone.now())
            done = f"cancelled: {name} order {remote_order_id} deleted"
    except (OMSError, ItemProblem) as exc:
        reason = exc.message
        record_event(order, EventKind.CANCEL_REFUSED,
                     f"{name} did not cancel order {remote_order_id}: {reason}")
        return
    with transaction.atomic():
        cancel_lines(order, lines, done)


def follow_source_states(orders):
    """PrintOps orders whose state became `canceled`: their open lines are cancelled."""
    for order in orders:
        if order.source != OrderSource.PRINTOPS or \
                (order.source_status or "").lower() != PRINTOPS_CANCELED:
            continue
        with transaction.atomic():
            lines = list(OrderLine.objects.select_for_update().filter(order=order)
                         .exclude(status__in=CLOSED_LINE_STATUSES))
            cancel_lines(order, lines, "cancelled: PrintOps cancelled the order")


# -- print files -----------------------------------------------------------------------


def poll_print_files(limit=PRINT_POLL_BATCH):
    """Ask the OMS about the print files that are due; the number of lines asked about."""
    now = timezone.now()
    due = list(
        OrderLine.objects.filter(fulfiller_type=FulfillerType.OMS,
                                 status=LineStatus.IN_PRODUCTION,
                                 next_print_poll_at__lte=now)
        .select_related("fulfiller_integration", "order").order_by("next_print_poll_at")[:limit]
    )
    clients = {}
    for line in due:
        integration_id = line.fulfiller_integration_id
        if integration_id not in clients:
            clients[integration_id] = OMSClient(line.fulfiller_integration.typed())
        poll_print_file(clients[integration_id], line)
    return len(due)


def poll_print_file(client, line):
    try:
        found = client.print_file(line.pk)
    except OMSError as exc:
        logger.info("Print file of line %s not read: %s", line.pk, exc.message)
        return wait_longer(line, line.print_file_status)
    if found is None:
        return wait_longer(line, line.print_file_status)
    now = timezone.now()
    with transaction.atomic():
        current = OrderLine.objects.select_for_update().filter(
            pk=line.pk, status=LineStatus.IN_PRODUCTION).first()
        if current is None:
            return  # it left production meanwhile: nothing to do
        if found.status == oms.PRINT_READY:
            OrderLine.objects.filter(pk=line.pk).update(
                status=LineStatus.READY, print_file_status=found.status,
                print_file_url=found.url, next_print_poll_at=None, updated_at=now)
            record_event(line.order, EventKind.STATUS_CHANGED,
                         f"Line {line.source_line_id}: print file ready")
        elif found.status == oms.PRINT_FAILED:
            OrderLine.objects.filter(pk=line.pk).update(
                status=LineStatus.FAILED, print_file_status=found.status,
                error="The OMS could not make the print file (processingfailed); fix the "
                      "artwork in the OMS or route the line again.",
                next_print_poll_at=None, updated_at=now)
            record_event(line.order, EventKind.ROUTE_FAILED,
                         f"Line {line.source_line_id}: the OMS could not make the print file")
        else:
            return wait_longer(line, found.status)
        Order.refresh_statuses([line.order])
        from orders.storefront import order_changed

        order_changed([line.order_id])


def wait_longer(line, status):
    polls = line.print_polls + 1
    wait = min(PRINT_POLL_FIRST * 2 ** min(polls, 10), PRINT_POLL_LONGEST)
    OrderLine.objects.filter(pk=line.pk, status=LineStatus.IN_PRODUCTION).update(
        print_polls=polls, print_file_status=status,
        next_print_poll_at=timezone.now() + wait)


# -- batch orders ----------------------------------------------------------------------


def send_to_batch(lines, print_templates):
    """Send ready OMS lines to the OMS's batch orders, one batch per OMS; messages."""
    messages = []
    groups = {}
    for line in lines.select_related("fulfiller_integration", "order"):
        if line.fulfiller_type != FulfillerType.OMS or line.status != LineStatus.READY:
            messages.append(f"Line {line.source_line_id} left out: only ready OMS lines "
                            "are batched")
            continue
        groups.setdefault(line.fulfiller_integration_id, []).append(line)
    for group in groups.values():
        integration = group[0].fulfiller_integration.typed()
        try:
            batch = OMSClient(integration).create_batch_order(
                [line.remote_line_id for line in group], print_templates)
        except OMSError as exc:
            messages.append(f"{integration.name} refused the batch: {exc.message}")
            continue
        for order in {line.order_id: line.order for line in group}.values():
            OrderEvent.objects.create(
                order=order, kind=EventKind.UPDATED,
                message=f"Sent to {integration.name} batch {batch['uid']} "
                        f"({batch.get('status') or 'no status'})")
        messages.append(f"{len(group)} line{pluralize(len(group))} sent to "
                        f"{integration.name} batch {batch['uid']}")
    return messages

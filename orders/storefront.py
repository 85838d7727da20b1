"""Status and tracking back to the storefront, and the customer's order webhooks.

Everything the outside must be told is first written as a StorefrontUpdate row (an
outbox), in the transaction that made the change, then delivered by a worker:

- OnPrintShop orders: each line's status (`updateOrderStatus` type `product`) and the
  order's (type `order`) as the customer's status map names them (StatusMapping: a hub
  state without a title is not sent); each shipment with `setShipment` (its id kept on
  the shipment), then the carrier and tracking number with `updateOrderStatus`.
  `reconcile` compares what should be shown with what was last queued, so a status is
  queued once however often it is looked at; one shipment is one row (a unique
  constraint), so it is never reported twice. A `setShipment` whose answer was lost is
  not sent again (OPS has no read of shipments to look in): it is `uncertain`, and the
  admin says so.
- Customers with an `order_webhook_url`: one signed POST per change of the order's
  status, with the order as it was at that change.

A delivery that fails is retried with backoff for at most a day; each failure is an
event (`storefront_update_failed`, `webhook_failed`), and the admin lists the orders
whose storefront is not up to date.
"""

import hashlib
import hmac
import json
import logging
import random
from datetime import timedelta

import requests
from django.db import transaction
from django.db.models import Q
from django.dispatch import receiver
from django.utils import timezone

from hub.outbound import OutboundBlocked, guarded_session
from integrations.models import IntegrationType
from integrations.ops.client import OPSClient, OPSError
from orders.models import (
    EventKind,
    LineStatus,
    Order,
    OrderEvent,
    OrderLine,
    OrderPull,
    OrderSource,
    OrderStatus,
    Shipment,
    StatusMapping,
    StatusScope,
    StorefrontUpdate,
    UpdateChannel,
    UpdateKind,
    UpdateState,
    status_changed,
)

logger = logging.getLogger(__name__)

GIVE_UP_AFTER = timedelta(days=1)
FIRST_RETRY = timedelta(seconds=30)
LONGEST_RETRY = timedelta(hours=4)
CLAIM_FOR = timedelta(minutes=5)
WEBHOOK_EVENTS = {OrderStatus.SHIPPED: "order.shipped", OrderStatus.CANCELLED: "order.cancelled"}
DEFAULT_WEBHOOK_EVENT = "order.status_changed"

# Storefront titles that most likely mean a hub state, best first (matched ignoring case).
LINE_TITLES = {
    LineStatus.RECEIVED: ["Pending", "Received"],
    LineStatus.ROUTED: ["In Production", "Printing", "Processing"],
    LineStatus.IN_PRODUCTION: ["In Production", "Printing", "Processing"],
    LineStatus.READY: ["Ready", "Ready to Ship", "Ready for Dispatch"],
    LineStatus.SHIPPED: ["Shipped", "Dispatched", "Completed"],
    LineStatus.UNMATCHED: ["Needs Attention", "On Hold"],
    LineStatus.FAILED: ["Needs Attention", "On Hold"],
    LineStatus.CANCELLED: ["Cancelled", "Canceled"],
}
ORDER_TITLES = {
    OrderStatus.RECEIVED: ["Pending", "Received"],
    OrderStatus.NEEDS_ATTENTION: ["Needs Attention", "On Hold"],
    OrderStatus.IN_PRODUCTION: ["In Production", "Processing"],
    OrderStatus.PARTIALLY_SHIPPED: ["Partially Shipped", "In Production"],
    OrderStatus.SHIPPED: ["Shipped", "Completed"],
    OrderStatus.CANCELLED: ["Cancelled", "Canceled"],
}
SCOPES = {StatusScope.LINE: (LINE_TITLES, "Product"), StatusScope.ORDER: (ORDER_TITLES, "Order")}


# -- the status map --------------------------------------------------------------------


def default_titles(storefront_statuses):
    """{(scope, hub state): title} matching the storefront's own titles; "" when none does.

    storefront_statuses: [{"title", "type"}] as the order pull keeps them.
    """
    by_type = {}
    for row in storefront_statuses or []:
        title = (row.get("title") or "").strip()
        if title:
            by_type.setdefault(row.get("type"), {}).setdefault(title.lower(), title)
    mapping = {}
    for scope, (candidates, status_type) in SCOPES.items():
        titles = by_type.get(status_type, {})
        for state, names in candidates.items():
            mapping[(scope, state)] = next(
                (titles[name.lower()] for name in names if name.lower() in titles), "")
    return mapping


def storefront_statuses(customer):
    """The customer's OnPrintShop status list: as the last pull read it, else asked now."""
    pull = OrderPull.objects.filter(customer=customer).first()
    if pull and pull.storefront_statuses:
        return pull.storefront_statuses
    return [{"title": row.get("process_status_title"), "type": row.get("status_type")}
            for row in OPSClient(customer.storefront.typed()).order_statuses()]


def status_map(customer):
    """{(scope, hub state): title} of a customer, made from the defaults the first time."""
    rows = StatusMapping.objects.filter(customer=customer)
    mapping = {(row.scope, row.hub_status): row.storefront_title for row in rows}
    if mapping:
        return mapping
    return fill_default_map(customer)


def fill_default_map(customer, *, replace=False):
    """Create the customer's status map from its storefront's titles; the map."""
    mapping = default_titles(storefront_statuses(customer))
    with transaction.atomic():
        if replace:
            StatusMapping.objects.filter(customer=customer).delete()
        StatusMapping.objects.bulk_create([
            StatusMapping(customer=customer, scope=scope, hub_status=state,
                          storefront_title=title)
            for (scope, state), title in mapping.items()
        ], ignore_conflicts=True)
    return {(row.scope, row.hub_status): row.storefront_title
            for row in StatusMapping.objects.filter(customer=customer)}


def tells_storefront(order):
    storefront = order.customer.storefront
    return order.source == OrderSource.OPS and storefront is not None and \
        storefront.integration_type == IntegrationType.OPS


# -- queueing (in the caller's transaction) --------------------------------------------


def order_changed(order_ids):
    """Queue what the storefronts of these orders must now be told; deliver on commit."""
    orders = list(Order.objects.filter(pk__in=order_ids).select_related("customer__storefront"))
    queued = []
    for order in orders:
        if tells_storefront(order) and reconcile(order):
            queued.append(order.pk)
    queue_delivery(queued)


def shipments_recorded(order_ids):
    """Queue each shipment of these orders that their OnPrintShop storefront was not told."""
    orders = [order for order in Order.objects.filter(pk__in=order_ids)
              .select_related("customer__storefront") if tells_storefront(order)]
    if not orders:
        return
    shipments = Shipment.objects.filter(order__in=orders).exclude(
        storefront_updates__kind=UpdateKind.SHIPMENT).prefetch_related("lines__line")
    StorefrontUpdate.objects.bulk_create([
        StorefrontUpdate(
            order_id=shipment.order_id, shipment=shipment, channel=UpdateChannel.OPS,
            kind=UpdateKind.SHIPMENT, title=shipment.tracking_number,
            payload={"carrier": shipment.carrier, "tracking_number": shipment.tracking_number,
                     "lines": [[row.line.source_line_id, row.quantity]
                               for row in shipment.lines.all()]},
        )
        for shipment in shipments
    ], ignore_conflicts=True)
    order_changed([order.pk for order in orders])


def reconcile(order):
    """Queue a status update for the order and each line whose title changed; True if any."""
    mapping = status_map(order.customer)
    last = {}
    for line_id, kind, title in (
        StorefrontUpdate.objects.filter(order=order, channel=UpdateChannel.OPS,
                                        kind__in=[UpdateKind.LINE_STATUS, UpdateKind.ORDER_STATUS])
        .exclude(state=UpdateState.SUPERSEDED).order_by("created_at", "id")
        .values_list("line_id", "kind", "title")
    ):
        last[(kind, line_id)] = title
    new = []
    targets = [(UpdateKind.ORDER_STATUS, None, StatusScope.ORDER, order.status,
                order.source_status)]
    targets += [(UpdateKind.LINE_STATUS, line.pk, StatusScope.LINE, line.status,
                 line.source_status) for line in OrderLine.objects.filter(order=order)]
    for kind, line_id, scope, state, shown in targets:
        title = mapping.get((scope, state)) or ""
        previous = last.get((kind, line_id))
        # What the storefront already shows (as pulled) is not sent again.
        if not title or title == (previous if previous is not None else shown):
            continue
        new.append(StorefrontUpdate(order=order, line_id=line_id, channel=UpdateChannel.OPS,
                                    kind=kind, title=title, payload={"hub_status": state}))
    StorefrontUpdate.objects.bulk_create(new)
    return bool(new) or StorefrontUpdate.objects.filter(
        order=order, state=UpdateState.PENDING).exists()


@receiver(status_changed)
def order_status_changed(sender, order, old, new, **kwargs):
    """Whoever changed the order's status, its storefront and webhook hear of it."""
    order_changed([order.pk])
    queue_webhook(order, new)


def queue_webhook(order, new):
    """One signed delivery per change of an order's status, with the order as it is now."""
    customer = order.customer
    if not customer.order_webhook_url:
        return
    from orders.api.views import order_body

    body = dict(order_body(order.pk))
    for private in ("buyer", "shipping_address", "billing_address"):
        body.pop(private, None)
    event = WEBHOOK_EVENTS.get(new, DEFAULT_WEBHOOK_EVENT)
    StorefrontUpdate.objects.create(
        order=order, channel=UpdateChannel.WEBHOOK, kind=UpdateKind.WEBHOOK, title=event,
        payload={"event": event, "order": json.loads(json.dumps(body, default=str))},
    )
    queue_delivery([order.pk])


def queue_delivery(order_ids):
    if not order_ids:
        return
    from orders.tasks import deliver_updates_task

    ids = [str(order_id) for order_id in order_ids]
    transaction.on_commit(lambda: [deliver_updates_task.delay(order_id) for order_id in ids])


# -- delivery (on a worker) ------------------------------------------------------------


def deliver_due():
    """Deliver every update that is due (beat's sweep); the number of orders it touched."""
    order_ids = list(
        StorefrontUpdate.objects.filter(state=UpdateState.PENDING,
                                        next_attempt_at__lte=timezone.now())
        .filter(Q(claimed_until__isnull=True) | Q(claimed_until__lt=timezone.now()))
        .values_list("order_id", flat=True).distinct()[:500]
    )
    for order_id in order_ids:
        deliver(order_id)
    return len(order_ids)


def deliver(order_id):
    """Deliver the order's due updates, oldest first."""
    due = list(StorefrontUpdate.objects.filter(
        order_id=order_id, state=UpdateState.PENDING, next_attempt_at__lte=timezone.now(),
    ).select_related("order__customer__storefront", "line", "shipment").order_by("created_at",
                                                                                 "id"))
    for update in due:
        if claim(update):
            try:
                Delivery(update).run()
            finally:
                StorefrontUpdate.objects.filter(pk=update.pk).update(claimed_until=None)


def claim(update):
    """Take the update for this worker (a conditional UPDATE: one of two workers wins)."""
    now = timezone.now()
    return bool(StorefrontUpdate.objects.filter(pk=update.pk, state=UpdateState.PENDING).filter(
        Q(claimed_until__isnull=True) | Q(claimed_until__lt=now)
    ).update(claimed_until=now + CLAIM_FOR))


class DeliveryFailed(Exception):
    def __init__(self, message, *, retryable=True, uncertain=False):
        super().__init__(message)
        self.message = message
        self.retryable = retryable
        self.uncertain = uncertain


class Delivery:
    def __init__(self, update):
        self.update = update
        self.order = update.order

    def run(self):
        update = self.update
        if self.superseded():
            StorefrontUpdate.objects.filter(pk=update.pk).update(state=UpdateState.SUPERSEDED)
            return
        update.attempts += 1
        try:
            message = self.send()
        except DeliveryFailed as exc:
            return self.failed(exc)
        now = timezone.now()
        StorefrontUpdate.objects.filter(pk=update.pk).update(
            state=UpdateState.SENT, sent_at=now, attempts=update.attempts, last_error=None)
        kind = EventKind.WEBHOOK_SENT if update.channel == UpdateChannel.WEBHOOK \
            else EventKind.STOREFRONT_UPDATED
        OrderEvent.objects.create(order=self.order, kind=kind, message=message, at=now)

    def superseded(self):
        """A newer status of the same order or line waits: only the newest is sent."""
        update = self.update
        if update.kind not in (UpdateKind.LINE_STATUS, UpdateKind.ORDER_STATUS):
            return False
        return StorefrontUpdate.objects.filter(
            order=self.order, kind=update.kind, line_id=update.line_id,
            channel=update.channel, state=UpdateState.PENDING,
            created_at__gt=update.created_at,
        ).exists()

    def failed(self, exc):
        update, now = self.update, timezone.now()
        wait = min(FIRST_RETRY * 2 ** (update.attempts - 1), LONGEST_RETRY)
        wait += timedelta(seconds=random.random() * 5)
        gives_up = not exc.retryable or now + wait - update.created_at > GIVE_UP_AFTER
        state = UpdateState.UNCERTAIN if exc.uncertain else \
            UpdateState.FAILED if gives_up else UpdateState.PENDING
        StorefrontUpdate.objects.filter(pk=update.pk).update(
            state=state, attempts=update.attempts, last_error=exc.message,
            next_attempt_at=now + wait)
        what = "gave up" if state == UpdateState.FAILED else \
            "not sent again: check the storefront, then resend or mark it sent in the admin" \
            if state == UpdateState.UNCERTAIN else f"retry in {int(wait.total_seconds())}s"
        kind = EventKind.WEBHOOK_FAILED if update.channel == UpdateChannel.WEBHOOK \
            else EventKind.STOREFRONT_UPDATE_FAILED
        OrderEvent.objects.create(
            order=self.order, kind=kind, at=now,
            message=f"{update.get_kind_display()} {update.title} (attempt {update.attempts}): "
                    f"{exc.message}; {what}")

    # -- sending -------------------------------------------------------------------------

    def send(self):
        if self.update.channel == UpdateChannel.WEBHOOK:
            return self.send_webhook()
        client = OPSClient(self.order.customer.storefront.typed())
        try:
            if self.update.kind == UpdateKind.SHIPMENT:
                return self.send_shipment(client)
            return self.send_status(client)
        except OPSError as exc:
            # Even a refusal may heal (staff fix a title, the storefront comes back):
            # every failure is tried again, for at most a day.
            raise DeliveryFailed(exc.message) from None

    def send_status(self, client):
        update, order = self.update, self.order
        notify = order.customer.notify_buyer
        if update.kind == UpdateKind.ORDER_STATUS:
            client.update_order_status(orders_id=order.source_order_id, status=update.title,
                                       notify=notify)
            return f"Storefront order status set to {update.title}"
        line = update.line
        client.update_order_status(orders_products_id=line.source_line_id, status=update.title,
                                   notify=notify)
        return f"Storefront status of line {line.source_line_id} set to {update.title}"

    def send_shipment(self, client):
        update, order, shipment = self.update, self.order, self.update.shipment
        payload = update.payload
        if not shipment.storefront_shipment_id:
            try:
                shipment_id = client.set_shipment(
                    order_id=order.source_order_id, tracking_number=payload["tracking_number"],
                    packages=[{"tracking": payload["tracking_number"],
                               "lines": [tuple(row) for row in payload["lines"]]}])
            except OPSError as exc:
                raise DeliveryFailed(exc.message, uncertain=exc.may_have_acted) from None
            # Kept the moment it returns: the shipment is never recorded there again.
            Shipment.objects.filter(pk=shipment.pk).update(
                storefront_shipment_id=str(shipment_id))
            shipment.storefront_shipment_id = str(shipment_id)
        client.update_order_status(
            orders_id=order.source_order_id, courier=payload.get("carrier") or None,
            tracking_number=payload["tracking_number"], notify=order.customer.notify_buyer)
        Shipment.objects.filter(pk=shipment.pk).update(reported_to_storefront_at=timezone.now())
        return (f"Storefront shipment {shipment.storefront_shipment_id} recorded with "
                f"{payload.get('carrier') or 'carrier unknown'} {payload['tracking_number']}")

    def send_webhook(self):
        update, customer = self.update, self.order.customer
        url = customer.order_webhook_url
        if not url:
            raise DeliveryFailed("The customer has no order webhook URL any more",
                                 retryable=False)
        raw = json.dumps(update.payload, separators=(",", ":"), sort_keys=True).encode()
        secret = (customer.order_webhook_secret or "").encode()
        headers = {
            "Content-Type": "application/json",
            "X-Hub-Signature-256": "sha256=" + hmac.new(secret, raw, hashlib.sha256).hexdigest(),
            "X-Hub-Delivery": str(update.pk),
        }
        try:
            response = guarded_session(retries=0).post(url, data=raw, headers=headers)
        except OutboundBlocked as exc:
            raise DeliveryFailed(f"refused: {exc}", retryable=False) from None
        except requests.RequestException as exc:
            raise DeliveryFailed(f"no answer ({exc.__class__.__name__})") from None
        if not 200 <= response.status_code < 300:
            raise DeliveryFailed(f"answered {response.status_code}")
        return f"Webhook {update.title} delivered (answered {response.status_code})"


def resend(updates):
    """Staff: send failed or uncertain updates again; the number queued."""
    ids = list(updates.filter(state__in=[UpdateState.FAILED, UpdateState.UNCERTAIN])
               .values_list("pk", "order_id"))
    StorefrontUpdate.objects.filter(pk__in=[pk for pk, _ in ids]).update(
        state=UpdateState.PENDING, next_attempt_at=timezone.now(), claimed_until=None)
    queue_delivery({order_id for _, order_id in ids})
    return len(ids)


def mark_sent(updates):
    """Staff: the storefront shows it already (checked by hand); the number marked."""
    now = timezone.now()
    shipments = list(updates.filter(state__in=[UpdateState.FAILED, UpdateState.UNCERTAIN],
                                    shipment__isnull=False).values_list("shipment_id",
                                                                        flat=True))
    Shipment.objects.filter(pk__in=shipments, reported_to_storefront_at__isnull=True).update(
        reported_to_storefront_at=now)
    return updates.filter(state__in=[UpdateState.FAILED, UpdateState.UNCERTAIN]).update(
        state=UpdateState.SENT, sent_at=now)

"""Orders the customers' buyers place on their storefronts, as the hub keeps them.

An order comes from an OnPrintShop storefront or a PrintOps store (pulled), or from any
other system (`POST /api/orders`). It is stored once per (customer, source, source id);
its lines are resolved to catalog products, then routed to whoever produces them (the
`fulfiller` of a line). The order's `status` is never set by hand: `refresh_status()`
derives it from the lines, in this one place, and records the change as an event.

Buyer data (the buyer fields and the addresses) is for staff only: never log it.
"""

import uuid

from django.db import models, transaction
from django.db.models import Exists, OuterRef, Q
from django.dispatch import Signal
from django.utils import timezone

from integrations.models import SyncStatus as PullStatus

# Sent after an order's status changed (in the transaction that changed it):
# sender=Order, order=<Order>, old=<status>, new=<status>.
status_changed = Signal()


class OrderSource(models.TextChoices):
    OPS = "ops", "OnPrintShop"
    PRINTOPS = "printops", "PrintOps"
    API = "api", "API"


class OrderStatus(models.TextChoices):
    RECEIVED = "received", "Received"
    NEEDS_ATTENTION = "needs_attention", "Needs attention"
    IN_PRODUCTION = "in_production", "In production"
    PARTIALLY_SHIPPED = "partially_shipped", "Partially shipped"
    SHIPPED = "shipped", "Shipped"
    CANCELLED = "cancelled", "Cancelled"


class LineStatus(models.TextChoices):
    RECEIVED = "received", "Received"
    ROUTED = "routed", "Routed"
    IN_PRODUCTION = "in_production", "In production"
    READY = "ready", "Ready"
    SHIPPED = "shipped", "Shipped"
    UNMATCHED = "unmatched", "Unmatched"
    FAILED = "failed", "Failed"
    CANCELLED = "cancelled", "Cancelled"


# Lines staff must act on: the order needs attention while one is open.
ATTENTION_LINE_STATUSES = (LineStatus.UNMATCHED, LineStatus.FAILED)
# Lines a fulfiller holds (or has finished).
WITH_FULFILLER_LINE_STATUSES = (
    LineStatus.ROUTED, LineStatus.IN_PRODUCTION, LineStatus.READY, LineStatus.SHIPPED,
)
# Lines that resolution may (re)consider: no fulfiller has them yet.
UNROUTED_LINE_STATUSES = (LineStatus.RECEIVED, LineStatus.UNMATCHED)


class FulfillerType(models.TextChoices):
    OMS = "oms", "Order management system"
    PRINTOPS = "printops", "PrintOps"
    MANUAL = "manual", "Manual (staff)"


class ShipmentSource(models.TextChoices):
    PRINTOPS = "printops", "PrintOps"
    OMS = "oms", "OMS"
    MANUAL = "manual", "Manual (recorded by staff)"


class EventKind(models.TextChoices):
    RECEIVED = "received", "Received"
    UPDATED = "updated", "Updated"
    RESOLVED = "resolved", "Lines resolved"
    UNMATCHED = "unmatched", "Lines unmatched"
    MALFORMED = "malformed", "Malformed data"
    ROUTED = "routed", "Routed"
    ROUTE_FAILED = "route_failed", "Routing failed"
    STATUS_CHANGED = "status_changed", "Status changed"
    SHIPPED = "shipped", "Shipped"
    STOREFRONT_UPDATED = "storefront_updated", "Storefront updated"
    STOREFRONT_UPDATE_FAILED = "storefront_update_failed", "Storefront update failed"
    CANCEL_REQUESTED = "cancel_requested", "Cancel requested"
    CANCELLED = "cancelled", "Cancelled"
    CANCEL_REFUSED = "cancel_refused", "Cancel refused"
    WEBHOOK_SENT = "webhook_sent", "Webhook sent"
    WEBHOOK_FAILED = "webhook_failed", "Webhook failed"


def money_field(**kwargs):
    return models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True, **kwargs)


class OrderQuerySet(models.QuerySet):
    def needing_attention(self):
        return self.filter(status=OrderStatus.NEEDS_ATTENTION)

    def storefront_not_updated(self):
        """Orders with an update for their storefront (or webhook) that was tried and is
        still not delivered: being retried, given up, or uncertain. One waiting for its
        first try is not counted: nothing has gone wrong yet."""
        stuck = StorefrontUpdate.objects.filter(
            order=OuterRef("pk"), state__in=OPEN_UPDATE_STATES,
        ).exclude(state=UpdateState.PENDING, attempts=0)
        return self.filter(Exists(stuck))


class Order(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    customer = models.ForeignKey(
        "pushes.Customer", on_delete=models.PROTECT, related_name="orders"
    )
    source = models.CharField(max_length=16, choices=OrderSource.choices)
    source_order_id = models.CharField(max_length=128)
    order_number = models.CharField(max_length=128, blank=True, default="")
    status = models.CharField(
        max_length=20, choices=OrderStatus.choices, default=OrderStatus.RECEIVED,
        editable=False,
    )
    # The order's status as the storefront names it ("Pending", "payment_pending").
    source_status = models.CharField(max_length=128, blank=True, default="")
    placed_at = models.DateTimeField(null=True, blank=True)
    received_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    currency = models.CharField(max_length=3, default="USD")
    subtotal = money_field()
    shipping = money_field()
    tax = money_field()
    total = money_field()

    # Personal data: staff only, never in logs.
    buyer_name = models.CharField(max_length=255, blank=True, default="")
    buyer_email = models.CharField(max_length=255, blank=True, default="")
    buyer_phone = models.CharField(max_length=64, blank=True, default="")
    buyer_company = models.CharField(max_length=255, blank=True, default="")

    # When the source last changed the order, as it says (OnPrintShop's last-modified).
    source_modified_at = models.DateTimeField(null=True, blank=True, editable=False)
    # Hash of the order as last read from its source: equal means nothing to write.
    source_hash = models.CharField(max_length=64, blank=True, default="", editable=False)

    objects = OrderQuerySet.as_manager()

    class Meta:
        ordering = ["-placed_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["customer", "source", "source_order_id"], name="order_once_per_source"
            ),
        ]
        indexes = [
            models.Index(fields=["-placed_at", "id"], name="order_newest"),
            models.Index(fields=["status", "-placed_at"], name="order_status_newest"),
            models.Index(fields=["customer", "-placed_at"], name="order_customer_newest"),
        ]

    def __str__(self):
        return f"{self.get_source_display()} order {self.order_number or self.source_order_id}"

    # -- status: derived from the lines, here and nowhere else --------------------------

    @staticmethod
    def derive_status(line_statuses, any_shipped_quantity=False):
        """The order status that lines in these states make (see hub-orders-api.md)."""
        open_statuses = [s for s in line_statuses if s != LineStatus.CANCELLED]
        if not line_statuses:
            return OrderStatus.RECEIVED
        if not open_statuses:
            return OrderStatus.CANCELLED
        if any(s in ATTENTION_LINE_STATUSES for s in open_statuses):
            return OrderStatus.NEEDS_ATTENTION
        if all(s == LineStatus.SHIPPED for s in open_statuses):
            return OrderStatus.SHIPPED
        if any_shipped_quantity or LineStatus.SHIPPED in open_statuses:
            return OrderStatus.PARTIALLY_SHIPPED
        if all(s in WITH_FULFILLER_LINE_STATUSES for s in open_statuses):
            return OrderStatus.IN_PRODUCTION
        return OrderStatus.RECEIVED

    def refresh_status(self):
        """Derive the status from the lines; store it and record an event when it changed.

        Returns True when the status changed.
        """
        return bool(Order.refresh_statuses([self]))

    @staticmethod
    def refresh_statuses(orders):
        """refresh_status() for many orders in a fixed number of queries; the changed ones.

        Takes the orders' row locks (in id order), so two workers changing lines of one
        order derive its status one after the other.
        """
        by_id = {order.pk: order for order in orders}
        if not by_id:
            return []
        changed = []
        with transaction.atomic():
            current = dict(
                Order.objects.select_for_update().filter(pk__in=by_id).order_by("pk")
                .values_list("pk", "status")
            )
            statuses = {pk: [] for pk in by_id}
            for order_id, status in OrderLine.objects.filter(order_id__in=by_id).values_list(
                "order_id", "status"
            ):
                statuses[order_id].append(status)
            shipped = set(
                ShipmentLine.objects.filter(line__order_id__in=by_id, quantity__gt=0)
                .values_list("line__order_id", flat=True).distinct()
            )
            groups = {}
            for pk, order in by_id.items():
                if pk not in current:
                    continue
                new = Order.derive_status(statuses[pk], pk in shipped)
                order.status = new
                if new != current[pk]:
                    changed.append((order, current[pk], new))
                    groups.setdefault(new, []).append(pk)
            if not changed:
                return []
            now = timezone.now()
            for status, ids in groups.items():
                Order.objects.filter(pk__in=ids).update(status=status, updated_at=now)
            OrderEvent.objects.bulk_create([
                OrderEvent(order=order, kind=EventKind.STATUS_CHANGED, at=now,
                           message=f"{OrderStatus(old).label} → {OrderStatus(new).label}")
                for order, old, new in changed
            ])
            for order, old, new in changed:
                order.updated_at = now
                status_changed.send(sender=Order, order=order, old=old, new=new)
        return [order for order, _, _ in changed]


class AddressKind(models.TextChoices):
    SHIPPING = "shipping", "Shipping"
    BILLING = "billing", "Billing"


class OrderAddress(models.Model):
    """Where an order ships to (or is billed to). Personal data: staff only."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="addresses")
    kind = models.CharField(max_length=16, choices=AddressKind.choices,
                            default=AddressKind.SHIPPING)
    name = models.CharField(max_length=255, blank=True, default="")
    company = models.CharField(max_length=255, blank=True, default="")
    address_1 = models.CharField(max_length=255, blank=True, default="")
    address_2 = models.CharField(max_length=255, blank=True, default="")
    city = models.CharField(max_length=128, blank=True, default="")
    state = models.CharField(max_length=128, blank=True, default="")
    postal_code = models.CharField(max_length=32, blank=True, default="")
    country_code = models.CharField(max_length=8, blank=True, default="")
    phone = models.CharField(max_length=64, blank=True, default="")

    class Meta:
        verbose_name_plural = "order addresses"
        constraints = [
            models.UniqueConstraint(fields=["order", "kind"], name="order_address_once"),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} address"


class OrderLine(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="lines")
    source_line_id = models.CharField(max_length=128)
    sku = models.CharField(max_length=255, blank=True, default="")
    name = models.CharField(max_length=500, blank=True, default="")
    size = models.CharField(max_length=255, blank=True, default="")
    quantity = models.PositiveIntegerField(default=1)
    unit_price = money_field()
    # What the source says the line is, as resolution reads it: the storefront's product
    # id (OnPrintShop product_id, PrintOps user product id) and its size title.
    source_product_id = models.CharField(max_length=64, blank=True, default="")
    # The line's status as the storefront names it ("In Production").
    source_status = models.CharField(max_length=128, blank=True, default="")
    artwork = models.JSONField(default=list, blank=True)

    # The catalog product it was resolved to (a variant or a print size of it).
    product = models.ForeignKey(
        "catalog.Product", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    variant = models.ForeignKey(
        "catalog.Variant", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    print_size = models.ForeignKey(
        "catalog.PrintSize", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    status = models.CharField(max_length=16, choices=LineStatus.choices,
                              default=LineStatus.RECEIVED)
    # Why the line is unmatched or failed, in words staff can act on.
    error = models.TextField(null=True, blank=True)

    # The fulfiller slot: who produces the line, and its ids there. Empty while unrouted.
    fulfiller_type = models.CharField(max_length=16, choices=FulfillerType.choices,
                                      null=True, blank=True)
    fulfiller_integration = models.ForeignKey(
        "integrations.Integration", null=True, blank=True, on_delete=models.PROTECT,
        related_name="fulfilled_order_lines",
    )
    remote_order_id = models.CharField(max_length=128, null=True, blank=True)
    remote_line_id = models.CharField(max_length=128, null=True, blank=True)
    print_file_status = models.CharField(max_length=64, null=True, blank=True)
    print_file_url = models.URLField(max_length=2000, null=True, blank=True)
    # When beat next asks the OMS for the line's print file (None: not polled), and how
    # many times it asked: the wait grows with each answer that is not final.
    next_print_poll_at = models.DateTimeField(null=True, blank=True, editable=False)
    print_polls = models.PositiveIntegerField(default=0, editable=False)

    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["order", "created_at", "source_line_id"]
        constraints = [
            models.UniqueConstraint(fields=["order", "source_line_id"], name="order_line_once"),
            models.CheckConstraint(name="order_line_quantity_positive",
                                   condition=Q(quantity__gte=1)),
        ]
        indexes = [models.Index(fields=["status"], name="order_line_status")]

    def __str__(self):
        return f"{self.quantity} × {self.sku or self.name or self.source_line_id}"

    @property
    def has_fulfiller(self):
        return bool(self.fulfiller_type)


class Shipment(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="shipments")
    source = models.CharField(max_length=16, choices=ShipmentSource.choices)
    # The shipment's id where it was recorded (PrintOps, the OMS); empty for manual ones.
    source_shipment_id = models.CharField(max_length=128, null=True, blank=True)
    carrier = models.CharField(max_length=128, blank=True, default="")
    tracking_number = models.CharField(max_length=255, blank=True, default="")
    tracking_url = models.URLField(max_length=2000, null=True, blank=True)
    shipped_at = models.DateTimeField(null=True, blank=True)
    # When the customer's storefront was told of it (None: not yet).
    reported_to_storefront_at = models.DateTimeField(null=True, blank=True)
    # The shipment's id in the customer's storefront (OnPrintShop setShipment's answer).
    storefront_shipment_id = models.CharField(max_length=64, null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["order", "shipped_at", "created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["order", "source", "source_shipment_id"], name="shipment_once",
                condition=Q(source_shipment_id__isnull=False),
            ),
        ]

    def __str__(self):
        return f"{self.carrier} {self.tracking_number}".strip() or "Shipment"


class ShipmentLine(models.Model):
    shipment = models.ForeignKey(Shipment, on_delete=models.CASCADE, related_name="lines")
    line = models.ForeignKey(OrderLine, on_delete=models.CASCADE, related_name="shipment_lines")
    quantity = models.PositiveIntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["shipment", "line"], name="shipment_line_once"),
        ]

    def __str__(self):
        return f"{self.quantity} of {self.line_id}"


class OrderEvent(models.Model):
    """One thing that happened to an order. Append-only: events are never changed."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="events")
    at = models.DateTimeField(default=timezone.now, db_index=True)
    kind = models.CharField(max_length=32, choices=EventKind.choices)
    message = models.TextField(blank=True, default="")

    class Meta:
        ordering = ["at", "id"]

    def __str__(self):
        return f"{self.kind}: {self.message}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise ValueError("Order events are append-only")
        super().save(*args, **kwargs)


class OrderPull(models.Model):
    """A customer's order pull from its storefront: the claim, progress, schedule, state.

    One row per customer whose storefront has orders to pull (OnPrintShop, PrintOps).
    A pull claims the row with a conditional UPDATE, as syncs claim their integration.
    """

    customer = models.OneToOneField(
        "pushes.Customer", on_delete=models.CASCADE, related_name="order_pull"
    )
    status = models.CharField(max_length=16, choices=PullStatus.choices,
                              default=PullStatus.IDLE, editable=False)
    run_id = models.UUIDField(null=True, blank=True, editable=False)
    heartbeat_at = models.DateTimeField(null=True, blank=True, editable=False)
    started_at = models.DateTimeField(null=True, blank=True, editable=False)
    finished_at = models.DateTimeField(null=True, blank=True, editable=False)
    # Where the next pull's window starts (the start of the last successful pull).
    last_successful_pull_at = models.DateTimeField(null=True, blank=True, editable=False)
    # Set while a pull runs (and kept when it fails): where the window it was reading
    # starts, so the next pull resumes there instead of reading everything again.
    resume_from = models.DateTimeField(null=True, blank=True, editable=False)
    processed = models.PositiveIntegerField(default=0, editable=False)
    total = models.PositiveIntegerField(null=True, blank=True, editable=False)
    last_stats = models.JSONField(default=dict, blank=True, editable=False)
    last_error = models.TextField(null=True, blank=True, editable=False)
    # The storefront's own status list (OnPrintShop orderStatus), as last read.
    storefront_statuses = models.JSONField(default=list, blank=True, editable=False)
    schedule = models.OneToOneField(
        "django_celery_beat.PeriodicTask", null=True, blank=True, on_delete=models.SET_NULL,
        related_name="order_pull", editable=False,
    )

    class Meta:
        indexes = [models.Index(fields=["status", "heartbeat_at"], name="order_pull_running")]

    def __str__(self):
        return f"Order pull of {self.customer}"

    @property
    def progress(self):
        if not self.total:
            return 100 if self.status == PullStatus.COMPLETED else 0
        return min(100, round(100 * self.processed / self.total))


# -- routing ---------------------------------------------------------------------------


class FulfilmentRoute(models.Model):
    """Who produces a supplier's products: an OMS integration, or staff (manual).

    A route for a customer beats the route for every customer (customer empty). A line
    no route covers is manual.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    supplier = models.ForeignKey("catalog.Supplier", on_delete=models.CASCADE,
                                 related_name="fulfilment_routes")
    customer = models.ForeignKey("pushes.Customer", null=True, blank=True,
                                 on_delete=models.CASCADE, related_name="fulfilment_routes",
                                 help_text="Empty: every customer without a route of its own")
    fulfiller_integration = models.ForeignKey(
        "integrations.Integration", null=True, blank=True, on_delete=models.PROTECT,
        related_name="fulfilment_routes", help_text="An OMS integration; empty: manual",
    )
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["supplier", "customer", "id"]
        constraints = [
            models.UniqueConstraint(fields=["supplier", "customer"], name="route_once",
                                    condition=Q(customer__isnull=False)),
            models.UniqueConstraint(fields=["supplier"], name="route_once_for_everyone",
                                    condition=Q(customer__isnull=True)),
        ]

    def __str__(self):
        who = self.customer or "every customer"
        return f"{self.supplier} for {who} → {self.fulfiller_integration or 'manual'}"


class RemoteOrder(models.Model):
    """A hub order as one OMS holds it: one per order and OMS integration.

    `remote_order_id` is saved the moment the OMS answers the create. Before the create
    is sent, `create_sent_at` and `sent_line_ids` are saved: a row with those and no
    uid is an order the OMS may hold although its answer never arrived (see routing).
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="remote_orders")
    integration = models.ForeignKey("integrations.Integration", on_delete=models.PROTECT,
                                    related_name="+")
    remote_order_id = models.CharField(
        max_length=128, null=True, blank=True,
        help_text="The OMS order uid. Staff may enter it when the OMS holds the order but "
                  "its answer never reached the hub.",
    )
    create_sent_at = models.DateTimeField(null=True, blank=True, editable=False)
    sent_line_ids = models.JSONField(default=list, blank=True, editable=False)
    # Held by the one worker sending this order to the OMS; a stale claim may be taken.
    claimed_until = models.DateTimeField(null=True, blank=True, editable=False)
    deleted_at = models.DateTimeField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["order", "integration"], name="remote_order_once"),
        ]

    def __str__(self):
        return f"{self.integration} order {self.remote_order_id or '(not created)'}"


# -- back to the storefront ------------------------------------------------------------


class StatusScope(models.TextChoices):
    ORDER = "order", "Order"
    LINE = "line", "Line"


class StatusMapping(models.Model):
    """The title an OnPrintShop storefront shows for one hub state of an order or a line.

    An empty title means the state is not sent to that storefront.
    """

    customer = models.ForeignKey("pushes.Customer", on_delete=models.CASCADE,
                                 related_name="status_mappings")
    scope = models.CharField(max_length=8, choices=StatusScope.choices)
    hub_status = models.CharField(max_length=20)
    storefront_title = models.CharField(max_length=128, blank=True, default="")

    class Meta:
        ordering = ["customer", "scope", "hub_status"]
        constraints = [
            models.UniqueConstraint(fields=["customer", "scope", "hub_status"],
                                    name="status_mapping_once"),
        ]

    def __str__(self):
        return f"{self.get_scope_display()} {self.hub_status} → {self.storefront_title or '-'}"


class UpdateChannel(models.TextChoices):
    OPS = "ops", "OnPrintShop storefront"
    WEBHOOK = "webhook", "Order webhook"


class UpdateKind(models.TextChoices):
    LINE_STATUS = "line_status", "Line status"
    ORDER_STATUS = "order_status", "Order status"
    SHIPMENT = "shipment", "Shipment"
    WEBHOOK = "webhook", "Webhook"


class UpdateState(models.TextChoices):
    PENDING = "pending", "Pending"
    SENT = "sent", "Sent"
    FAILED = "failed", "Failed (gave up)"
    UNCERTAIN = "uncertain", "Uncertain (the answer was lost)"
    SUPERSEDED = "superseded", "Superseded by a newer update"


OPEN_UPDATE_STATES = (UpdateState.PENDING, UpdateState.FAILED, UpdateState.UNCERTAIN)


class StorefrontUpdate(models.Model):
    """One thing the customer's storefront (or webhook receiver) must be told: an outbox.

    Written in the transaction that made the change, delivered by a worker, retried with
    backoff; `state` says where it stands. A status or a shipment is one row, so it is
    sent once; a newer status of the same order or line supersedes one not yet sent.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="storefront_updates")
    line = models.ForeignKey(OrderLine, null=True, blank=True, on_delete=models.CASCADE,
                             related_name="+")
    shipment = models.ForeignKey(Shipment, null=True, blank=True, on_delete=models.CASCADE,
                                 related_name="storefront_updates")
    channel = models.CharField(max_length=8, choices=UpdateChannel.choices)
    kind = models.CharField(max_length=16, choices=UpdateKind.choices)
    # What is sent: the status title, or the webhook's event name.
    title = models.CharField(max_length=128, blank=True, default="")
    payload = models.JSONField(default=dict, blank=True)
    state = models.CharField(max_length=12, choices=UpdateState.choices,
                             default=UpdateState.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    claimed_until = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [
            models.Index(fields=["state", "next_attempt_at"], name="storefront_update_due"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["shipment", "channel"], name="shipment_told_once",
                                    condition=Q(kind="shipment")),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} {self.title}: {self.state}"

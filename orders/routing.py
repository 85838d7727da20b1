"""Routing: each resolved line goes to where its product is made (hub-orders-api.md).

- Lines of a PrintOps store order are PrintOps's: it already holds them.
- Other lines follow the first active fulfilment route of their product's supplier (the
  customer's own route, then the route for every customer): an OMS integration, or
  manual. No route: manual. A manual line is `in_production` at once.
- OMS lines are `routed` until the OMS has them: one OMS order per hub order and OMS
  integration (RemoteOrder), created once, later lines added with PUT.

No duplicate production. Before the create is sent, the RemoteOrder records that it is
being sent and which lines it carries; the OMS uid is saved the moment the answer comes.
A create whose answer never came (a timeout, a 5xx, a worker that died) leaves a row with
`create_sent_at` and no uid. The OMS documents no search of orders, so before creating
again the hub asks the OMS for the print file of each line it sent (documented, by the
hub's line id): if the OMS knows one, the order is there and is not created again; the
lines fail saying so, and staff enter the OMS uid on the remote order (admin), after
which routing updates that order instead. One worker at a time works on a RemoteOrder
(a claim, as syncs claim their integration).
"""

import json
import logging
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import quote

from django.core.cache import cache
from django.db import transaction
from django.db.models import Q
from django.template.defaultfilters import pluralize
from django.utils import timezone

from integrations.oms import client as oms
from integrations.oms.client import OMSClient, OMSError
from integrations.oms.storefront import variant_uuid
from orders.models import (
    AddressKind,
    EventKind,
    FulfillerType,
    FulfilmentRoute,
    LineStatus,
    Order,
    OrderEvent,
    OrderLine,
    OrderSource,
    RemoteOrder,
)
from orders.storefront import order_changed
from pushes.models import Customer, StorefrontProduct

logger = logging.getLogger(__name__)

CLAIM_FOR = timedelta(minutes=5)
# A line `routed` to an OMS this long without an OMS item lost its worker: route it again.
STUCK_AFTER = timedelta(minutes=5)
QUEUED_FOR_SECONDS = 60
# The OMS needs a shipping code; the hub keeps no shipping method of its own.
SHIPPING_CODE = "STANDARD"
EMPTY_TEMPLATE_CONFIG = quote(json.dumps({}))
FIRST_PRINT_POLL = timedelta(seconds=30)

ROUTABLE = (LineStatus.RECEIVED, LineStatus.UNMATCHED, LineStatus.FAILED)


class RoutingBusy(Exception):
    """Another worker is sending this order to that OMS; try again shortly."""


@dataclass
class Outcome:
    # Whether something failed that may heal: the task tries again later.
    retry: bool = False


# -- entry points ----------------------------------------------------------------------


def queue_routing(order_id):
    """Route the order on a worker once the current transaction commits (once per order
    however many of its lines were resolved)."""
    from orders.tasks import route_order_task

    def send():
        if cache.add(f"routing-queued:{order_id}", 1, QUEUED_FOR_SECONDS):
            route_order_task.delay(str(order_id))

    transaction.on_commit(send)


def route_order(order_id, *, final=True):
    """Choose a fulfiller for every resolved line no fulfiller holds and send OMS lines on.

    `final` says whether a failure that may heal ends the line as `failed` (the last
    attempt) or leaves it for the next attempt. Returns an Outcome.
    """
    cache.delete(f"routing-queued:{order_id}")
    order = Order.objects.select_related("customer").filter(pk=order_id).first()
    if order is None:
        return Outcome()
    choose_fulfillers(order)
    outcome = Outcome()
    integrations = (
        OrderLine.objects.filter(order=order, status=LineStatus.ROUTED,
                                 fulfiller_type=FulfillerType.OMS, remote_line_id__isnull=True)
        .values_list("fulfiller_integration_id", flat=True).distinct()
    )
    for integration_id in list(integrations):
        try:
            retry = OMSRouting(order, integration_id, final=final).run()
        except RoutingBusy:
            retry = True
        outcome.retry = outcome.retry or retry
    return outcome


def route_lines_again(order):
    """`POST /api/orders/{id}/route` and the admin action: the order's failed lines are
    tried again. One the OMS never took goes back to routing (failed → routed, the one
    move backwards the contract allows); one the OMS holds (its print file failed) is
    followed again, its print file asked for at once."""
    now = timezone.now()
    with transaction.atomic():
        failed = OrderLine.objects.select_for_update().filter(
            order=order, status=LineStatus.FAILED, product__isnull=False)
        held = failed.filter(remote_line_id__isnull=False).update(
            status=LineStatus.IN_PRODUCTION, error=None, next_print_poll_at=now,
            print_polls=0, updated_at=now)
        unrouted = failed.filter(remote_line_id__isnull=True).update(
            status=LineStatus.RECEIVED, error=None, fulfiller_type=None,
            fulfiller_integration=None, remote_order_id=None, updated_at=now)
        if held or unrouted:
            Order.refresh_statuses([order])
    queue_routing(order.pk)


def sweep_stuck_routing():
    """Route again the orders with OMS lines whose worker died before the OMS had them."""
    stuck = (
        OrderLine.objects.filter(
            status=LineStatus.ROUTED, fulfiller_type=FulfillerType.OMS,
            remote_line_id__isnull=True, updated_at__lt=timezone.now() - STUCK_AFTER,
        ).values_list("order_id", flat=True).distinct()
    )
    for order_id in stuck:
        queue_routing(order_id)


# -- choosing fulfillers ---------------------------------------------------------------


def choose_fulfillers(order):
    """Give every resolved line without a fulfiller its fulfiller (see module notes)."""
    with transaction.atomic():
        lines = list(
            OrderLine.objects.select_for_update().filter(
                order=order, status=LineStatus.RECEIVED, product__isnull=False,
                fulfiller_type__isnull=True,
            ).select_related("product").order_by("pk")
        )
        if not lines:
            return
        routes = RouteBook(order.customer_id, {line.product.supplier_id for line in lines})
        now = timezone.now()
        chosen = {}
        for line in lines:
            line.updated_at = now
            if order.source == OrderSource.PRINTOPS:
                line.fulfiller_type = FulfillerType.PRINTOPS
                line.fulfiller_integration_id = order.customer.storefront_id
                line.remote_order_id = order.source_order_id
                line.remote_line_id = line.source_line_id
                line.status = LineStatus.IN_PRODUCTION
                chosen.setdefault("PrintOps", []).append(line)
                continue
            integration = routes.fulfiller(line.product.supplier_id)
            if integration is None:
                line.fulfiller_type = FulfillerType.MANUAL
                line.status = LineStatus.IN_PRODUCTION
                chosen.setdefault("manual fulfilment", []).append(line)
            else:
                line.fulfiller_type = FulfillerType.OMS
                line.fulfiller_integration = integration
                line.status = LineStatus.ROUTED
                chosen.setdefault(integration.name, []).append(line)
        OrderLine.objects.bulk_update(lines, [
            "fulfiller_type", "fulfiller_integration", "remote_order_id", "remote_line_id",
            "status", "error", "updated_at",
        ])
        OrderEvent.objects.bulk_create([
            OrderEvent(order=order, kind=EventKind.ROUTED, at=now,
                       message=f"{len(group)} line{pluralize(len(group))} routed to {name}")
            for name, group in chosen.items()
        ])
        Order.refresh_statuses([order])
        order_changed([order.pk])


class RouteBook:
    """The active routes of some suppliers, for one customer, in two queries."""

    def __init__(self, customer_id, supplier_ids):
        self.routes = {}
        rows = (
            FulfilmentRoute.objects.filter(supplier_id__in=supplier_ids, active=True)
            .filter(Q(customer_id=customer_id) | Q(customer__isnull=True))
            .select_related("fulfiller_integration")
        )
        for route in rows:
            specific = route.customer_id is not None
            current = self.routes.get(route.supplier_id)
            if current is None or (specific and current.customer_id is None):
                self.routes[route.supplier_id] = route

    def fulfiller(self, supplier_id):
        route = self.routes.get(supplier_id)
        return route.fulfiller_integration.typed() if route and \
            route.fulfiller_integration_id else None


# -- the OMS ---------------------------------------------------------------------------


class OMSRouting:
    """Send the `routed` lines of one order to one OMS: create its order once, or PUT."""

    def __init__(self, order, integration_id, *, final):
        from integrations.models import Integration

        self.order = order
        self.integration = Integration.objects.get(pk=integration_id).typed()
        self.client = OMSClient(self.integration)
        self.final = final
        self.remote, _ = RemoteOrder.objects.get_or_create(order=order,
                                                           integration=self.integration)

    def run(self):
        """Returns True when a failure may heal on a later attempt."""
        if not claim(self.remote):
            raise RoutingBusy()
        try:
            self.remote.refresh_from_db()
            return self.send()
        finally:
            RemoteOrder.objects.filter(pk=self.remote.pk).update(claimed_until=None)

    def lines(self):
        return list(
            OrderLine.objects.filter(order=self.order, fulfiller_integration=self.integration,
                                     fulfiller_type=FulfillerType.OMS)
            .exclude(status=LineStatus.CANCELLED)
            .select_related("product", "variant", "print_size").order_by("created_at", "pk")
        )

    def send(self):
        lines = self.lines()
        new = [line for line in lines
               if line.status == LineStatus.ROUTED and not line.remote_line_id]
        if not new:
            return False
        items, failures, retry = {}, [], False
        for line in [line for line in lines if line.remote_line_id] + new:
            try:
                items[line.pk] = self.item(line)
            except ItemProblem as problem:
                retry = retry or problem.retryable
                if line in new and (self.final or not problem.retryable):
                    failures.append((line, problem.message))
        self.fail(failures)
        sendable = [line for line in new if line.pk in items]
        if not sendable:
            return retry
        if self.remote.remote_order_id:
            return self.update(lines, sendable, items) or retry
        return self.create(sendable, items) or retry

    # -- create once ---------------------------------------------------------------------

    def create(self, lines, items):
        remote = self.remote
        if remote.create_sent_at:
            try:
                held = [line_id for line_id in remote.sent_line_ids
                        if self.client.order_item_known(line_id)]
            except OMSError as exc:
                return self.failed(lines, exc, "The OMS could not be asked whether it holds "
                                               "this order already")
            if held:
                self.fail([(line, "The OMS holds this order already, but its answer to the "
                                  "create never reached the hub, so its uid is unknown: enter "
                                  "the OMS order uid on the remote order in the admin, then "
                                  "route again.") for line in lines])
                return False
        # Written and committed before the request: if the process dies after the OMS
        # acted, the next attempt knows it has to look first.
        remote.create_sent_at = timezone.now()
        remote.sent_line_ids = [str(line.pk) for line in lines]
        RemoteOrder.objects.filter(pk=remote.pk).update(
            create_sent_at=remote.create_sent_at, sent_line_ids=remote.sent_line_ids)
        try:
            created = self.client.create_order(self.order_body([items[line.pk]
                                                                for line in lines]))
        except OMSError as exc:
            if not exc.may_have_acted:
                RemoteOrder.objects.filter(pk=remote.pk).update(create_sent_at=None,
                                                                sent_line_ids=[])
            return self.failed(lines, exc, "The OMS did not create the order")
        # Saved the moment it returns, before anything else.
        RemoteOrder.objects.filter(pk=remote.pk).update(remote_order_id=created.uid)
        remote.remote_order_id = created.uid
        self.accepted(lines, created, "created")
        return False

    def update(self, all_lines, new, items):
        held = [line for line in all_lines if line.remote_line_id and line.pk in items]
        body = self.order_body([items[line.pk] for line in held + new], update=True)
        try:
            updated = self.client.update_order(self.remote.remote_order_id, body)
        except OMSError as exc:
            return self.failed(new, exc, "The OMS did not take the new lines")
        self.accepted(new, updated, "added to")
        return False

    def accepted(self, lines, answer, verb):
        now = timezone.now()
        missing = []
        with transaction.atomic():
            for line in lines:
                item_uid = answer.item_uids.get(str(line.pk))
                if not item_uid:
                    missing.append(line)
                    continue
                line.remote_order_id = answer.uid
                line.remote_line_id = item_uid
                line.status = LineStatus.IN_PRODUCTION
                line.print_file_status = oms.PRINT_RECEIVED
                line.next_print_poll_at = now + FIRST_PRINT_POLL
                line.print_polls = 0
                line.error = None
                line.updated_at = now
            done = [line for line in lines if line not in missing]
            OrderLine.objects.bulk_update(done, [
                "remote_order_id", "remote_line_id", "status", "print_file_status",
                "next_print_poll_at", "print_polls", "error", "updated_at",
            ])
            OrderEvent.objects.create(
                order=self.order, kind=EventKind.ROUTED,
                message=f"{len(done)} line{pluralize(len(done))} {verb} {self.integration.name} "
                        f"(order {answer.uid})")
            self.fail([(line, "The OMS answered without an item for this line")
                       for line in missing])
            Order.refresh_statuses([self.order])
            order_changed([self.order.pk])

    def failed(self, lines, exc, what):
        # A create that may have been carried out is tried again too: the next attempt
        # looks before it creates.
        if (exc.retryable or exc.may_have_acted) and not self.final:
            logger.info("Routing of order %s to %s will be retried: %s", self.order.pk,
                        self.integration.pk, exc.message)
            return True
        self.fail([(line, f"{what}: {exc.message}") for line in lines])
        return False

    def fail(self, failures):
        if not failures:
            return
        now = timezone.now()
        with transaction.atomic():
            for line, reason in failures:
                line.status, line.error, line.updated_at = LineStatus.FAILED, reason, now
            OrderLine.objects.bulk_update([line for line, _ in failures],
                                          ["status", "error", "updated_at"])
            OrderEvent.objects.bulk_create([
                OrderEvent(order=self.order, kind=EventKind.ROUTE_FAILED, at=now,
                           message=f"Line {line.source_line_id}: {reason}")
                for line, reason in failures
            ])
            Order.refresh_statuses([self.order])
            order_changed([self.order.pk])

    # -- bodies --------------------------------------------------------------------------

    def item(self, line):
        if line.variant_id:
            key = line.variant.variant_key
        elif line.print_size_id:
            key = line.print_size.size_key
        else:
            raise ItemProblem(f"Line {line.source_line_id} names product "
                              f"{line.product.supplier_sku} but not which variant or size")
        uuid = self.variant_uuid(line.product, key)
        thumbnails = list(line.artwork or []) or list(
            line.product.images.order_by("sort_order", "pk").values_list("url", flat=True)[:1])
        return oms.item_body(line_id=line.pk, variant_uuid=uuid, quantity=line.quantity,
                             price=line.unit_price, template_config=EMPTY_TEMPLATE_CONFIG,
                             thumbnails=thumbnails)

    def variant_uuid(self, product, key):
        """The uuid of the product's OMS variant, pushing the product first if need be."""
        storefront_customer = Customer.objects.filter(storefront=self.integration) \
            .order_by("name", "pk").first()
        if storefront_customer is None:
            raise ItemProblem(
                f"No customer has {self.integration.name} as its storefront, so the hub "
                f"cannot push {product.supplier_sku} there; add one with a markup rule.")
        entry = StorefrontProduct.objects.filter(customer=storefront_customer,
                                                 product=product).first()
        try:
            found = variant_uuid(self.client, entry.refs if entry else None, key)
        except OMSError as exc:
            raise ItemProblem(f"The OMS did not name the variant of {product.supplier_sku}: "
                              f"{exc.message}", retryable=exc.retryable) from None
        if found:
            return found
        from pushes.services import PushBusy, push_product

        try:
            log, retryable = push_product(storefront_customer.pk, product.pk)
        except PushBusy:
            raise ItemProblem(f"{product.supplier_sku} is being pushed to "
                              f"{self.integration.name}", retryable=True) from None
        entry = StorefrontProduct.objects.filter(customer=storefront_customer,
                                                 product=product).first()
        found = variant_uuid(self.client, entry.refs if entry else None, key)
        if found:
            return found
        reason = log.error if log and log.error else "the push did not create that variant"
        raise ItemProblem(f"{product.supplier_sku} was never pushed to "
                          f"{self.integration.name} and pushing it failed: {reason}",
                          retryable=retryable)

    def order_body(self, items, update=False):
        order = self.order
        addresses = {address.kind: vars_of(address) for address in order.addresses.all()}
        fields = dict(
            number=order.order_number or order.source_order_id, currency=order.currency,
            total=order.total, subtotal=order.subtotal,
            buyer=oms.customer_body(email=order.buyer_email or None,
                                    name=order.buyer_name, phone=order.buyer_phone or None),
            shipping_code=SHIPPING_CODE, shipping_price=order.shipping, items=items,
        )
        if update:
            return oms.order_update_body(addresses=[
                oms.address_body(kind, addresses[kind])
                for kind in (AddressKind.BILLING, AddressKind.SHIPPING) if kind in addresses
            ], **fields)
        return oms.order_body(
            store_id=self.integration.store_id, ecommerce_order_id=order.pk,
            billing_address=addresses.get(AddressKind.BILLING),
            shipping_address=addresses.get(AddressKind.SHIPPING), **fields,
        )


class ItemProblem(Exception):
    def __init__(self, message, retryable=False):
        super().__init__(message)
        self.message = message
        self.retryable = retryable


def vars_of(address):
    return {name: getattr(address, name) or None for name in (
        "name", "address_1", "address_2", "city", "state", "postal_code", "country_code")}


def claim(remote):
    """Take the RemoteOrder for this worker; False while another one holds it.

    A conditional UPDATE: of two workers routing the same order at once, one wins.
    """
    now = timezone.now()
    return bool(RemoteOrder.objects.filter(pk=remote.pk).filter(
        Q(claimed_until__isnull=True) | Q(claimed_until__lt=now)
    ).update(claimed_until=now + CLAIM_FOR))

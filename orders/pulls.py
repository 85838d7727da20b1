"""Pulling a customer's orders from its storefront: claims, runs, progress, schedules.

One pull per customer at a time: a run claims the customer's OrderPull row with a
conditional UPDATE (status != running → running, with a fresh run id), as syncs claim
their integration; only the run holding that id writes progress or finishes it. Each page
of orders is stored and committed as it arrives, so a pull that fails keeps what it
stored, and the next one resumes at the window that failed. A run whose heartbeat stops
is marked failed by `sweep_stale_pulls`.
"""

import logging
import uuid
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from hub.heartbeat import Heartbeat
from hub.queue import QueueUnavailable, enqueue
from integrations.schedules import fitted_name, save_periodic_task
from integrations.services import heartbeat_every
from integrations.sources import SourceError
from orders.models import OrderPull, PullStatus
from orders.resolution import Resolver
from orders.services import StoreResult, store_orders
from orders.sources import NothingToPull, order_source, pulls_orders

logger = logging.getLogger(__name__)

PULL_TASK = "orders.tasks.pull_orders"

__all__ = ["NothingToPull", "PullBusy", "request_pull", "claim_pull", "run_pull"]


class PullBusy(Exception):
    """A pull of this customer's orders is running."""


def pull_of(customer):
    """The customer's OrderPull row, created (with its schedule) on first use."""
    pull, created = OrderPull.objects.get_or_create(customer=customer)
    if created or pull.schedule_id is None:
        ensure_schedule(pull)
    return pull


def ensure_schedule(pull, *, every_minutes=None, crontab=None, enabled=None):
    """Create or change the customer's scheduled pull (every ORDER_PULL_INTERVAL_MINUTES)."""
    customer = pull.customer
    task = save_periodic_task(
        pull.schedule, PULL_TASK, fitted_name(f"Pull orders of {customer.name}", customer.id),
        {"customer_id": str(customer.id)},
        default_minutes=settings.ORDER_PULL_INTERVAL_MINUTES,
        every_minutes=every_minutes, crontab=crontab, enabled=enabled,
    )
    if pull.schedule_id != task.id:
        pull.schedule = task
        OrderPull.objects.filter(pk=pull.pk).update(schedule=task)
    return task


def customer_storefront_changed(customer):
    """Keep the customer's scheduled pull in step with its storefront."""
    if not type(customer).objects.filter(pk=customer.pk).exists():
        return  # deleted meanwhile
    if pulls_orders(customer) and customer.is_active:
        pull_of(customer)
        return
    pull = OrderPull.objects.filter(customer=customer).select_related("schedule").first()
    if pull is not None and pull.schedule is not None and pull.schedule.enabled:
        ensure_schedule(pull, enabled=False)


# What a claim overwrites; put back when the claimed run could not be queued.
CLAIMED_FIELDS = ("status", "run_id", "started_at", "heartbeat_at", "processed", "total",
                  "last_error", "last_stats")


def request_pull(customer):
    """Claim a pull of the customer's orders and queue it (202); PullBusy if one runs.

    When the queue does not take the task, the claim is undone (the pull is as it was)
    and QueueUnavailable is raised (the API answers 503).
    """
    order_source(customer)  # NothingToPull before anything is claimed
    pull = pull_of(customer)
    before = OrderPull.objects.filter(pk=pull.pk).values(*CLAIMED_FIELDS).first()
    run_id = claim_pull(pull.customer_id)
    if run_id is None:
        raise PullBusy()
    from orders.tasks import pull_orders

    try:
        enqueue(pull_orders, str(customer.pk), str(run_id))
    except QueueUnavailable:
        _run(customer.pk, run_id).update(**before)
        raise
    return run_id


def claim_pull(customer_id):
    """Take the customer's pull for a new run; the run id, or None if one is running.

    The conditional UPDATE is the lock: two triggers racing (beat and a user, two
    workers) both run it, and the database lets exactly one of them match.
    """
    run_id = uuid.uuid4()
    now = timezone.now()
    claimed = (
        OrderPull.objects.filter(customer_id=customer_id)
        .exclude(status=PullStatus.RUNNING)
        .update(status=PullStatus.RUNNING, run_id=run_id, started_at=now, heartbeat_at=now,
                processed=0, total=None, last_error=None, last_stats={})
    )
    return run_id if claimed else None


def _run(customer_id, run_id):
    return OrderPull.objects.filter(customer_id=customer_id, run_id=run_id,
                                    status=PullStatus.RUNNING)


def window_start(pull):
    """Where this pull reads from: where the last one failed, else a few days before
    where the last successful one started, else ORDER_FIRST_PULL_DAYS back."""
    if pull.resume_from is not None:
        return pull.resume_from
    if pull.last_successful_pull_at is not None:
        return pull.last_successful_pull_at - timedelta(days=settings.ORDER_PULL_OVERLAP_DAYS)
    return timezone.now() - timedelta(days=settings.ORDER_FIRST_PULL_DAYS)


def run_pull(customer_id, run_id):
    """Read new and changed orders of the customer's storefront, page by page.

    Returns the StoreResult, or None when the run no longer holds the claim. A thread
    writes the heartbeat while it runs (waits for a rate limit included).
    """
    if not _run(customer_id, run_id).update(heartbeat_at=timezone.now()):
        logger.info("Order pull %s of %s no longer holds the claim; skipped", run_id,
                    customer_id)
        return None
    with Heartbeat(lambda: _run(customer_id, run_id).update(heartbeat_at=timezone.now()),
                   heartbeat_every()):
        return _run_pull(customer_id, run_id)


def _run_pull(customer_id, run_id):
    pull = _run(customer_id, run_id).select_related("customer__storefront").first()
    if pull is None:
        return None
    customer = pull.customer
    result, stats = StoreResult(), {"pages": 0, "failed": 0}
    try:
        source = order_source(customer)
        statuses = source.statuses()
        if statuses is not None:
            _run(customer_id, run_id).update(storefront_statuses=statuses)
        resolver = Resolver(customer)
        for page in source.pages(window_start(pull)):
            stored = store_orders(customer, page.orders, resolver=resolver)
            result.add(stored)
            stats["pages"] += 1
            stats["failed"] += len(page.failures)
            for reason in page.failures:
                logger.warning("Order pull of customer %s skipped an order: %s",
                               customer_id, reason)
            still_ours = _run(customer_id, run_id).update(
                processed=result.created + result.updated + result.unchanged,
                total=page.total, heartbeat_at=timezone.now(),
                last_stats={**result.stats(), **stats}, resume_from=page.window_start,
            )
            if not still_ours:
                logger.warning("Order pull %s of %s lost its claim; stopping", run_id,
                               customer_id)
                return result
    except Exception as exc:
        known = isinstance(exc, SourceError | NothingToPull) or hasattr(exc, "retryable")
        message = str(exc) if known else f"Unexpected error: {exc.__class__.__name__}"
        if not known:
            logger.exception("Order pull %s of %s failed", run_id, customer_id)
        _run(customer_id, run_id).update(
            status=PullStatus.ERROR, last_error=message, finished_at=timezone.now(),
            heartbeat_at=timezone.now(), last_stats={**result.stats(), **stats},
        )
        return result
    _run(customer_id, run_id).update(
        status=PullStatus.COMPLETED, finished_at=timezone.now(), heartbeat_at=timezone.now(),
        # The next pull reads again from a little before where this one started.
        last_successful_pull_at=pull.started_at, resume_from=None,
        last_stats={**result.stats(), **stats},
    )
    return result


def pull_one_order(customer, source_order_id):
    """Read one order (and its shipments) again and store it: a webhook's nudge."""
    canonical = order_source(customer).order(source_order_id)
    if canonical is None:
        return None
    return store_orders(customer, [canonical])


def nudge(event):
    """A PrintOps webhook event names an order of a store: queue a re-read of that order
    for each customer whose storefront is that store."""
    payload = event.payload if isinstance(event.payload, dict) else {}
    order = payload.get("order") if isinstance(payload.get("order"), dict) else {}
    order_id = payload.get("order_id") or order.get("id")
    store_id = event.store_id or order.get("store_id")
    if order_id in (None, "") or store_id in (None, ""):
        logger.info("Webhook event %s names no order and store; nothing to read", event.pk)
        return []
    from orders.tasks import pull_one_order
    from pushes.models import Customer

    customers = [
        customer for customer in Customer.objects.filter(storefront_id=event.integration_id,
                                                         is_active=True)
        if str((customer.storefront_options or {}).get("store_id")) == str(store_id)
    ]
    for customer in customers:
        enqueue(pull_one_order, str(customer.pk), str(order_id))
    return customers


def sweep_stale_pulls():
    """Mark failed every running pull whose heartbeat stopped (its worker died)."""
    cutoff = timezone.now() - timedelta(seconds=settings.SYNC_STALE_AFTER)
    with transaction.atomic():
        return OrderPull.objects.filter(
            status=PullStatus.RUNNING, heartbeat_at__lt=cutoff
        ).update(status=PullStatus.ERROR, finished_at=timezone.now(),
                 last_error="The pull stopped without finishing (its worker was lost).")

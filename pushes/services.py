"""Pushing one product to one customer's storefront, and keeping the record of it.

`push_product` is the one way a product reaches a storefront: price it for the
customer, skip it when nothing changed since the last success, hand it to the
customer's storefront, store the ids the moment they come back, and log the attempt.

Only one push of a product to a customer runs at a time: it holds a claim on the
StorefrontProduct row, taken by a claimant (the task's id: a redelivered task takes its
own claim back at once) and kept fresh by a heartbeat while the push runs, so the claim
of a push whose process died expires after CLAIM_EXPIRES and no live push is ever taken
over. Every attempt ends in the push log; the final outcome of a batch item is counted
in its batch once, in the same transaction as its log entry.
"""

import logging
import uuid
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone

from catalog.models import Product
from hub.heartbeat import Heartbeat
from hub.queue import QueueUnavailable, enqueue
from integrations.models import IntegrationType
from pushes.models import (
    CategoryMapping,
    Customer,
    PushBatch,
    PushLog,
    StorefrontProduct,
)
from pushes.pricing import NoMarkupRule, price_product
from pushes.storefronts import PushFailed, PushState

logger = logging.getLogger(__name__)

# A claim not refreshed for this long belongs to a push whose worker died; it may be
# taken over. A live push refreshes it every CLAIM_HEARTBEAT.
CLAIM_EXPIRES = timedelta(seconds=60)
CLAIM_HEARTBEAT = timedelta(seconds=15)


class PushRefused(Exception):
    """The push cannot be done as asked (inactive customer, archived product, ...).

    `about` names what the refusal is about: "customer_id" or "product_id".
    """

    def __init__(self, message, about="customer_id"):
        super().__init__(message)
        self.about = about


class PushBusy(Exception):
    """Another push of the same product to the same customer is running."""


GAVE_UP_BUSY = ("Another push of this product to this customer kept running; this one "
                "gave up waiting for it.")


def check_pushable(customer, product):
    if not customer.is_active:
        raise PushRefused(f"Customer {customer.name} is inactive; nothing is pushed to it.")
    if product.archived_at is not None:
        raise PushRefused(f"Product {product.supplier_sku} is archived; restore it to push it.",
                          about="product_id")
    if customer.storefront_id is None:
        raise PushRefused(f"Customer {customer.name} has no storefront to push to.")
    storefront = customer.storefront.typed().storefront()
    reason = getattr(storefront, "refusal", lambda product: None)(product)
    if reason:
        raise PushRefused(reason, about="product_id")


def request_push(customer, product, *, batch=None):
    """Check, then queue a push; returns the id its first log entry will have."""
    check_pushable(customer, product)
    log_id = uuid.uuid4()
    from pushes.tasks import push_product_task

    enqueue(push_product_task, str(customer.pk), str(product.pk), str(log_id),
            str(batch.pk) if batch else None)
    return log_id


def start_batch(customer, products, user=None):
    """Queue a push of each product to the customer; progress is read from the batch."""
    if not customer.is_active:
        raise PushRefused(f"Customer {customer.name} is inactive; nothing is pushed to it.")
    if customer.storefront_id is None:
        raise PushRefused(f"Customer {customer.name} has no storefront to push to.")
    from pushes.tasks import push_product_task

    product_ids = list(dict.fromkeys(str(pk) for pk in products))
    batch = PushBatch.objects.create(customer=customer, created_by=user, total=len(product_ids))
    for n, product_id in enumerate(product_ids):
        try:
            enqueue(push_product_task, str(customer.pk), product_id, None, str(batch.pk))
        except QueueUnavailable:
            if n == 0:
                batch.delete()  # nothing started: no batch
                raise
            # Part of the batch runs: the rest is a failure of its own, logged and counted.
            for rest in product_ids[n:]:
                log_failure(customer.pk, rest, step="queue", error=str(QueueUnavailable()),
                            batch_id=batch.pk)
            break
    return batch


def _claim(entry, claimant):
    now = timezone.now()
    return StorefrontProduct.objects.filter(
        Q(claimed_at__isnull=True) | Q(claimed_at__lt=now - CLAIM_EXPIRES)
        | Q(claimed_by=claimant),
        pk=entry.pk,
    ).update(claimed_at=now, claimed_by=claimant) == 1


def _release(entry, claimant):
    # Only our own claim: after an expiry it may belong to another push now.
    StorefrontProduct.objects.filter(pk=entry.pk, claimed_by=claimant).update(
        claimed_at=None, claimed_by=None
    )


def _claim_heartbeat(entry, claimant):
    """Keeps the claim fresh while the push runs, however long one request takes."""
    def beat():
        StorefrontProduct.objects.filter(pk=entry.pk, claimed_by=claimant).update(
            claimed_at=timezone.now()
        )

    return Heartbeat(beat, CLAIM_HEARTBEAT.total_seconds())


def _category_ids(customer, priced):
    """The storefront ids of the priced product's category path, as far as mapped."""
    path = [category_id for category_id, _ in priced.category_path]
    if not path:
        return {}
    return {
        str(category_id): storefront_id
        for category_id, storefront_id in CategoryMapping.objects.filter(
            customer=customer, category_id__in=path
        ).values_list("category_id", "storefront_category_id")
    }


def _keep_categories(customer, new_category_ids):
    CategoryMapping.objects.bulk_create(
        [CategoryMapping(customer=customer, category_id=category_id,
                         storefront_category_id=str(storefront_id))
         for category_id, storefront_id in new_category_ids.items()],
        ignore_conflicts=True,
    )


def push_product(customer_id, product_id, *, log_id=None, batch_id=None, final=True,
                 claimant=None):
    """Push one product to one customer's storefront and log the attempt.

    Returns (log, retryable): `retryable` is True for a failure that may heal (a timeout,
    a 5xx); the caller may try again, and the ids obtained so far are kept for that.
    `final` says whether this is the last attempt (a batch counts only final outcomes).
    `claimant` names who claims the pair (a task's id; a new one when None): the same
    claimant takes its claim back at once. Raises PushBusy when another push of the pair
    holds the claim. Returns (None, False) when the customer or product no longer exists.
    """
    customer = Customer.objects.select_related("storefront").filter(pk=customer_id).first()
    product = Product.objects.select_related("category").filter(pk=product_id).first()
    if customer is None or product is None:
        if batch_id:
            _count_in_batch(batch_id, succeeded=False)
        return None, False
    if log_id and PushLog.objects.filter(pk=log_id).exists():
        log_id = None  # a redelivered task: its first attempt is already logged
    claimant = str(claimant or uuid.uuid4())
    entry, _ = StorefrontProduct.objects.get_or_create(customer=customer, product=product)
    if not _claim(entry, claimant):
        raise PushBusy(f"A push of {product.supplier_sku} to {customer.name} is running.")
    # Failed until shown otherwise, so even an unexpected error leaves a truthful entry.
    log = PushLog(id=log_id or uuid.uuid4(), customer=customer, product=product,
                  batch_id=batch_id, status=PushLog.Status.FAILED, action=PushLog.Action.FAILED,
                  step="storefront", error="The push stopped unexpectedly.")
    retryable = False
    try:
        with _claim_heartbeat(entry, claimant):
            entry.refresh_from_db()
            retryable = _push(customer, product, entry, log)
        if retryable and not final:
            log.error = f"{log.error} (will be retried)"
    finally:
        try:
            _save_log(log, counts=log.status == PushLog.Status.PUSHED or final or not retryable)
        finally:
            _release(entry, claimant)
    return log, retryable


def give_up_busy(customer_id, product_id, *, log_id=None, batch_id=None):
    """Log and count a push that waited too long for another push of the same pair."""
    return log_failure(customer_id, product_id, step="claim", error=GAVE_UP_BUSY,
                       log_id=log_id, batch_id=batch_id)


def log_failure(customer_id, product_id, *, step, error, log_id=None, batch_id=None):
    """Log (and count in its batch) a push that failed before it could start."""
    if not (Customer.objects.filter(pk=customer_id).exists()
            and Product.objects.filter(pk=product_id).exists()):
        if batch_id:
            _count_in_batch(batch_id, succeeded=False)
        return None
    if log_id and PushLog.objects.filter(pk=log_id).exists():
        log_id = None
    log = PushLog(id=log_id or uuid.uuid4(), customer_id=customer_id, product_id=product_id,
                  batch_id=batch_id, status=PushLog.Status.FAILED,
                  action=PushLog.Action.FAILED, step=step, error=error)
    _save_log(log, counts=True)
    return log


def _save_log(log, *, counts):
    """Save an attempt's log entry; a batch item's final outcome is counted with it.

    In one transaction, and once per batch item however often it ran: a redelivered
    task, or a process that died between logging and counting, never counts twice.
    """
    log.counted = bool(counts and log.batch_id) and not PushLog.objects.filter(
        batch_id=log.batch_id, product_id=log.product_id, counted=True
    ).exists()
    try:
        with transaction.atomic():
            log.save(force_insert=True)
            if log.counted:
                _count_in_batch(log.batch_id, log.status == PushLog.Status.PUSHED)
    except IntegrityError:
        if not log.counted:
            raise
        log.counted = False  # counted by another attempt in the meantime
        log.save(force_insert=True)


def _keeper(customer, entry):
    """PushState.keep for this push: store the storefront's ids the moment they come."""
    kept = {}

    def keep(storefront_product_id, refs, new_category_ids):
        if new_category_ids.items() - kept.get("categories", {}).items():
            _keep_categories(customer, new_category_ids)
        if (storefront_product_id, refs) != kept.get("ids"):
            StorefrontProduct.objects.filter(pk=entry.pk).update(
                storefront_product_id=storefront_product_id, refs=refs
            )
        kept.update(categories=dict(new_category_ids), ids=(storefront_product_id, refs))

    return keep


def _push(customer, product, entry, log):
    """Do the push; fill in the log. Returns whether a failure may heal on retry."""
    def failed(step, message, *, refused):
        log.status, log.action, log.step, log.error, log.refused = (
            PushLog.Status.FAILED, PushLog.Action.FAILED, step, message, refused
        )

    log.storefront_product_id = entry.storefront_product_id
    to_ops = customer.storefront.integration_type == IntegrationType.OPS
    try:
        check_pushable(customer, product)
        priced = price_product(customer, product)
    except (PushRefused, NoMarkupRule) as exc:
        failed("check" if isinstance(exc, PushRefused) else "pricing", str(exc), refused=True)
        return False
    if not priced.items:
        failed("pricing", f"No variant or size of {product.supplier_sku} has a cost; "
                          "there is nothing to sell.", refused=True)
        return False
    log.payload_hash = priced.content_hash()
    if entry.storefront_product_id and entry.pushed_hash == log.payload_hash:
        log.status, log.action = PushLog.Status.PUSHED, PushLog.Action.UNCHANGED
        log.step = log.error = None
        log.ops_product_id = ops_id(entry.storefront_product_id) if to_ops else None
        return False

    state = PushState(storefront_product_id=entry.storefront_product_id, refs=entry.refs,
                      category_ids=_category_ids(customer, priced),
                      options=customer.storefront_options, keep=_keeper(customer, entry))
    storefront = customer.storefront.typed().storefront()
    try:
        outcome = storefront.push(priced, state)
    except PushFailed as exc:
        _keep_categories(customer, exc.new_category_ids)
        StorefrontProduct.objects.filter(pk=entry.pk).update(
            storefront_product_id=exc.storefront_product_id or entry.storefront_product_id,
            refs=exc.refs if exc.refs is not None else entry.refs,
        )
        log.storefront_product_id = exc.storefront_product_id or entry.storefront_product_id
        failed(exc.step, exc.message, refused=not exc.retryable)
        return exc.retryable
    except Exception as exc:
        logger.exception("Push of %s to %s failed", product.pk, customer.pk)
        failed("storefront", f"Unexpected error: {exc.__class__.__name__}", refused=False)
        return False

    _keep_categories(customer, outcome.new_category_ids)
    StorefrontProduct.objects.filter(pk=entry.pk).update(
        storefront_product_id=outcome.storefront_product_id, refs=outcome.refs,
        pushed_hash=log.payload_hash, last_pushed_at=timezone.now(),
    )
    if to_ops:
        # The catalog's ops_product_id is the OnPrintShop id only.
        Product.objects.filter(pk=product.pk).update(
            ops_product_id=str(outcome.storefront_product_id)
        )
        log.ops_product_id = ops_id(outcome.storefront_product_id)
    log.status, log.step, log.error = PushLog.Status.PUSHED, None, None
    log.action = (
        PushLog.Action.CREATED if outcome.created
        else PushLog.Action.UPDATED if outcome.sent else PushLog.Action.UNCHANGED
    )
    log.detail = outcome.summary
    log.storefront_product_id = str(outcome.storefront_product_id)
    return False


def ops_id(storefront_product_id):
    """An OnPrintShop product id (digits) as the integer the push history shows."""
    value = str(storefront_product_id or "")
    return int(value) if value.isascii() and value.isdigit() else None


def _count_in_batch(batch_id, succeeded):
    field = "succeeded" if succeeded else "failed"
    PushBatch.objects.filter(pk=batch_id).update(**{field: F(field) + 1})
    PushBatch.objects.filter(
        pk=batch_id, completed_at__isnull=True,
        total__lte=F("succeeded") + F("failed"),
    ).update(completed_at=timezone.now())


def repush_changed(product_ids):
    """Queue pushes of changed products to every storefront they were pushed to before."""
    from pushes.tasks import push_product_task

    pairs = StorefrontProduct.objects.filter(
        product_id__in=product_ids, storefront_product_id__isnull=False,
        customer__is_active=True,
    ).values_list("customer_id", "product_id")
    count = 0
    for customer_id, product_id in pairs:
        enqueue(push_product_task, str(customer_id), str(product_id))
        count += 1
    return count


def deactivate_products(product_ids):
    """Make archived products inactive in every storefront that can hide them; log each."""
    entries = StorefrontProduct.objects.filter(
        product_id__in=product_ids, storefront_product_id__isnull=False,
        customer__storefront__isnull=False,
    ).select_related("customer__storefront", "product")
    logs = []
    for entry in entries:
        storefront = entry.customer.storefront.typed().storefront()
        if not hasattr(storefront, "deactivate"):
            continue
        log = PushLog(customer=entry.customer, product=entry.product,
                      storefront_product_id=entry.storefront_product_id,
                      status=PushLog.Status.PUSHED, action=PushLog.Action.DEACTIVATED)
        try:
            storefront.deactivate(PushState(storefront_product_id=entry.storefront_product_id,
                                            refs=entry.refs))
            # The next push must send the product again (it is active in the payload).
            StorefrontProduct.objects.filter(pk=entry.pk).update(pushed_hash="")
        except PushFailed as exc:
            log.status, log.action, log.step, log.error = (
                PushLog.Status.FAILED, PushLog.Action.FAILED, exc.step, exc.message
            )
        logs.append(log)
    PushLog.objects.bulk_create(logs)
    return logs


def publication_state(customer, product, entry):
    """Whether the product as it stands in the customer's storefront is current.

    "not published" (never pushed successfully), "up to date" (the last payload pushed is
    what would be sent now), "out of date", or why it cannot be priced.
    """
    if entry is None or not entry.storefront_product_id or not entry.pushed_hash:
        return "not published"
    try:
        priced = price_product(customer, product)
    except NoMarkupRule as exc:
        return f"not priced: {exc}"
    return "up to date" if priced.content_hash() == entry.pushed_hash else "out of date"

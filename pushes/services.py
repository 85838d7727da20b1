"""Pushing one product to one customer's storefront, and keeping the record of it.

`push_product` is the one way a product reaches a storefront: price it for the
customer, skip it when nothing changed since the last success, hand it to the
customer's storefront, store the ids that came back, and log the attempt. Only one push
of a product to a customer runs at a time: it holds a claim on the StorefrontProduct row.
"""

import logging
import uuid
from datetime import timedelta

from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from catalog.models import Product
from hub.queue import enqueue
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

# A claim older than this belongs to a push whose worker died; it may be taken over.
CLAIM_EXPIRES = timedelta(minutes=10)


class PushRefused(Exception):
    """The push cannot be done as asked (inactive customer, archived product, ...).

    `about` names what the refusal is about: "customer_id" or "product_id".
    """

    def __init__(self, message, about="customer_id"):
        super().__init__(message)
        self.about = about


class PushBusy(Exception):
    """Another push of the same product to the same customer is running."""


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
    with transaction.atomic():
        batch = PushBatch.objects.create(customer=customer, created_by=user,
                                         total=len(product_ids))
        for product_id in product_ids:
            enqueue(push_product_task, str(customer.pk), product_id, None, str(batch.pk))
    return batch


def _claim(entry):
    now = timezone.now()
    return StorefrontProduct.objects.filter(
        Q(claimed_at__isnull=True) | Q(claimed_at__lt=now - CLAIM_EXPIRES), pk=entry.pk
    ).update(claimed_at=now) == 1


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


def push_product(customer_id, product_id, *, log_id=None, batch_id=None, final=True):
    """Push one product to one customer's storefront and log the attempt.

    Returns (log, retryable): `retryable` is True for a failure that may heal (a timeout,
    a 5xx); the caller may try again, and the ids obtained so far are kept for that.
    `final` says whether this is the last attempt (a batch counts only final outcomes).
    Raises PushBusy when another push of the pair holds the claim. Returns (None, False)
    when the customer or product no longer exists.
    """
    customer = Customer.objects.select_related("storefront").filter(pk=customer_id).first()
    product = Product.objects.select_related("category").filter(pk=product_id).first()
    if customer is None or product is None:
        if batch_id:
            _count_in_batch(batch_id, succeeded=False)
        return None, False
    if log_id and PushLog.objects.filter(pk=log_id).exists():
        log_id = None  # a redelivered task: its first attempt is already logged
    entry, _ = StorefrontProduct.objects.get_or_create(customer=customer, product=product)
    if not _claim(entry):
        raise PushBusy(f"A push of {product.supplier_sku} to {customer.name} is running.")
    # Failed until shown otherwise, so even an unexpected error leaves a truthful entry.
    log = PushLog(id=log_id or uuid.uuid4(), customer=customer, product=product,
                  batch_id=batch_id, status=PushLog.Status.FAILED, action=PushLog.Action.FAILED,
                  step="storefront", error="The push stopped unexpectedly.")
    retryable = False
    try:
        entry.refresh_from_db()
        retryable = _push(customer, product, entry, log)
        if retryable and not final:
            log.error = f"{log.error} (will be retried)"
    finally:
        try:
            log.save(force_insert=True)
            if batch_id and (log.status == PushLog.Status.PUSHED or final or not retryable):
                _count_in_batch(batch_id, log.status == PushLog.Status.PUSHED)
        finally:
            StorefrontProduct.objects.filter(pk=entry.pk).update(claimed_at=None)
    return log, retryable


def _push(customer, product, entry, log):
    """Do the push; fill in the log. Returns whether a failure may heal on retry."""
    def failed(step, message, *, refused):
        log.status, log.action, log.step, log.error, log.refused = (
            PushLog.Status.FAILED, PushLog.Action.FAILED, step, message, refused
        )

    log.storefront_product_id = entry.storefront_product_id
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
        return False

    state = PushState(storefront_product_id=entry.storefront_product_id, refs=entry.refs,
                      category_ids=_category_ids(customer, priced),
                      options=customer.storefront_options)
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
    Product.objects.filter(pk=product.pk).update(
        ops_product_id=str(outcome.storefront_product_id)
    )
    log.status, log.step, log.error = PushLog.Status.PUSHED, None, None
    log.action = (
        PushLog.Action.CREATED if outcome.created
        else PushLog.Action.UPDATED if outcome.sent else PushLog.Action.UNCHANGED
    )
    log.detail = outcome.summary
    log.storefront_product_id = str(outcome.storefront_product_id)
    return False


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

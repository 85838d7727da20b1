"""Thin Celery wrappers: they take ids and call pushes.services."""

import random

from celery import shared_task

from hub.queue import QueueUnavailable, send
from pushes import services

MAX_ATTEMPTS = 4
# While another push of the pair runs, this one waits BUSY_DELAY (+ up to BUSY_JITTER)
# seconds between tries, BUSY_RETRIES times: well past CLAIM_EXPIRES, so the claim of a
# push whose worker died expires first and this one takes over; then it gives up (logged).
BUSY_DELAY, BUSY_JITTER, BUSY_RETRIES = 2, 3, 100


@shared_task(bind=True, max_retries=None)
def push_product_task(self, customer_id, product_id, log_id=None, batch_id=None, attempt=1):
    """Push one product; retry failures that may heal, with backoff and jitter."""
    log_id = log_id if attempt == 1 else None
    try:
        log, retryable = services.push_product(
            customer_id, product_id, log_id=log_id, batch_id=batch_id,
            final=attempt >= MAX_ATTEMPTS, claimant=self.request.id,
        )
    except services.PushBusy:
        # The same pair is being pushed right now: this push comes after it.
        if self.request.retries >= BUSY_RETRIES:
            log = services.give_up_busy(customer_id, product_id, log_id=log_id,
                                        batch_id=batch_id)
            return str(log.id) if log else None
        raise self.retry(countdown=BUSY_DELAY + random.random() * BUSY_JITTER,
                         max_retries=BUSY_RETRIES) from None
    if retryable and attempt < MAX_ATTEMPTS:
        try:
            send(push_product_task, (customer_id, product_id, None, batch_id, attempt + 1),
                 countdown=2 ** attempt + random.random())
        except QueueUnavailable as exc:
            # No later attempt will come: this failure is the item's final outcome.
            services.log_failure(customer_id, product_id, step="queue", error=str(exc),
                                 batch_id=batch_id)
    return str(log.id) if log else None


@shared_task
def repush_changed_products(product_ids):
    services.repush_changed(product_ids)


@shared_task
def deactivate_products_task(product_ids):
    services.deactivate_products(product_ids)

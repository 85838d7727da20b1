"""Thin Celery wrappers: they take ids and call pushes.services."""

import random

from celery import shared_task

from pushes import services

MAX_ATTEMPTS = 4


@shared_task(bind=True, max_retries=None)
def push_product_task(self, customer_id, product_id, log_id=None, batch_id=None, attempt=1):
    """Push one product; retry failures that may heal, with backoff and jitter."""
    try:
        log, retryable = services.push_product(
            customer_id, product_id, log_id=log_id if attempt == 1 else None,
            batch_id=batch_id, final=attempt >= MAX_ATTEMPTS,
        )
    except services.PushBusy:
        # The same pair is being pushed right now: this push comes after it.
        raise self.retry(countdown=2 + random.random() * 3, max_retries=100) from None
    if retryable and attempt < MAX_ATTEMPTS:
        push_product_task.apply_async(
            args=(customer_id, product_id, None, batch_id, attempt + 1),
            countdown=2 ** attempt + random.random(),
        )
    return str(log.id) if log else None


@shared_task
def repush_changed_products(product_ids):
    services.repush_changed(product_ids)


@shared_task
def deactivate_products_task(product_ids):
    services.deactivate_products(product_ids)

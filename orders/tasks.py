"""Thin Celery wrappers: they take ids and call orders.pulls / orders.services."""

import logging
import random

from celery import shared_task

from orders import pulls

logger = logging.getLogger(__name__)


@shared_task
def pull_orders(customer_id, run_id=None):
    """Run a claimed pull; scheduled runs (no run_id) claim it here, or skip if one runs."""
    if run_id is None:
        from pushes.models import Customer

        customer = Customer.objects.filter(pk=customer_id, is_active=True).first()
        if customer is None:
            return
        run_id = pulls.claim_pull(customer_id)
        if run_id is None:
            logger.info("Scheduled order pull of %s skipped: one is running", customer_id)
            return
    pulls.run_pull(customer_id, str(run_id))


@shared_task(bind=True, max_retries=5)
def pull_one_order(self, customer_id, source_order_id):
    """Read one order again (a PrintOps webhook said it changed); failures that may heal
    (timeouts, 429, 5xx) are retried with backoff."""
    from pushes.models import Customer

    customer = Customer.objects.select_related("storefront").filter(pk=customer_id).first()
    if customer is None:
        return
    try:
        pulls.pull_one_order(customer, source_order_id)
    except Exception as exc:
        if getattr(exc, "retryable", False) and self.request.retries < self.max_retries:
            raise self.retry(countdown=2 ** self.request.retries * 10
                             + random.uniform(0, 5)) from None
        raise


@shared_task
def sweep_stale_pulls():
    pulls.sweep_stale_pulls()


@shared_task
def load_demo_orders(sandbox_url):
    """`make run`: place a few orders on the demo storefronts and pull them."""
    from orders.demo import load_demo_orders

    load_demo_orders(sandbox_url)

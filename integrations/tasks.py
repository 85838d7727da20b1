"""Thin Celery wrappers: they take ids and call integrations.services."""

import logging

from celery import shared_task

from integrations import services

logger = logging.getLogger(__name__)


@shared_task
def sync_integration(integration_id, run_id=None, full=False):
    """Run a claimed sync; scheduled runs (no run_id) claim it here, or skip if one runs."""
    if run_id is None:
        run_id = services.claim_sync(integration_id, full=full)
        if run_id is None:
            logger.info("Scheduled sync of %s skipped: one is already running", integration_id)
            return
    services.run_sync(integration_id, str(run_id))


@shared_task
def import_products(task_id):
    services.run_import(task_id)


@shared_task
def sweep_stale_syncs():
    services.sweep_stale_syncs()

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


@shared_task
def publish_changed_products(integration_id, product_ids):
    """After an OVS sync: upload the products' images to the push service, then re-push."""
    from integrations.models import OVSIntegration
    from integrations.ovs.images import upload_product_images
    from pushes.services import repush_changed

    integration = OVSIntegration.objects.filter(pk=integration_id).first()
    if integration is None:
        return
    upload_product_images(integration, product_ids)
    repush_changed(product_ids)

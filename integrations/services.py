"""Syncs and imports: claims, progress, stats. The tasks call these; so do the commands.

One sync per integration at a time: a run claims the integration with a conditional
UPDATE (sync_status != running → running, with a fresh run id). Only the run holding
that id writes progress or finishes it; a run whose heartbeat stops is marked failed by
`sweep_stale_syncs`.
"""

import logging
import uuid
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from catalog.ingest import LARGE_LOAD, IngestResult, ingest_products, refresh_planner_statistics
from catalog.models import Supplier
from integrations.models import ImportTask, Integration, SyncStatus
from integrations.sources import InvalidProduct, ProductNotFound, SourceError

logger = logging.getLogger(__name__)


def stale_after():
    return timedelta(seconds=settings.SYNC_STALE_AFTER)


# -- integrations ----------------------------------------------------------------------


def create_integration(model, **fields):
    """Create a source integration with the supplier its products land in."""
    with transaction.atomic():
        integration = model(**fields)
        integration.supplier = Supplier.objects.create(name=unique_supplier_name(fields["name"]))
        integration.save()
        from integrations.schedules import ensure_schedule

        ensure_schedule(integration)
    return integration


def unique_supplier_name(name):
    """The name, or "<name> (2)", "(3)", ...: shortened to fit the supplier's name column."""
    length = Supplier._meta.get_field("name").max_length
    candidate, n = name[:length], 1
    while Supplier.objects.filter(name=candidate).exists():
        n += 1
        suffix = f" ({n})"
        candidate = name[: length - len(suffix)] + suffix
    return candidate


# -- syncs -----------------------------------------------------------------------------


def claim_sync(integration_id, *, full=False):
    """Take the integration's sync for a new run; the run id, or None if one is running.

    The conditional UPDATE is the lock: two triggers racing (two API calls, beat and a
    user, two workers) both run it, and the database lets exactly one of them match.
    """
    run_id = uuid.uuid4()
    now = timezone.now()
    claimed = (
        Integration.objects.filter(pk=integration_id)
        .exclude(sync_status=SyncStatus.RUNNING)
        .update(
            sync_status=SyncStatus.RUNNING, sync_run_id=run_id, sync_full=full,
            last_sync_at=now, sync_heartbeat_at=now, sync_processed=0, sync_total=None,
            last_error_message=None, last_sync_stats={},
        )
    )
    return run_id if claimed else None


def _run(integration_id, run_id):
    """The integration's row, only while `run_id` still holds the claim."""
    return Integration.objects.filter(
        pk=integration_id, sync_run_id=run_id, sync_status=SyncStatus.RUNNING
    )


def _stats(result, pages):
    return {
        "created": result.created, "updated": result.updated, "unchanged": result.unchanged,
        "failed": result.failed, "pages": pages,
    }


def run_sync(integration_id, run_id, on_page=None):
    """Pull changed products (all of them on a full sync) into the catalog.

    Each page is ingested and committed as it arrives, so a failure later leaves
    everything before it stored. Returns the IngestResult, or None when the run no
    longer holds the claim.
    """
    integration = _run(integration_id, run_id).select_related("supplier").first()
    if integration is None:
        logger.info("Sync %s of %s no longer holds the claim; skipped", run_id, integration_id)
        return None
    integration = integration.typed()
    since = None if integration.sync_full else integration.last_successful_sync_at
    started_at = integration.last_sync_at
    result, pages = IngestResult(), 0
    try:
        for page in integration.source().changed_products(since):
            pages += 1
            page_result = ingest_products(integration.supplier, page.products)
            for failure in page.failures:
                page_result.fail(None, failure["code"], [{"loc": [], "msg": failure["reason"],
                                                          "type": "invalid_product"}])
            result.add(page_result)
            still_ours = _run(integration_id, run_id).update(
                sync_processed=result.processed,
                sync_total=page.total,
                sync_heartbeat_at=timezone.now(),
                last_sync_stats=_stats(result, pages),
            )
            if not still_ours:
                logger.warning("Sync %s of %s lost its claim; stopping", run_id, integration_id)
                return result
            if on_page:
                on_page(result, page.total)
    except Exception as exc:
        message = str(exc) if isinstance(exc, SourceError) else (
            f"Unexpected error: {exc.__class__.__name__}"
        )
        if not isinstance(exc, SourceError):
            logger.exception("Sync %s of %s failed", run_id, integration_id)
        _run(integration_id, run_id).update(
            sync_status=SyncStatus.ERROR, last_error_message=message,
            sync_heartbeat_at=timezone.now(), last_sync_stats=_stats(result, pages),
            **_totals(result),
        )
        return result
    _run(integration_id, run_id).update(
        sync_status=SyncStatus.COMPLETED,
        # The next delta starts where this run started, so changes made while it ran
        # are not missed.
        last_successful_sync_at=started_at,
        sync_heartbeat_at=timezone.now(),
        last_sync_stats=_stats(result, pages),
        **_totals(result),
    )
    if result.created + result.updated >= LARGE_LOAD:
        refresh_planner_statistics()
    integration.after_sync(result.changed_product_ids)
    return result


def _totals(result):
    return {
        "total_products_synced": F("total_products_synced") + result.created + result.updated,
        "total_products_updated": F("total_products_updated") + result.updated,
        "total_products_skipped": F("total_products_skipped") + result.unchanged,
    }


def sweep_stale_syncs():
    """Mark failed every running sync whose heartbeat stopped (its worker died)."""
    cutoff = timezone.now() - stale_after()
    syncs = Integration.objects.filter(
        sync_status=SyncStatus.RUNNING, sync_heartbeat_at__lt=cutoff
    ).update(
        sync_status=SyncStatus.ERROR,
        last_error_message="The sync stopped without finishing (its worker was lost).",
    )
    imports = ImportTask.objects.filter(
        status__in=[ImportTask.Status.STARTED], updated_at__lt=cutoff
    ).update(
        status=ImportTask.Status.FAILURE, completed_at=timezone.now(),
        error_message="The import stopped without finishing (its worker was lost).",
    )
    return syncs, imports


# -- imports ---------------------------------------------------------------------------


def run_import(task_id):
    """Fetch the task's codes one by one, ingest each, record what happened to each."""
    task = ImportTask.objects.select_related("integration__supplier").filter(
        pk=task_id, status=ImportTask.Status.PENDING
    ).first()
    if task is None:
        return None
    integration = task.integration.typed()
    codes = list(dict.fromkeys(task.product_codes))
    outcomes = {}
    ImportTask.objects.filter(pk=task.pk).update(
        status=ImportTask.Status.STARTED, started_at=timezone.now(), total_items=len(codes),
        updated_at=timezone.now(),
    )
    try:
        source = integration.source()
        for n, code in enumerate(codes, start=1):
            outcomes[code] = _import_one(source, integration.supplier, code, task.is_filler)
            ImportTask.objects.filter(pk=task.pk).update(
                processed_items=n, updated_at=timezone.now(),
                result_data=_import_result(outcomes),
            )
    except Exception as exc:
        if not isinstance(exc, SourceError):
            logger.exception("Import %s failed", task_id)
        ImportTask.objects.filter(pk=task.pk).update(
            status=ImportTask.Status.FAILURE, completed_at=timezone.now(),
            updated_at=timezone.now(), result_data=_import_result(outcomes),
            error_message=str(exc) if isinstance(exc, SourceError) else (
                f"Unexpected error: {exc.__class__.__name__}"
            ),
        )
        return outcomes
    ImportTask.objects.filter(pk=task.pk).update(
        status=ImportTask.Status.SUCCESS, completed_at=timezone.now(), updated_at=timezone.now(),
        result_data=_import_result(outcomes),
    )
    return outcomes


def _import_one(source, supplier, code, is_filler):
    try:
        payload = source.product_by_code(code)
    except ProductNotFound:
        return {"status": "not_found", "reason": "No product with this code"}
    except InvalidProduct as exc:
        return {"status": "failed", "reason": str(exc)}
    result = ingest_products(supplier, [payload], is_filler=is_filler)
    if result.failed:
        errors = result.errors[0]["errors"]
        return {"status": "failed", "reason": "; ".join(
            f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in errors)}
    return {"status": next(iter(result.outcomes.values()))}


def _import_result(outcomes):
    summary = {}
    for outcome in outcomes.values():
        summary[outcome["status"]] = summary.get(outcome["status"], 0) + 1
    return {"summary": summary, "products": outcomes}

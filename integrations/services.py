"""Syncs and imports: claims, progress, stats. The tasks call these; so do the commands.

One sync per integration at a time: a run claims the integration with a conditional
UPDATE (sync_status != running → running, with a fresh run id). Only the run holding
that id writes progress or finishes it; a run whose heartbeat stops is marked failed by
`sweep_stale_syncs`.
"""

import logging
import time
import uuid
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from catalog.ingest import LARGE_LOAD, IngestResult, ingest_products, refresh_planner_statistics
from catalog.models import Supplier
from hub.heartbeat import Heartbeat
from hub.queue import QueueUnavailable, enqueue
from integrations.models import ImportTask, Integration, SyncRun, SyncStatus
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
    with transaction.atomic():
        claimed = (
            Integration.objects.filter(pk=integration_id)
            .exclude(sync_status=SyncStatus.RUNNING)
            .update(
                sync_status=SyncStatus.RUNNING, sync_run_id=run_id, sync_full=full,
                last_sync_at=now, sync_heartbeat_at=now, sync_processed=0, sync_total=None,
                last_error_message=None, last_sync_stats={},
            )
        )
        if claimed:
            # The run's row in the history, with the claim: one is never without the other.
            SyncRun.objects.create(id=run_id, integration_id=integration_id, full=full,
                                   started_at=now)
    return run_id if claimed else None


# What a claim overwrites; put back when the claimed run could not be queued.
CLAIMED_FIELDS = (
    "sync_status", "sync_run_id", "sync_full", "last_sync_at", "sync_heartbeat_at",
    "sync_processed", "sync_total", "last_error_message", "last_sync_stats",
)


def trigger_sync(integration_id, *, full=False):
    """Claim the sync and queue its run; the run id, or None if one is running.

    When the queue does not take the task, the claim is undone (the integration is as
    it was before) and QueueUnavailable is raised.
    """
    before = Integration.objects.filter(pk=integration_id).values(*CLAIMED_FIELDS).first()
    run_id = claim_sync(integration_id, full=full)
    if run_id is None:
        return None
    from integrations.tasks import sync_integration

    try:
        enqueue(sync_integration, str(integration_id), str(run_id), full)
    except QueueUnavailable:
        _run(integration_id, run_id).update(**before)
        SyncRun.objects.filter(pk=run_id).delete()  # it never ran
        raise
    return run_id


def _run(integration_id, run_id):
    """The integration's row, only while `run_id` still holds the claim."""
    return Integration.objects.filter(
        pk=integration_id, sync_run_id=run_id, sync_status=SyncStatus.RUNNING
    )


def _record_run(run_id, result, pages, phases, **fields):
    """Write the run's counts and where its time went (and, when it ends, its status) to
    its row in the history."""
    SyncRun.objects.filter(pk=run_id).update(
        created=result.created, updated=result.updated, skipped=result.unchanged,
        failed=result.failed, pages=pages, phase_seconds=_seconds(phases), **fields,
    )


def _stats(result, pages):
    return {
        "created": result.created, "updated": result.updated, "unchanged": result.unchanged,
        "failed": result.failed, "pages": pages,
    }


# Where a sync's time goes: reading the source's pages (HTTP and decoding), mapping their
# items to canonical payloads, ingesting them (with the run's progress), and what runs
# after the last page (the source's wrap-up, the run's ending, after_sync).
SYNC_PHASES = ("fetch", "map", "ingest", "publish")


def _seconds(phases):
    return {phase: round(seconds, 3) for phase, seconds in phases.items()}


def _timed_pages(pages, phases):
    """The source's pages; the wait for each counted as fetch and map (as the page says),
    the source's work after its last page as publish."""
    pages = iter(pages)
    while True:
        started = time.perf_counter()
        page = next(pages, None)
        waited = time.perf_counter() - started
        if page is None:
            phases["publish"] += waited
            return
        phases["map"] += page.map_seconds
        phases["fetch"] += max(waited - page.map_seconds, 0.0)
        yield page


def run_sync(integration_id, run_id, on_page=None):
    """Pull changed products (all of them on a full sync) into the catalog.

    Each page is ingested and committed as it arrives, so a failure later leaves
    everything before it stored. Returns the IngestResult, or None when the run no
    longer holds the claim.
    """
    # A queued run's heartbeat is its claim time: it starts beating now.
    if not _run(integration_id, run_id).update(sync_heartbeat_at=timezone.now()):
        logger.info("Sync %s of %s no longer holds the claim; skipped", run_id, integration_id)
        return None
    with Heartbeat(lambda: _run(integration_id, run_id).update(sync_heartbeat_at=timezone.now()),
                   heartbeat_every()):
        return _run_sync(integration_id, run_id, on_page)


def _run_sync(integration_id, run_id, on_page):
    integration = _run(integration_id, run_id).select_related("supplier").first()
    if integration is None:
        return None
    integration = integration.typed()
    since = None if integration.sync_full else integration.last_successful_sync_at
    started_at = integration.last_sync_at
    result, pages = IngestResult(), 0
    phases = dict.fromkeys(SYNC_PHASES, 0.0)
    try:
        for page in _timed_pages(integration.source().changed_products(since), phases):
            ingesting = time.perf_counter()
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
            phases["ingest"] += time.perf_counter() - ingesting
            _record_run(run_id, result, pages, phases)
            if on_page:
                on_page(result, page.total)
    except Exception as exc:
        message = str(exc) if isinstance(exc, SourceError) else (
            f"Unexpected error: {exc.__class__.__name__}"
        )
        if not isinstance(exc, SourceError):
            logger.exception("Sync %s of %s failed", run_id, integration_id)
        if _run(integration_id, run_id).update(
            sync_status=SyncStatus.ERROR, last_error_message=message,
            sync_heartbeat_at=timezone.now(), last_sync_stats=_stats(result, pages),
            **_totals(result),
        ):
            _record_run(run_id, result, pages, phases, status=SyncRun.Status.ERROR,
                        finished_at=timezone.now(), error_message=message)
        return result
    publishing = time.perf_counter()
    finished = _run(integration_id, run_id).update(
        sync_status=SyncStatus.COMPLETED,
        # The next delta starts where this run started, so changes made while it ran
        # are not missed.
        last_successful_sync_at=started_at,
        sync_heartbeat_at=timezone.now(),
        last_sync_stats=_stats(result, pages),
        **_totals(result),
    )
    if finished:
        _record_run(run_id, result, pages, phases, status=SyncRun.Status.COMPLETED,
                    finished_at=timezone.now())
    if result.created + result.updated >= LARGE_LOAD:
        refresh_planner_statistics()
    integration.after_sync(result.changed_product_ids)
    phases["publish"] += time.perf_counter() - publishing
    if finished:
        SyncRun.objects.filter(pk=run_id).update(phase_seconds=_seconds(phases))
    return result


def _totals(result):
    return {
        "total_products_synced": F("total_products_synced") + result.created + result.updated,
        "total_products_updated": F("total_products_updated") + result.updated,
        "total_products_skipped": F("total_products_skipped") + result.unchanged,
    }


LOST_SYNC = "The sync stopped without finishing (its worker was lost)."
LOST_IMPORT = "The import stopped without finishing (its worker was lost)."
NEVER_STARTED_IMPORT = "The import never started (no worker took it)."


def fail_stale_syncs(integrations=None):
    """Mark failed the running syncs among `integrations` (default all) whose heartbeat
    stopped: their worker died. The sweeper and the sync status both ask this."""
    integrations = Integration.objects.all() if integrations is None else integrations
    stale = integrations.filter(
        sync_status=SyncStatus.RUNNING, sync_heartbeat_at__lt=timezone.now() - stale_after()
    )
    run_ids = list(stale.values_list("sync_run_id", flat=True))
    failed = stale.update(sync_status=SyncStatus.ERROR, last_error_message=LOST_SYNC)
    # Their runs in the history end too (only those still running: a run that just
    # finished keeps its own ending).
    SyncRun.objects.filter(pk__in=run_ids, status=SyncRun.Status.RUNNING).update(
        status=SyncRun.Status.ERROR, finished_at=timezone.now(), error_message=LOST_SYNC,
    )
    return failed


def sweep_stale_syncs():
    """Mark failed every sync and import whose worker died, and imports no worker took."""
    now = timezone.now()
    cutoff = now - stale_after()
    stale = ImportTask.objects.filter(updated_at__lt=cutoff)
    imports = sum(
        stale.filter(status=status).update(
            status=ImportTask.Status.FAILURE, completed_at=now, updated_at=now,
            error_message=message,
        )
        for status, message in ((ImportTask.Status.STARTED, LOST_IMPORT),
                                (ImportTask.Status.PENDING, NEVER_STARTED_IMPORT))
    )
    return fail_stale_syncs(), imports


def heartbeat_every():
    """Seconds between heartbeats: a few fit in SYNC_STALE_AFTER."""
    return stale_after().total_seconds() / 4


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
    started = ImportTask.objects.filter(pk=task.pk, status=ImportTask.Status.PENDING).update(
        status=ImportTask.Status.STARTED, started_at=timezone.now(), total_items=len(codes),
        updated_at=timezone.now(),
    )
    if not started:
        return None  # swept, or taken by another worker, in the meantime
    with Heartbeat(lambda: ImportTask.objects.filter(
        pk=task.pk, status=ImportTask.Status.STARTED
    ).update(updated_at=timezone.now()), heartbeat_every()):
        return _run_import(task, integration, codes)


def _run_import(task, integration, codes):
    outcomes = {}
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
            logger.exception("Import %s failed", task.pk)
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

"""The sync section of `manage.py bench`: full and delta syncs from the sandbox OVS.

The sandbox serves a generated OVS catalog over real HTTP from a process of its own (so
the fake's work is not counted as the hub's), and a bench integration syncs it into its
own supplier. The full and the delta sync run here, timed; the full sync's time is split
as its run recorded it (fetch, map, ingest, publish: SyncRun.phase_seconds). The peak
memory of a full sync is read from child processes (`manage.py sync_integration --full`)
at two catalog sizes: flat memory shows as two close numbers.
"""

import time

from catalog.bench import DELETE_BATCH, BenchError, child_peak_rss_mb, database_url
from catalog.models import Product, Variant
from hub.outbound import OutboundBlocked, check_url
from integrations.models import OVSIntegration, SyncRun, SyncStatus
from integrations.schedules import ensure_schedule
from integrations.services import SYNC_PHASES, claim_sync, create_integration, run_sync
from sandbox.testing import sandbox_process

BENCH_INTEGRATION = "Bench OVS"
SMALL_INTEGRATION = "Bench OVS memory small"
LARGE_INTEGRATION = "Bench OVS memory large"
# The sandbox OVS accepts these.
OVS_USERNAME = "demo"
OVS_PASSWORD = "demo-password"
# The small catalog of the memory measurement holds this fraction of the large one.
SMALL_SHARE = 10
TARGET_PRODUCTS_PER_SECOND = 400


def sync_section(run):
    remove_bench_integrations(run.say)
    with sandbox_process("--catalog-size", str(run.sync_products)) as sandbox_url:
        refused = outbound_refusal(f"{sandbox_url}/ovs")
        if refused:
            return {"skipped": refused}
        try:
            integration = bench_integration(run, sandbox_url, BENCH_INTEGRATION)
            numbers = timed_syncs(run, integration)
            numbers.update(peak_memory(run, sandbox_url))
        finally:
            if not run.keep:
                remove_bench_integrations(run.say)
    return numbers


def timed_syncs(run, integration):
    full_seconds, full, full_run = timed_sync(run, integration, full=True)
    variant_rows = Variant.objects.filter(product__supplier=integration.supplier_id).count()
    delta_seconds, delta, _ = timed_sync(run, integration, full=False)
    return {
        "products": run.sync_products,
        "full_created": full.created,
        "full_failed": full.failed,
        "variant_rows": variant_rows,
        "full_seconds": full_seconds,
        # Where the full sync's time went, as the run recorded it.
        **{f"full_{phase}_seconds": full_run.phase_seconds[phase] for phase in SYNC_PHASES},
        "full_products_per_second": full.processed / full_seconds,
        "target_products_per_second": TARGET_PRODUCTS_PER_SECOND,
        "full_variant_rows_per_second": variant_rows / full_seconds,
        "delta_changed": delta.processed,
        "delta_seconds": delta_seconds,
        "delta_ratio": delta_seconds / full_seconds,
    }


def timed_sync(run, integration, *, full):
    """Claim and run one sync here; (seconds, IngestResult, its SyncRun)."""
    label = "full sync" if full else "delta sync"
    step = max(run.sync_products // 10, 1)
    next_report = step
    started = time.perf_counter()

    def progress(result, total):
        nonlocal next_report
        if result.processed >= next_report:
            elapsed = time.perf_counter() - started
            run.say(f"{label}: {result.processed}/{total} products, {elapsed:.0f}s")
            next_report += step

    run_id = claim_sync(integration.pk, full=full)
    if run_id is None:
        raise BenchError(f"A sync of {integration.name} is already running.")
    result = run_sync(integration.pk, run_id, on_page=progress)
    seconds = time.perf_counter() - started
    integration.refresh_from_db()
    if integration.sync_status != SyncStatus.COMPLETED:
        raise BenchError(
            f"The {label} of {integration.name} ended {integration.sync_status}: "
            f"{integration.last_error_message}"
        )
    if result.failed:
        run.say(f"{label}: {result.failed} failed, first: {result.errors[0]}")
    return seconds, result, SyncRun.objects.get(pk=run_id)


def peak_memory(run, sandbox_url):
    """Peak RSS of a full sync in a child process, for a small and the large catalog."""
    database = database_url()
    if database is None:
        return {"peak_rss_skipped": "needs a database a child process can open "
                                    "(this one is in memory)"}
    small = max(run.sync_products // SMALL_SHARE, 1)
    with sandbox_process("--catalog-size", str(small)) as small_url:
        small_mb = child_sync_peak_mb(run, small_url, SMALL_INTEGRATION, small, database)
    large_mb = child_sync_peak_mb(run, sandbox_url, LARGE_INTEGRATION, run.sync_products,
                                  database)
    return {
        "peak_rss_products_small": small,
        "peak_rss_mb_small": small_mb,
        "peak_rss_products_large": run.sync_products,
        "peak_rss_mb_large": large_mb,
    }


def child_sync_peak_mb(run, sandbox_url, name, products, database):
    """Run a first full sync of `products` in a child process; its peak RSS in MB."""
    integration = bench_integration(run, sandbox_url, name)
    run.say(f"full sync of {products} products in a child process")
    return child_peak_rss_mb(["sync_integration", str(integration.pk), "--full"], database)


# -- shared with the push section ----------------------------------------------------------


def outbound_refusal(url):
    """Why hub.outbound refuses to reach the sandbox at `url`, or None when it does not."""
    try:
        check_url(url)
    except OutboundBlocked as exc:
        return (f"hub.outbound refuses the sandbox: {exc}. The bench's sandboxes take free "
                "ports: run it with OUTBOUND_ALLOWED_HOSTS=127.0.0.1:* (as make bench does).")
    return None


# -- the bench integrations --------------------------------------------------------------


def bench_integration(run, sandbox_url, name):
    integration = create_integration(
        OVSIntegration, name=name, base_url=f"{sandbox_url}/ovs", username=OVS_USERNAME,
        password=OVS_PASSWORD, user=run.user,
    )
    # Beat must not start a sync of it while the bench runs one (or after, with --keep).
    ensure_schedule(integration, enabled=False)
    return integration


def remove_bench_integrations(say):
    names = (BENCH_INTEGRATION, SMALL_INTEGRATION, LARGE_INTEGRATION)
    for integration in OVSIntegration.objects.filter(name__in=names).select_related("supplier"):
        supplier = integration.supplier
        ids = list(supplier.products.values_list("id", flat=True)) if supplier else []
        say(f"removing {integration.name!r} and its {len(ids)} products")
        for start in range(0, len(ids), DELETE_BATCH):
            Product.objects.filter(id__in=ids[start : start + DELETE_BATCH]).delete()
        integration.delete()
        if supplier:
            supplier.delete()

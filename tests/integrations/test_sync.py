import threading
import time
from contextlib import contextmanager

import pytest
import requests
from django.utils import timezone

from catalog.models import Product, Variant
from integrations.models import ImportTask, Integration, OVSIntegration, SyncStatus
from integrations.ovs import client as ovs_client
from integrations.ovs.source import OVSSource
from integrations.services import (
    claim_sync,
    create_integration,
    run_import,
    run_sync,
    sweep_stale_syncs,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def ovs(sandbox, user):
    return create_integration(
        OVSIntegration, name="Sandbox OVS", base_url=sandbox.url_of("ovs"), username="demo",
        password="demo-password", user=user,
    )


def sync(integration, full=False):
    run_id = claim_sync(integration.pk, full=full)
    assert run_id is not None
    result = run_sync(integration.pk, run_id)
    integration.refresh_from_db()
    return result


def control(sandbox, action, **body):
    return requests.post(f"{sandbox.url_of('ovs')}/_sandbox/{action}", json=body, timeout=5)


def test_a_full_sync_brings_every_product_into_the_integrations_supplier(ovs):
    result = sync(ovs, full=True)

    assert ovs.sync_status == SyncStatus.COMPLETED
    assert result.created == 40
    assert Product.objects.filter(supplier=ovs.supplier).count() == 40
    assert ovs.last_sync_stats == {"created": 40, "updated": 0, "unchanged": 0, "failed": 0,
                                   "pages": 1}
    assert (ovs.total_products_synced, ovs.total_products_updated,
            ovs.total_products_skipped) == (40, 0, 0)
    assert ovs.last_successful_sync_at == ovs.last_sync_at
    assert ovs.sync_progress == 100
    assert ovs.last_error_message is None


def test_a_delta_sync_fetches_only_what_changed_since_the_last_success(ovs, sandbox):
    sync(ovs, full=True)
    assert sync(ovs).processed == 0

    touched = control(sandbox, "touch", count=3).json()["touched"]
    result = sync(ovs)

    assert (result.updated, result.created, result.unchanged) == (3, 0, 0)
    assert ovs.last_sync_stats["updated"] == 3
    assert ovs.total_products_synced == 43 and ovs.total_products_updated == 3
    for code in touched:
        assert Product.objects.get(supplier_sku=code).product_name.endswith("(rev 2)")
    assert Product.objects.filter(supplier=ovs.supplier).count() == 40


def test_a_second_full_sync_skips_unchanged_products(ovs):
    sync(ovs, full=True)
    variants = Variant.objects.count()

    result = sync(ovs, full=True)

    assert (result.created, result.updated, result.unchanged) == (0, 0, 40)
    assert ovs.total_products_skipped == 40
    assert Variant.objects.count() == variants


def test_only_one_run_can_hold_the_claim(ovs):
    first = claim_sync(ovs.pk)
    second = claim_sync(ovs.pk)

    assert first is not None and second is None
    run_sync(ovs.pk, first)
    assert claim_sync(ovs.pk) is not None


def test_a_run_that_lost_its_claim_does_nothing(ovs):
    stale = claim_sync(ovs.pk)
    Integration.objects.filter(pk=ovs.pk).update(sync_status=SyncStatus.ERROR)
    claim_sync(ovs.pk)

    assert run_sync(ovs.pk, stale) is None
    assert not Product.objects.exists()


def test_a_failing_page_ends_in_error_and_keeps_what_was_stored(ovs, sandbox, monkeypatch):
    monkeypatch.setattr(OVSSource, "page_size", 15)
    sandbox.fakes["ovs"].set_faults(fail_page=2)

    sync(ovs, full=True)

    assert ovs.sync_status == SyncStatus.ERROR
    assert "500" in ovs.last_error_message
    assert Product.objects.filter(supplier=ovs.supplier).count() == 15
    assert ovs.last_sync_stats["created"] == 15
    assert ovs.last_successful_sync_at is None
    assert ovs.total_products_synced == 15


def test_bad_products_are_reported_and_the_rest_stored(ovs, sandbox):
    sandbox.fakes["ovs"].set_faults(bad_product_codes=["OVS-00003", "OVS-00007"])

    result = sync(ovs, full=True)

    assert ovs.sync_status == SyncStatus.COMPLETED
    assert (result.created, result.failed) == (38, 2)
    assert ovs.last_sync_stats["failed"] == 2
    assert not Product.objects.filter(supplier_sku__in=["OVS-00003", "OVS-00007"]).exists()


def test_rate_limits_and_expired_tokens_are_waited_out(ovs, sandbox, monkeypatch):
    waits = []
    monkeypatch.setattr(ovs_client, "sleep", waits.append)
    sync(ovs, full=True)
    control(sandbox, "touch", count=2)
    control(sandbox, "expire-tokens")
    sandbox.fakes["ovs"].set_faults(rate_limit_next=2, retry_after=3)

    result = sync(ovs)

    assert ovs.sync_status == SyncStatus.COMPLETED
    assert result.updated == 2
    assert waits == [3, 3]


def test_a_malformed_answer_is_an_error_with_a_clear_message(ovs, sandbox):
    sandbox.fakes["ovs"].set_faults(malformed_next=1)

    sync(ovs, full=True)

    assert ovs.sync_status == SyncStatus.ERROR
    assert ovs.last_error_message
    assert "demo-password" not in ovs.last_error_message


def test_wrong_credentials_end_in_error(ovs):
    ovs.password = "wrong"
    ovs.save()

    sync(ovs, full=True)

    assert ovs.sync_status == SyncStatus.ERROR
    assert "credentials" in ovs.last_error_message


def test_the_sweeper_fails_a_run_whose_worker_died(ovs):
    claim_sync(ovs.pk)
    Integration.objects.filter(pk=ovs.pk).update(
        sync_heartbeat_at=timezone.now() - timezone.timedelta(hours=1)
    )

    assert sweep_stale_syncs() == (1, 0)

    ovs.refresh_from_db()
    assert ovs.sync_status == SyncStatus.ERROR
    assert "worker was lost" in ovs.last_error_message
    assert claim_sync(ovs.pk) is not None


def test_an_import_records_what_happened_to_each_code(ovs, user, sandbox):
    sandbox.fakes["ovs"].set_faults(bad_product_codes=["OVS-00004"])
    task = ImportTask.objects.create(
        integration=ovs, owner=user, is_filler=True,
        product_codes=["OVS-00001", "OVS-00002", "NOPE-1", "OVS-00004", "OVS-00001"],
    )

    run_import(task.pk)
    run_import(task.pk)  # a second delivery of the same task does nothing

    task.refresh_from_db()
    assert task.status == ImportTask.Status.SUCCESS
    assert (task.total_items, task.processed_items, task.progress) == (4, 4, 100)
    products = task.result_data["products"]
    assert products["OVS-00001"] == {"status": "created"}
    assert products["NOPE-1"]["status"] == "not_found"
    assert products["OVS-00004"]["status"] == "failed" and products["OVS-00004"]["reason"]
    assert task.result_data["summary"] == {"created": 2, "not_found": 1, "failed": 1}
    fillers = Product.objects.filter(is_filler=True).values_list("supplier_sku", flat=True)
    assert set(fillers) == {"OVS-00001", "OVS-00002"}
    assert task.started_at and task.completed_at


def test_an_import_of_an_unchanged_product_says_so(ovs, user):
    sync(ovs, full=True)
    task = ImportTask.objects.create(integration=ovs, owner=user, product_codes=["OVS-00002"])

    run_import(task.pk)

    task.refresh_from_db()
    assert task.result_data["products"]["OVS-00002"] == {"status": "unchanged"}


def test_an_import_that_cannot_reach_the_source_fails_truthfully(ovs, user, sandbox):
    sandbox.fakes["ovs"].set_faults(fail_next=50)
    task = ImportTask.objects.create(integration=ovs, owner=user, product_codes=["OVS-00002"])

    run_import(task.pk)

    task.refresh_from_db()
    assert task.status == ImportTask.Status.FAILURE
    assert task.error_message


def test_the_command_runs_a_sync_in_the_foreground(ovs):
    from io import StringIO

    from django.core.management import call_command

    out = StringIO()
    call_command("sync_integration", str(ovs.pk), "--full", stdout=out, stderr=StringIO())

    assert "completed; created 40" in out.getvalue()


def test_a_slow_system_times_out_into_a_truthful_error_and_keeps_what_was_stored(
    ovs, sandbox, settings
):
    sync(ovs, full=True)
    settings.OUTBOUND_TIMEOUT = (1.0, 0.2)
    sandbox.fakes["ovs"].set_faults(latency_ms=500)

    sync(ovs, full=True)

    assert ovs.sync_status == SyncStatus.ERROR
    assert ovs.last_error_message
    assert Product.objects.filter(supplier=ovs.supplier).count() == 40
    assert ovs.last_successful_sync_at is not None


def test_an_error_rate_ends_truthfully_either_way(ovs, sandbox):
    sandbox.fakes["ovs"].set_faults(error_rate=0.5)

    sync(ovs, full=True)

    stored = Product.objects.filter(supplier=ovs.supplier).count()
    if ovs.sync_status == SyncStatus.COMPLETED:
        assert stored == 40
    else:
        assert ovs.sync_status == SyncStatus.ERROR and ovs.last_error_message
        assert stored == ovs.last_sync_stats.get("created", 0)


def test_a_product_the_database_cannot_hold_costs_only_itself_on_every_page(
    ovs, sandbox, monkeypatch
):
    monkeypatch.setattr(OVSSource, "page_size", 15)
    sandbox.fakes["ovs"].set_faults(nul_name_codes=["OVS-00002", "OVS-00020"])

    result = sync(ovs, full=True)

    assert ovs.sync_status == SyncStatus.COMPLETED
    assert (result.created, result.updated, result.unchanged, result.failed) == (38, 0, 0, 2)
    assert ovs.last_sync_stats == {"created": 38, "updated": 0, "unchanged": 0, "failed": 2,
                                   "pages": 3}
    assert ovs.sync_processed == 40
    assert sorted(e["supplier_sku"] for e in result.errors) == ["OVS-00002", "OVS-00020"]
    assert all(e["errors"][0]["loc"] == ["product_name"] for e in result.errors)
    assert Product.objects.filter(supplier=ovs.supplier).count() == 38


# -- the sweeper and live syncs ---------------------------------------------------------


@contextmanager
def running_in_a_thread(target, *args):
    """Run target(*args) in a thread (with its own database connection) until the block ends."""
    from django.db import connection

    def run():
        try:
            target(*args)
        finally:
            connection.close()

    thread = threading.Thread(target=run)
    thread.start()
    try:
        yield
    finally:
        thread.join(timeout=60)


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("kind", ["ovs", "printops"])
def test_a_live_sync_waiting_on_a_slow_source_is_never_swept(kind, sandbox, user, settings):
    from django.db import connection

    from integrations.models import PrintOpsIntegration

    if connection.vendor != "postgresql":
        pytest.skip("threads share no in-memory SQLite database")
    settings.SYNC_STALE_AFTER = 2
    if kind == "ovs":
        integration = create_integration(
            OVSIntegration, name="OVS", base_url=sandbox.url_of("ovs"), username="demo",
            password="demo-password", user=user,
        )
    else:
        integration = create_integration(
            PrintOpsIntegration, name="PrintOps", base_url=sandbox.url_of("printops"),
            api_token="demo-printops-token", user=user,
        )
    run_id = claim_sync(integration.pk, full=True)
    # The run waited in the queue for longer than a sync may go without a heartbeat.
    Integration.objects.filter(pk=integration.pk).update(
        sync_heartbeat_at=timezone.now() - timezone.timedelta(hours=1)
    )
    # Every request of the source answers after 5 s: no page is stored for a while.
    sandbox.fakes[kind].set_faults(latency_ms=5000)

    with running_in_a_thread(run_sync, integration.pk, run_id):
        time.sleep(3)  # longer than SYNC_STALE_AFTER, shorter than one request
        swept = sweep_stale_syncs()
        sandbox.fakes[kind].set_faults(latency_ms=0)

    assert swept == (0, 0)
    integration.refresh_from_db()
    assert integration.sync_status == SyncStatus.COMPLETED, integration.last_error_message


def test_the_sweeper_fails_imports_that_never_started(ovs, user):
    stuck = ImportTask.objects.create(integration=ovs, owner=user, product_codes=["OVS-00001"])
    fresh = ImportTask.objects.create(integration=ovs, owner=user, product_codes=["OVS-00002"])
    ImportTask.objects.filter(pk=stuck.pk).update(
        updated_at=timezone.now() - timezone.timedelta(hours=1)
    )

    assert sweep_stale_syncs() == (0, 1)

    stuck.refresh_from_db()
    fresh.refresh_from_db()
    assert (stuck.status, fresh.status) == ("FAILURE", "PENDING")
    assert "never started" in stuck.error_message
    assert run_import(stuck.pk) is None  # a late worker leaves it alone


def test_the_status_of_a_sync_whose_worker_died_is_error_even_with_no_sweeper(ovs, api):
    claim_sync(ovs.pk)
    Integration.objects.filter(pk=ovs.pk).update(
        sync_heartbeat_at=timezone.now() - timezone.timedelta(hours=1)
    )

    body = api.get(f"/api/v1/external-integrations/ovs/{ovs.id}/sync/status").json()

    assert body["sync_status"] == "error"
    assert "worker was lost" in body["last_error_message"]
    ovs.refresh_from_db()
    assert ovs.sync_status == SyncStatus.ERROR


def test_the_progress_of_a_sync_whose_worker_died_shows_it_ended(ovs, api):
    run_id = claim_sync(ovs.pk)
    Integration.objects.filter(pk=ovs.pk).update(
        sync_heartbeat_at=timezone.now() - timezone.timedelta(hours=1)
    )

    body = api.get(f"/api/v1/external-integrations/{ovs.id}/sync/progress").json()

    assert (body["sync_status"], body["run_id"]) == ("error", str(run_id))


def test_the_status_of_a_live_sync_stays_running(ovs, api):
    claim_sync(ovs.pk)

    body = api.get(f"/api/v1/external-integrations/ovs/{ovs.id}/sync/status").json()

    assert body["sync_status"] == "running"

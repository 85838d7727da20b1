"""The run history: a row per sync, written by the sync itself, served by the API."""

import time

import pytest
from django.utils import timezone

from integrations.models import Integration, OVSIntegration, PrintOpsIntegration, SyncRun
from integrations.ovs.source import OVSSource
from integrations.services import claim_sync, create_integration, run_sync, sweep_stale_syncs
from tests.integrations.test_printops_source import TOKEN
from tests.integrations.test_sync import control, sync

pytestmark = pytest.mark.django_db


@pytest.fixture
def ovs(sandbox, people):
    return create_integration(
        OVSIntegration, name="Sandbox OVS", base_url=sandbox.url_of("ovs"), username="demo",
        password="demo-password", user=people["owner"],
    )


def test_every_sync_writes_its_run_with_counts_and_duration(ovs, sandbox):
    sync(ovs, full=True)
    control(sandbox, "touch", count=3)
    sync(ovs)

    latest, first = SyncRun.objects.filter(integration=ovs)
    assert (first.full, first.status, first.created, first.updated, first.skipped) == (
        True, "completed", 40, 0, 0)
    assert (latest.full, latest.status, latest.created, latest.updated) == (
        False, "completed", 0, 3)
    assert first.finished_at >= first.started_at
    assert first.duration.total_seconds() >= 0
    assert first.pages >= 1 and first.error_message is None


def test_a_run_records_where_its_time_went(ovs):
    started = time.perf_counter()
    sync(ovs, full=True)
    elapsed = time.perf_counter() - started

    phases = SyncRun.objects.get(integration=ovs).phase_seconds
    assert set(phases) == {"fetch", "map", "ingest", "publish"}
    assert all(seconds >= 0 for seconds in phases.values())
    # Over real HTTP, reading and storing 40 products take time.
    assert phases["fetch"] > 0 and phases["ingest"] > 0
    # The parts of the run's own time, never more than it took.
    assert sum(phases.values()) <= elapsed


def test_a_failed_run_keeps_its_counts_and_error(ovs, sandbox, monkeypatch):
    monkeypatch.setattr(OVSSource, "page_size", 15)
    sandbox.fakes["ovs"].set_faults(fail_page=2)

    sync(ovs, full=True)

    run = SyncRun.objects.get(integration=ovs)
    assert (run.status, run.created, run.pages) == ("error", 15, 1)
    assert "500" in run.error_message and run.finished_at is not None
    # The time spent until it failed.
    assert run.phase_seconds["fetch"] > 0 and run.phase_seconds["ingest"] > 0


def test_a_running_sync_shows_its_progress_page_by_page(ovs, monkeypatch):
    monkeypatch.setattr(OVSSource, "page_size", 15)
    seen = []
    run_id = claim_sync(ovs.pk, full=True)
    run_sync(ovs.pk, run_id, on_page=lambda result, total: seen.append(
        SyncRun.objects.values_list("status", "created").get(pk=run_id)))

    assert seen == [("running", 15), ("running", 30), ("running", 40)]


def test_the_sweeper_ends_the_run_of_a_dead_worker(ovs):
    run_id = claim_sync(ovs.pk)
    Integration.objects.filter(pk=ovs.pk).update(
        sync_heartbeat_at=timezone.now() - timezone.timedelta(hours=1)
    )

    sweep_stale_syncs()

    run = SyncRun.objects.get(pk=run_id)
    assert run.status == "error" and "worker was lost" in run.error_message


def test_a_printops_sync_writes_its_run_too(sandbox, people):
    printops = create_integration(
        PrintOpsIntegration, name="PrintOps", base_url=sandbox.url_of("printops"),
        api_token=TOKEN, user=people["owner"],
    )
    sync(printops)

    run = SyncRun.objects.get(integration=printops)
    assert run.status == "completed" and run.created > 0
    assert set(run.phase_seconds) == {"fetch", "map", "ingest", "publish"}
    # Publishing includes its wrap-up after the last page (shipping methods read over HTTP).
    assert run.phase_seconds["fetch"] > 0
    assert run.phase_seconds["publish"] > 0


def test_the_api_lists_the_runs_newest_first(ovs, sandbox, as_role):
    sync(ovs, full=True)
    sync(ovs)

    response = as_role("owner").get(f"/api/v1/external-integrations/{ovs.pk}/sync/runs")

    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 2
    newest, oldest = body["data"]
    assert (oldest["full"], oldest["created"], oldest["status"]) == (True, 40, "completed")
    assert (newest["full"], newest["skipped"]) == (False, 0)
    assert set(newest) >= {"started_at", "finished_at", "duration_seconds", "created",
                           "updated", "skipped", "failed", "error_message"}
    assert set(newest["phase_seconds"]) == {"fetch", "map", "ingest", "publish"}
    assert oldest["phase_seconds"]["fetch"] > 0
    assert as_role("other").get(
        f"/api/v1/external-integrations/{ovs.pk}/sync/runs").status_code == 404
    bad = as_role("owner").get(f"/api/v1/external-integrations/{ovs.pk}/sync/runs?limit=0")
    assert bad.status_code == 422 and bad.json()["detail"][0]["loc"] == ["query", "limit"]


def test_the_schema_documents_the_runs(as_role):
    schema = as_role("owner").get("/api/schema/?format=json").json()
    operation = schema["paths"]["/api/v1/external-integrations/{integration_id}/sync/runs"]
    assert "get" in operation
    assert "SyncRun" in schema["components"]["schemas"]

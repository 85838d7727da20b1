"""Syncs and imports end to end: API → Redis → a real worker → the sandbox over HTTP."""

import pytest

from catalog.models import Product
from integrations.models import ImportTask, Integration, OVSIntegration, SyncStatus
from integrations.services import create_integration
from tests.worker import running_worker, wait_for

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.worker]


@pytest.fixture
def ovs(sandbox, user):
    return create_integration(
        OVSIntegration, name="Sandbox OVS", base_url=sandbox.url_of("ovs"), username="demo",
        password="demo-password", user=user,
    )


def test_a_triggered_sync_runs_on_a_worker_and_completes(api, ovs, sandbox):
    with running_worker():
        response = api.post(f"/api/v1/external-integrations/ovs/{ovs.id}/sync?full=true")
        assert response.status_code == 202
        assert response.json()["status"] == "queued"

        def finished():
            """the sync to finish"""
            return Integration.objects.get(pk=ovs.pk).sync_status != SyncStatus.RUNNING

        wait_for(finished)

    status = api.get(f"/api/v1/external-integrations/ovs/{ovs.id}/sync/status").json()
    assert status["sync_status"] == "completed"
    assert status["total_products_synced"] == 40
    assert status["last_sync_stats"]["created"] == 40
    assert Product.objects.filter(supplier=ovs.supplier).count() == 40


def test_an_import_runs_on_a_worker_and_reports_each_code(api, ovs):
    with running_worker():
        response = api.post(
            f"/api/v1/external-integrations/{ovs.id}/import-products",
            {"product_codes": ["OVS-00001", "OVS-00002", "MISSING"], "is_filler": True},
            format="json",
        )
        assert response.status_code == 202
        task_id = response.json()["id"]

        def finished():
            """the import to finish"""
            return ImportTask.objects.get(pk=task_id).status in ("SUCCESS", "FAILURE")

        wait_for(finished)

    task = api.get(f"/api/v1/external-integrations/{ovs.id}/import-tasks/{task_id}").json()
    assert task["status"] == "SUCCESS"
    assert task["progress"] == 100
    assert task["result_data"]["products"]["MISSING"]["status"] == "not_found"
    assert Product.objects.filter(is_filler=True).count() == 2

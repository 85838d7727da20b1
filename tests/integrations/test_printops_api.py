"""The external integrations API for PrintOps (type `printops`), against the sandbox's
PrintOps fake over real HTTP: credentials checked on save, webhooks registered, syncs and
imports."""

import pytest
import requests
from django.db import connection
from django.test.utils import CaptureQueriesContext

from catalog.models import Supplier
from integrations.api import serializers as integration_serializers
from integrations.models import ImportTask, Integration, OMSIntegration, PrintOpsIntegration
from integrations.services import create_integration
from pushes.models import Customer
from tests.conftest import client_for

pytestmark = pytest.mark.django_db

BASE = "/api/v1/external-integrations/"
TOKEN = "demo-printops-token"
HUB = "https://hub.example.com"
PUBLIC_FIELDS = {
    "id", "created_at", "updated_at", "name", "integration_type", "user_id",
    "organization_id", "base_url", "webhook_url",
}
WEBHOOK_TYPES = ["order_shipment", "order_state_update"]


@pytest.fixture(autouse=True)
def public_url(settings):
    settings.HUB_PUBLIC_URL = HUB


@pytest.fixture
def base_url(sandbox):
    return sandbox.url_of("printops")


@pytest.fixture
def printops(user, base_url):
    """A PrintOps integration of `user`, made without the API (no webhooks registered)."""
    return create_integration(
        PrintOpsIntegration, name="PrintOps", base_url=base_url, api_token=TOKEN, user=user
    )


def valid_create_body(base_url, **changes):
    return {"name": "PrintOps", "base_url": base_url, "api_token": TOKEN, **changes}


def error(response):
    assert response.status_code == 422, response.content
    [only] = response.json()["detail"]
    return only


def fake_state(base_url):
    return requests.get(f"{base_url}/_sandbox/state", timeout=5).json()


def requests_to(base_url):
    """The API requests the fake was sent (its own control requests left out)."""
    log = requests.get(f"{base_url}/_sandbox/requests", timeout=5).json()
    return [entry for entry in log if not entry["path"].startswith("/_sandbox")]


def endpoint_of(integration):
    return f"{HUB}/webhooks/printops/{integration.webhook_secret}"


# -- create ----------------------------------------------------------------------------


def test_creating_with_a_token_printops_takes_makes_a_source_and_registers_its_webhooks(
    api, user, base_url
):
    response = api.post(BASE + "printops", valid_create_body(base_url), format="json")

    assert response.status_code == 200, response.content
    body = response.json()
    assert set(body) == PUBLIC_FIELDS
    assert (body["integration_type"], body["user_id"], body["base_url"]) == (
        "printops", str(user.pk), base_url
    )
    integration = PrintOpsIntegration.objects.get(pk=body["id"])
    assert integration.api_token == TOKEN
    assert body["webhook_url"] == endpoint_of(integration)
    # A source: its products land in its own supplier, and it syncs on a schedule.
    assert integration.supplier.name == "PrintOps"
    assert integration.schedule is not None
    webhooks = fake_state(base_url)["webhooks"]
    assert sorted(webhook["type"] for webhook in webhooks) == WEBHOOK_TYPES
    assert {webhook["is_active"] for webhook in webhooks} == {True}


def test_a_token_printops_refuses_is_422_at_the_token_and_nothing_is_saved(api, base_url):
    response = api.post(BASE + "printops", valid_create_body(base_url, api_token="wrong"),
                        format="json")

    assert error(response)["loc"] == ["body", "api_token"]
    assert error(response)["msg"] == "PrintOps refused the API token"
    assert not Integration.objects.exists() and not Supplier.objects.exists()
    assert fake_state(base_url)["webhooks"] == []


@pytest.mark.parametrize("where", ["closed port", "no PrintOps there"])
def test_a_base_url_where_printops_cannot_be_reached_is_422_at_the_base_url(
    api, sandbox, where
):
    base_url = "http://127.0.0.1:9" if where == "closed port" else sandbox.url_of("nothing")

    response = api.post(BASE + "printops", valid_create_body(base_url), format="json")

    assert error(response)["loc"] == ["body", "base_url"]
    assert not Integration.objects.exists() and not Supplier.objects.exists()


def test_invalid_input_is_422_before_printops_is_asked(api, base_url):
    response = api.post(BASE + "printops", {"name": "PrintOps", "base_url": "printops.example"},
                        format="json")

    assert sorted(e["loc"] for e in response.json()["detail"]) == [
        ["body", "api_token"], ["body", "base_url"]
    ]
    assert requests_to(base_url) == []


def test_the_integration_is_kept_when_its_webhooks_cannot_be_registered(
    api, base_url, monkeypatch
):
    def fail(integration):
        raise integration_serializers.SourceError("PrintOps answered 500")

    monkeypatch.setattr(integration_serializers, "register_webhooks", fail)

    response = api.post(BASE + "printops", valid_create_body(base_url), format="json")

    assert response.status_code == 200, response.content
    assert PrintOpsIntegration.objects.filter(pk=response.json()["id"]).exists()


# -- list, get, update, delete ----------------------------------------------------------


def test_the_printops_list_and_one_integration_show_their_settings(api, user, printops):
    OMSIntegration.objects.create(name="Orders", user=user, base_url="https://oms.example.com",
                                  api_token="t", store_id="1")

    listed = api.get(BASE + "printops").json()
    one = api.get(f"{BASE}{printops.id}").json()

    assert listed["count"] == 1 and listed["data"][0] == one
    assert set(one) == PUBLIC_FIELDS
    assert (one["name"], one["integration_type"], one["webhook_url"]) == (
        "PrintOps", "printops", endpoint_of(printops)
    )


def test_the_printops_list_takes_the_same_number_of_queries_however_long(
    api, user, base_url, printops
):
    def queries():
        with CaptureQueriesContext(connection) as captured:
            assert api.get(BASE + "printops").status_code == 200
        return len(captured)

    few = queries()
    for n in range(3):
        create_integration(PrintOpsIntegration, name=f"More {n}", base_url=base_url,
                           api_token=TOKEN, user=user)

    assert queries() == few


def test_a_rename_changes_the_schedule_and_asks_printops_nothing(api, base_url, printops):
    response = api.put(f"{BASE}printops/{printops.id}",
                       {"name": "Posters", "base_url": None, "api_token": None}, format="json")

    assert response.status_code == 200, response.content
    assert (response.json()["name"], response.json()["base_url"]) == ("Posters", base_url)
    printops.refresh_from_db()
    assert printops.api_token == TOKEN
    assert printops.schedule.name.startswith("Sync Posters")
    assert requests_to(base_url) == []


def test_a_new_token_is_checked_and_then_the_webhooks_are_registered(api, base_url, printops):
    refused = api.put(f"{BASE}printops/{printops.id}", {"api_token": "wrong"}, format="json")
    assert error(refused)["loc"] == ["body", "api_token"]
    printops.refresh_from_db()
    assert printops.api_token == TOKEN
    assert fake_state(base_url)["webhooks"] == []

    # The token as stored is no change: PrintOps is not asked.
    same = api.put(f"{BASE}printops/{printops.id}", {"api_token": TOKEN}, format="json")
    assert same.status_code == 200, same.content
    assert len(requests_to(base_url)) == 1

    moved = api.put(f"{BASE}printops/{printops.id}",
                    {"base_url": base_url + "/", "api_token": TOKEN}, format="json")
    assert moved.status_code == 200, moved.content
    assert len(fake_state(base_url)["webhooks"]) == 2


def test_a_base_url_printops_is_not_at_is_422_at_the_base_url(api, sandbox, printops):
    response = api.put(f"{BASE}printops/{printops.id}",
                       {"base_url": sandbox.url_of("nothing"), "api_token": TOKEN},
                       format="json")

    assert error(response)["loc"] == ["body", "base_url"]
    printops.refresh_from_db()
    assert printops.base_url == sandbox.url_of("printops")


def test_deleting_keeps_the_supplier(api, printops):
    response = api.delete(f"{BASE}{printops.id}")

    assert response.status_code == 200
    assert not Integration.objects.exists()
    assert Supplier.objects.filter(pk=printops.supplier_id).exists()


def test_a_customer_storefront_is_not_deleted(api, printops):
    Customer.objects.create(name="Poster shop", storefront=printops)

    response = api.delete(f"{BASE}{printops.id}")

    assert response.status_code == 409
    assert "storefront" in response.json()["detail"]
    assert PrintOpsIntegration.objects.filter(pk=printops.pk).exists()


def test_another_type_on_the_printops_endpoints_is_404(api, user):
    oms = OMSIntegration.objects.create(name="Orders", user=user,
                                        base_url="https://oms.example.com", api_token="t",
                                        store_id="1")

    assert api.put(f"{BASE}printops/{oms.id}", {"name": "x"}, format="json").status_code == 404
    assert api.post(f"{BASE}printops/{oms.id}/sync").status_code == 404


def test_only_those_who_may_open_it_reach_it_and_its_webhook_url(
    printops, django_user_model
):
    stranger = client_for(django_user_model.objects.create_user("stranger"))

    responses = [
        stranger.get(f"{BASE}{printops.id}"),
        stranger.put(f"{BASE}printops/{printops.id}", {"name": "x"}, format="json"),
        stranger.get(f"{BASE}printops/{printops.id}/sync/status"),
    ]

    assert [response.status_code for response in responses] == [404, 404, 404]
    assert stranger.get(BASE + "printops").json()["data"] == []
    for response in responses:
        assert printops.webhook_secret.encode() not in response.content


# -- no token in any response ----------------------------------------------------------


def test_no_response_shows_the_token(api, base_url):
    created = api.post(BASE + "printops", valid_create_body(base_url), format="json")
    integration_id = created.json()["id"]
    responses = [
        created,
        api.post(BASE + "printops", valid_create_body(base_url, api_token=TOKEN + "x"),
                 format="json"),
        api.get(BASE),
        api.get(BASE + "printops"),
        api.get(f"{BASE}{integration_id}"),
        api.put(f"{BASE}printops/{integration_id}", {"name": "Renamed", "api_token": TOKEN},
                format="json"),
        api.get(f"{BASE}printops/{integration_id}/sync/status"),
        api.delete(f"{BASE}{integration_id}"),
    ]

    for response in responses:
        assert response.status_code < 500
        assert TOKEN.encode() not in response.content


# -- sync and import -------------------------------------------------------------------


def test_a_triggered_sync_brings_the_printops_products_into_the_catalog(
    api, printops, eager_tasks, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post(f"{BASE}printops/{printops.id}/sync")
    status = api.get(f"{BASE}printops/{printops.id}/sync/status").json()
    products = api.get(f"/api/products?supplier_id={printops.supplier_id}").json()

    assert response.status_code == 202
    assert response.json()["status"] == "queued"
    assert status["sync_status"] == "completed", status["last_error_message"]
    assert status["total_products_synced"] == len(products) > 0
    assert all(item["supplier_sku"].startswith("printops-category-") for item in products)


def test_a_sync_while_one_runs_is_409(api, printops):
    Integration.objects.filter(pk=printops.pk).update(sync_status="running")

    assert api.post(f"{BASE}printops/{printops.id}/sync").status_code == 409


def test_products_are_imported_by_their_keys(
    api, printops, eager_tasks, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post(
            f"{BASE}{printops.id}/import-products",
            {"product_codes": ["printops-category-1", "printops-category-999"]}, format="json",
        )
    assert response.status_code == 202, response.content
    task = api.get(f"{BASE}{printops.id}/import-tasks/{response.json()['id']}").json()

    assert task["status"] == "SUCCESS", task["error_message"]
    assert task["result_data"]["products"]["printops-category-1"]["status"] == "created"
    assert task["result_data"]["products"]["printops-category-999"]["status"] == "not_found"
    assert [item["supplier_sku"] for item in api.get(
        f"/api/products?supplier_id={printops.supplier_id}"
    ).json()] == ["printops-category-1"]
    assert ImportTask.objects.count() == 1

import uuid
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django_celery_beat.models import PeriodicTask

from catalog.models import Product, Supplier
from integrations.models import (
    ImportTask,
    Integration,
    OMSIntegration,
    Organization,
    OVSIntegration,
)
from integrations.services import claim_sync, create_integration
from tests.conftest import client_for

pytestmark = pytest.mark.django_db

BASE = "/api/v1/external-integrations/"
PASSWORD = "s3cret-password"
API_KEY = "k3y-123"
TOKEN = "st0red-t0ken-xyz"
SYNC_STATUS_KEYS = {
    "integration_id", "sync_status", "last_sync_at", "last_successful_sync_at",
    "total_products_synced", "total_products_updated", "total_products_skipped",
    "last_sync_stats", "last_error_message",
}
IMPORT_TASK_KEYS = {
    "id", "owner_id", "integration_id", "status", "progress", "total_items",
    "processed_items", "product_codes_count", "is_filler", "result_data", "error_message",
    "started_at", "completed_at", "created_at", "updated_at",
}


# -- people, organizations, integrations ------------------------------------------------


@pytest.fixture
def other_organization(db):
    return Organization.objects.create(name="Elsewhere")


def make_integration(user, *, name="Production", organization=None, **fields):
    values = {
        "base_url": "https://ovs.example.com/api", "username": "api_user",
        "password": PASSWORD, "push_service_api_key": API_KEY,
        "push_service_base_url": "https://upload.example.com/stage", **fields,
    }
    return create_integration(
        OVSIntegration, name=name, user=user, organization=organization, **values
    )


@pytest.fixture
def integrations(people, organization):
    """A personal integration of the owner, and one of the owner's organization."""
    personal = make_integration(people["owner"], name="Personal")
    shared = make_integration(people["owner"], name="Shared", organization=organization)
    for integration in (personal, shared):
        ImportTask.objects.create(
            integration=integration, owner=people["owner"], product_codes=["OVS-00001"]
        )
    return {"personal": personal, "organization": shared}


def valid_create_body(**changes):
    body = {
        "name": "Production OVS", "base_url": "https://ovs.example.com/api",
        "username": "api_user", "password": PASSWORD, "push_service_api_key": API_KEY,
        "push_service_base_url": "https://upload.example.com/stage", "push_products": True,
    }
    body.update(changes)
    return {key: value for key, value in body.items() if value is not ...}


# -- the permission matrix --------------------------------------------------------------

SINGLE_ENDPOINTS = {
    "get": ("get", "{id}", None, 200),
    "put": ("put", "ovs/{id}", {"name": "Renamed"}, 200),
    "delete": ("delete", "{id}", None, 200),
    "sync": ("post", "ovs/{id}/sync", None, 202),
    "sync status": ("get", "ovs/{id}/sync/status", None, 200),
    "import products": ("post", "{id}/import-products", {"product_codes": ["OVS-00002"]}, 202),
    "import tasks": ("get", "{id}/import-tasks", None, 200),
    "import task": ("get", "{id}/import-tasks/{task_id}", None, 200),
}
ACCESS = [
    ("owner", "personal", True),
    ("member", "personal", False),
    ("other", "personal", False),
    ("superuser", "personal", True),
    ("owner", "organization", True),
    ("member", "organization", True),
    ("other", "organization", False),
    ("superuser", "organization", True),
]


def path_of(template, integration):
    task = integration.import_tasks.first()
    return BASE + template.format(id=integration.id, task_id=task.id if task else "")


@pytest.mark.parametrize("endpoint", SINGLE_ENDPOINTS)
@pytest.mark.parametrize("role, target, allowed", ACCESS)
def test_a_single_integration_is_reached_only_by_those_who_may_open_it(
    as_role, integrations, endpoint, role, target, allowed
):
    method, template, body, success = SINGLE_ENDPOINTS[endpoint]
    integration = integrations[target]

    response = getattr(as_role(role), method)(
        path_of(template, integration), body, format="json"
    )

    if allowed:
        assert response.status_code == success, response.content
    else:
        assert response.status_code == 404
        assert response.json() == {"detail": "Integration not found"}
        assert Integration.objects.filter(pk=integration.pk, name=integration.name).exists()


@pytest.mark.parametrize("endpoint", SINGLE_ENDPOINTS)
def test_an_organization_member_may_name_the_organization_on_any_endpoint(
    as_role, integrations, organization, endpoint
):
    method, template, body, success = SINGLE_ENDPOINTS[endpoint]
    path = path_of(template, integrations["organization"]) + f"?organization_id={organization.id}"

    response = getattr(as_role("member"), method)(path, body, format="json")

    assert response.status_code == success, response.content


@pytest.mark.parametrize("endpoint", SINGLE_ENDPOINTS)
def test_naming_an_organization_one_is_not_a_member_of_is_403_on_any_endpoint(
    as_role, integrations, other_organization, endpoint
):
    method, template, body, _ = SINGLE_ENDPOINTS[endpoint]
    path = path_of(template, integrations["personal"]) + f"?organization_id={other_organization.id}"

    response = getattr(as_role("owner"), method)(path, body, format="json")

    assert response.status_code == 403
    assert response.json() == {"detail": "Not a member of this organization"}


@pytest.mark.parametrize("endpoint", SINGLE_ENDPOINTS)
def test_every_endpoint_needs_a_token(anonymous_api, integrations, endpoint):
    method, template, body, _ = SINGLE_ENDPOINTS[endpoint]

    response = getattr(anonymous_api, method)(
        path_of(template, integrations["personal"]), body, format="json"
    )

    assert response.status_code == 401


@pytest.mark.parametrize("method, path", [
    ("get", ""), ("get", "ovs"), ("post", "ovs"),
])
def test_the_lists_and_create_need_a_token(anonymous_api, method, path):
    response = getattr(anonymous_api, method)(BASE + path, valid_create_body(), format="json")

    assert response.status_code == 401


@pytest.mark.parametrize("endpoint", ["get", "delete", "import products", "import tasks"])
@pytest.mark.parametrize("bad_id", ["not-a-uuid", "6f1c2a8e-0000-4000-8000-000000000000"])
def test_a_malformed_or_unknown_integration_id_is_404(api, endpoint, bad_id):
    method, template, body, _ = SINGLE_ENDPOINTS[endpoint]

    response = getattr(api, method)(
        BASE + template.format(id=bad_id, task_id=uuid.uuid4()), body, format="json"
    )

    assert response.status_code == 404
    assert response.json() == {"detail": "Integration not found"}


@pytest.mark.parametrize("path", ["", "ovs"])
@pytest.mark.parametrize("role, in_organization, expected", [
    ("owner", False, {"Personal"}),
    ("owner", True, {"Shared"}),
    ("member", False, set()),
    ("member", True, {"Shared"}),
    ("other", False, set()),
    ("other", True, 403),
    ("superuser", False, {"Personal", "Shared"}),
    ("superuser", True, {"Shared"}),
])
def test_lists_show_personal_integrations_or_the_named_organizations(
    as_role, integrations, organization, path, role, in_organization, expected
):
    query = f"?organization_id={organization.id}" if in_organization else ""

    response = as_role(role).get(BASE + path + query)

    if expected == 403:
        assert response.status_code == 403
        assert response.json() == {"detail": "Not a member of this organization"}
    else:
        assert response.status_code == 200
        body = response.json()
        assert {item["name"] for item in body["data"]} == expected
        assert body["count"] == len(expected)


@pytest.mark.parametrize("role, organization_in, given_user, expected", [
    ("owner", None, None, 200),
    ("owner", "body", None, 200),
    ("member", "query", None, 200),
    ("other", "body", None, 403),
    ("other", "query", None, 403),
    ("superuser", "body", None, 200),
    ("owner", None, "other", 403),
    ("owner", None, "owner", 200),
    ("superuser", None, "other", 200),
    ("superuser", "query", "member", 200),
])
def test_who_may_create_for_an_organization_or_for_another_user(
    people, as_role, organization, role, organization_in, given_user, expected
):
    body = valid_create_body()
    path = BASE + "ovs"
    if organization_in == "body":
        body["organization_id"] = str(organization.id)
    elif organization_in == "query":
        path += f"?organization_id={organization.id}"
    if given_user:
        body["user_id"] = str(people[given_user].pk)

    response = as_role(role).post(path, body, format="json")

    assert response.status_code == expected, response.content
    if expected == 403:
        assert not OVSIntegration.objects.exists()
        return
    created = response.json()
    assert created["user_id"] == str(people[given_user or role].pk)
    assert created["organization_id"] == (str(organization.id) if organization_in else None)


# -- create -----------------------------------------------------------------------------


def test_creating_an_integration_answers_its_public_fields_and_sets_it_up(api, user):
    response = api.post(BASE + "ovs", valid_create_body(), format="json")

    assert response.status_code == 200
    body = response.json()
    assert set(body) == {
        "id", "created_at", "updated_at", "name", "integration_type", "user_id",
        "organization_id", "base_url", "username", "push_service_base_url", "push_products",
    }
    assert body["integration_type"] == "ovs"
    assert body["user_id"] == str(user.pk)
    assert body["push_products"] is True
    integration = OVSIntegration.objects.get(pk=body["id"])
    assert integration.password == PASSWORD
    assert integration.push_service_api_key == API_KEY
    assert integration.supplier is not None
    assert integration.schedule.name == f"Sync Production OVS ({integration.id})"


def test_only_the_required_fields_are_needed_to_create(api):
    body = {"name": "Minimal", "base_url": "http://ovs.example.com", "username": "u",
            "password": "p"}

    response = api.post(BASE + "ovs", body, format="json")

    assert response.status_code == 200
    assert response.json()["push_products"] is False
    assert response.json()["push_service_base_url"] is None


def test_an_unknown_organization_or_user_on_create_is_422(as_role):
    superuser = as_role("superuser")

    unknown_org = api_body_error(superuser, valid_create_body(organization_id=str(uuid.uuid4())))
    unknown_user = api_body_error(superuser, valid_create_body(user_id=str(uuid.uuid4())))

    assert unknown_org["loc"] == ["body", "organization_id"]
    assert unknown_org["msg"] == "Organization not found"
    assert unknown_user["loc"] == ["body", "user_id"]
    assert unknown_user["msg"] == "User not found"


def api_body_error(client, body):
    response = client.post(BASE + "ovs", body, format="json")
    assert response.status_code == 422, response.content
    return response.json()["detail"][0]


# -- 422s -------------------------------------------------------------------------------


@pytest.mark.parametrize("field", ["name", "base_url", "username", "password"])
def test_a_missing_required_field_is_422_at_that_field(api, field):
    response = api.post(BASE + "ovs", valid_create_body(**{field: ...}), format="json")

    assert response.status_code == 422
    assert response.json()["detail"] == [
        {"loc": ["body", field], "msg": "This field is required.", "type": "required"}
    ]


@pytest.mark.parametrize("field, too_long", [
    ("name", "n" * 256),
    ("base_url", "https://ovs.example.com/" + "a" * 232),
    ("username", "u" * 256),
    ("password", "p" * 256),
    ("push_service_base_url", "https://upload.example.com/" + "a" * 474),
    ("push_service_api_key", "k" * 501),
])
@pytest.mark.parametrize("method", ["create", "update"])
def test_a_too_long_field_is_422_at_that_field(api, user, field, too_long, method):
    if method == "create":
        response = api.post(BASE + "ovs", valid_create_body(**{field: too_long}), format="json")
    else:
        integration = make_integration(user)
        response = api.put(f"{BASE}ovs/{integration.id}", {field: too_long}, format="json")

    assert response.status_code == 422
    errors = response.json()["detail"]
    assert {tuple(error["loc"]) for error in errors} == {("body", field)}
    assert "max_length" in {error["type"] for error in errors}


@pytest.mark.parametrize("field", ["base_url", "push_service_base_url"])
@pytest.mark.parametrize("bad_url", [
    "ovs.example.com", "ftp://ovs.example.com", "javascript:alert(1)", "http://", "",
])
@pytest.mark.parametrize("method", ["create", "update"])
def test_a_url_that_is_not_http_or_https_is_422(api, user, field, bad_url, method):
    if method == "create":
        response = api.post(BASE + "ovs", valid_create_body(**{field: bad_url}), format="json")
    else:
        integration = make_integration(user)
        response = api.put(f"{BASE}ovs/{integration.id}", {field: bad_url}, format="json")

    assert response.status_code == 422
    assert [error["loc"] for error in response.json()["detail"]] == [["body", field]]


@pytest.mark.parametrize("body, loc", [
    ({"product_codes": []}, ["body", "product_codes"]),
    ({"product_codes": [f"C-{n}" for n in range(1001)]}, ["body", "product_codes"]),
    ({}, ["body", "product_codes"]),
    ({"product_codes": "OVS-00001"}, ["body", "product_codes"]),
    ({"product_codes": ["OVS-00001", ""]}, ["body", "product_codes", 1]),
    ({"product_codes": ["  "]}, ["body", "product_codes", 0]),
    ({"product_codes": ["c" * 256]}, ["body", "product_codes", 0]),
    ({"product_codes": [123]}, ["body", "product_codes", 0]),
    ({"product_codes": [None]}, ["body", "product_codes", 0]),
    ({"product_codes": ["OVS-00001"], "is_filler": "perhaps"}, ["body", "is_filler"]),
])
def test_an_invalid_import_request_is_422_and_creates_no_task(api, user, body, loc):
    integration = make_integration(user)

    response = api.post(f"{BASE}{integration.id}/import-products", body, format="json")

    assert response.status_code == 422
    assert [error["loc"] for error in response.json()["detail"]] == [loc]
    assert not ImportTask.objects.exists()


def test_a_thousand_product_codes_are_accepted(api, user):
    integration = make_integration(user)
    codes = [f"C-{n}" for n in range(1000)]

    response = api.post(
        f"{BASE}{integration.id}/import-products", {"product_codes": codes}, format="json"
    )

    assert response.status_code == 202
    assert response.json()["product_codes_count"] == 1000


@pytest.mark.parametrize("path, query, loc", [
    ("{id}/import-tasks", "status=DONE", ["query", "status"]),
    ("{id}/import-tasks", "limit=0", ["query", "limit"]),
    ("{id}/import-tasks", "skip=-1", ["query", "skip"]),
    ("", "integration_type=sap", ["query", "integration_type"]),
    ("", "organization_id=acme", ["query", "organization_id"]),
    ("ovs", "limit=many", ["query", "limit"]),
    ("{id}", "organization_id=acme", ["query", "organization_id"]),
])
def test_a_bad_query_parameter_is_422_at_that_parameter(api, user, path, query, loc):
    integration = make_integration(user)

    response = api.get(BASE + path.format(id=integration.id) + "?" + query)

    assert response.status_code == 422
    assert [error["loc"] for error in response.json()["detail"]] == [loc]


def test_a_bad_full_flag_on_a_sync_trigger_is_422_and_claims_nothing(api, user):
    integration = make_integration(user)

    response = api.post(f"{BASE}ovs/{integration.id}/sync?full=maybe")

    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["query", "full"]
    integration.refresh_from_db()
    assert integration.sync_status == "idle"


def test_an_unknown_organization_in_the_query_is_422(as_role, integrations):
    response = as_role("superuser").get(f"{BASE}?organization_id={uuid.uuid4()}")

    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["query", "organization_id"]


def test_the_integration_type_filter_keeps_that_type(api, user):
    make_integration(user)

    assert api.get(BASE + "?integration_type=ovs").json()["count"] == 1


# -- no secret in any response ----------------------------------------------------------


def test_no_response_of_any_endpoint_shows_a_secret(api):
    created = api.post(BASE + "ovs", valid_create_body(), format="json")
    integration_id = created.json()["id"]
    OVSIntegration.objects.filter(pk=integration_id).update(token=TOKEN)
    imported = api.post(
        f"{BASE}{integration_id}/import-products", {"product_codes": ["OVS-00001"]},
        format="json",
    )
    task_id = imported.json()["id"]
    responses = [
        created, imported,
        api.get(BASE),
        api.get(BASE + "ovs"),
        api.get(f"{BASE}{integration_id}"),
        api.put(f"{BASE}ovs/{integration_id}", {"name": "Renamed", "password": PASSWORD,
                                                 "push_service_api_key": API_KEY},
                format="json"),
        api.post(f"{BASE}ovs/{integration_id}/sync"),
        api.get(f"{BASE}ovs/{integration_id}/sync/status"),
        api.get(f"{BASE}{integration_id}/import-tasks"),
        api.get(f"{BASE}{integration_id}/import-tasks/{task_id}"),
        api.post(BASE + "ovs", valid_create_body(name="x" * 300), format="json"),
        api.delete(f"{BASE}{integration_id}"),
    ]

    for response in responses:
        assert response.status_code < 500
        for secret in (PASSWORD, API_KEY, TOKEN, "token"):
            assert secret.encode() not in response.content, response.content


# -- update -----------------------------------------------------------------------------


def test_an_update_changes_only_the_fields_given(api, user):
    integration = make_integration(user)

    response = api.put(
        f"{BASE}ovs/{integration.id}", {"name": "Renamed", "push_products": True},
        format="json",
    )

    assert response.status_code == 200
    assert response.json()["name"] == "Renamed"
    assert response.json()["push_products"] is True
    assert response.json()["username"] == "api_user"
    integration.refresh_from_db()
    assert integration.password == PASSWORD
    assert integration.push_service_api_key == API_KEY


def test_null_leaves_a_field_as_it_is_but_clears_the_push_service_url(api, user):
    integration = make_integration(user)

    response = api.put(
        f"{BASE}ovs/{integration.id}",
        {"name": None, "password": None, "push_service_api_key": None,
         "push_service_base_url": None},
        format="json",
    )

    assert response.status_code == 200
    integration.refresh_from_db()
    assert integration.name == "Production"
    assert integration.password == PASSWORD
    assert integration.push_service_api_key == API_KEY
    assert integration.push_service_base_url is None


def test_secrets_are_replaced_when_given(api, user):
    integration = make_integration(user)

    api.put(f"{BASE}ovs/{integration.id}",
            {"password": "new-password", "push_service_api_key": "new-key"}, format="json")

    integration.refresh_from_db()
    assert integration.password == "new-password"
    assert integration.push_service_api_key == "new-key"


def test_new_connection_settings_drop_the_stored_token(api, user):
    integration = make_integration(user)
    OVSIntegration.objects.filter(pk=integration.pk).update(
        token=TOKEN, token_expires_at=timezone.now() + timedelta(hours=1)
    )

    api.put(f"{BASE}ovs/{integration.id}",
            {"base_url": "https://other.example.com", "password": "new-password"},
            format="json")

    integration.refresh_from_db()
    assert integration.token is None and integration.token_expires_at is None


def test_a_rename_renames_the_scheduled_sync(api, user):
    integration = make_integration(user)

    api.put(f"{BASE}ovs/{integration.id}", {"name": "Renamed"}, format="json")

    assert PeriodicTask.objects.get(pk=integration.schedule_id).name == (
        f"Sync Renamed ({integration.id})"
    )


@pytest.mark.parametrize("role, expected", [("owner", 403), ("superuser", 200)])
def test_only_superusers_transfer_an_integration_to_another_user(
    people, as_role, integrations, role, expected
):
    integration = integrations["personal"]

    response = as_role(role).put(
        f"{BASE}ovs/{integration.id}", {"user_id": str(people["other"].pk)}, format="json"
    )

    assert response.status_code == expected
    integration.refresh_from_db()
    if expected == 403:
        assert response.json() == {
            "detail": "Only superusers may transfer integrations to another user"
        }
        assert integration.user == people["owner"]
    else:
        assert integration.user == people["other"]


def test_giving_the_current_owner_again_is_not_a_transfer(people, as_role, integrations):
    integration = integrations["personal"]

    response = as_role("owner").put(
        f"{BASE}ovs/{integration.id}", {"user_id": str(people["owner"].pk)}, format="json"
    )

    assert response.status_code == 200


def test_transferring_to_an_unknown_user_is_422(as_role, integrations):
    response = as_role("superuser").put(
        f"{BASE}ovs/{integrations['personal'].id}", {"user_id": str(uuid.uuid4())},
        format="json",
    )

    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "user_id"]


@pytest.mark.parametrize("role, target, expected", [
    ("owner", "organization", 200),
    ("owner", "other_organization", 403),
    ("superuser", "other_organization", 200),
])
def test_an_integration_moves_only_into_an_organization_the_caller_belongs_to(
    as_role, integrations, organization, other_organization, role, target, expected
):
    destination = {"organization": organization, "other_organization": other_organization}
    integration = integrations["personal"]

    response = as_role(role).put(
        f"{BASE}ovs/{integration.id}",
        {"organization_id": str(destination[target].id)}, format="json",
    )

    assert response.status_code == expected
    integration.refresh_from_db()
    if expected == 200:
        assert integration.organization == destination[target]
    else:
        assert response.json() == {"detail": "Not a member of this organization"}
        assert integration.organization is None


def test_a_null_organization_makes_the_integration_personal(as_role, integrations):
    integration = integrations["organization"]

    response = as_role("owner").put(
        f"{BASE}ovs/{integration.id}", {"organization_id": None}, format="json"
    )

    assert response.status_code == 200
    assert response.json()["organization_id"] is None


# -- delete -----------------------------------------------------------------------------


def test_deleting_an_integration_keeps_its_supplier_and_products(api, user):
    integration = make_integration(user)
    Product.objects.create(
        supplier=integration.supplier, supplier_sku="OVS-00001", product_name="Tee",
        product_type="apparel",
    )
    schedule_id = integration.schedule_id

    response = api.delete(f"{BASE}{integration.id}")

    assert response.status_code == 200
    assert response.json() == {"message": "Integration deleted"}
    assert not Integration.objects.exists()
    assert not PeriodicTask.objects.filter(pk=schedule_id).exists()
    assert Supplier.objects.filter(pk=integration.supplier_id).exists()
    assert Product.objects.filter(supplier_id=integration.supplier_id).count() == 1


# -- syncs ------------------------------------------------------------------------------


def test_a_sync_trigger_claims_the_sync_and_answers_202(api, user):
    integration = make_integration(user)

    response = api.post(f"{BASE}ovs/{integration.id}/sync")

    assert response.status_code == 202
    assert response.json() == {
        "message": "Delta sync queued", "integration_id": str(integration.id),
        "status": "queued",
    }
    integration.refresh_from_db()
    assert integration.sync_status == "running" and integration.sync_full is False


def test_full_true_queues_a_full_sync(api, user):
    integration = make_integration(user)

    response = api.post(f"{BASE}ovs/{integration.id}/sync?full=true")

    assert response.json()["message"] == "Full sync queued"
    integration.refresh_from_db()
    assert integration.sync_full is True


def test_a_second_trigger_while_a_sync_runs_is_409(api, user):
    integration = make_integration(user)
    assert claim_sync(integration.id) is not None

    response = api.post(f"{BASE}ovs/{integration.id}/sync")

    assert response.status_code == 409
    assert response.json() == {"detail": "A sync is already running for this integration"}


def test_the_sync_status_has_exactly_the_documented_keys(api, user):
    integration = make_integration(user)

    response = api.get(f"{BASE}ovs/{integration.id}/sync/status")

    assert response.status_code == 200
    assert response.json() == {
        "integration_id": str(integration.id), "sync_status": "idle", "last_sync_at": None,
        "last_successful_sync_at": None, "total_products_synced": 0,
        "total_products_updated": 0, "total_products_skipped": 0, "last_sync_stats": {},
        "last_error_message": None,
    }


def test_a_running_sync_status_keeps_exactly_the_documented_keys(api, user):
    integration = make_integration(user)
    claim_sync(integration.id)
    Integration.objects.filter(pk=integration.pk).update(sync_processed=25, sync_total=100)

    body = api.get(f"{BASE}ovs/{integration.id}/sync/status").json()

    assert set(body) == SYNC_STATUS_KEYS
    assert body["sync_status"] == "running"


SYNC_PROGRESS_KEYS = {
    "integration_id", "run_id", "sync_status", "processed", "total", "progress", "started_at",
    "heartbeat_at",
}


def test_the_progress_of_a_running_sync_is_at_its_own_endpoint(api, user):
    integration = make_integration(user)
    run_id = claim_sync(integration.id)
    Integration.objects.filter(pk=integration.pk).update(sync_processed=25, sync_total=100)
    integration.refresh_from_db()

    response = api.get(f"{BASE}{integration.id}/sync/progress")

    assert response.status_code == 200
    body = response.json()
    assert body == {
        "integration_id": str(integration.id), "run_id": str(run_id), "sync_status": "running",
        "processed": 25, "total": 100, "progress": 25,
        "started_at": body["started_at"], "heartbeat_at": body["heartbeat_at"],
    }
    assert set(body) == SYNC_PROGRESS_KEYS
    assert parse_datetime(body["started_at"]) == integration.last_sync_at
    assert parse_datetime(body["heartbeat_at"]) == integration.sync_heartbeat_at


def test_progress_before_any_sync_has_the_same_keys_with_nulls(api, user):
    integration = make_integration(user)

    body = api.get(f"{BASE}{integration.id}/sync/progress").json()

    assert body == {
        "integration_id": str(integration.id), "run_id": None, "sync_status": "idle",
        "processed": 0, "total": None, "progress": 0, "started_at": None,
        "heartbeat_at": None,
    }


def test_progress_is_404_to_those_who_may_not_open_it_and_422_for_a_storefront(
    api, user, django_user_model
):
    integration = make_integration(user)
    storefront = OMSIntegration.objects.create(
        name="Orders", user=user, base_url="https://oms.example.com", api_token="t",
        store_id="1",
    )
    stranger = client_for(django_user_model.objects.create_user("stranger"))

    hidden = stranger.get(f"{BASE}{integration.id}/sync/progress")
    refused = api.get(f"{BASE}{storefront.id}/sync/progress")

    assert hidden.status_code == 404
    assert refused.status_code == 422
    assert refused.json()["detail"][0]["loc"] == ["path", "integration_id"]


def test_a_triggered_sync_runs_against_the_supplier_system(
    api, user, sandbox, eager_tasks, django_capture_on_commit_callbacks
):
    integration = make_integration(
        user, base_url=sandbox.url_of("ovs"), username="demo", password="demo-password"
    )

    with django_capture_on_commit_callbacks(execute=True):
        response = api.post(f"{BASE}ovs/{integration.id}/sync")
    status = api.get(f"{BASE}ovs/{integration.id}/sync/status").json()

    assert response.status_code == 202
    assert status["sync_status"] == "completed", status["last_error_message"]
    assert status["total_products_synced"] == Product.objects.filter(
        supplier_id=integration.supplier_id
    ).count() > 0
    assert set(status) == SYNC_STATUS_KEYS


# -- product imports --------------------------------------------------------------------


def test_an_import_request_creates_a_pending_task_and_answers_202(api, user):
    integration = make_integration(user)

    response = api.post(
        f"{BASE}{integration.id}/import-products",
        {"product_codes": ["OVS-00001", "OVS-00002"], "is_filler": True}, format="json",
    )

    assert response.status_code == 202
    body = response.json()
    assert set(body) == IMPORT_TASK_KEYS
    assert body["status"] == "PENDING"
    assert body["owner_id"] == str(user.pk)
    assert body["integration_id"] == str(integration.id)
    assert (body["product_codes_count"], body["is_filler"], body["progress"]) == (2, True, 0)
    task = ImportTask.objects.get(pk=body["id"])
    assert task.product_codes == ["OVS-00001", "OVS-00002"]


def test_an_import_runs_against_the_supplier_system(
    api, user, sandbox, eager_tasks, django_capture_on_commit_callbacks
):
    integration = make_integration(
        user, base_url=sandbox.url_of("ovs"), username="demo", password="demo-password"
    )

    with django_capture_on_commit_callbacks(execute=True):
        response = api.post(
            f"{BASE}{integration.id}/import-products",
            {"product_codes": ["OVS-00001", "NOPE-1"]}, format="json",
        )
    task = api.get(f"{BASE}{integration.id}/import-tasks/{response.json()['id']}").json()

    assert task["status"] == "SUCCESS", task["error_message"]
    assert task["progress"] == 100
    assert task["result_data"]["products"]["NOPE-1"]["status"] == "not_found"
    assert Product.objects.filter(
        supplier_id=integration.supplier_id, supplier_sku="OVS-00001"
    ).exists()


def make_tasks(integration, owner, count, *, status=ImportTask.Status.PENDING):
    start = timezone.now() - timedelta(days=1)
    tasks = []
    for n in range(count):
        task = ImportTask.objects.create(
            integration=integration, owner=owner, product_codes=[f"C-{n}"], status=status
        )
        ImportTask.objects.filter(pk=task.pk).update(created_at=start + timedelta(minutes=n))
        tasks.append(task)
    return tasks


def test_import_tasks_are_listed_newest_first_ten_at_a_time(api, user):
    integration = make_integration(user)
    tasks = make_tasks(integration, user, 12)

    first = api.get(f"{BASE}{integration.id}/import-tasks").json()
    rest = api.get(f"{BASE}{integration.id}/import-tasks?skip=10").json()

    assert first["count"] == 12
    assert [item["id"] for item in first["data"]] == [str(t.id) for t in tasks[::-1][:10]]
    assert [item["id"] for item in rest["data"]] == [str(tasks[1].id), str(tasks[0].id)]


def test_import_tasks_filter_by_status(api, user):
    integration = make_integration(user)
    make_tasks(integration, user, 2)
    done = make_tasks(integration, user, 1, status=ImportTask.Status.SUCCESS)

    body = api.get(f"{BASE}{integration.id}/import-tasks?status=SUCCESS").json()

    assert body["count"] == 1
    assert body["data"][0]["id"] == str(done[0].id)
    assert body["data"][0]["progress"] == 100


def test_an_import_task_of_another_integration_is_not_found(api, user):
    mine, theirs = make_integration(user, name="Mine"), make_integration(user, name="Theirs")
    [task] = make_tasks(theirs, user, 1)

    response = api.get(f"{BASE}{mine.id}/import-tasks/{task.id}")
    malformed = api.get(f"{BASE}{mine.id}/import-tasks/not-a-uuid")

    assert response.status_code == 404
    assert response.json() == {"detail": "Import task not found"}
    assert malformed.json() == {"detail": "Import task not found"}


# -- query counts -----------------------------------------------------------------------


@pytest.mark.parametrize("path", ["", "ovs", "{id}/import-tasks"])
def test_lists_take_the_same_number_of_queries_however_long(api, user, path):
    integration = make_integration(user, name="First")
    make_tasks(integration, user, 1)

    def queries():
        with CaptureQueriesContext(connection) as captured:
            assert api.get(BASE + path.format(id=integration.id)).status_code == 200
        return len(captured)

    few = queries()
    for n in range(4):
        make_integration(user, name=f"More {n}")
    make_tasks(integration, user, 4)

    assert queries() == few


# -- the task queue is down -------------------------------------------------------------

QUEUE_DOWN = "The task queue is unavailable; nothing was started. Try again later."


@pytest.mark.django_db(transaction=True)
def test_a_sync_trigger_with_the_broker_down_is_503_and_leaves_the_sync_as_it_was(
    api, user, broker_down
):
    integration = make_integration(user)
    Integration.objects.filter(pk=integration.pk).update(
        sync_status="completed", last_sync_stats={"created": 3}
    )

    response = api.post(f"{BASE}ovs/{integration.id}/sync")

    assert response.status_code == 503
    assert response.json() == {"detail": QUEUE_DOWN}
    integration.refresh_from_db()
    assert integration.sync_status == "completed"
    assert integration.last_sync_stats == {"created": 3}
    assert claim_sync(integration.id) is not None  # not left claimed


@pytest.mark.django_db(transaction=True)
def test_an_import_trigger_with_the_broker_down_is_503_and_leaves_no_task(
    api, user, broker_down
):
    integration = make_integration(user)

    response = api.post(f"{BASE}{integration.id}/import-products",
                        {"product_codes": ["OVS-00001"]}, format="json")

    assert response.status_code == 503
    assert response.json() == {"detail": QUEUE_DOWN}
    assert not ImportTask.objects.exists()

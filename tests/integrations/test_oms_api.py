"""The external integrations API for OMS storefronts (type `oms`), and their admin page."""

import uuid

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from integrations.models import (
    ImportTask,
    Integration,
    OMSIntegration,
    OVSIntegration,
)
from integrations.services import create_integration

pytestmark = pytest.mark.django_db

BASE = "/api/v1/external-integrations/"
TOKEN = "oms-t0ken-secret"
PUBLIC_FIELDS = {
    "id", "created_at", "updated_at", "name", "integration_type", "user_id",
    "organization_id", "base_url", "store_id", "team_id", "country_id", "default_dpi",
    "default_location",
}


@pytest.fixture
def integrations(people, organization):
    """A personal OMS storefront of the owner, and one of the owner's organization."""
    return {
        "personal": make_integration(people["owner"], name="Personal"),
        "organization": make_integration(people["owner"], name="Shared",
                                         organization=organization),
    }


def make_integration(user, *, name="Order desk", organization=None, **fields):
    values = {
        "base_url": "https://oms.example.com", "api_token": TOKEN, "store_id": "store-7",
        "team_id": "5", "country_id": "44", **fields,
    }
    return OMSIntegration.objects.create(
        name=name, user=user, organization=organization, **values
    )


def valid_create_body(**changes):
    body = {
        "name": "Order desk", "base_url": "https://oms.example.com", "api_token": TOKEN,
        "store_id": "store-7", "team_id": "5", "country_id": "44", "default_dpi": 600,
        "default_location": "3bb7725c",
    }
    body.update(changes)
    return {key: value for key, value in body.items() if value is not ...}


def error_locs(response):
    assert response.status_code == 422, response.content
    return [error["loc"] for error in response.json()["detail"]]


# -- create ----------------------------------------------------------------------------


def test_creating_an_oms_storefront_answers_its_settings_without_the_token(api, user):
    response = api.post(BASE + "oms", valid_create_body(), format="json")

    assert response.status_code == 200, response.content
    body = response.json()
    assert set(body) == PUBLIC_FIELDS
    assert (body["integration_type"], body["user_id"], body["organization_id"]) == (
        "oms", str(user.pk), None
    )
    assert (body["store_id"], body["team_id"], body["country_id"], body["default_dpi"],
            body["default_location"]) == ("store-7", "5", "44", 600, "3bb7725c")
    integration = OMSIntegration.objects.get(pk=body["id"])
    assert integration.api_token == TOKEN
    # A storefront, not a source: no supplier, no scheduled sync.
    assert integration.supplier_id is None and integration.schedule_id is None


def test_only_the_required_fields_are_needed_and_the_dpi_defaults_to_300(api):
    body = valid_create_body(default_dpi=..., default_location=...)

    response = api.post(BASE + "oms", body, format="json")

    assert response.status_code == 200
    assert (response.json()["default_dpi"], response.json()["default_location"]) == (300, None)


@pytest.mark.parametrize("field", [
    "name", "base_url", "api_token", "store_id", "team_id", "country_id",
])
def test_a_missing_required_field_is_422_at_that_field(api, field):
    response = api.post(BASE + "oms", valid_create_body(**{field: ...}), format="json")

    assert response.json()["detail"] == [
        {"loc": ["body", field], "msg": "This field is required.", "type": "required"}
    ]
    assert not OMSIntegration.objects.exists()


@pytest.mark.parametrize("field, value", [
    ("base_url", "oms.example.com"),
    ("base_url", "ftp://oms.example.com"),
    ("name", "n" * 256),
    ("store_id", "s" * 65),
    ("team_id", "t" * 65),
    ("api_token", "k" * 1001),
    ("default_dpi", 0),
    ("default_dpi", "high"),
    ("default_location", "l" * 256),
])
@pytest.mark.parametrize("method", ["create", "update"])
def test_an_invalid_field_is_422_at_that_field(api, user, field, value, method):
    if method == "create":
        response = api.post(BASE + "oms", valid_create_body(**{field: value}), format="json")
    else:
        integration = make_integration(user)
        response = api.put(f"{BASE}oms/{integration.id}", {field: value}, format="json")

    assert error_locs(response) == [["body", field]]


# -- list and get ----------------------------------------------------------------------


def test_the_oms_list_shows_only_oms_storefronts_and_the_shared_list_shows_all(api, user):
    make_integration(user, name="Orders")
    create_integration(OVSIntegration, name="Supplier", user=user,
                       base_url="https://ovs.example.com", username="u", password="p")

    typed = api.get(BASE + "oms").json()
    shared = api.get(BASE).json()
    filtered = api.get(BASE + "?integration_type=oms").json()

    assert typed["count"] == 1 and set(typed["data"][0]) == PUBLIC_FIELDS
    assert typed["data"][0]["name"] == "Orders"
    assert {item["integration_type"] for item in shared["data"]} == {"oms", "ovs"}
    assert [item["name"] for item in filtered["data"]] == ["Orders"]


def test_one_oms_storefront_shows_its_settings(api, user):
    integration = make_integration(user, default_location="7")

    response = api.get(f"{BASE}{integration.id}")

    assert response.status_code == 200
    body = response.json()
    assert set(body) == PUBLIC_FIELDS
    assert (body["integration_type"], body["store_id"], body["default_location"]) == (
        "oms", "store-7", "7"
    )


def test_the_oms_list_takes_the_same_number_of_queries_however_long(api, user):
    make_integration(user, name="First")

    def queries():
        with CaptureQueriesContext(connection) as captured:
            assert api.get(BASE + "oms").status_code == 200
        return len(captured)

    few = queries()
    for n in range(4):
        make_integration(user, name=f"More {n}")

    assert queries() == few


# -- update and delete -----------------------------------------------------------------


def test_an_update_changes_only_the_fields_given(api, user):
    integration = make_integration(user, default_location="7")

    response = api.put(
        f"{BASE}oms/{integration.id}",
        {"team_id": "9", "default_dpi": 150, "name": None, "store_id": None,
         "default_location": None},
        format="json",
    )

    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["name"], body["store_id"], body["team_id"], body["default_dpi"]) == (
        "Order desk", "store-7", "9", 150
    )
    # null clears the default location and leaves every other field as it is.
    assert body["default_location"] is None
    integration.refresh_from_db()
    assert integration.api_token == TOKEN


def test_a_new_token_replaces_the_stored_one(api, user):
    integration = make_integration(user)

    api.put(f"{BASE}oms/{integration.id}", {"api_token": "new-token"}, format="json")

    integration.refresh_from_db()
    assert integration.api_token == "new-token"


def test_deleting_an_oms_storefront(api, user):
    integration = make_integration(user)

    response = api.delete(f"{BASE}{integration.id}")

    assert response.status_code == 200
    assert not Integration.objects.exists()


def test_an_oms_id_on_the_ovs_update_and_an_ovs_id_on_the_oms_update_are_404(api, user):
    oms = make_integration(user)
    ovs = create_integration(OVSIntegration, name="Supplier", user=user,
                             base_url="https://ovs.example.com", username="u", password="p")

    assert api.put(f"{BASE}ovs/{oms.id}", {"name": "x"}, format="json").status_code == 404
    assert api.put(f"{BASE}oms/{ovs.id}", {"name": "x"}, format="json").status_code == 404


# -- a storefront is not a source ------------------------------------------------------


def test_an_oms_storefront_has_no_sync(api, user):
    integration = make_integration(user)

    responses = [
        api.post(f"{BASE}oms/{integration.id}/sync"),
        api.get(f"{BASE}oms/{integration.id}/sync/status"),
        api.post(f"{BASE}ovs/{integration.id}/sync"),
    ]

    assert [response.status_code for response in responses] == [404, 404, 404]
    integration.refresh_from_db()
    assert integration.sync_status == "idle"


def test_importing_products_from_an_oms_storefront_is_422(api, user):
    integration = make_integration(user)

    response = api.post(
        f"{BASE}{integration.id}/import-products", {"product_codes": ["PC61"]}, format="json"
    )

    assert response.status_code == 422
    [error] = response.json()["detail"]
    assert (error["loc"], error["type"]) == (["path", "integration_id"], "not_a_source")
    assert "not sources" in error["msg"]
    assert not ImportTask.objects.exists()


# -- no token in any response ----------------------------------------------------------


def test_no_response_shows_the_token(api, user):
    created = api.post(BASE + "oms", valid_create_body(), format="json")
    integration_id = created.json()["id"]
    responses = [
        created,
        api.get(BASE),
        api.get(BASE + "oms"),
        api.get(f"{BASE}{integration_id}"),
        api.put(f"{BASE}oms/{integration_id}", {"name": "Renamed", "api_token": TOKEN},
                format="json"),
        api.post(BASE + "oms", valid_create_body(name="x" * 300), format="json"),
        api.post(f"{BASE}{integration_id}/import-products", {"product_codes": ["A"]},
                 format="json"),
        api.delete(f"{BASE}{integration_id}"),
    ]

    for response in responses:
        assert response.status_code < 500
        assert TOKEN.encode() not in response.content
        assert b"api_token" not in response.content


# -- permissions -----------------------------------------------------------------------

SINGLE_ENDPOINTS = {
    "get": ("get", "{id}", None),
    "put": ("put", "oms/{id}", {"name": "Renamed"}),
    "delete": ("delete", "{id}", None),
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


@pytest.mark.parametrize("endpoint", SINGLE_ENDPOINTS)
@pytest.mark.parametrize("role, target, allowed", ACCESS)
def test_an_oms_storefront_is_reached_only_by_those_who_may_open_it(
    as_role, integrations, endpoint, role, target, allowed
):
    method, template, body = SINGLE_ENDPOINTS[endpoint]
    integration = integrations[target]

    response = getattr(as_role(role), method)(
        BASE + template.format(id=integration.id), body, format="json"
    )

    if allowed:
        assert response.status_code == 200, response.content
    else:
        assert response.status_code == 404
        assert response.json() == {"detail": "Integration not found"}
        assert Integration.objects.filter(pk=integration.pk, name=integration.name).exists()


@pytest.mark.parametrize("role, in_organization, expected", [
    ("owner", False, {"Personal"}),
    ("owner", True, {"Shared"}),
    ("member", False, set()),
    ("member", True, {"Shared"}),
    ("other", False, set()),
    ("other", True, 403),
    ("superuser", False, {"Personal", "Shared"}),
])
def test_the_oms_list_shows_personal_storefronts_or_the_named_organizations(
    as_role, integrations, organization, role, in_organization, expected
):
    query = f"?organization_id={organization.id}" if in_organization else ""

    response = as_role(role).get(BASE + "oms" + query)

    if expected == 403:
        assert response.status_code == 403
    else:
        assert {item["name"] for item in response.json()["data"]} == expected


@pytest.mark.parametrize("role, organization_in, given_user, expected", [
    ("owner", "body", None, 200),
    ("member", "query", None, 200),
    ("other", "body", None, 403),
    ("owner", None, "other", 403),
    ("superuser", None, "other", 200),
])
def test_who_may_create_an_oms_storefront_for_an_organization_or_another_user(
    people, as_role, organization, role, organization_in, given_user, expected
):
    body, path = valid_create_body(), BASE + "oms"
    if organization_in == "body":
        body["organization_id"] = str(organization.id)
    elif organization_in == "query":
        path += f"?organization_id={organization.id}"
    if given_user:
        body["user_id"] = str(people[given_user].pk)

    response = as_role(role).post(path, body, format="json")

    assert response.status_code == expected, response.content
    if expected == 403:
        assert not OMSIntegration.objects.exists()
        return
    created = response.json()
    assert created["user_id"] == str(people[given_user or role].pk)
    assert created["organization_id"] == (str(organization.id) if organization_in else None)


@pytest.mark.parametrize("role, expected", [("owner", 403), ("superuser", 200)])
def test_only_superusers_transfer_an_oms_storefront_to_another_user(
    people, as_role, integrations, role, expected
):
    integration = integrations["personal"]

    response = as_role(role).put(
        f"{BASE}oms/{integration.id}", {"user_id": str(people["other"].pk)}, format="json"
    )

    assert response.status_code == expected
    integration.refresh_from_db()
    assert integration.user == people["other" if expected == 200 else "owner"]


@pytest.mark.parametrize("method, path", [("get", "oms"), ("post", "oms"), ("put", "oms/{id}")])
def test_the_oms_endpoints_need_a_token(anonymous_api, method, path):
    response = getattr(anonymous_api, method)(
        BASE + path.format(id=uuid.uuid4()), valid_create_body(), format="json"
    )

    assert response.status_code == 401


# -- the admin page --------------------------------------------------------------------


def test_the_admin_adds_an_oms_storefront_and_never_shows_its_token(admin_client, admin_user):
    response = admin_client.post(reverse("admin:integrations_omsintegration_add"), {
        "name": "Order desk", "base_url": "https://oms.example.com", "api_token": TOKEN,
        "store_id": "store-7", "team_id": "5", "country_id": "44", "default_dpi": "300",
        "default_location": "",
    })

    assert response.status_code == 302
    integration = OMSIntegration.objects.get()
    assert (integration.user, integration.api_token) == (admin_user, TOKEN)
    change_url = reverse("admin:integrations_omsintegration_change", args=[integration.pk])
    page = admin_client.get(change_url)
    assert page.status_code == 200
    assert TOKEN.encode() not in page.content
    listing = admin_client.get(reverse("admin:integrations_omsintegration_changelist"))
    assert listing.status_code == 200 and TOKEN.encode() not in listing.content


def test_an_empty_token_box_in_the_admin_keeps_the_stored_token(admin_client, admin_user):
    integration = make_integration(admin_user)

    response = admin_client.post(
        reverse("admin:integrations_omsintegration_change", args=[integration.pk]),
        {"name": "Renamed", "base_url": integration.base_url, "api_token": "",
         "store_id": "store-7", "team_id": "5", "country_id": "44", "default_dpi": "300",
         "default_location": ""},
    )

    assert response.status_code == 302
    integration.refresh_from_db()
    assert (integration.name, integration.api_token) == ("Renamed", TOKEN)

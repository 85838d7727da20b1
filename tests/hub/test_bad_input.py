"""Bad input is answered with a 4xx and a JSON detail, never with a 500 or an HTML page."""

import json

import pytest
from django_celery_beat.models import PeriodicTask

from catalog.models import Supplier
from integrations.models import OVSIntegration
from integrations.services import create_integration
from pushes.models import Customer

pytestmark = pytest.mark.django_db

BEYOND_BIGINT = str(2**63)


@pytest.fixture
def customer(db):
    return Customer.objects.create(name="Acme")


@pytest.fixture
def integration(staff_user):
    return create_integration(
        OVSIntegration, name="OVS", base_url="https://ovs.example.com", username="u",
        password="p", user=staff_user,
    )


LISTS = [
    "/api/products", "/api/suppliers", "/api/categories", "/api/customers",
    "/api/customers/{customer}/markup-rules", "/api/v1/external-integrations/",
    "/api/v1/external-integrations/ovs", "/api/v1/external-integrations/oms",
    "/api/v1/external-integrations/printops",
    "/api/v1/external-integrations/{integration}/import-tasks",
]


@pytest.mark.parametrize("url", LISTS)
@pytest.mark.parametrize("name", ["skip", "limit"])
def test_paging_beyond_the_database_integer_range_is_422_on_every_list(
    staff_api, customer, integration, url, name
):
    url = url.format(customer=customer.id, integration=integration.id)

    response = staff_api.get(url, {name: BEYOND_BIGINT})

    assert response.status_code == 422, response.content
    [error] = response.json()["detail"]
    assert error["loc"] == ["query", name]
    assert error["type"] == "less_than_equal"


def test_the_largest_skip_the_database_takes_is_an_empty_page(staff_api):
    response = staff_api.get("/api/products", {"skip": str(2**63 - 1)})

    assert response.status_code == 200
    assert response.json() == []


def post_raw(client, url, body, content_type="application/json"):
    return client.generic("POST", url, body, content_type=content_type)


def test_json_nested_deeper_than_the_parser_allows_is_400_with_a_json_detail(staff_api):
    body = "[" * 100_000 + "]" * 100_000

    response = post_raw(staff_api, "/api/suppliers", body)

    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    assert "nested" in response.json()["detail"]
    assert not Supplier.objects.exists()


def test_json_nested_a_little_too_deep_is_400_as_well(staff_api):
    body = json.dumps({"name": "x", "extra": json.loads("[" * 70 + "]" * 70)})

    response = post_raw(staff_api, "/api/suppliers", body)

    assert response.status_code == 400
    assert not Supplier.objects.exists()


def test_a_body_over_the_size_limit_is_413_with_a_json_detail(staff_api, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    body = json.dumps({"name": "x" * 2000})

    response = post_raw(staff_api, "/api/suppliers", body)

    assert response.status_code == 413
    assert response["Content-Type"] == "application/json"
    assert "1000 bytes" in response.json()["detail"]
    assert not Supplier.objects.exists()


def test_a_form_body_over_the_size_limit_is_413_too(anonymous_api, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000

    response = post_raw(
        anonymous_api, "/api/v1/login/access-token", "username=u&password=" + "p" * 2000,
        "application/x-www-form-urlencoded",
    )

    assert response.status_code == 413
    assert response["Content-Type"] == "application/json"


@pytest.mark.parametrize("body, loc", [
    ({"name": "SanMar\u0000"}, ["body", "name"]),
    ({"name": "Acme", "storefront_options": {"store_id": 1, "note": "a\u0000b"}},
     ["body", "storefront_options", "note"]),
    ({"name": "Acme", "storefront_options": {"k\u0000ey": 1}}, ["body", "storefront_options"]),
    ({"name": "Acme", "storefront_options": {"list": [1, "\u0000"]}},
     ["body", "storefront_options", "list", 1]),
])
def test_a_nul_character_anywhere_in_json_is_422_naming_the_field(staff_api, body, loc):
    url = "/api/suppliers" if set(body) == {"name"} else "/api/customers"

    response = post_raw(staff_api, url, json.dumps(body))

    assert response.status_code == 422, response.content
    [error] = response.json()["detail"]
    assert error["loc"] == loc
    assert error["type"] == "string_nul_character"
    assert not Supplier.objects.exists() and not Customer.objects.exists()


def test_a_nul_character_in_a_form_field_is_422(anonymous_api):
    response = post_raw(
        anonymous_api, "/api/v1/login/access-token", "username=a%00b&password=x",
        "application/x-www-form-urlencoded",
    )

    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "username"]


def test_deleting_a_supplier_an_integration_still_feeds_is_409(staff_api, integration):
    response = staff_api.delete(f"/api/suppliers/{integration.supplier_id}")

    assert response.status_code == 409
    assert response.json() == {
        "detail": "Supplier is fed by the integration OVS; delete the integration first"
    }
    assert Supplier.objects.filter(pk=integration.supplier_id).exists()


def test_an_integration_name_that_overflows_the_schedule_name_is_accepted(staff_api):
    name = "N" * 255
    body = {"name": name, "base_url": "https://ovs.example.com", "username": "u",
            "password": "p"}

    first = staff_api.post("/api/v1/external-integrations/ovs", body, format="json")
    second = staff_api.post("/api/v1/external-integrations/ovs", body, format="json")

    assert (first.status_code, second.status_code) == (200, 200), second.content
    for created in (first.json(), second.json()):
        integration = OVSIntegration.objects.get(pk=created["id"])
        assert integration.name == name
        schedule = PeriodicTask.objects.get(pk=integration.schedule_id)
        assert schedule.name.endswith(f" ({integration.id})")
        assert len(schedule.name) == PeriodicTask._meta.get_field("name").max_length
    suppliers = Supplier.objects.order_by("created_at")
    assert [len(s.name) for s in suppliers] == [255, 255]
    assert suppliers[1].name.endswith(" (2)")


def test_renaming_an_integration_to_a_long_name_keeps_its_schedule(staff_api, integration):
    response = staff_api.put(
        f"/api/v1/external-integrations/ovs/{integration.id}", {"name": "M" * 255},
        format="json",
    )

    assert response.status_code == 200, response.content
    schedule = PeriodicTask.objects.get(pk=integration.schedule_id)
    assert schedule.name == f"Sync {'M' * 156} ({integration.id})"

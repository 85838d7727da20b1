import uuid

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from catalog.ingest import ingest_products
from catalog.models import Category, Product
from integrations.models import (
    Integration,
    OMSIntegration,
    OPSIntegration,
    Organization,
    OVSIntegration,
    PrintOpsIntegration,
)
from integrations.services import create_integration
from pushes.models import Customer, MarkupRule, PushLog
from tests.factories import apparel_payload

pytestmark = pytest.mark.django_db

SECRET = "s3cret-client-secret-xyz"
CUSTOMER_FIELDS = {
    "id", "name", "is_active", "storefront", "storefront_options", "order_pull", "created_at",
    "updated_at", "order_webhook_url", "notify_buyer",
}
STOREFRONT_FIELDS = {
    "type", "id", "name", "base_url", "token_url", "client_id", "rate_limit_per_minute",
}
RULE_FIELDS = {
    "id", "customer_id", "name", "scope", "supplier_id", "category_id", "product_id",
    "markup_pct", "markup_amount", "min_margin_pct", "rounding", "min_price", "max_price",
    "priority", "is_active", "effective_from", "effective_until", "created_at", "updated_at",
}


def storefront(**changes):
    return {
        "type": "ops", "base_url": "https://shop.example.com",
        "token_url": "https://shop.example.com/oauth/token", "client_id": "client-1",
        "client_secret": SECRET, **changes,
    }


@pytest.fixture
def responses():
    """Every response a test got, to search them all for the secret."""
    return []


@pytest.fixture
def create_customer(staff_api, responses):
    def create(name="Acme", **body):
        response = staff_api.post("/api/customers", {"name": name, **body}, format="json")
        responses.append(response)
        assert response.status_code == 201, response.json()
        return response.json()

    return create


@pytest.fixture
def customer(create_customer):
    return create_customer(storefront=storefront())


def locs(response):
    assert response.status_code == 422, response.json()
    return [error["loc"] for error in response.json()["detail"]]


# -- customers -------------------------------------------------------------------------


def test_a_customer_is_created_with_its_storefront(staff_api, staff_user, customer):
    assert set(customer) == CUSTOMER_FIELDS
    assert customer["name"] == "Acme" and customer["is_active"] is True
    assert customer["storefront_options"] == {}
    assert set(customer["storefront"]) == STOREFRONT_FIELDS
    assert customer["storefront"]["type"] == "ops"
    assert customer["storefront"]["base_url"] == "https://shop.example.com"
    assert customer["storefront"]["rate_limit_per_minute"] == 120

    integration = OPSIntegration.objects.get(pk=customer["storefront"]["id"])
    assert integration.user == staff_user
    assert integration.client_secret == SECRET
    assert Customer.objects.get(pk=customer["id"]).storefront_id == integration.pk


def test_customers_are_listed_by_name_as_a_bare_array(staff_api, create_customer):
    for name in ("Zeta", "Acme", "Mid"):
        create_customer(name)

    response = staff_api.get("/api/customers")
    assert response.status_code == 200
    assert [c["name"] for c in response.json()] == ["Acme", "Mid", "Zeta"]
    assert [c["name"] for c in staff_api.get("/api/customers?skip=1&limit=1").json()] == ["Mid"]
    assert locs(staff_api.get("/api/customers?limit=0")) == [["query", "limit"]]


def test_a_customer_without_a_storefront_shows_null(staff_api, create_customer):
    customer = create_customer("Walk-in", storefront_options={"store_id": 7})

    assert customer["storefront"] is None
    assert customer["storefront_options"] == {"store_id": 7}
    assert staff_api.get(f"/api/customers/{customer['id']}").json() == customer


@pytest.mark.parametrize("customer_id", ["1c6c6104-f496-4cc0-8727-8ad607bbcbf4", "not-a-uuid"])
def test_an_unknown_customer_is_404(staff_api, customer_id):
    for method in ("get", "patch", "delete"):
        response = getattr(staff_api, method)(f"/api/customers/{customer_id}")
        assert response.status_code == 404
        assert response.json() == {"detail": "Customer not found"}


def test_the_secret_is_never_shown(staff_api, customer, responses):
    url = f"/api/customers/{customer['id']}"
    responses += [
        staff_api.get("/api/customers"),
        staff_api.get(url),
        staff_api.patch(url, {"name": "Acme Inc"}, format="json"),
        staff_api.patch(url, {"storefront": {"client_secret": SECRET + "-2"}}, format="json"),
        staff_api.patch(url, {"storefront": {"base_url": "not a url"}}, format="json"),
    ]

    for response in responses:
        assert SECRET not in response.content.decode()
    assert "client_secret" not in responses[2].json()["storefront"]


def test_an_update_without_the_secret_keeps_it(staff_api, customer):
    response = staff_api.patch(
        f"/api/customers/{customer['id']}",
        {"name": "Acme Inc", "storefront": {"client_id": "client-2",
                                            "rate_limit_per_minute": 60}},
        format="json",
    )

    assert response.status_code == 200
    body = response.json()
    assert body["name"] == "Acme Inc"
    assert body["storefront"]["client_id"] == "client-2"
    assert body["storefront"]["rate_limit_per_minute"] == 60
    assert body["storefront"]["id"] == customer["storefront"]["id"]
    integration = OPSIntegration.objects.get(pk=customer["storefront"]["id"])
    assert integration.client_secret == SECRET
    assert OPSIntegration.objects.count() == 1


def with_token(integration_id):
    integration = OPSIntegration.objects.get(pk=integration_id)
    integration.token = "cached-token"
    integration.token_expires_at = timezone.now()
    integration.save()


@pytest.mark.parametrize("change, clears", [
    ({"base_url": "https://other.example.com", "client_secret": SECRET}, True),
    ({"token_url": "https://other.example.com/token", "client_secret": SECRET}, True),
    ({"client_id": "client-2"}, True),
    ({"client_secret": "another-secret"}, True),
    ({"client_secret": SECRET, "client_id": "client-1"}, False),
    ({"rate_limit_per_minute": 30}, False),
])
def test_changed_credentials_clear_the_cached_token(staff_api, customer, change, clears):
    integration_id = customer["storefront"]["id"]
    with_token(integration_id)

    response = staff_api.patch(
        f"/api/customers/{customer['id']}", {"storefront": change}, format="json"
    )

    assert response.status_code == 200
    integration = OPSIntegration.objects.get(pk=integration_id)
    if clears:
        assert integration.token is None and integration.token_expires_at is None
    else:
        assert integration.token == "cached-token"
    if "client_secret" in change:
        assert integration.client_secret == change["client_secret"]


def test_a_storefront_is_added_with_all_credentials_and_removed_with_null(
    staff_api, create_customer
):
    customer = create_customer("Walk-in")
    url = f"/api/customers/{customer['id']}"

    partial = staff_api.patch(url, {"storefront": {"base_url": "https://a.example.com"}},
                              format="json")
    assert sorted(locs(partial)) == [
        ["body", "storefront", "client_id"], ["body", "storefront", "client_secret"],
        ["body", "storefront", "token_url"],
    ]
    assert not Integration.objects.exists()

    added = staff_api.patch(url, {"storefront": storefront()}, format="json")
    assert added.status_code == 200
    assert added.json()["storefront"]["client_id"] == "client-1"
    assert OPSIntegration.objects.count() == 1

    removed = staff_api.patch(url, {"storefront": None}, format="json")
    assert removed.status_code == 200
    assert removed.json()["storefront"] is None
    assert not Integration.objects.exists()


@pytest.mark.parametrize("body, loc", [
    ({"storefront": storefront(client_secret=None)}, ["body", "storefront", "client_secret"]),
    ({"storefront": {k: v for k, v in storefront().items() if k != "client_secret"}},
     ["body", "storefront", "client_secret"]),
    ({"storefront": storefront(base_url="ftp://shop.example.com")},
     ["body", "storefront", "base_url"]),
    ({"storefront": storefront(token_url="shop.example.com/token")},
     ["body", "storefront", "token_url"]),
    ({"storefront": storefront(type="ovs")}, ["body", "storefront", "type"]),
    ({"storefront": storefront(rate_limit_per_minute=0)},
     ["body", "storefront", "rate_limit_per_minute"]),
    ({"storefront_options": ["not", "an", "object"]}, ["body", "storefront_options"]),
    ({"name": ""}, ["body", "name"]),
])
def test_invalid_customers_are_422_at_the_field(staff_api, body, loc):
    response = staff_api.post("/api/customers", {"name": "Acme", **body}, format="json")

    assert locs(response) == [loc]
    assert not Customer.objects.exists() and not Integration.objects.exists()


def test_a_customer_without_pushes_is_deleted_with_its_storefront(staff_api, customer):
    response = staff_api.delete(f"/api/customers/{customer['id']}")

    assert response.status_code == 204
    assert not Customer.objects.exists()
    assert not Integration.objects.exists()


def test_a_customer_with_push_logs_is_not_deleted(staff_api, customer, supplier):
    ingest_products(supplier, [apparel_payload("PC61")])
    PushLog.objects.create(customer_id=customer["id"], product=Product.objects.get(),
                           status="pushed", action="created", storefront_product_id="7")

    response = staff_api.delete(f"/api/customers/{customer['id']}")

    assert response.status_code == 409
    assert "deactivate it instead" in response.json()["detail"]
    assert Customer.objects.exists() and Integration.objects.exists()
    deactivated = staff_api.patch(f"/api/customers/{customer['id']}", {"is_active": False},
                                  format="json")
    assert deactivated.json()["is_active"] is False


def test_customers_are_staff_only(api, anonymous_api, customer):
    for client, status in ((api, 403), (anonymous_api, 401)):
        assert client.get("/api/customers").status_code == status
        assert client.post("/api/customers", {"name": "X"}, format="json").status_code == status
        assert client.get(f"/api/customers/{customer['id']}").status_code == status
        assert client.get(f"/api/customers/{customer['id']}/markup-rules").status_code == status


# -- markup rules ----------------------------------------------------------------------


@pytest.fixture
def catalog(supplier):
    ingest_products(supplier, [apparel_payload("PC61")])
    return {
        "supplier_id": str(supplier.id),
        "category_id": str(Category.objects.get(name="T-Shirts").id),
        "product_id": str(Product.objects.get().id),
    }


@pytest.fixture
def rules_url(customer):
    return f"/api/customers/{customer['id']}/markup-rules"


def test_markup_rules_are_created_read_changed_and_deleted(staff_api, rules_url, catalog):
    created = staff_api.post(rules_url, {"name": "all +40%", "markup_pct": 40}, format="json")
    assert created.status_code == 201
    rule = created.json()
    assert set(rule) == RULE_FIELDS
    assert rule["scope"] == "all" and rule["markup_pct"] == "40.00"
    assert rule["markup_amount"] is None and rule["rounding"] == "none"
    assert rule["is_active"] is True and rule["priority"] == 0

    supplier_rule = staff_api.post(rules_url, {
        "scope": "supplier", "supplier_id": catalog["supplier_id"], "markup_pct": "35.5",
        "markup_amount": "1.25", "min_margin_pct": 30, "rounding": "up_99",
        "min_price": "5", "max_price": "99.99", "priority": 5,
        "effective_from": "2026-01-01T00:00:00Z", "effective_until": "2027-01-01T00:00:00Z",
    }, format="json").json()
    assert supplier_rule["supplier_id"] == catalog["supplier_id"]
    assert (supplier_rule["markup_pct"], supplier_rule["markup_amount"],
            supplier_rule["min_margin_pct"], supplier_rule["min_price"],
            supplier_rule["max_price"]) == ("35.50", "1.25", "30.00", "5.00", "99.99")

    listed = staff_api.get(rules_url).json()
    assert [r["id"] for r in listed] == [supplier_rule["id"], rule["id"]]  # by priority

    url = f"{rules_url}/{rule['id']}"
    assert staff_api.get(url).json() == rule
    changed = staff_api.patch(url, {"markup_pct": "42.5", "is_active": False}, format="json")
    assert changed.status_code == 200
    assert changed.json()["markup_pct"] == "42.50" and changed.json()["is_active"] is False

    assert staff_api.delete(url).status_code == 204
    assert staff_api.get(url).status_code == 404
    assert list(MarkupRule.objects.values_list("name", flat=True)) == [""]


def test_a_rule_of_another_customer_is_404(staff_api, rules_url, create_customer):
    other = create_customer("Other")
    rule = staff_api.post(f"/api/customers/{other['id']}/markup-rules", {"markup_pct": 10},
                          format="json").json()

    response = staff_api.get(f"{rules_url}/{rule['id']}")
    assert response.status_code == 404
    assert response.json() == {"detail": "Markup rule not found"}
    unknown = staff_api.post(f"/api/customers/{uuid.uuid4()}/markup-rules", {}, format="json")
    assert unknown.json() == {"detail": "Customer not found"}


def test_changing_the_scope_takes_the_targets_from_the_same_change(
    staff_api, rules_url, catalog
):
    rule = staff_api.post(rules_url, {"scope": "supplier", "supplier_id": catalog["supplier_id"],
                                      "markup_pct": 40}, format="json").json()
    url = f"{rules_url}/{rule['id']}"

    to_all = staff_api.patch(url, {"scope": "all"}, format="json")
    assert to_all.status_code == 200
    assert to_all.json()["supplier_id"] is None

    to_product = staff_api.patch(url, {"scope": "product", "product_id": catalog["product_id"]},
                                 format="json")
    assert to_product.json()["product_id"] == catalog["product_id"]
    assert locs(staff_api.patch(url, {"supplier_id": catalog["supplier_id"]},
                                format="json")) == [["body", "supplier_id"]]


NO_SUCH = str(uuid.uuid4())


@pytest.mark.parametrize("body, loc", [
    ({"scope": "supplier"}, "supplier_id"),
    ({"scope": "category"}, "category_id"),
    ({"scope": "product"}, "product_id"),
    ({"scope": "supplier", "supplier_id": "{supplier_id}", "product_id": "{product_id}"},
     "product_id"),
    ({"scope": "all", "category_id": "{category_id}"}, "category_id"),
    ({"supplier_id": "{supplier_id}"}, "supplier_id"),
    ({"scope": "supplier", "supplier_id": NO_SUCH}, "supplier_id"),
    ({"scope": "category", "category_id": NO_SUCH}, "category_id"),
    ({"scope": "product", "product_id": NO_SUCH}, "product_id"),
    ({"scope": "product", "product_id": "not-a-uuid"}, "product_id"),
    ({"scope": "everything"}, "scope"),
    ({"min_margin_pct": 100}, "min_margin_pct"),
    ({"min_margin_pct": -1}, "min_margin_pct"),
    ({"markup_pct": "-100.5"}, "markup_pct"),
    ({"markup_pct": "-100"}, "markup_pct"),
    ({"markup_pct": -100, "markup_amount": "5"}, "markup_pct"),
    ({"max_price": "0"}, "max_price"),
    ({"max_price": "0.004"}, "max_price"),
    ({"markup_pct": "1.2345"}, "markup_pct"),
    ({"markup_amount": "-1"}, "markup_amount"),
    ({"min_price": "-0.01"}, "min_price"),
    ({"max_price": "-5"}, "max_price"),
    ({"min_price": "10", "max_price": "9.99"}, "max_price"),
    ({"effective_from": "2026-06-01T00:00:00Z", "effective_until": "2026-06-01T00:00:00Z"},
     "effective_until"),
    ({"rounding": "up_95"}, "rounding"),
    ({"priority": "high"}, "priority"),
])
def test_invalid_markup_rules_are_422_at_the_field(staff_api, rules_url, catalog, body, loc):
    body = {key: value.format(**catalog) if isinstance(value, str) else value
            for key, value in body.items()}

    response = staff_api.post(rules_url, {"markup_pct": 40, **body}, format="json")

    assert locs(response) == [["body", loc]]
    assert not MarkupRule.objects.exists()


def test_a_change_is_checked_against_the_rule_as_it_stands(staff_api, rules_url):
    rule = staff_api.post(rules_url, {"min_price": "10", "effective_from": "2026-06-01T00:00Z"},
                          format="json").json()
    url = f"{rules_url}/{rule['id']}"

    assert locs(staff_api.patch(url, {"max_price": "5"}, format="json")) == [
        ["body", "max_price"]
    ]
    assert locs(staff_api.patch(url, {"effective_until": "2026-05-01T00:00Z"},
                                format="json")) == [["body", "effective_until"]]
    assert staff_api.patch(url, {"max_price": "15"}, format="json").status_code == 200


# -- storefronts of every type, chosen by id -------------------------------------------

OMS_TOKEN = "oms-t0ken-secret"
PRINTOPS_TOKEN = "printops-t0ken-secret"
OMS_STOREFRONT_FIELDS = {
    "type", "id", "name", "base_url", "store_id", "team_id", "country_id", "default_dpi",
    "default_location",
}
PRINTOPS_STOREFRONT_FIELDS = {"type", "id", "name", "base_url"}


def make_oms(user, name="Order desk", **fields):
    return OMSIntegration.objects.create(
        name=name, user=user, base_url="https://oms.example.com", api_token=OMS_TOKEN,
        store_id="store-7", team_id="5", country_id="44", **fields,
    )


def make_printops(user, name="PrintOps"):
    return create_integration(PrintOpsIntegration, name=name, user=user,
                              base_url="https://printops.example.com", api_token=PRINTOPS_TOKEN)


@pytest.fixture
def oms(staff_user):
    return make_oms(staff_user)


@pytest.fixture
def printops(staff_user):
    return make_printops(staff_user)


POSTER_STORE = {"store_id": 786322, "scale_option": "fill"}


def test_customers_of_every_storefront_type_show_its_public_settings(
    staff_api, create_customer, customer, oms, printops, responses
):
    oms_customer = create_customer("Beta", storefront_id=str(oms.id))
    printops_customer = create_customer("Gamma", storefront_id=str(printops.id),
                                        storefront_options=POSTER_STORE)

    listed = staff_api.get("/api/customers")
    responses.append(listed)

    assert listed.status_code == 200
    assert listed.json() == [customer, oms_customer, printops_customer]
    assert oms_customer["storefront"] == {
        "type": "oms", "id": str(oms.id), "name": "Order desk",
        "base_url": "https://oms.example.com", "store_id": "store-7", "team_id": "5",
        "country_id": "44", "default_dpi": 300, "default_location": None,
    }
    assert set(oms_customer["storefront"]) == OMS_STOREFRONT_FIELDS
    assert printops_customer["storefront"] == {
        "type": "printops", "id": str(printops.id), "name": "PrintOps",
        "base_url": "https://printops.example.com",
    }
    assert printops_customer["storefront_options"] == POSTER_STORE
    for response in responses:
        content = response.content.decode()
        for secret in (SECRET, OMS_TOKEN, PRINTOPS_TOKEN, printops.webhook_secret):
            assert secret not in content
        assert "storefront_id" not in content


def test_the_customer_list_takes_the_same_number_of_queries_however_long(
    staff_api, staff_user, create_customer
):
    def add_one_of_each(n):
        create_customer(f"OPS {n}", storefront=storefront())
        create_customer(f"OMS {n}", storefront_id=str(make_oms(staff_user, f"OMS {n}").id))
        create_customer(f"PrintOps {n}", storefront_id=str(make_printops(staff_user, f"P{n}").id),
                        storefront_options={"store_id": n + 1})
        create_customer(f"Walk-in {n}")

    def queries():
        with CaptureQueriesContext(connection) as captured:
            response = staff_api.get("/api/customers")
        assert response.status_code == 200
        return len(captured), len(response.json())

    add_one_of_each(0)
    few, listed = queries()
    for n in range(1, 4):
        add_one_of_each(n)

    assert queries() == (few, listed * 4)


def test_the_storefront_is_chosen_changed_and_removed_by_id(
    staff_api, create_customer, oms, printops
):
    customer = create_customer(storefront_id=str(oms.id))
    url = f"/api/customers/{customer['id']}"

    to_printops = staff_api.patch(
        url, {"storefront_id": str(printops.id), "storefront_options": {"store_id": 786322}},
        format="json",
    )
    assert to_printops.status_code == 200, to_printops.json()
    assert to_printops.json()["storefront"]["type"] == "printops"
    # The scale option defaults to fit.
    assert to_printops.json()["storefront_options"] == {"store_id": 786322,
                                                       "scale_option": "fit"}
    assert staff_api.get(url).json() == to_printops.json()

    removed = staff_api.patch(url, {"storefront_id": None}, format="json")
    assert removed.status_code == 200
    assert removed.json()["storefront"] is None
    assert Customer.objects.get(pk=customer["id"]).storefront_id is None
    # Storefronts chosen by id are managed in the integrations API: they stay.
    assert Integration.objects.filter(pk__in=[oms.pk, printops.pk]).count() == 2


def test_an_ops_storefront_made_with_the_customer_goes_when_another_is_chosen(
    staff_api, customer, oms
):
    url = f"/api/customers/{customer['id']}"

    chosen = staff_api.patch(url, {"storefront_id": str(oms.id)}, format="json")

    assert chosen.status_code == 200
    assert chosen.json()["storefront"]["id"] == str(oms.id)
    assert not OPSIntegration.objects.exists()

    # A nested OPS storefront replaces the chosen one, which stays.
    nested = staff_api.patch(url, {"storefront": storefront()}, format="json")
    assert nested.status_code == 200
    assert nested.json()["storefront"]["type"] == "ops"
    assert OPSIntegration.objects.count() == 1
    assert OMSIntegration.objects.filter(pk=oms.pk).exists()


def test_a_nested_change_to_a_customer_of_another_type_needs_the_whole_ops_storefront(
    staff_api, create_customer, oms
):
    customer = create_customer(storefront_id=str(oms.id))

    response = staff_api.patch(f"/api/customers/{customer['id']}",
                               {"storefront": {"client_id": "client-2"}}, format="json")

    assert sorted(locs(response)) == [
        ["body", "storefront", "base_url"], ["body", "storefront", "client_secret"],
        ["body", "storefront", "token_url"],
    ]
    oms.refresh_from_db()
    assert Customer.objects.get(pk=customer["id"]).storefront_id == oms.pk


def test_deleting_a_customer_keeps_a_storefront_chosen_by_id(staff_api, create_customer, oms):
    customer = create_customer(storefront_id=str(oms.id))

    assert staff_api.delete(f"/api/customers/{customer['id']}").status_code == 204
    assert OMSIntegration.objects.filter(pk=oms.pk).exists()


def test_a_storefront_of_an_organization_of_the_caller_may_be_chosen(
    staff_api, staff_user, create_customer, django_user_model
):
    organization = Organization.objects.create(name="Acme Print")
    organization.members.add(staff_user)
    shared = make_oms(django_user_model.objects.create_user("owner"))
    shared.organization = organization
    shared.save()

    customer = create_customer(storefront_id=str(shared.id))

    assert customer["storefront"]["id"] == str(shared.id)


def test_a_storefront_id_the_caller_may_not_use_is_422(
    staff_api, staff_user, customer, django_user_model
):
    stranger = django_user_model.objects.create_user("stranger")
    foreign = make_oms(stranger)
    source = create_integration(OVSIntegration, name="Supplier", user=stranger,
                                base_url="https://ovs.example.com", username="u", password="p")
    own_source = create_integration(OVSIntegration, name="Own supplier", user=staff_user,
                                    base_url="https://ovs.example.com", username="u",
                                    password="p")
    cases = [
        (foreign.id, "Integration not found"),
        (uuid.uuid4(), "Integration not found"),
        (source.id, "Integration not found"),
        (own_source.id, "OVS integrations are not a storefront: they only feed the catalog"),
        ("not-a-uuid", "Must be a valid UUID."),
    ]

    for storefront_id, msg in cases:
        created = staff_api.post(
            "/api/customers", {"name": "X", "storefront_id": str(storefront_id)}, format="json"
        )
        changed = staff_api.patch(f"/api/customers/{customer['id']}",
                                  {"storefront_id": str(storefront_id)}, format="json")
        for response in (created, changed):
            assert locs(response) == [["body", "storefront_id"]]
            assert response.json()["detail"][0]["msg"] == msg

    assert Customer.objects.count() == 1
    assert Customer.objects.get().storefront_id == uuid.UUID(customer["storefront"]["id"])


def test_storefront_and_storefront_id_together_are_422(staff_api, oms):
    response = staff_api.post("/api/customers", {
        "name": "X", "storefront": storefront(), "storefront_id": str(oms.id),
    }, format="json")

    assert locs(response) == [["body", "storefront_id"]]
    assert not Customer.objects.exists() and not OPSIntegration.objects.exists()


@pytest.mark.parametrize("options, loc", [
    ({}, ["body", "storefront_options", "store_id"]),
    ({"scale_option": "fit"}, ["body", "storefront_options", "store_id"]),
    ({"store_id": "the big one"}, ["body", "storefront_options", "store_id"]),
    ({"store_id": None}, ["body", "storefront_options", "store_id"]),
    ({"store_id": 0}, ["body", "storefront_options", "store_id"]),
    ({"store_id": 7, "scale_option": "zoom"}, ["body", "storefront_options", "scale_option"]),
])
def test_printops_options_are_checked(staff_api, create_customer, printops, options, loc):
    created = staff_api.post("/api/customers", {
        "name": "X", "storefront_id": str(printops.id), "storefront_options": options,
    }, format="json")
    assert locs(created) == [loc]
    assert not Customer.objects.exists()

    customer = create_customer("Poster shop", storefront_id=str(printops.id),
                               storefront_options={"store_id": 5, "sku_prefix": "ps"})
    changed = staff_api.patch(f"/api/customers/{customer['id']}",
                              {"storefront_options": options}, format="json")
    assert locs(changed) == [loc]
    assert Customer.objects.get().storefront_options == {
        "store_id": 5, "sku_prefix": "ps", "scale_option": "fit",
    }


def test_choosing_printops_checks_the_options_the_customer_has(
    staff_api, create_customer, printops
):
    customer = create_customer(storefront_options={"store": "wrong key"})
    url = f"/api/customers/{customer['id']}"

    response = staff_api.patch(url, {"storefront_id": str(printops.id)}, format="json")

    assert locs(response) == [["body", "storefront_options", "store_id"]]
    assert Customer.objects.get().storefront_id is None


def test_a_change_that_touches_neither_storefront_nor_options_does_not_check_them(
    staff_api, printops
):
    # Options as the admin may have left them.
    customer = Customer.objects.create(name="Poster shop", storefront=printops)

    response = staff_api.patch(f"/api/customers/{customer.pk}", {"name": "Renamed"},
                               format="json")

    assert response.status_code == 200
    assert response.json()["storefront_options"] == {}


def test_the_order_webhook_secret_is_write_only_and_encrypted(staff_api):
    from django.db import connection

    from pushes.models import Customer

    created = staff_api.post("/api/customers", {"name": "Hooks Co."}, format="json").json()
    response = staff_api.patch(f"/api/customers/{created['id']}", {
        "order_webhook_url": "https://hooks.example.com/orders",
        "order_webhook_secret": "s3cret-value", "notify_buyer": True,
    }, format="json")

    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["order_webhook_url"] == "https://hooks.example.com/orders"
    assert body["notify_buyer"] is True
    assert "s3cret-value" not in response.content.decode()
    assert "order_webhook_secret" not in body
    customer = Customer.objects.get(pk=created["id"])
    assert customer.order_webhook_secret == "s3cret-value"
    with connection.cursor() as cursor:
        cursor.execute("SELECT order_webhook_secret FROM pushes_customer WHERE id = %s",
                       [customer.pk])
        assert "s3cret-value" not in cursor.fetchone()[0]
    bad = staff_api.patch(f"/api/customers/{created['id']}",
                          {"order_webhook_url": "not a url"}, format="json")
    assert bad.status_code == 422
    assert bad.json()["detail"][0]["loc"] == ["body", "order_webhook_url"]
    moved = staff_api.patch(f"/api/customers/{created['id']}",
                            {"order_webhook_url": "https://elsewhere.example.com/"},
                            format="json")
    assert moved.status_code == 422
    assert moved.json()["detail"][0]["loc"] == ["body", "order_webhook_secret"]
    assert moved.json()["detail"][0]["type"] == "secret_required"
    assert Customer.objects.get(pk=created["id"]).order_webhook_url == \
        "https://hooks.example.com/orders"

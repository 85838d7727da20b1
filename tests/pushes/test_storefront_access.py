"""Who may change a customer's OnPrintShop storefront through the customers API.

The storefront is an integration: the customers API applies to it the rule the
integrations API applies to every integration (its owner, the members of its
organization, superusers). Any staff user may manage customers, but a change that
would rewrite, remove or delete another owner's storefront is a 403 and changes nothing.
"""

import pytest

from integrations.models import OMSIntegration, OPSIntegration, Organization
from pushes.models import Customer
from tests.conftest import client_for

pytestmark = pytest.mark.django_db

SECRET = "owners-client-secret"


@pytest.fixture
def staff(django_user_model):
    make = django_user_model.objects.create_user
    return {
        "owner": make("owner", is_staff=True),
        "member": make("member", is_staff=True),
        "other": make("other", is_staff=True),
        "superuser": django_user_model.objects.create_superuser("root", password=None),
    }


@pytest.fixture
def storefront(staff):
    organization = Organization.objects.create(name="Acme Print")
    organization.members.add(staff["owner"], staff["member"])
    return OPSIntegration.objects.create(
        name="Acme shop", user=staff["owner"], organization=organization,
        base_url="https://shop.example.com", token_url="https://shop.example.com/oauth/token",
        client_id="client-1", client_secret=SECRET,
    )


@pytest.fixture
def customer(storefront):
    return Customer.objects.create(name="Acme", storefront=storefront)


@pytest.fixture
def others_oms(staff):
    return OMSIntegration.objects.create(
        name="Other desk", user=staff["other"], base_url="https://oms.example.com",
        api_token="t", store_id="1",
    )


NEW_STOREFRONT = {
    "type": "ops", "base_url": "https://mine.example.com",
    "token_url": "https://mine.example.com/token", "client_id": "mine", "client_secret": "mine",
}
CHANGES = {
    "rewrite in place": lambda oms: {"storefront": {"client_id": "client-2"}},
    "move with the secret": lambda oms: {"storefront": {
        "token_url": "https://mine.example.com/token", "client_secret": SECRET}},
    "remove": lambda oms: {"storefront": None},
    "replace by a new one": lambda oms: {"storefront": NEW_STOREFRONT},
    "replace by id": lambda oms: {"storefront_id": str(oms.pk)},
}
ALLOWED = {"owner": True, "member": True, "superuser": True, "other": False}


def as_it_stands(storefront):
    row = OPSIntegration.objects.filter(pk=storefront.pk).values(
        "base_url", "token_url", "client_id").first()
    return row, Customer.objects.values_list("storefront_id", flat=True).get()


@pytest.mark.parametrize("role", ALLOWED)
@pytest.mark.parametrize("change", CHANGES.values(), ids=CHANGES.keys())
def test_only_those_who_may_open_the_storefront_change_it(
    staff, storefront, customer, others_oms, role, change
):
    # The OMS storefront chosen by id must be one the caller may open.
    others_oms.user = staff[role]
    others_oms.save()
    before = as_it_stands(storefront)

    response = client_for(staff[role]).patch(
        f"/api/customers/{customer.pk}", change(others_oms), format="json"
    )

    if ALLOWED[role]:
        assert response.status_code == 200, response.content
    else:
        assert response.status_code == 403, response.content
        assert response.json()["detail"] == (
            "Only the storefront's owner, the members of its organization and superusers "
            "may change it"
        )
        assert as_it_stands(storefront) == before


@pytest.mark.parametrize("role", ALLOWED)
def test_only_those_who_may_open_the_storefront_delete_its_customer(
    staff, storefront, customer, role
):
    response = client_for(staff[role]).delete(f"/api/customers/{customer.pk}")

    if ALLOWED[role]:
        assert response.status_code == 204
        assert not OPSIntegration.objects.exists()
    else:
        assert response.status_code == 403
        assert Customer.objects.filter(pk=customer.pk).exists()
        assert OPSIntegration.objects.filter(pk=storefront.pk).exists()


@pytest.mark.parametrize("role", ALLOWED)
def test_every_staff_user_reads_the_customer_and_changes_what_is_not_the_storefront(
    staff, storefront, customer, role
):
    api = client_for(staff[role])
    url = f"/api/customers/{customer.pk}"

    shown = api.get(url)
    renamed = api.patch(url, {"name": f"Acme by {role}", "is_active": False}, format="json")

    assert shown.status_code == 200
    assert shown.json()["storefront"]["id"] == str(storefront.pk)
    assert SECRET not in shown.content.decode()
    assert renamed.status_code == 200, renamed.content
    assert Customer.objects.get().name == f"Acme by {role}"


def test_a_storefront_of_an_organization_the_user_left_is_closed_to_them(
    staff, storefront, customer
):
    storefront.organization.members.remove(staff["member"])

    response = client_for(staff["member"]).patch(
        f"/api/customers/{customer.pk}", {"storefront": {"client_id": "x"}}, format="json"
    )

    assert response.status_code == 403
    assert OPSIntegration.objects.get().client_id == "client-1"

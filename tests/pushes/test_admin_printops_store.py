"""Choosing, or creating, the PrintOps store of a customer on its admin page."""

import pytest
import requests
from django.urls import reverse

from integrations.models import PrintOpsIntegration
from integrations.services import create_integration
from pushes.models import Customer
from tests.pushes.test_admin import make_customer

pytestmark = pytest.mark.django_db

TOKEN = "demo-printops-token"


@pytest.fixture
def printops(sandbox, admin_user):
    return create_integration(
        PrintOpsIntegration, name="PrintOps", base_url=sandbox.url_of("printops"),
        api_token=TOKEN, user=admin_user,
    )


@pytest.fixture
def customer(printops):
    return Customer.objects.create(name="Poster Shop", storefront=printops)


def change_url(customer):
    return reverse("admin:pushes_customer_change", args=[customer.pk])


def customer_form(customer, **changes):
    data = {
        "name": customer.name, "is_active": "on", "storefront": str(customer.storefront_id),
        "printops_store": "", "new_store_name": "", "scale_option": "fit",
        "markup_rules-TOTAL_FORMS": "0", "markup_rules-INITIAL_FORMS": "0",
        "markup_rules-MIN_NUM_FORMS": "0", "markup_rules-MAX_NUM_FORMS": "1000",
    }
    return {**data, **changes}


def sandbox_stores(sandbox):
    state = requests.get(f"{sandbox.url_of('printops')}/_sandbox/state", timeout=5).json()
    return {store["name"]: store for store in state["stores"]}


def test_the_customer_page_lists_the_stores_of_its_printops_storefront(admin_client, customer):
    response = admin_client.get(change_url(customer))

    assert response.status_code == 200
    field = response.context["adminform"].form.fields["printops_store"]
    assert dict(field.choices) == {
        "": "---------", 786321: "My First Store (786321)", 786322: "Best Posters LLC (786322)",
    }
    page = response.content.decode()
    assert "My First Store" in page and "Best Posters LLC" in page
    assert 'name="storefront_options"' not in page


def test_choosing_a_store_saves_its_id_and_the_scale_option(admin_client, customer):
    response = admin_client.post(
        change_url(customer), customer_form(customer, printops_store="786322", scale_option="fill")
    )

    assert response.status_code == 302, response.context["adminform"].form.errors
    customer.refresh_from_db()
    assert customer.storefront_options == {"store_id": 786322, "scale_option": "fill"}


def test_the_saved_store_and_scale_option_are_shown_chosen(admin_client, customer):
    customer.storefront_options = {"store_id": 786321, "scale_option": "noscale"}
    customer.save()

    form = admin_client.get(change_url(customer)).context["adminform"].form

    assert form["printops_store"].value() == 786321
    assert form["scale_option"].value() == "noscale"


def test_a_new_store_name_creates_the_store_at_printops_and_saves_its_id(
    admin_client, customer, sandbox
):
    response = admin_client.post(
        change_url(customer), customer_form(customer, new_store_name="Wall Art Co")
    )

    assert response.status_code == 302, response.context["adminform"].form.errors
    created = sandbox_stores(sandbox)["Wall Art Co"]
    assert created["type"] == "generic"
    customer.refresh_from_db()
    assert customer.storefront_options == {"store_id": created["id"], "scale_option": "fit"}


def test_saving_without_a_store_asks_for_one(admin_client, customer):
    response = admin_client.post(change_url(customer), customer_form(customer))

    assert response.status_code == 200
    assert response.context["adminform"].form.errors["printops_store"] == [
        "Choose the store, or name a new one."
    ]


def test_a_refused_token_is_shown_on_the_page_and_the_store_is_given_by_its_id(
    admin_client, customer, printops
):
    printops.api_token = "wrong-token"
    printops.save()

    response = admin_client.get(change_url(customer))

    assert response.status_code == 200
    assert "PrintOps refused the API token" in response.content.decode()

    response = admin_client.post(change_url(customer), customer_form(customer, printops_store="42"))

    assert response.status_code == 302, response.context["adminform"].form.errors
    customer.refresh_from_db()
    assert customer.storefront_options == {"store_id": 42, "scale_option": "fit"}


def test_a_store_that_cannot_be_created_shows_why(admin_client, customer, printops):
    printops.api_token = "wrong-token"
    printops.save()

    response = admin_client.post(
        change_url(customer), customer_form(customer, new_store_name="Wall Art Co")
    )

    assert response.status_code == 200
    assert response.context["adminform"].form.errors["new_store_name"] == [
        "The store could not be created: PrintOps refused the API token"
    ]


def test_other_storefronts_show_their_options_as_labelled_rows_and_have_no_store_fields(
    admin_client, admin_user
):
    customer = make_customer(admin_user)
    Customer.objects.filter(pk=customer.pk).update(storefront_options={"catalog_tag": "b2b"})

    response = admin_client.get(change_url(customer))

    fields = response.context["adminform"].form.fields
    assert "storefront_options" not in fields  # no JSON box
    assert not {"printops_store", "new_store_name", "scale_option"} & fields.keys()
    assert "<th>catalog tag</th><td>b2b</td>" in response.content.decode()


def test_switching_a_customer_to_printops_asks_for_its_store_then_saves_it(
    admin_client, admin_user, printops
):
    customer = make_customer(admin_user)
    switched = customer_form(customer, storefront=str(printops.pk))
    del switched["printops_store"], switched["new_store_name"], switched["scale_option"]

    response = admin_client.post(change_url(customer), switched)

    assert response.status_code == 200
    assert "My First Store" in response.content.decode()
    response = admin_client.post(
        change_url(customer), {**switched, "printops_store": "786321", "scale_option": "fit"}
    )
    assert response.status_code == 302, response.context["adminform"].form.errors
    customer.refresh_from_db()
    assert customer.storefront_id == printops.pk
    assert customer.storefront_options == {"store_id": 786321, "scale_option": "fit"}

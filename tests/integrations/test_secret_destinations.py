"""A stored secret is bound to where it is sent: a change of that URL must give it again.

Otherwise whoever may edit an integration (an organization member, staff editing a
customer) could point it at their own server and receive the secret with the next sync
or push. Each case stores its secret for the sandbox, then tries to move it to
`elsewhere` (a second sandbox, a server nobody gave the secret to) through the API and
through the admin.
"""

from dataclasses import dataclass

import pytest
from django.urls import reverse

from integrations.models import (
    OMSIntegration,
    OPSIntegration,
    OVSIntegration,
    PrintOpsIntegration,
)
from integrations.services import claim_sync, create_integration, run_sync
from pushes.models import Customer

pytestmark = pytest.mark.django_db

BASE = "/api/v1/external-integrations/"


def make_ovs(sandbox, owner):
    return create_integration(
        OVSIntegration, name="OVS", user=owner, base_url=sandbox.url_of("ovs"),
        username="demo", password="demo-password",
        push_service_base_url=sandbox.url_of("push"), push_service_api_key="demo-push-key",
    )


def make_printops(sandbox, owner):
    return create_integration(
        PrintOpsIntegration, name="PrintOps", user=owner, base_url=sandbox.url_of("printops"),
        api_token="demo-printops-token",
    )


def make_oms(sandbox, owner):
    return OMSIntegration.objects.create(
        name="OMS", user=owner, base_url=sandbox.url_of("oms"), api_token="demo-oms-token",
        store_id="1", team_id="5", country_id="44",
    )


def make_ops(sandbox, owner):
    return OPSIntegration.objects.create(
        name="Shop", user=owner, base_url=sandbox.url_of("ops"),
        token_url=f"{sandbox.url_of('ops')}/oauth/token", client_id="demo-client",
        client_secret="demo-secret",
    )


@dataclass(frozen=True)
class Case:
    """One secret and one URL it is sent to."""

    make: object
    url_field: str
    secret_field: str
    secret: str
    fake: str
    source: bool = False

    def new_url(self, elsewhere):
        url = elsewhere.url_of(self.fake)
        return f"{url}/oauth/token" if self.url_field == "token_url" else url


CASES = {
    "ovs password": Case(make_ovs, "base_url", "password", "demo-password", "ovs", source=True),
    "ovs push key": Case(make_ovs, "push_service_base_url", "push_service_api_key",
                         "demo-push-key", "push"),
    "printops token": Case(make_printops, "base_url", "api_token", "demo-printops-token",
                           "printops", source=True),
    "oms token": Case(make_oms, "base_url", "api_token", "demo-oms-token", "oms"),
    "ops secret at base_url": Case(make_ops, "base_url", "client_secret", "demo-secret", "ops"),
    "ops secret at token_url": Case(make_ops, "token_url", "client_secret", "demo-secret",
                                    "ops"),
}
API_CASES = {name: case for name, case in CASES.items() if case.make is not make_ops}
STOREFRONT_CASES = {name: case for name, case in CASES.items() if case.make is make_ops}


def sync_in_the_foreground(integration):
    run_sync(integration.pk, claim_sync(integration.pk))


def stored(case, integration):
    return getattr(type(integration).objects.get(pk=integration.pk), case.url_field)


# -- the integrations API ----------------------------------------------------------------


@pytest.mark.parametrize("case", API_CASES.values(), ids=API_CASES.keys())
def test_changing_where_a_secret_goes_without_giving_it_again_is_422_and_sends_nothing(
    api, user, sandbox, elsewhere, case
):
    integration = case.make(sandbox, user)
    before = stored(case, integration)
    url = f"{BASE}{integration.integration_type}/{integration.pk}"

    response = api.put(url, {case.url_field: case.new_url(elsewhere)}, format="json")

    assert response.status_code == 422, response.content
    [error] = response.json()["detail"]
    assert error["loc"] == ["body", case.secret_field]
    assert error["type"] == "secret_required"
    assert stored(case, integration) == before
    if case.source:
        sync_in_the_foreground(integration)
    assert elsewhere.carrying(case.secret) == []
    assert case.secret not in response.content.decode()


@pytest.mark.parametrize("case", API_CASES.values(), ids=API_CASES.keys())
def test_a_secret_given_again_moves_with_its_url(api, user, sandbox, elsewhere, case):
    integration = case.make(sandbox, user)
    url = f"{BASE}{integration.integration_type}/{integration.pk}"
    new_url = case.new_url(elsewhere)

    response = api.put(url, {case.url_field: new_url, case.secret_field: case.secret},
                       format="json")

    assert response.status_code == 200, response.content
    assert stored(case, integration) == new_url


def test_other_changes_keep_the_stored_secrets(api, user, sandbox):
    integration = make_ovs(sandbox, user)

    response = api.put(f"{BASE}ovs/{integration.pk}",
                       {"name": "Renamed", "username": "demo", "base_url": integration.base_url},
                       format="json")

    assert response.status_code == 200, response.content
    integration.refresh_from_db()
    assert (integration.name, integration.password) == ("Renamed", "demo-password")


# -- a customer's storefront in the customers API -----------------------------------------


@pytest.mark.parametrize("case", STOREFRONT_CASES.values(), ids=STOREFRONT_CASES.keys())
def test_moving_a_customers_storefront_needs_its_secret_again(
    staff_api, staff_user, sandbox, elsewhere, case
):
    integration = case.make(sandbox, staff_user)
    customer = Customer.objects.create(name="Acme", storefront=integration)
    url = f"/api/customers/{customer.pk}"
    new_url = case.new_url(elsewhere)

    refused = staff_api.patch(url, {"storefront": {case.url_field: new_url}}, format="json")

    assert refused.status_code == 422, refused.content
    [error] = refused.json()["detail"]
    assert error["loc"] == ["body", "storefront", "client_secret"]
    assert error["type"] == "secret_required"
    assert stored(case, integration) != new_url
    assert elsewhere.carrying(case.secret) == []

    moved = staff_api.patch(
        url, {"storefront": {case.url_field: new_url, "client_secret": case.secret}},
        format="json",
    )
    assert moved.status_code == 200, moved.content
    assert stored(case, integration) == new_url


# -- the admin -----------------------------------------------------------------------------


def change_url(integration):
    opts = type(integration)._meta
    return reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[integration.pk])


def posted_form(client, url):
    """The change page's form as the browser posts it when nothing is typed."""
    page = client.get(url)
    assert page.status_code == 200
    form = page.context["adminform"].form
    data = {}
    for name in form.fields:
        value = form[name].value()
        if value is None or value is False:
            continue
        data[name] = "on" if value is True else value
    for inline in page.context["inline_admin_formsets"]:
        management = inline.formset.management_form
        for name in management.fields:
            data[management.add_prefix(name)] = management[name].value()
    return data


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_the_admin_shows_the_error_on_the_secret_and_keeps_the_url(
    admin_client, admin_user, sandbox, elsewhere, case
):
    integration = case.make(sandbox, admin_user)
    url = change_url(integration)
    new_url = case.new_url(elsewhere)
    data = posted_form(admin_client, url)

    refused = admin_client.post(url, {**data, case.url_field: new_url})

    assert refused.status_code == 200
    errors = refused.context["adminform"].form.errors
    assert list(errors) == [case.secret_field]
    assert "again" in errors[case.secret_field][0]
    assert stored(case, integration) != new_url
    if case.source:
        sync_in_the_foreground(integration)
    assert elsewhere.carrying(case.secret) == []

    moved = admin_client.post(url, {**data, case.url_field: new_url,
                                    case.secret_field: case.secret})
    assert moved.status_code == 302
    assert stored(case, integration) == new_url

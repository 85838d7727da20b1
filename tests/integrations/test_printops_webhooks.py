"""PrintOps webhooks: registered at the sandbox's PrintOps fake over real HTTP, received at
the hub's endpoint (through Django's test client, and delivered by the fake to a live
server)."""

import pytest
import requests

from integrations.models import PrintOpsIntegration, WebhookEvent
from integrations.printops.client import PrintOpsClient
from integrations.printops.webhooks import register_webhooks, webhook_url
from integrations.services import create_integration

TOKEN = "demo-printops-token"
HUB = "https://hub.example.com"
TYPES = ["order_shipment", "order_state_update"]


@pytest.fixture
def printops(sandbox, user, settings):
    settings.HUB_PUBLIC_URL = HUB
    return create_integration(
        PrintOpsIntegration, name="PrintOps", base_url=sandbox.url_of("printops"),
        api_token=TOKEN, user=user,
    )


def webhooks_at(sandbox):
    return requests.get(f"{sandbox.url_of('printops')}/_sandbox/state", timeout=5).json()[
        "webhooks"
    ]


def endpoint(integration):
    return f"/webhooks/printops/{integration.webhook_secret}"


def delivery(**fields):
    return {"type": "order_state_update", "webhook_id": 1, "store_id": 786322,
            "order_id": 320100, "state": "shipped", **fields}


# -- registration ----------------------------------------------------------------------


@pytest.mark.django_db
def test_registering_creates_one_webhook_of_each_type_at_the_endpoint(sandbox, printops):
    registration = register_webhooks(printops)

    url = f"{HUB}/webhooks/printops/{printops.webhook_secret}"
    assert webhook_url(printops) == registration.url == url
    webhooks = webhooks_at(sandbox)
    assert sorted(webhook["type"] for webhook in webhooks) == TYPES
    assert {(webhook["url"], webhook["is_active"]) for webhook in webhooks} == {(url, True)}
    assert sorted(registration.created) == TYPES
    assert (registration.kept, registration.deleted) == ({}, [])


@pytest.mark.django_db
def test_registering_twice_keeps_the_two_webhooks(sandbox, printops):
    first = register_webhooks(printops)

    again = register_webhooks(printops)

    assert len(webhooks_at(sandbox)) == 2
    assert again.kept == first.created
    assert (again.created, again.deleted) == ({}, [])


@pytest.mark.django_db
def test_stale_webhooks_of_the_integration_are_replaced_and_others_left_alone(
    sandbox, printops
):
    client = PrintOpsClient.for_integration(printops)
    moved = client.create_webhook(
        "order_shipment", f"https://old-hub.example.com{endpoint(printops)}"
    )
    inactive = client.create_webhook("order_state_update", webhook_url(printops),
                                     is_active=False)
    foreign = client.create_webhook("order_shipment", "https://elsewhere.example.com/hook")

    registration = register_webhooks(printops)

    assert sorted(registration.deleted) == [moved["id"], inactive["id"]]
    webhooks = webhooks_at(sandbox)
    assert len(webhooks) == 3
    assert foreign["id"] in {webhook["id"] for webhook in webhooks}
    ours = [webhook for webhook in webhooks if webhook["url"] == webhook_url(printops)]
    assert sorted(webhook["type"] for webhook in ours) == TYPES


@pytest.mark.django_db
def test_the_admin_action_registers_the_webhooks(sandbox, printops, admin_client):
    response = admin_client.post(
        "/admin/integrations/printopsintegration/",
        {"action": "register_webhooks", "_selected_action": [printops.pk]}, follow=True,
    )

    assert response.status_code == 200
    assert "created order_state_update" in response.content.decode()
    assert len(webhooks_at(sandbox)) == 2


# -- the endpoint ----------------------------------------------------------------------


@pytest.mark.django_db
def test_a_delivery_is_stored_as_received(client, printops):
    payload = delivery(order={"id": 320100, "state": "shipped"})

    response = client.post(endpoint(printops), payload, content_type="application/json")

    assert response.status_code == 200
    event = WebhookEvent.objects.get()
    assert (event.integration_id, event.event_type, event.store_id) == (
        printops.pk, "order_state_update", "786322"
    )
    assert event.payload == payload


@pytest.mark.django_db
@pytest.mark.parametrize("path", [
    "/webhooks/printops/not-the-secret",
    "/webhooks/printops/" + "x" * 200,
    "/webhooks/elsewhere",
    "/webhooks/",
])
def test_an_unknown_secret_or_path_is_a_bare_404(client, printops, path):
    response = client.post(path, delivery(), content_type="application/json")

    assert response.status_code == 404
    assert not WebhookEvent.objects.exists()


@pytest.mark.django_db
def test_only_a_post_is_answered(client, printops):
    for method in (client.get, client.put, client.delete):
        response = method(endpoint(printops))
        assert (response.status_code, response.content) == (404, b"")
    assert not WebhookEvent.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize("body", ["{not json", "[1, 2]", "\"text\""])
def test_a_body_that_is_not_a_json_object_is_400(client, printops, body):
    response = client.post(endpoint(printops), body, content_type="application/json")

    assert (response.status_code, response.content) == (400, b"")
    assert not WebhookEvent.objects.exists()


@pytest.mark.django_db
def test_the_wrong_integrations_secret_is_not_accepted_for_another(client, printops, user,
                                                                   sandbox):
    other = create_integration(
        PrintOpsIntegration, name="PrintOps 2", base_url=sandbox.url_of("printops"),
        api_token=TOKEN, user=user,
    )

    client.post(endpoint(other), delivery(type="order_shipment"),
                content_type="application/json")

    assert list(WebhookEvent.objects.values_list("integration_id", "event_type")) == [
        (other.pk, "order_shipment")
    ]


# -- delivery from PrintOps to a running hub -------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_an_event_printops_sends_reaches_the_hub_and_is_stored(
    sandbox, user, settings, live_server
):
    settings.HUB_PUBLIC_URL = live_server.url
    integration = create_integration(
        PrintOpsIntegration, name="PrintOps", base_url=sandbox.url_of("printops"),
        api_token=TOKEN, user=user,
    )
    register_webhooks(integration)

    sent = requests.post(
        f"{sandbox.url_of('printops')}/_sandbox/send-webhook",
        json={"event": "order_shipment", "store_id": 786322, "order_id": 320101}, timeout=10,
    ).json()

    [delivered] = sent["deliveries"]
    assert (delivered["url"], delivered["status"], delivered["error"]) == (
        f"{live_server.url}{endpoint(integration)}", 200, None
    )
    event = WebhookEvent.objects.get()
    assert (event.integration_id, event.event_type, event.store_id) == (
        integration.pk, "order_shipment", "786322"
    )
    assert event.payload["order_id"] == 320101
    assert event.payload["shipments"][0]["tracking_number"] == "9434611206219544571716"


@pytest.mark.django_db
def test_the_admin_shows_the_latest_events_and_never_the_token(client, admin_client, printops):
    for state in ("processing", "shipped"):
        client.post(endpoint(printops), delivery(state=state), content_type="application/json")
    event = WebhookEvent.objects.first()

    page = admin_client.get(f"/admin/integrations/printopsintegration/{printops.pk}/change/")
    listing = admin_client.get("/admin/integrations/webhookevent/?event_type=order_state_update")
    detail = admin_client.get(f"/admin/integrations/webhookevent/{event.pk}/change/")

    assert page.status_code == listing.status_code == detail.status_code == 200
    html = page.content.decode()
    assert "Latest webhook events" in html and html.count("order_state_update") >= 2
    assert TOKEN not in html and printops.webhook_secret not in html
    assert "shipped" in detail.content.decode()

"""PrintOps webhooks: registered at the sandbox's PrintOps fake over real HTTP, received at
the hub's endpoint (through Django's test client, and delivered by the fake to a live
server)."""

import hashlib
import json

import pytest
import requests
from django.db import connection

from hub.secrets import decrypt
from integrations.models import PrintOpsIntegration, WebhookEvent
from integrations.printops.webhooks import event_received, register_webhooks, webhook_url
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


def create_at(sandbox, **body):
    return requests.post(f"{sandbox.url_of('printops')}/api/webhooks", json=body, timeout=5,
                         headers={"Authorization": f"Bearer {TOKEN}"})


@pytest.mark.django_db
def test_registering_creates_one_active_webhook_of_each_type_with_the_spec_body(
    sandbox, printops
):
    registration = register_webhooks(printops)

    webhooks = webhooks_at(sandbox)
    assert sorted(webhook["type"] for webhook in webhooks) == TYPES
    # The fake takes only the spec's `type` and `is_active` (a string), so nothing else
    # was sent; and what it stores has no URL.
    assert [set(webhook) for webhook in webhooks] == [
        {"id", "type", "is_active", "created_at", "updated_at"}
    ] * 2
    assert {webhook["is_active"] for webhook in webhooks} == {True}
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
def test_webhooks_are_found_by_type_and_duplicates_and_inactive_ones_deleted(
    sandbox, printops
):
    shipment = create_at(sandbox, type="order_shipment", is_active="true").json()["data"]
    duplicate = create_at(sandbox, type="order_shipment", is_active="1").json()["data"]
    inactive = create_at(sandbox, type="order_state_update", is_active="false").json()["data"]

    registration = register_webhooks(printops)

    assert registration.kept == {"order_shipment": shipment["id"]}
    assert sorted(registration.deleted) == [duplicate["id"], inactive["id"]]
    webhooks = webhooks_at(sandbox)
    assert sorted((webhook["type"], webhook["is_active"]) for webhook in webhooks) == [
        ("order_shipment", True), ("order_state_update", True)
    ]
    assert shipment["id"] in {webhook["id"] for webhook in webhooks}


@pytest.mark.django_db
def test_the_admin_action_registers_the_webhooks(sandbox, printops, admin_client):
    response = admin_client.post(
        "/admin/integrations/printopsintegration/",
        {"action": "register_webhooks", "_selected_action": [printops.pk]}, follow=True,
    )

    assert response.status_code == 200
    assert "created order_state_update" in response.content.decode()
    assert len(webhooks_at(sandbox)) == 2


@pytest.mark.django_db
def test_the_admin_page_shows_staff_the_delivery_url_to_enter_in_printops(
    printops, admin_client
):
    page = admin_client.get(f"/admin/integrations/printopsintegration/{printops.pk}/change/")

    html = page.content.decode()
    assert f"<code>{HUB}/webhooks/printops/{printops.webhook_secret}</code>" in html
    assert "Delivery URL" in html and TOKEN not in html


# -- the secret at rest ----------------------------------------------------------------


@pytest.mark.django_db
def test_the_webhook_secret_is_stored_encrypted_and_found_by_its_digest(printops):
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT webhook_secret, webhook_secret_digest FROM integrations_printopsintegration"
            " WHERE integration_ptr_id = %s", [printops.pk],
        )
        stored, digest = cursor.fetchone()

    secret = PrintOpsIntegration.objects.get(pk=printops.pk).webhook_secret
    assert len(secret) >= 40
    assert secret not in stored and secret not in digest
    assert decrypt(stored) == secret
    assert digest == hashlib.sha256(secret.encode()).hexdigest()
    assert PrintOpsIntegration.by_webhook_secret(secret) == printops
    assert PrintOpsIntegration.by_webhook_secret(secret[:-1] + "x") is None


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


@pytest.mark.django_db(transaction=True)
def test_an_identical_delivery_arriving_twice_is_stored_and_announced_once(client, printops):
    announced = []

    def receiver(sender, event, event_type, **kwargs):
        announced.append((event.pk, event_type))

    event_received.connect(receiver)
    try:
        first = client.post(endpoint(printops), delivery(), content_type="application/json")
        # The same JSON again, its keys in another order and spaced differently.
        again = client.post(endpoint(printops), json.dumps(dict(reversed(delivery().items())),
                                                           indent=2),
                            content_type="application/json")
        later = client.post(endpoint(printops), delivery(state="delivered"),
                            content_type="application/json")
    finally:
        event_received.disconnect(receiver)

    assert first.status_code == again.status_code == later.status_code == 200
    events = list(WebhookEvent.objects.order_by("received_at"))
    assert [event.payload["state"] for event in events] == ["shipped", "delivered"]
    assert announced == [(event.pk, "order_state_update") for event in events]


@pytest.mark.django_db
def test_a_receiver_that_fails_loses_no_event(client, printops, django_capture_on_commit_callbacks):
    def broken(sender, **kwargs):
        raise RuntimeError("not today")

    event_received.connect(broken)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(endpoint(printops), delivery(),
                                   content_type="application/json")
    finally:
        event_received.disconnect(broken)

    assert response.status_code == 200
    assert WebhookEvent.objects.count() == 1


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
@pytest.mark.parametrize("body", ["{not json", "[1, 2]", "\"text\"", '{"type": "a\\u0000b"}'])
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
    # What staff do in PrintOps: enter the delivery URL the admin shows them.
    requests.post(f"{sandbox.url_of('printops')}/_sandbox/delivery-url",
                  json={"url": webhook_url(integration)}, timeout=5)

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
    assert TOKEN not in html
    assert "shipped" in detail.content.decode()


@pytest.mark.django_db
def test_the_demo_integration_is_subscribed_and_its_delivery_url_entered(sandbox, user,
                                                                         settings):
    from integrations.demo import load_demo_printops

    settings.HUB_PUBLIC_URL = HUB

    integration = load_demo_printops(user, sandbox.url)

    state = requests.get(f"{sandbox.url_of('printops')}/_sandbox/state", timeout=5).json()
    assert sorted(webhook["type"] for webhook in state["webhooks"]) == TYPES
    assert state["delivery_url"] == webhook_url(integration)

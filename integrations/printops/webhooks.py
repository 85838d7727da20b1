"""PrintOps webhooks: registering the event types, and receiving what PrintOps sends.

PrintOps' webhook API takes only a `type` and `is_active`: it has no field for where to
deliver. The delivery URL, `{HUB_PUBLIC_URL}/webhooks/printops/<webhook secret>`, is entered
in PrintOps by staff (the integration's admin page shows it), and the hub registers each
event type once. The secret in the path is the only proof a delivery comes from PrintOps
(PrintOps signs nothing): it is stored encrypted, found by its digest, and any doubt
answers a bare 404.

A delivery is a nudge, not a source of state: its body is undocumented, so it is stored as
received (once: an identical delivery arriving again is not stored again) and
`event_received` is sent for each new event after it is committed. Receivers re-read the
order or shipment it names through the PrintOps API; they never take state from the body.
"""

import json
import logging
from dataclasses import dataclass, field

from django.conf import settings
from django.db import transaction
from django.dispatch import Signal
from django.http import HttpResponse
from django.views.decorators.csrf import csrf_exempt

from integrations.models import PrintOpsIntegration, WebhookEvent
from integrations.printops import client as printops
from integrations.printops.client import PrintOpsClient

logger = logging.getLogger(__name__)

EVENT_TYPE_FIELD = "type"
STORE_ID_FIELD = "store_id"
MAX_SECRET_LENGTH = 64
MAX_EVENT_TYPE_LENGTH = 64
MAX_STORE_ID_LENGTH = 64
UNKNOWN_EVENT_TYPE = "unknown"

# Sent once per newly stored event, after its transaction commits, with `event` (a
# WebhookEvent) and `event_type`. Connect a receiver to act on an event type.
event_received = Signal()


def webhook_url(integration):
    """Where PrintOps is to deliver this integration's events (entered in PrintOps)."""
    return f"{settings.HUB_PUBLIC_URL.rstrip('/')}/webhooks/printops/{integration.webhook_secret}"


@dataclass
class Registration:
    """What register_webhooks found and did, by webhook type: PrintOps webhook ids."""

    kept: dict = field(default_factory=dict)
    created: dict = field(default_factory=dict)
    deleted: list = field(default_factory=list)

    def __str__(self):
        parts = [f"created {kind} ({webhook_id})" for kind, webhook_id in self.created.items()]
        parts += [f"kept {kind} ({webhook_id})" for kind, webhook_id in self.kept.items()]
        if self.deleted:
            parts.append("deleted duplicate or inactive " + ", ".join(map(str, self.deleted)))
        return "; ".join(parts)


def is_active(webhook):
    return webhook.get(printops.WEBHOOK_ACTIVE_FIELD) in (True, 1, "1", "true")


def register_webhooks(integration, *, client=None):
    """Make PrintOps send every order event type the hub takes, once per type.

    Idempotent: per type the first active webhook is kept, or one is created; the
    account's other webhooks of that type (inactive ones, duplicates, which would deliver
    every event twice) are deleted. Webhooks of other types are left alone.
    Raises PrintOpsError when PrintOps fails.
    """
    client = client or PrintOpsClient.for_integration(integration)
    registration = Registration()
    for webhook in client.webhooks():
        kind = webhook.get(printops.WEBHOOK_TYPE_FIELD)
        if kind not in printops.WEBHOOK_TYPES:
            continue
        if is_active(webhook) and kind not in registration.kept:
            registration.kept[kind] = webhook[printops.ID_FIELD]
        else:
            client.delete_webhook(webhook[printops.ID_FIELD])
            registration.deleted.append(webhook[printops.ID_FIELD])
    for kind in printops.WEBHOOK_TYPES:
        if kind not in registration.kept:
            created = client.create_webhook(kind)
            registration.created[kind] = created.get(printops.ID_FIELD)
    logger.info("PrintOps webhooks of %s: %s", integration.pk, registration)
    return registration


# -- the endpoint ------------------------------------------------------------------------


def not_found():
    return HttpResponse(status=404)


def integration_of(secret):
    """The integration whose webhook secret this is, or None."""
    if not secret or len(secret) > MAX_SECRET_LENGTH:
        return None
    return PrintOpsIntegration.by_webhook_secret(secret)


@csrf_exempt
def receive(request, secret):
    """Store one event PrintOps delivered (once); 404 for anything but a POST to a known
    secret. A repeated delivery is answered 200 too, so PrintOps stops sending it."""
    if request.method != "POST":
        return not_found()
    integration = integration_of(secret)
    if integration is None:
        return not_found()
    try:
        payload = json.loads(request.body)
    except ValueError:
        return HttpResponse(status=400)
    # The database's JSON refuses NUL characters; PrintOps has no reason to send one.
    if not isinstance(payload, dict) or b"\\u0000" in request.body:
        return HttpResponse(status=400)
    event_type = payload.get(EVENT_TYPE_FIELD)
    store_id = payload.get(STORE_ID_FIELD)
    event, created = WebhookEvent.objects.record(
        integration, payload,
        event_type=str(event_type)[:MAX_EVENT_TYPE_LENGTH] if event_type else UNKNOWN_EVENT_TYPE,
        store_id=str(store_id)[:MAX_STORE_ID_LENGTH] if store_id not in (None, "") else None,
    )
    if created:
        transaction.on_commit(lambda: announce(event))
    return HttpResponse(status=200)


def announce(event):
    """Tell the receivers of event_received. A failing receiver fails no delivery and no
    other receiver (send_robust logs its error); the event stays stored either way."""
    event_received.send_robust(sender=PrintOpsIntegration, event=event,
                               event_type=event.event_type)

"""PrintOps webhooks: registering the hub's endpoint, and receiving what PrintOps sends.

Each integration has its own endpoint, `POST /webhooks/printops/<webhook_secret>`: the
secret in the path is the only proof that a delivery comes from PrintOps (PrintOps signs
nothing), so it is compared in constant time and any doubt answers a bare 404. An event is
stored as received (WebhookEvent) and answered at once; acting on it is left to others.
"""

import hmac
import json
import logging
from dataclasses import dataclass, field

from django.conf import settings
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


def webhook_url(integration):
    return f"{settings.HUB_PUBLIC_URL.rstrip('/')}/webhooks/printops/{integration.webhook_secret}"


@dataclass
class Registration:
    """What register_webhooks found and did, by webhook type: PrintOps webhook ids."""

    url: str
    kept: dict = field(default_factory=dict)
    created: dict = field(default_factory=dict)
    deleted: list = field(default_factory=list)

    def __str__(self):
        parts = [f"created {kind} ({webhook_id})" for kind, webhook_id in self.created.items()]
        parts += [f"kept {kind} ({webhook_id})" for kind, webhook_id in self.kept.items()]
        if self.deleted:
            parts.append("deleted stale " + ", ".join(map(str, self.deleted)))
        return "; ".join(parts)


def register_webhooks(integration, *, client=None):
    """Make PrintOps send every order event type to this integration's endpoint, once.

    Idempotent: an active webhook of a type already pointing at the endpoint is kept;
    other webhooks pointing at an endpoint of this integration (inactive, duplicates, or
    at an older HUB_PUBLIC_URL) are deleted. Webhooks pointing elsewhere are left alone.
    Raises PrintOpsError when PrintOps fails.
    """
    client = client or PrintOpsClient.for_integration(integration)
    url = webhook_url(integration)
    path = url.removeprefix(settings.HUB_PUBLIC_URL.rstrip("/"))
    registration = Registration(url=url)
    for webhook in client.webhooks():
        target = webhook.get(printops.WEBHOOK_URL_FIELD)
        if not isinstance(target, str) or not target.endswith(path):
            continue
        kind = webhook.get(printops.WEBHOOK_TYPE_FIELD)
        active = webhook.get(printops.WEBHOOK_ACTIVE_FIELD) in (True, 1, "1", "true")
        if target == url and active and kind in printops.WEBHOOK_TYPES \
                and kind not in registration.kept:
            registration.kept[kind] = webhook[printops.ID_FIELD]
        else:
            client.delete_webhook(webhook[printops.ID_FIELD])
            registration.deleted.append(webhook[printops.ID_FIELD])
    for kind in printops.WEBHOOK_TYPES:
        if kind not in registration.kept:
            created = client.create_webhook(kind, url)
            registration.created[kind] = created.get(printops.ID_FIELD)
    logger.info("PrintOps webhooks of %s: %s", integration.pk, registration)
    return registration


# -- the endpoint ------------------------------------------------------------------------


def not_found():
    return HttpResponse(status=404)


def integration_of(secret):
    """The integration whose webhook secret this is, compared in constant time; or None."""
    if not secret or len(secret) > MAX_SECRET_LENGTH:
        return None
    found = None
    for candidate in PrintOpsIntegration.objects.filter(webhook_secret=secret):
        if hmac.compare_digest(candidate.webhook_secret.encode(), secret.encode()):
            found = candidate
    return found


@csrf_exempt
def receive(request, secret):
    """Store one event PrintOps delivered; 404 for anything but a POST to a known secret."""
    if request.method != "POST":
        return not_found()
    integration = integration_of(secret)
    if integration is None:
        return not_found()
    try:
        payload = json.loads(request.body)
    except ValueError:
        return HttpResponse(status=400)
    if not isinstance(payload, dict):
        return HttpResponse(status=400)
    event_type = payload.get(EVENT_TYPE_FIELD)
    store_id = payload.get(STORE_ID_FIELD)
    WebhookEvent.objects.create(
        integration=integration,
        event_type=str(event_type)[:MAX_EVENT_TYPE_LENGTH] if event_type else UNKNOWN_EVENT_TYPE,
        store_id=str(store_id)[:MAX_STORE_ID_LENGTH] if store_id not in (None, "") else None,
        payload=payload,
    )
    return HttpResponse(status=200)

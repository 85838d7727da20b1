"""Demo integrations pointing at the sandbox fakes, for `make run`."""

import logging

import requests

from hub.outbound import OutboundBlocked, guarded_session
from integrations.models import OVSIntegration, PrintOpsIntegration
from integrations.printops.client import PrintOpsError
from integrations.printops.webhooks import register_webhooks, webhook_url
from integrations.services import create_integration, trigger_sync

logger = logging.getLogger(__name__)

DEMO_OVS = "Demo OVS (sandbox)"
DEMO_PRINTOPS = "Demo PrintOps (sandbox)"
DEMO_PRINTOPS_TOKEN = "demo-printops-token"


def load_demo_integrations(owner, sandbox_url):
    """Create the demo OVS and PrintOps integrations once and queue their first syncs."""
    ovs = OVSIntegration.objects.filter(name=DEMO_OVS).first()
    if ovs is None:
        ovs = create_integration(
            OVSIntegration, name=DEMO_OVS, base_url=f"{sandbox_url}/ovs", username="demo",
            password="demo-password", user=owner, push_service_base_url=None,
        )
    else:
        OVSIntegration.objects.filter(pk=ovs.pk).update(base_url=f"{sandbox_url}/ovs")
    printops = load_demo_printops(owner, sandbox_url)
    for integration in (ovs, printops):
        queue_first_sync(integration)
    return [ovs, printops]


def load_demo_printops(owner, sandbox_url):
    """The demo PrintOps integration, its webhooks registered at the sandbox (best effort)."""
    printops = PrintOpsIntegration.objects.filter(name=DEMO_PRINTOPS).first()
    if printops is None:
        printops = create_integration(
            PrintOpsIntegration, name=DEMO_PRINTOPS, base_url=f"{sandbox_url}/printops",
            api_token=DEMO_PRINTOPS_TOKEN, user=owner,
        )
    else:
        PrintOpsIntegration.objects.filter(pk=printops.pk).update(
            base_url=f"{sandbox_url}/printops"
        )
        printops.refresh_from_db()
    try:
        register_webhooks(printops)
        # What staff do by hand in a real PrintOps account: enter the delivery URL.
        guarded_session().post(f"{sandbox_url}/printops/_sandbox/delivery-url",
                               json={"url": webhook_url(printops)})
    except (PrintOpsError, OutboundBlocked, requests.RequestException) as exc:
        logger.warning("The demo PrintOps webhooks were not registered: %s", exc)
    return printops


def queue_first_sync(integration):
    if integration.last_successful_sync_at is None:
        trigger_sync(integration.pk, full=True)

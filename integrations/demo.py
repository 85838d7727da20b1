"""Demo integrations pointing at the sandbox fakes, for `make run`."""

from hub.queue import enqueue
from integrations.models import OVSIntegration
from integrations.services import claim_sync, create_integration

DEMO_OVS = "Demo OVS (sandbox)"


def load_demo_integrations(owner, sandbox_url):
    """Create the demo OVS integration once and queue its first sync."""
    from integrations.tasks import sync_integration

    ovs = OVSIntegration.objects.filter(name=DEMO_OVS).first()
    if ovs is None:
        ovs = create_integration(
            OVSIntegration, name=DEMO_OVS, base_url=f"{sandbox_url}/ovs", username="demo",
            password="demo-password", user=owner, push_service_base_url=None,
        )
    else:
        OVSIntegration.objects.filter(pk=ovs.pk).update(base_url=f"{sandbox_url}/ovs")
    if ovs.last_successful_sync_at is None:
        run_id = claim_sync(ovs.pk, full=True)
        if run_id:
            enqueue(sync_integration, str(ovs.pk), str(run_id), True)
    return [ovs]

"""PrintOps webhook secrets encrypted (found by digest); an identical delivery stored once.

Existing secrets are encrypted in place, so the delivery URLs already entered in PrintOps
keep working. Existing events get the digest of their body; of identical deliveries
already stored the first is kept (the others are the same event again). Reversible: the
secrets are decrypted back into the plain column.
"""

import hashlib
import json

from django.db import migrations, models

import hub.secrets


def digest(text):
    return hashlib.sha256(text.encode()).hexdigest()


def body_digest(payload):
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return digest(canonical)


def encrypt_secrets(apps, schema_editor):
    PrintOpsIntegration = apps.get_model("integrations", "PrintOpsIntegration")
    for integration in PrintOpsIntegration.objects.exclude(webhook_secret_plain=""):
        integration.webhook_secret = integration.webhook_secret_plain
        integration.webhook_secret_digest = digest(integration.webhook_secret_plain)
        integration.save(update_fields=["webhook_secret", "webhook_secret_digest"])


def decrypt_secrets(apps, schema_editor):
    PrintOpsIntegration = apps.get_model("integrations", "PrintOpsIntegration")
    for integration in PrintOpsIntegration.objects.exclude(webhook_secret=""):
        integration.webhook_secret_plain = integration.webhook_secret
        integration.save(update_fields=["webhook_secret_plain"])


def hash_event_bodies(apps, schema_editor):
    WebhookEvent = apps.get_model("integrations", "WebhookEvent")
    seen = set()
    repeated = []
    for event in WebhookEvent.objects.order_by("received_at", "id").iterator():
        event.body_hash = body_digest(event.payload)
        key = (event.integration_id, event.body_hash)
        if key in seen:
            repeated.append(event.pk)
            continue
        seen.add(key)
        event.save(update_fields=["body_hash"])
    WebhookEvent.objects.filter(pk__in=repeated).delete()


class Migration(migrations.Migration):

    dependencies = [
        ("integrations", "0003_printops_oms"),
    ]

    operations = [
        migrations.RenameField(
            model_name="printopsintegration", old_name="webhook_secret",
            new_name="webhook_secret_plain",
        ),
        migrations.AddField(
            model_name="printopsintegration",
            name="webhook_secret",
            field=hub.secrets.EncryptedTextField(blank=True, default="", editable=False),
        ),
        migrations.AddField(
            model_name="printopsintegration",
            name="webhook_secret_digest",
            field=models.CharField(blank=True, editable=False, max_length=64, null=True,
                                   unique=True),
        ),
        migrations.RunPython(encrypt_secrets, decrypt_secrets),
        migrations.RemoveField(model_name="printopsintegration", name="webhook_secret_plain"),
        migrations.AddField(
            model_name="webhookevent",
            name="body_hash",
            field=models.CharField(default="", editable=False, max_length=64),
            preserve_default=False,
        ),
        migrations.RunPython(hash_event_bodies, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name="webhookevent",
            constraint=models.UniqueConstraint(fields=("integration", "body_hash"),
                                               name="webhook_event_once"),
        ),
    ]

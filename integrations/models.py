"""External integrations: who owns them, their type-specific settings, their sync state.

`Integration` holds what every type shares (owner, organization, name, base URL, the
supplier it feeds, sync state, schedule). Each type adds its own settings and encrypted
credentials in a child table (multi-table inheritance), so one query lists them all and
each type keeps real columns.
"""

import hashlib
import json
import secrets
import uuid
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, models, transaction
from django.db.models import Q
from django.utils import timezone

from hub.secrets import EncryptedTextField, SecretDestinations


class Organization(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(max_length=255, unique=True)
    members = models.ManyToManyField(
        settings.AUTH_USER_MODEL, related_name="organizations", blank=True
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name


class IntegrationType(models.TextChoices):
    OVS = "ovs", "OVS"
    OPS = "ops", "OnPrintShop"
    PRINTOPS = "printops", "PrintOps"
    OMS = "oms", "Order management system"


# Types a customer's products can be pushed to (the others only feed the catalog).
STOREFRONT_TYPES = (IntegrationType.OPS, IntegrationType.OMS, IntegrationType.PRINTOPS)


class SyncStatus(models.TextChoices):
    IDLE = "idle", "Idle"
    RUNNING = "running", "Running"
    COMPLETED = "completed", "Completed"
    ERROR = "error", "Error"


class IntegrationQuerySet(models.QuerySet):
    def accessible_to(self, user):
        """What this user may open: their own, their organizations', or all for superusers."""
        if user.is_superuser:
            return self
        return self.filter(Q(user=user) | Q(organization__members=user)).distinct()


class Integration(SecretDestinations, models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    name = models.CharField(max_length=255)
    integration_type = models.CharField(
        max_length=32, choices=IntegrationType.choices, editable=False
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="integrations"
    )
    organization = models.ForeignKey(
        Organization, null=True, blank=True, on_delete=models.CASCADE,
        related_name="integrations",
    )
    base_url = models.CharField(max_length=255)
    # The catalog supplier this integration's products land in (source integrations).
    supplier = models.OneToOneField(
        "catalog.Supplier", null=True, blank=True, on_delete=models.PROTECT,
        related_name="integration",
    )
    schedule = models.OneToOneField(
        "django_celery_beat.PeriodicTask", null=True, blank=True, on_delete=models.SET_NULL,
        related_name="integration", editable=False,
    )

    # Sync state, as the sync status endpoint shows it.
    sync_status = models.CharField(
        max_length=16, choices=SyncStatus.choices, default=SyncStatus.IDLE, editable=False
    )
    last_sync_at = models.DateTimeField(null=True, blank=True, editable=False)
    last_successful_sync_at = models.DateTimeField(null=True, blank=True, editable=False)
    total_products_synced = models.PositiveIntegerField(default=0, editable=False)
    total_products_updated = models.PositiveIntegerField(default=0, editable=False)
    total_products_skipped = models.PositiveIntegerField(default=0, editable=False)
    last_sync_stats = models.JSONField(default=dict, blank=True, editable=False)
    last_error_message = models.TextField(null=True, blank=True, editable=False)
    # The run that holds the claim, and its heartbeat: a run whose heartbeat stops is
    # found by the sweeper and marked as failed.
    sync_run_id = models.UUIDField(null=True, blank=True, editable=False)
    sync_full = models.BooleanField(default=False, editable=False)
    sync_heartbeat_at = models.DateTimeField(null=True, blank=True, editable=False)
    sync_processed = models.PositiveIntegerField(default=0, editable=False)
    sync_total = models.PositiveIntegerField(null=True, blank=True, editable=False)

    objects = IntegrationQuerySet.as_manager()

    class Meta:
        ordering = ["name", "id"]
        indexes = [models.Index(fields=["sync_status", "sync_heartbeat_at"])]

    def __str__(self):
        return f"{self.name} ({self.get_integration_type_display()})"

    @property
    def sync_progress(self):
        """Percent done of the running (or last) sync, when its total is known."""
        if not self.sync_total:
            return 100 if self.sync_status == SyncStatus.COMPLETED else 0
        return min(100, round(100 * self.sync_processed / self.sync_total))

    def typed(self):
        """This integration as its type's model (OVSIntegration, ...)."""
        model = INTEGRATION_MODELS[self.integration_type]
        if isinstance(self, model):
            return self
        return getattr(self, model._meta.model_name)

    def source(self):
        """The object that reads this integration's products (see integrations/sources.py)."""
        raise NotImplementedError(f"{self.integration_type} integrations are not a source")

    def storefront(self):
        """The object that pushes priced products to it (see pushes/storefronts.py)."""
        raise NotImplementedError(f"{self.integration_type} integrations are not a storefront")

    def after_sync(self, changed_product_ids):
        """Work a completed sync leaves for later (queued, never run inline)."""


class SyncRun(models.Model):
    """One sync of a source integration, as it ran: written by the sync itself.

    Its id is the run id of the claim (Integration.sync_run_id). Counts are kept up to
    date after every page, so a run that dies still shows how far it got.
    """

    class Status(models.TextChoices):
        RUNNING = "running", "Running"
        COMPLETED = "completed", "Completed"
        ERROR = "error", "Error"

    id = models.UUIDField(primary_key=True, editable=False)
    integration = models.ForeignKey(
        Integration, on_delete=models.CASCADE, related_name="sync_runs"
    )
    full = models.BooleanField(default=False)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.RUNNING)
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    created = models.PositiveIntegerField(default=0)
    updated = models.PositiveIntegerField(default=0)
    skipped = models.PositiveIntegerField(default=0)
    failed = models.PositiveIntegerField(default=0)
    pages = models.PositiveIntegerField(default=0)
    error_message = models.TextField(null=True, blank=True)
    # Where the run's time went, in seconds: {"fetch", "map", "ingest", "publish"}; kept up
    # to date page by page like the counts.
    phase_seconds = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-started_at", "-id"]
        indexes = [models.Index(fields=["integration", "-started_at"])]

    def __str__(self):
        return f"{'Full sync' if self.full else 'Sync'} at {self.started_at:%Y-%m-%d %H:%M}"

    @property
    def duration(self):
        """How long it ran (so far, while running), as a timedelta."""
        return (self.finished_at or timezone.now()) - self.started_at


class CachedAccessToken(models.Model):
    """An access token the client keeps between calls, until shortly before it expires."""

    RENEW_MARGIN = timedelta(seconds=60)

    token = EncryptedTextField(null=True, blank=True, editable=False)
    token_expires_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        abstract = True

    def usable_token(self):
        """The stored token while it is good for another minute, else None."""
        if self.token and self.token_expires_at and (
            timezone.now() < self.token_expires_at - self.RENEW_MARGIN
        ):
            return self.token
        return None

    def keep_token(self, token, lifetime_seconds):
        expires_at = timezone.now() + timedelta(seconds=lifetime_seconds)
        # Only these two columns: a concurrent save of the integration's settings stays.
        type(self).objects.filter(pk=self.pk).update(token=token, token_expires_at=expires_at)
        self.token, self.token_expires_at = token, expires_at


class OVSIntegration(CachedAccessToken, Integration):
    username = models.CharField(max_length=255)
    password = EncryptedTextField()
    push_service_base_url = models.CharField(max_length=500, null=True, blank=True)
    push_service_api_key = EncryptedTextField(null=True, blank=True)
    push_products = models.BooleanField(default=False)

    SECRET_DESTINATIONS = {
        "password": ("base_url",),
        "push_service_api_key": ("push_service_base_url",),
    }

    class Meta:
        verbose_name = "OVS integration"

    def save(self, *args, **kwargs):
        self.integration_type = IntegrationType.OVS
        super().save(*args, **kwargs)

    def source(self):
        from integrations.ovs.source import OVSSource

        return OVSSource(self)

    def after_sync(self, changed_product_ids):
        """With push_products on: host the changed images, re-push the changed products."""
        if not (self.push_products and changed_product_ids):
            return
        from hub.queue import enqueue
        from integrations.tasks import publish_changed_products

        ids = [str(pk) for pk in changed_product_ids]
        for start in range(0, len(ids), 1000):
            enqueue(publish_changed_products, str(self.pk), ids[start : start + 1000])


class OPSIntegration(CachedAccessToken, Integration):
    """A customer's OnPrintShop storefront (OAuth2 client credentials, GraphQL)."""

    token_url = models.CharField(max_length=500)
    client_id = models.CharField(max_length=255)
    client_secret = EncryptedTextField()
    # Requests per rolling minute the storefront allows, shared by every worker.
    rate_limit_per_minute = models.PositiveIntegerField(default=120)

    # The secret goes to the token URL, the token got with it to the base URL.
    SECRET_DESTINATIONS = {"client_secret": ("base_url", "token_url")}

    class Meta:
        verbose_name = "OnPrintShop storefront"

    def save(self, *args, **kwargs):
        self.integration_type = IntegrationType.OPS
        super().save(*args, **kwargs)

    def storefront(self):
        from integrations.ops.storefront import OPSStorefront

        return OPSStorefront(self)


class PrintOpsIntegration(Integration):
    """PrintOps, both ways: its base products are a source, its stores are storefronts."""

    api_token = EncryptedTextField()
    # The secret in the path of the hub's webhook endpoint: only PrintOps (and the staff
    # who enter the delivery URL there) know it. Encrypted like every secret; deliveries
    # find their integration by its digest, since encrypted values cannot be looked up.
    webhook_secret = EncryptedTextField(editable=False, blank=True, default="")
    webhook_secret_digest = models.CharField(
        max_length=64, unique=True, null=True, blank=True, editable=False
    )

    SECRET_DESTINATIONS = {"api_token": ("base_url",)}

    class Meta:
        verbose_name = "PrintOps integration"

    def save(self, *args, **kwargs):
        self.integration_type = IntegrationType.PRINTOPS
        if not self.webhook_secret:
            self.webhook_secret = secrets.token_urlsafe(32)
        self.webhook_secret_digest = secret_digest(self.webhook_secret)
        update_fields = kwargs.get("update_fields")
        if update_fields is not None and "webhook_secret" in update_fields:
            kwargs["update_fields"] = {*update_fields, "webhook_secret_digest"}
        super().save(*args, **kwargs)

    @classmethod
    def by_webhook_secret(cls, secret):
        """The integration whose webhook secret this is, or None.

        Looked up by digest: a timing difference tells about the digest, never the secret.
        """
        if not secret:
            return None
        return cls.objects.filter(webhook_secret_digest=secret_digest(secret)).first()

    def source(self):
        from integrations.printops.source import PrintOpsSource

        return PrintOpsSource(self)

    def storefront(self):
        from integrations.printops.storefront import PrintOpsStorefront

        return PrintOpsStorefront(self)


class PrintOpsShippingMethod(models.Model):
    """A shipping method PrintOps offers, read at each sync and shown in the admin."""

    integration = models.ForeignKey(
        PrintOpsIntegration, on_delete=models.CASCADE, related_name="shipping_methods"
    )
    external_id = models.CharField(max_length=64)
    name = models.CharField(max_length=255)
    details = models.JSONField(default=dict, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["integration", "external_id"],
                                    name="printops_shipping_method_once"),
        ]

    def __str__(self):
        return self.name


def secret_digest(secret: str) -> str:
    """The SHA-256 of a random secret (hex): enough to find it, useless to recover it."""
    return hashlib.sha256(secret.encode()).hexdigest()


class WebhookEventQuerySet(models.QuerySet):
    def record(self, integration, payload, **fields):
        """Store a delivery once: (the event, True), or (the stored one, False) when an
        identical delivery was stored before."""
        body_hash = body_digest(payload)
        try:
            with transaction.atomic():
                return self.create(integration=integration, payload=payload,
                                   body_hash=body_hash, **fields), True
        except IntegrityError:
            return self.get(integration=integration, body_hash=body_hash), False


def body_digest(payload) -> str:
    """The SHA-256 of a JSON payload, the same whatever the order or spacing of its keys."""
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


class WebhookEvent(models.Model):
    """One event an external system sent to the hub's webhook endpoint, kept as received.

    An identical delivery (the same JSON body, e.g. sent again after a timeout) is stored
    once: `body_hash` is unique per integration.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    integration = models.ForeignKey(
        Integration, on_delete=models.CASCADE, related_name="webhook_events"
    )
    event_type = models.CharField(max_length=64)
    store_id = models.CharField(max_length=64, null=True, blank=True)
    payload = models.JSONField()
    body_hash = models.CharField(max_length=64, editable=False)
    received_at = models.DateTimeField(auto_now_add=True, db_index=True)

    objects = WebhookEventQuerySet.as_manager()

    class Meta:
        ordering = ["-received_at"]
        constraints = [
            models.UniqueConstraint(fields=["integration", "body_hash"],
                                    name="webhook_event_once"),
        ]

    def __str__(self):
        return f"{self.event_type} at {self.received_at:%Y-%m-%d %H:%M}"


class OMSIntegration(Integration):
    """An order management system used as a customer's storefront."""

    api_token = EncryptedTextField()
    store_id = models.CharField(max_length=64)
    # Defaults the OMS needs on every product and variant.
    team_id = models.CharField(max_length=64, null=True, blank=True)
    country_id = models.CharField(max_length=64, null=True, blank=True)
    default_dpi = models.PositiveIntegerField(default=300)
    default_location = models.CharField(max_length=255, null=True, blank=True)

    SECRET_DESTINATIONS = {"api_token": ("base_url",)}

    class Meta:
        verbose_name = "OMS storefront"

    def save(self, *args, **kwargs):
        self.integration_type = IntegrationType.OMS
        super().save(*args, **kwargs)

    def storefront(self):
        from integrations.oms.storefront import OMSStorefront

        return OMSStorefront(self)


INTEGRATION_MODELS = {
    IntegrationType.OVS: OVSIntegration,
    IntegrationType.OPS: OPSIntegration,
    IntegrationType.PRINTOPS: PrintOpsIntegration,
    IntegrationType.OMS: OMSIntegration,
}


class ImportTask(models.Model):
    """An on-demand import of products by code, run by a worker."""

    class Status(models.TextChoices):
        PENDING = "PENDING"
        STARTED = "STARTED"
        SUCCESS = "SUCCESS"
        FAILURE = "FAILURE"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    integration = models.ForeignKey(
        Integration, on_delete=models.CASCADE, related_name="import_tasks"
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="import_tasks"
    )
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    product_codes = models.JSONField(default=list)
    is_filler = models.BooleanField(default=False)
    total_items = models.PositiveIntegerField(default=0)
    processed_items = models.PositiveIntegerField(default=0)
    # Per code: {"status": created|updated|unchanged|not_found|failed, "reason": ...}
    result_data = models.JSONField(null=True, blank=True)
    error_message = models.TextField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["integration", "-created_at"])]

    def __str__(self):
        return f"Import of {len(self.product_codes)} codes ({self.status})"

    @property
    def progress(self):
        if self.status == self.Status.SUCCESS:
            return 100
        if not self.total_items:
            return 0
        return min(100, round(100 * self.processed_items / self.total_items))

    @property
    def product_codes_count(self):
        return len(self.product_codes)

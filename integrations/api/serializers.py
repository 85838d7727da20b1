"""The external integrations API's shapes. Secrets are write-only: no serializer shows them.

Each type with typed endpoints (`/ovs`, `/oms`, ...) has three serializers: the public
one that shows its settings, one that creates it and one that updates it; they are
registered in INTEGRATION_KINDS, which the views and URLs read.
"""

import logging
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.core.validators import URLValidator
from django.db import transaction
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from hub.queue import QueueUnavailable, enqueue
from integrations.api.permissions import require_member, require_superuser
from integrations.models import (
    ImportTask,
    Integration,
    IntegrationType,
    OMSIntegration,
    Organization,
    OVSIntegration,
    PrintOpsIntegration,
    SyncRun,
    SyncStatus,
)
from integrations.printops.client import check_credentials
from integrations.printops.webhooks import register_webhooks, webhook_url
from integrations.schedules import ensure_schedule
from integrations.services import create_integration
from integrations.sources import SourceError
from integrations.tasks import import_products

logger = logging.getLogger(__name__)

MAX_PRODUCT_CODES = 1000

http_url = URLValidator(
    schemes=["http", "https"], message="Input should be a valid http or https URL"
)


# -- what the API shows ----------------------------------------------------------------


class IntegrationSerializer(serializers.ModelSerializer):
    """What every integration type shares."""

    integration_type = serializers.CharField(read_only=True)
    user_id = serializers.UUIDField(read_only=True)
    organization_id = serializers.UUIDField(read_only=True, allow_null=True)

    # Fields only those who may open the integration (its owner, its organization's
    # members, superusers) may see. This API shows nothing else; pages that show an
    # integration to others (a customer's storefront) leave them out.
    OWNER_ONLY = ()

    class Meta:
        model = Integration
        fields = [
            "id", "created_at", "updated_at", "name", "integration_type", "user_id",
            "organization_id",
        ]
        read_only_fields = fields


class OVSIntegrationSerializer(IntegrationSerializer):
    """An OVS integration's settings, without its secrets."""

    class Meta(IntegrationSerializer.Meta):
        model = OVSIntegration
        fields = [
            *IntegrationSerializer.Meta.fields, "base_url", "username", "push_service_base_url",
            "push_products",
        ]
        read_only_fields = fields


class OMSIntegrationSerializer(IntegrationSerializer):
    """An order management system used as a storefront, without its API token."""

    class Meta(IntegrationSerializer.Meta):
        model = OMSIntegration
        fields = [
            *IntegrationSerializer.Meta.fields, "base_url", "store_id", "team_id", "country_id",
            "default_dpi", "default_location",
        ]
        read_only_fields = fields


class PrintOpsIntegrationSerializer(IntegrationSerializer):
    """A PrintOps integration, without its API token.

    `webhook_url` is where PrintOps delivers its events; the secret in it is the only
    proof a delivery comes from PrintOps, so it is OWNER_ONLY.
    """

    webhook_url = serializers.SerializerMethodField(
        help_text="The delivery URL to enter in PrintOps (its API has no field for it)"
    )

    class Meta(IntegrationSerializer.Meta):
        model = PrintOpsIntegration
        fields = [*IntegrationSerializer.Meta.fields, "base_url", "webhook_url"]
        read_only_fields = fields

    OWNER_ONLY = ("webhook_url",)

    def get_webhook_url(self, integration) -> str:
        return webhook_url(integration)


@extend_schema_field({"type": "string", "enum": SyncStatus.values},
                     component_name="SyncStatusValue")
class SyncStatusField(serializers.CharField):
    pass


class SyncTriggerSerializer(serializers.Serializer):
    message = serializers.CharField()
    integration_id = serializers.UUIDField()
    status = serializers.CharField()


class SyncStatusSerializer(serializers.Serializer):
    """The spec's SyncStatusResponse, exactly: live progress is at `.../sync/progress`."""

    integration_id = serializers.UUIDField(source="id")
    sync_status = serializers.CharField()
    last_sync_at = serializers.DateTimeField(allow_null=True)
    last_successful_sync_at = serializers.DateTimeField(allow_null=True)
    total_products_synced = serializers.IntegerField()
    total_products_updated = serializers.IntegerField()
    total_products_skipped = serializers.IntegerField()
    last_sync_stats = serializers.DictField(child=serializers.IntegerField())
    last_error_message = serializers.CharField(allow_null=True)


class SyncProgressSerializer(serializers.Serializer):
    """The running sync's progress (or the last one's, when none runs)."""

    integration_id = serializers.UUIDField(source="id")
    run_id = serializers.UUIDField(source="sync_run_id", allow_null=True,
                                   help_text="The run; null before the first sync")
    sync_status = SyncStatusField()
    processed = serializers.IntegerField(source="sync_processed",
                                         help_text="Products read so far")
    total = serializers.IntegerField(source="sync_total", allow_null=True,
                                     help_text="Products to read, once the source says")
    progress = serializers.IntegerField(source="sync_progress",
                                        help_text="Percent done (0-100)")
    started_at = serializers.DateTimeField(source="last_sync_at", allow_null=True)
    heartbeat_at = serializers.DateTimeField(
        source="sync_heartbeat_at", allow_null=True,
        help_text="When the run last reported; a run silent for SYNC_STALE_AFTER is dead",
    )


@extend_schema_field({"type": "string", "enum": ImportTask.Status.values},
                     component_name="TaskStatus")
class TaskStatusField(serializers.CharField):
    pass


class ImportTaskSerializer(serializers.ModelSerializer):
    """An on-demand product import and how far it got."""

    status = TaskStatusField(read_only=True)

    owner_id = serializers.UUIDField(read_only=True)
    integration_id = serializers.UUIDField(read_only=True)
    progress = serializers.IntegerField(read_only=True)
    product_codes_count = serializers.IntegerField(read_only=True)
    result_data = serializers.DictField(read_only=True, allow_null=True)

    class Meta:
        model = ImportTask
        fields = [
            "id", "owner_id", "integration_id", "status", "progress", "total_items",
            "processed_items", "product_codes_count", "is_filler", "result_data",
            "error_message", "started_at", "completed_at", "created_at", "updated_at",
        ]
        read_only_fields = fields


class SyncRunSerializer(serializers.ModelSerializer):
    """One sync as it ran: when, how long (seconds; so far while running), what it did."""

    integration_id = serializers.UUIDField(read_only=True)
    duration_seconds = serializers.SerializerMethodField()
    phase_seconds = serializers.DictField(
        child=serializers.FloatField(), read_only=True,
        help_text="Where the run's time went: seconds spent in fetch (reading the source), "
                  "map (to canonical products), ingest and publish (what runs after the "
                  "last page)",
    )

    class Meta:
        model = SyncRun
        fields = [
            "id", "integration_id", "full", "status", "started_at", "finished_at",
            "duration_seconds", "phase_seconds", "created", "updated", "skipped", "failed",
            "pages", "error_message",
        ]
        read_only_fields = fields

    def get_duration_seconds(self, run) -> float:
        return round(run.duration.total_seconds(), 3)


class MessageSerializer(serializers.Serializer):
    message = serializers.CharField()


# -- what the API takes ----------------------------------------------------------------


class OwnershipFields(serializers.Serializer):
    """`user_id` and `organization_id`, resolved to a user and an organization (unknown → 422)."""

    def validate_user_id(self, value):
        if value is None:
            return None
        user = get_user_model().objects.filter(pk=value).first()
        if user is None:
            raise serializers.ValidationError("User not found", code="not_found")
        return user

    def validate_organization_id(self, value):
        if value is None:
            return None
        organization = Organization.objects.filter(pk=value).first()
        if organization is None:
            raise serializers.ValidationError("Organization not found", code="not_found")
        return organization

    @property
    def caller(self):
        return self.context["request"].user


class IntegrationCreateSerializer(OwnershipFields):
    """What creating any integration takes besides its settings: who owns it.

    Its organization may also come from the query (context `organization`).
    """

    user_id = serializers.UUIDField(required=False, allow_null=True)
    organization_id = serializers.UUIDField(required=False, allow_null=True)

    def validate(self, attrs):
        owner = attrs.pop("user_id", None)
        if owner is not None and owner.pk != self.caller.pk:
            require_superuser(self.caller, "create integrations for another user")
        organization = attrs.pop("organization_id", None) or self.context.get("organization")
        if organization is not None:
            require_member(self.caller, organization)
        return {**attrs, "user": owner or self.caller, "organization": organization}


class IntegrationUpdateSerializer(OwnershipFields):
    """Changes to any integration: only the fields given change.

    null leaves a field as it is, except those in NULL_MEANS_CLEAR (`organization_id`:
    null makes the integration personal again).
    """

    organization_id = serializers.UUIDField(
        required=False, allow_null=True, help_text="Organization to transfer this integration to"
    )
    user_id = serializers.UUIDField(
        required=False, allow_null=True,
        help_text="User to transfer this integration to (superusers only)",
    )

    NULL_MEANS_CLEAR = ("organization_id",)

    def validate(self, attrs):
        integration = self.instance
        attrs = {
            name: value for name, value in attrs.items()
            if value is not None or name in self.NULL_MEANS_CLEAR
        }
        if "user_id" in attrs:
            owner = attrs.pop("user_id")
            if owner.pk != integration.user_id:
                require_superuser(self.caller, "transfer integrations to another user")
                attrs["user"] = owner
        if "organization_id" in attrs:
            organization = attrs.pop("organization_id")
            if getattr(organization, "pk", None) != integration.organization_id:
                if organization is not None:
                    require_member(self.caller, organization)
                attrs["organization"] = organization
        # Before anything is sent anywhere (the PrintOps token check below, for one).
        integration.check_secret_destinations(attrs)
        return attrs

    def update(self, integration, validated_data):
        for name, value in validated_data.items():
            setattr(integration, name, value)
        integration.save()
        return integration


# -- OVS ---------------------------------------------------------------------------------


class OVSIntegrationCreateSerializer(IntegrationCreateSerializer):
    """A new OVS integration, with the supplier its products land in and its schedule."""

    name = serializers.CharField(max_length=255)
    base_url = serializers.CharField(max_length=255, validators=[http_url])
    username = serializers.CharField(max_length=255)
    password = serializers.CharField(max_length=255, trim_whitespace=False, write_only=True)
    push_service_base_url = serializers.CharField(
        max_length=500, required=False, allow_null=True, validators=[http_url]
    )
    push_service_api_key = serializers.CharField(
        max_length=500, required=False, allow_null=True, trim_whitespace=False, write_only=True
    )
    push_products = serializers.BooleanField(default=False)

    def create(self, validated_data):
        return create_integration(OVSIntegration, **validated_data)


class OVSIntegrationUpdateSerializer(IntegrationUpdateSerializer):
    """Changes to an OVS integration; null on `push_service_base_url` clears it."""

    name = serializers.CharField(max_length=255, required=False, allow_null=True)
    base_url = serializers.CharField(
        max_length=255, required=False, allow_null=True, validators=[http_url]
    )
    username = serializers.CharField(max_length=255, required=False, allow_null=True)
    password = serializers.CharField(
        max_length=255, required=False, allow_null=True, trim_whitespace=False, write_only=True
    )
    push_service_base_url = serializers.CharField(
        max_length=500, required=False, allow_null=True, validators=[http_url]
    )
    push_service_api_key = serializers.CharField(
        max_length=500, required=False, allow_null=True, trim_whitespace=False, write_only=True
    )
    push_products = serializers.BooleanField(required=False, allow_null=True)

    NULL_MEANS_CLEAR = ("push_service_base_url", "organization_id")
    # A stored access token belongs to the server and account it was issued by.
    CONNECTION_FIELDS = {"base_url", "username", "password"}

    def update(self, integration, validated_data):
        if self.CONNECTION_FIELDS & validated_data.keys():
            validated_data.update(token=None, token_expires_at=None)
        with transaction.atomic():
            super().update(integration, validated_data)
            if "name" in validated_data:
                ensure_schedule(integration)
        return integration


# -- OMS ---------------------------------------------------------------------------------


class OMSIntegrationCreateSerializer(IntegrationCreateSerializer):
    """A new order management system storefront: a storefront, so no supplier, no schedule.

    `team_id` and `country_id` are required: the OMS needs them on every product and
    variant the hub pushes.
    """

    name = serializers.CharField(max_length=255)
    base_url = serializers.CharField(max_length=255, validators=[http_url])
    api_token = serializers.CharField(max_length=1000, trim_whitespace=False, write_only=True)
    store_id = serializers.CharField(max_length=64)
    team_id = serializers.CharField(max_length=64)
    country_id = serializers.CharField(max_length=64)
    default_dpi = serializers.IntegerField(min_value=1, max_value=10_000, default=300)
    default_location = serializers.CharField(max_length=255, required=False, allow_null=True)

    def create(self, validated_data):
        return OMSIntegration.objects.create(**validated_data)


class OMSIntegrationUpdateSerializer(IntegrationUpdateSerializer):
    """Changes to an OMS storefront; null on `default_location` clears it."""

    name = serializers.CharField(max_length=255, required=False, allow_null=True)
    base_url = serializers.CharField(
        max_length=255, required=False, allow_null=True, validators=[http_url]
    )
    api_token = serializers.CharField(
        max_length=1000, required=False, allow_null=True, trim_whitespace=False, write_only=True
    )
    store_id = serializers.CharField(max_length=64, required=False, allow_null=True)
    team_id = serializers.CharField(max_length=64, required=False, allow_null=True)
    country_id = serializers.CharField(max_length=64, required=False, allow_null=True)
    default_dpi = serializers.IntegerField(
        min_value=1, max_value=10_000, required=False, allow_null=True
    )
    default_location = serializers.CharField(max_length=255, required=False, allow_null=True)

    NULL_MEANS_CLEAR = ("default_location", "organization_id")


# -- PrintOps ----------------------------------------------------------------------------


def check_printops(base_url, api_token):
    """422 unless PrintOps at base_url takes the token: at api_token when it refuses it,
    at base_url when it cannot be reached or answers otherwise."""
    try:
        check_credentials(base_url, api_token)
    except SourceError as exc:
        refused = getattr(exc, "status", None) in (401, 403)
        field, code = ("api_token", "token_refused") if refused else ("base_url", "unreachable")
        raise serializers.ValidationError({field: [str(exc)]}, code=code) from None


def try_register_webhooks(integration):
    """Make PrintOps send its events to the hub; a failure is logged, not raised (the
    integration works without them, and the admin can register them again)."""
    try:
        register_webhooks(integration)
    except Exception:
        logger.exception("Could not register the PrintOps webhooks of %s", integration.pk)


class PrintOpsIntegrationCreateSerializer(IntegrationCreateSerializer):
    """A new PrintOps integration, with the supplier its products land in and its schedule.

    Nothing is saved unless PrintOps takes the API token; then its webhooks are registered.
    """

    name = serializers.CharField(max_length=255)
    base_url = serializers.CharField(max_length=255, validators=[http_url])
    api_token = serializers.CharField(max_length=1000, trim_whitespace=False, write_only=True)

    def validate(self, attrs):
        attrs = super().validate(attrs)
        check_printops(attrs["base_url"], attrs["api_token"])
        return attrs

    def create(self, validated_data):
        integration = create_integration(PrintOpsIntegration, **validated_data)
        try_register_webhooks(integration)
        return integration


class PrintOpsIntegrationUpdateSerializer(IntegrationUpdateSerializer):
    """Changes to a PrintOps integration; a new base_url or api_token is checked first,
    and the webhooks are registered again where it now points."""

    name = serializers.CharField(max_length=255, required=False, allow_null=True)
    base_url = serializers.CharField(
        max_length=255, required=False, allow_null=True, validators=[http_url]
    )
    api_token = serializers.CharField(
        max_length=1000, required=False, allow_null=True, trim_whitespace=False, write_only=True
    )

    CONNECTION_FIELDS = ("base_url", "api_token")

    def validate(self, attrs):
        attrs = super().validate(attrs)
        if self.connection_changes(attrs):
            check_printops(attrs.get("base_url", self.instance.base_url),
                           attrs.get("api_token", self.instance.api_token))
        return attrs

    def connection_changes(self, attrs):
        return any(name in attrs and attrs[name] != getattr(self.instance, name)
                   for name in self.CONNECTION_FIELDS)

    def update(self, integration, validated_data):
        reconnected = self.connection_changes(validated_data)
        with transaction.atomic():
            super().update(integration, validated_data)
            if "name" in validated_data:
                ensure_schedule(integration)
        if reconnected:
            try_register_webhooks(integration)
        return integration


# -- the typed endpoints -------------------------------------------------------------------


@dataclass(frozen=True)
class IntegrationKind:
    """One integration type's typed endpoints: its model and its three serializers."""

    model: type[Integration]
    public: type[IntegrationSerializer]
    create: type[IntegrationCreateSerializer]
    update: type[IntegrationUpdateSerializer]
    # A source reads products from its system: it has a sync (and its status).
    source: bool = False


# Integration type → its typed endpoints (`/{type}`, `/{type}/{id}`, and for sources
# `/{type}/{id}/sync`). A new type adds its serializers and an entry here.
INTEGRATION_KINDS = {
    IntegrationType.OVS: IntegrationKind(
        OVSIntegration, OVSIntegrationSerializer, OVSIntegrationCreateSerializer,
        OVSIntegrationUpdateSerializer, source=True,
    ),
    IntegrationType.OMS: IntegrationKind(
        OMSIntegration, OMSIntegrationSerializer, OMSIntegrationCreateSerializer,
        OMSIntegrationUpdateSerializer,
    ),
    IntegrationType.PRINTOPS: IntegrationKind(
        PrintOpsIntegration, PrintOpsIntegrationSerializer, PrintOpsIntegrationCreateSerializer,
        PrintOpsIntegrationUpdateSerializer, source=True,
    ),
}


def public_serializer(integration_type):
    """The serializer that shows an integration of this type (the shared fields for types
    without a kind)."""
    kind = INTEGRATION_KINDS.get(integration_type)
    return kind.public if kind else IntegrationSerializer


def typed_data(integration):
    """The integration with its type's fields."""
    integration = integration.typed()
    return public_serializer(integration.integration_type)(integration).data


class ProductCodeField(serializers.CharField):
    """A product code: a non-empty string (numbers are not taken for strings)."""

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class ProductImportSerializer(serializers.Serializer):
    """Product codes to import; saving it creates the task and queues the import."""

    product_codes = serializers.ListField(
        child=ProductCodeField(max_length=255), allow_empty=False,
        max_length=MAX_PRODUCT_CODES,
    )
    is_filler = serializers.BooleanField(default=False)

    def create(self, validated_data):
        task = ImportTask.objects.create(
            integration=self.context["integration"], owner=self.context["request"].user,
            **validated_data,
        )
        try:
            enqueue(import_products, str(task.id))
        except QueueUnavailable:
            task.delete()  # never left PENDING with nothing queued to run it
            raise
        return task

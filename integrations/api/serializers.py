"""The external integrations API's shapes. Secrets are write-only: no serializer shows them."""

from django.contrib.auth import get_user_model
from django.core.validators import URLValidator
from django.db import transaction
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from hub.queue import enqueue
from integrations.api.permissions import require_member, require_superuser
from integrations.models import ImportTask, Integration, Organization, OVSIntegration, SyncStatus
from integrations.schedules import ensure_schedule
from integrations.services import create_integration
from integrations.tasks import import_products

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


# Integration type → the serializer that shows all of its fields.
TYPED_SERIALIZERS = {OVSIntegration: OVSIntegrationSerializer}


def typed_data(integration):
    integration = integration.typed()
    return TYPED_SERIALIZERS[type(integration)](integration).data


class SyncTriggerSerializer(serializers.Serializer):
    message = serializers.CharField()
    integration_id = serializers.UUIDField()
    status = serializers.CharField()


class SyncStatusSerializer(serializers.Serializer):
    """Sync state and totals; while a sync runs, also its progress (percent), processed, total."""

    integration_id = serializers.UUIDField(source="id")
    sync_status = serializers.CharField()
    last_sync_at = serializers.DateTimeField(allow_null=True)
    last_successful_sync_at = serializers.DateTimeField(allow_null=True)
    total_products_synced = serializers.IntegerField()
    total_products_updated = serializers.IntegerField()
    total_products_skipped = serializers.IntegerField()
    last_sync_stats = serializers.DictField(child=serializers.IntegerField())
    last_error_message = serializers.CharField(allow_null=True)
    progress = serializers.IntegerField(source="sync_progress", required=False)
    processed = serializers.IntegerField(source="sync_processed", required=False)
    total = serializers.IntegerField(source="sync_total", allow_null=True, required=False)

    RUNNING_ONLY = ("progress", "processed", "total")

    def to_representation(self, integration):
        data = super().to_representation(integration)
        if integration.sync_status != SyncStatus.RUNNING:
            for key in self.RUNNING_ONLY:
                data.pop(key)
        return data


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


class OVSIntegrationCreateSerializer(OwnershipFields):
    """A new OVS integration; its organization may also come from the query (context)."""

    name = serializers.CharField(max_length=255)
    base_url = serializers.CharField(max_length=255, validators=[http_url])
    username = serializers.CharField(max_length=255)
    password = serializers.CharField(max_length=255, trim_whitespace=False, write_only=True)
    user_id = serializers.UUIDField(required=False, allow_null=True)
    push_service_base_url = serializers.CharField(
        max_length=500, required=False, allow_null=True, validators=[http_url]
    )
    push_service_api_key = serializers.CharField(
        max_length=500, required=False, allow_null=True, trim_whitespace=False, write_only=True
    )
    push_products = serializers.BooleanField(default=False)
    organization_id = serializers.UUIDField(required=False, allow_null=True)

    def validate(self, attrs):
        owner = attrs.pop("user_id", None)
        if owner is not None and owner.pk != self.caller.pk:
            require_superuser(self.caller, "create integrations for another user")
        organization = attrs.pop("organization_id", None) or self.context.get("organization")
        if organization is not None:
            require_member(self.caller, organization)
        return {**attrs, "user": owner or self.caller, "organization": organization}

    def create(self, validated_data):
        return create_integration(OVSIntegration, **validated_data)


class OVSIntegrationUpdateSerializer(OwnershipFields):
    """Changes to an OVS integration: only the fields given change.

    null leaves a field as it is, except `push_service_base_url` (null clears it) and
    `organization_id` (null makes the integration personal again).
    """

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
    organization_id = serializers.UUIDField(
        required=False, allow_null=True, help_text="Organization to transfer this integration to"
    )
    user_id = serializers.UUIDField(
        required=False, allow_null=True,
        help_text="User to transfer this integration to (superusers only)",
    )

    NULL_MEANS_CLEAR = ("push_service_base_url", "organization_id")
    # A stored access token belongs to the server and account it was issued by.
    CONNECTION_FIELDS = {"base_url", "username", "password"}

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
        return attrs

    def update(self, integration, validated_data):
        if self.CONNECTION_FIELDS & validated_data.keys():
            validated_data.update(token=None, token_expires_at=None)
        for name, value in validated_data.items():
            setattr(integration, name, value)
        with transaction.atomic():
            integration.save()
            if "name" in validated_data:
                ensure_schedule(integration)
        return integration


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
        enqueue(import_products, str(task.id))
        return task

"""The customers, markup rules and pushes API's shapes.

A customer's storefront is shown with its public settings only: no serializer shows a
secret. Every decimal of a markup rule is a string ("40.00", "4.58"), like the catalog's
tier prices.
"""

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django_filters.utils import translate_validation
from drf_spectacular.extensions import OpenApiSerializerFieldExtension
from drf_spectacular.utils import PolymorphicProxySerializer, extend_schema_field
from rest_framework import serializers
from rest_framework.fields import get_error_detail

from catalog.api.filters import ProductFilter
from catalog.models import Category, Product, Supplier
from hub.api.fields import MoneyStringField
from integrations.api.permissions import require_access
from integrations.api.serializers import IntegrationSerializer, http_url, public_serializer
from integrations.models import STOREFRONT_TYPES, Integration, IntegrationType, OPSIntegration
from integrations.printops.client import SCALE_OPTIONS
from integrations.printops.storefront import DEFAULT_SCALE_OPTION
from pushes.models import Customer, MarkupRule, MarkupScope, PushBatch, PushLog

# The most products one bulk push takes, by ids or by filters.
MAX_BATCH = 5000

# The integration types a customer's storefront may be; the others only feed the catalog.


# -- customers -------------------------------------------------------------------------


def public_settings(integration):
    """A storefront other than OPS as the customers API shows it: id, type, name, base_url
    and what its type shows in the integrations API, less what only its owners may see."""
    serializer = public_serializer(integration.integration_type)
    data = serializer(integration).data
    left_out = {*IntegrationSerializer.Meta.fields, *serializer.OWNER_ONLY}
    return {
        "type": integration.integration_type, "id": data["id"], "name": data["name"],
        "base_url": integration.base_url,
        **{name: value for name, value in data.items() if name not in left_out},
    }


class StorefrontSerializer(serializers.Serializer):
    """A customer's storefront: where its products are pushed.

    Read: id, type, name, base_url and its type's public settings (for OPS the fields
    below, for the other types what the integrations API shows of them), never a secret.
    Write: an OPS storefront and its credentials; any other storefront type is chosen
    with the customer's `storefront_id`.
    """

    type = serializers.ChoiceField(
        choices=[IntegrationType.OPS], source="integration_type", required=False
    )
    id = serializers.UUIDField(read_only=True)
    name = serializers.CharField(read_only=True)
    base_url = serializers.CharField(max_length=255, validators=[http_url])
    token_url = serializers.CharField(max_length=500, validators=[http_url])
    client_id = serializers.CharField(max_length=255)
    client_secret = serializers.CharField(
        max_length=1000, trim_whitespace=False, write_only=True,
        help_text="Required when the storefront is created; kept when omitted on update",
    )
    rate_limit_per_minute = serializers.IntegerField(
        min_value=1, max_value=100_000, default=120
    )

    REQUIRED = ("base_url", "token_url", "client_id", "client_secret")
    # A cached access token belongs to the server and client it was issued for.
    CONNECTION_FIELDS = ("base_url", "token_url", "client_id", "client_secret")

    def to_representation(self, integration):
        integration = integration.typed()
        if integration.integration_type != IntegrationType.OPS:
            return public_settings(integration)
        return super().to_representation(integration)


def storefront_shape(integration_type):
    """A serializer that documents what public_settings shows of a storefront type."""
    if integration_type == IntegrationType.OPS:
        return StorefrontSerializer
    public = public_serializer(integration_type)
    left_out = {*IntegrationSerializer.Meta.fields, *public.OWNER_ONLY}
    fields = {
        "type": serializers.ChoiceField(choices=[integration_type]),
        "id": serializers.UUIDField(),
        "name": serializers.CharField(),
        "base_url": serializers.CharField(),
        **{name: field for name, field in public().get_fields().items()
           if name not in left_out},
    }
    name = public.Meta.model.__name__.replace("Integration", "Storefront")
    return type(name, (serializers.Serializer,), fields)


class CustomerStorefrontSerializer(StorefrontSerializer):
    """A customer's storefront: written as an OPS one, read as any storefront type."""


class CustomerStorefrontSchema(OpenApiSerializerFieldExtension):
    """Documents the answer as one of the storefront types' shapes, told apart by `type`."""

    target_class = CustomerStorefrontSerializer

    def map_serializer_field(self, auto_schema, direction):
        if direction == "request":
            return auto_schema._map_serializer_field(self.target, direction,
                                                     bypass_extensions=True)
        shapes = PolymorphicProxySerializer(
            component_name="AnyStorefront",
            serializers={str(kind): storefront_shape(kind) for kind in STOREFRONT_TYPES},
            resource_type_field_name="type",
        )
        return auto_schema.resolve_serializer(shapes, direction).ref


class PrintOpsOptionsSerializer(serializers.Serializer):
    """A customer's options for a PrintOps storefront; other keys are kept as given."""

    store_id = serializers.IntegerField(min_value=1, help_text="The PrintOps store to push to")
    scale_option = serializers.ChoiceField(
        choices=SCALE_OPTIONS, default=DEFAULT_SCALE_OPTION, help_text="How the art is scaled"
    )


# Storefront type → what checks a customer's storefront_options for it; the options of
# the other types are not checked.
STOREFRONT_OPTIONS = {IntegrationType.PRINTOPS: PrintOpsOptionsSerializer}


STOREFRONT_CLOSED = (
    "Only the storefront's owner, the members of its organization and superusers may change it"
)


def require_storefront_access(user, storefront):
    """403 unless `user` may change the customer's storefront.

    An OPS storefront is changed, removed and deleted through its customer: the rule is the
    one the integrations API applies to the integration itself. The other types are changed
    in the integrations API only, so leaving them touches nothing of theirs.
    """
    if storefront is not None and storefront.integration_type == IntegrationType.OPS:
        require_access(user, storefront, STOREFRONT_CLOSED)


def release_storefront(integration):
    """What happens to a storefront a customer leaves.

    An OPS storefront is made with its customer (nested in the customer's body) and goes
    with its last one; the other types are managed in the integrations API and stay.
    """
    if integration.integration_type == IntegrationType.OPS and not integration.customers.exists():
        integration.typed().delete()


class OrderPullStateSerializer(serializers.Serializer):
    status = serializers.CharField()
    started_at = serializers.DateTimeField(allow_null=True)
    finished_at = serializers.DateTimeField(allow_null=True)
    last_successful_pull_at = serializers.DateTimeField(allow_null=True)
    processed = serializers.IntegerField()
    total = serializers.IntegerField(allow_null=True)
    progress = serializers.IntegerField()
    last_stats = serializers.DictField()
    last_error = serializers.CharField(allow_null=True)


class CustomerSerializer(serializers.ModelSerializer):
    """A customer and its storefront.

    The storefront is either an OPS one given in `storefront` (created, or changed in
    place), or an existing storefront integration of any type chosen by `storefront_id`.
    `storefront: null` or `storefront_id: null` removes it. `storefront_options` are
    checked for the storefront's type (PrintOps: store_id, scale_option).
    """

    storefront = CustomerStorefrontSerializer(required=False, allow_null=True)
    storefront_id = serializers.UUIDField(
        required=False, allow_null=True, write_only=True,
        help_text="An existing storefront integration (ops, oms or printops) the caller may "
                  "open; null removes the storefront",
    )
    storefront_options = serializers.DictField(required=False)
    order_webhook_url = serializers.URLField(
        max_length=2000, required=False, allow_null=True,
        help_text="Where the hub POSTs this customer's order changes (signed)")
    order_webhook_secret = serializers.CharField(
        max_length=500, required=False, allow_null=True, write_only=True,
        help_text="The key of the X-Hub-Signature-256 HMAC; never answered back")
    order_pull = serializers.SerializerMethodField(
        help_text="The pull of the customer's storefront orders: state, progress, last error "
                  "(null until the first pull)")

    class Meta:
        model = Customer
        fields = [
            "id", "name", "is_active", "storefront", "storefront_id", "storefront_options",
            "order_webhook_url", "order_webhook_secret", "notify_buyer",
            "order_pull", "created_at", "updated_at",
        ]
        read_only_fields = ["id", "created_at", "updated_at"]

    @extend_schema_field(OrderPullStateSerializer(allow_null=True))
    def get_order_pull(self, customer):
        pull = getattr(customer, "order_pull", None)
        return OrderPullStateSerializer(pull).data if pull is not None else None

    def validate_storefront_id(self, value):
        if value is None:
            return None
        user = self.context["request"].user
        integration = Integration.objects.accessible_to(user).filter(pk=value).first()
        if integration is None:
            raise serializers.ValidationError("Integration not found", code="not_found")
        if integration.integration_type not in STOREFRONT_TYPES:
            raise serializers.ValidationError(
                f"{integration.get_integration_type_display()} integrations are not a "
                "storefront: they only feed the catalog",
                code="not_a_storefront",
            )
        return integration.typed()

    def validate(self, attrs):
        if "storefront" in attrs and "storefront_id" in attrs:
            raise serializers.ValidationError(
                {"storefront_id": ["Give either storefront or storefront_id."]},
                code="value_error",
            )
        self._check_storefront_access(attrs)
        if self.instance is not None:
            # The webhook secret goes only where it was given for: a new URL needs it again.
            self.instance.check_secret_destinations(attrs)
        self._check_storefront_change(attrs)
        options_form = STOREFRONT_OPTIONS.get(self._storefront_type(attrs))
        changed = {"storefront", "storefront_id", "storefront_options"} & attrs.keys()
        if options_form and changed:
            options = attrs.get("storefront_options", getattr(
                self.instance, "storefront_options", {}
            ))
            form = options_form(data=options)
            if not form.is_valid():
                raise serializers.ValidationError({"storefront_options": form.errors})
            attrs["storefront_options"] = {**options, **form.validated_data}
        return attrs

    def _check_storefront_access(self, attrs):
        old = getattr(self.instance, "storefront", None)
        if old is None:
            return
        chosen = attrs.get("storefront_id", old)
        if "storefront" in attrs or getattr(chosen, "pk", None) != old.pk:
            require_storefront_access(self.context["request"].user, old)

    def _check_storefront_change(self, attrs):
        """A change in place of the customer's OPS storefront keeps its secret bound to it."""
        storefront = self._storefront_changed_in_place(attrs)
        if storefront is None:
            return
        try:
            storefront.check_secret_destinations(attrs["storefront"])
        except DjangoValidationError as exc:
            raise serializers.ValidationError({"storefront": get_error_detail(exc)}) from None

    def _storefront_changed_in_place(self, attrs):
        """The OPS storefront this change updates in place, or None."""
        old = getattr(self.instance, "storefront", None)
        if attrs.get("storefront") is None or old is None:
            return None
        if old.integration_type != IntegrationType.OPS:
            return None
        return old.typed()

    def _storefront_type(self, attrs):
        """The type of the storefront the customer has once this change is saved."""
        if "storefront_id" in attrs:
            storefront = attrs["storefront_id"]
        elif "storefront" in attrs:
            return IntegrationType.OPS if attrs["storefront"] is not None else None
        else:
            storefront = getattr(self.instance, "storefront", None)
        return storefront.integration_type if storefront is not None else None

    def create(self, validated_data):
        storefront = validated_data.pop("storefront", None)
        chosen = validated_data.pop("storefront_id", None)
        with transaction.atomic():
            if storefront is not None:
                chosen = self._create_storefront(validated_data["name"], storefront)
            return Customer.objects.create(storefront=chosen, **validated_data)

    def update(self, customer, validated_data):
        with transaction.atomic():
            if "storefront_id" in validated_data:
                self._set_storefront(customer, validated_data.pop("storefront_id"))
            elif "storefront" in validated_data:
                self._change_storefront(customer, validated_data.pop("storefront"))
            return super().update(customer, validated_data)

    def _set_storefront(self, customer, integration):
        old = customer.storefront
        customer.storefront = integration
        customer.save(update_fields=["storefront", "updated_at"])
        if old is not None and old.pk != getattr(integration, "pk", None):
            release_storefront(old)

    def _change_storefront(self, customer, fields):
        old = customer.storefront
        if fields is None:
            self._set_storefront(customer, None)
        elif old is None or old.integration_type != IntegrationType.OPS:
            self._set_storefront(customer, self._create_storefront(customer.name, fields))
        else:
            self._update_storefront(old.typed(), fields)

    def _create_storefront(self, name, fields):
        missing = [field for field in StorefrontSerializer.REQUIRED if field not in fields]
        if missing:
            raise serializers.ValidationError(
                {"storefront": {field: ["This field is required."] for field in missing}},
                code="required",
            )
        fields.pop("integration_type", None)
        return OPSIntegration.objects.create(
            name=name[:255], user=self.context["request"].user, **fields
        )

    def _update_storefront(self, integration, fields):
        fields.pop("integration_type", None)
        if any(
            name in fields and fields[name] != getattr(integration, name)
            for name in StorefrontSerializer.CONNECTION_FIELDS
        ):
            fields.update(token=None, token_expires_at=None)
        for name, value in fields.items():
            setattr(integration, name, value)
        integration.save()


# -- markup rules ----------------------------------------------------------------------


# Scope → the target field it needs; every other target must be null.
SCOPE_TARGETS = {
    MarkupScope.SUPPLIER: "supplier_id",
    MarkupScope.CATEGORY: "category_id",
    MarkupScope.PRODUCT: "product_id",
}


def _found(model, pk, label):
    if pk is None:
        return None
    found = model.objects.filter(pk=pk).first()
    if found is None:
        raise serializers.ValidationError(f"{label} not found", code="not_found")
    return found


# The amounts MarkupRule.price_errors checks together.
PRICE_FIELDS = ("markup_pct", "markup_amount", "min_margin_pct", "min_price", "max_price")


class MarkupRuleSerializer(serializers.ModelSerializer):
    """How the customer's price is made from the supplier's cost (see pushes/pricing.py).

    A rule's scope names the target it needs: `supplier` needs supplier_id, `category`
    category_id, `product` product_id, `all` none. When a change gives `scope`, the
    targets it does not give are taken as null.
    """

    customer_id = serializers.UUIDField(read_only=True)
    supplier_id = serializers.UUIDField(required=False, allow_null=True)
    category_id = serializers.UUIDField(required=False, allow_null=True)
    product_id = serializers.UUIDField(required=False, allow_null=True)
    markup_pct = MoneyStringField(
        max_digits=8, decimal_places=3, required=False,
        help_text="Percent added to the cost (greater than -100)",
    )
    markup_amount = MoneyStringField(
        min_value=0, required=False, allow_null=True, help_text="Amount added after the percent"
    )
    min_margin_pct = MoneyStringField(
        max_digits=6, decimal_places=3, min_value=0, required=False, allow_null=True,
        help_text="Least gross margin kept, in percent: 0 up to (not including) 100",
    )
    min_price = MoneyStringField(min_value=0, required=False, allow_null=True)
    max_price = MoneyStringField(
        required=False, allow_null=True, help_text="At least 0.01 and at least min_price"
    )

    class Meta:
        model = MarkupRule
        fields = [
            "id", "customer_id", "name", "scope", "supplier_id", "category_id", "product_id",
            "markup_pct", "markup_amount", "min_margin_pct", "rounding", "min_price",
            "max_price", "priority", "is_active", "effective_from", "effective_until",
            "created_at", "updated_at",
        ]
        read_only_fields = ["id", "customer_id", "created_at", "updated_at"]

    def validate_supplier_id(self, value):
        return _found(Supplier, value, "Supplier")

    def validate_category_id(self, value):
        return _found(Category, value, "Category")

    def validate_product_id(self, value):
        return _found(Product, value, "Product")

    def validate(self, attrs):
        rule = self.instance
        scope = attrs.get("scope", rule.scope if rule else MarkupScope.ALL)
        targets = {}
        for field in SCOPE_TARGETS.values():
            name = field.removesuffix("_id")
            if field in attrs:
                targets[name] = attrs.pop(field)
            elif rule is not None and "scope" not in attrs:
                targets[name] = getattr(rule, name)
            else:
                targets[name] = None

        errors = {}
        for target_scope, field in SCOPE_TARGETS.items():
            given = targets[field.removesuffix("_id")] is not None
            if target_scope == scope and not given:
                errors[field] = f"Required when scope is {scope}."
            elif target_scope != scope and given:
                errors[field] = f"Must be null when scope is {scope}."

        def merged(name):
            return attrs[name] if name in attrs else getattr(rule, name, None)

        amounts = MarkupRule(**{name: merged(name) for name in PRICE_FIELDS})
        errors.update(amounts.price_errors())
        starts, ends = merged("effective_from"), merged("effective_until")
        if starts is not None and ends is not None and starts >= ends:
            errors["effective_until"] = "Must be later than effective_from."
        if errors:
            raise serializers.ValidationError(errors, code="value_error")
        return {**attrs, **targets}


# -- pushes ----------------------------------------------------------------------------


@extend_schema_field({"type": "string", "enum": ["success", "pending", "failed"]},
                     component_name="PushResultStatus")
class PushResultStatusField(serializers.CharField):
    pass


@extend_schema_field({"type": "string", "enum": PushLog.Status.values},
                     component_name="PushLogStatus")
class PushLogStatusField(serializers.CharField):
    pass


@extend_schema_field({"type": "string", "enum": ["running", "completed"]},
                     component_name="PushBatchStatus")
class PushBatchStatusField(serializers.CharField):
    pass


class PushResultSerializer(serializers.Serializer):
    status = PushResultStatusField()
    message = serializers.CharField()


@extend_schema_field({"type": "string", "enum": PushLog.Action.values},
                     component_name="PushLogAction")
class PushLogActionField(serializers.CharField):
    pass


class PushHistorySerializer(serializers.ModelSerializer):
    """The spec's fields, then what the attempt did: `action` (created, updated,
    unchanged, deactivated, failed), the `step` that failed, and the storefront's `detail`."""

    status = PushLogStatusField(read_only=True)
    ops_product_id = serializers.IntegerField(
        read_only=True, allow_null=True,
        help_text="The OnPrintShop product id; null for a failed attempt and for pushes to "
                  "other storefront types",
    )
    action = PushLogActionField(read_only=True)
    step = serializers.CharField(read_only=True, allow_null=True,
                                 help_text="The push step that failed; null on success")
    detail = serializers.CharField(read_only=True,
                                   help_text="What the storefront did, in words; may be empty")

    class Meta:
        model = PushLog
        fields = ["id", "status", "error", "pushed_at", "ops_product_id", "action", "step",
                  "detail"]
        read_only_fields = fields


class PricedTierSerializer(serializers.Serializer):
    quantity_min = serializers.IntegerField()
    quantity_max = serializers.IntegerField(allow_null=True)
    cost = serializers.CharField()
    price = serializers.CharField(allow_null=True)


class PricedItemSerializer(serializers.Serializer):
    key = serializers.CharField()
    title = serializers.CharField()
    sku = serializers.CharField(allow_null=True)
    cost = serializers.CharField(allow_null=True)
    price = serializers.CharField(allow_null=True)
    tiers = PricedTierSerializer(many=True)
    color = serializers.CharField(allow_null=True)
    size = serializers.CharField(allow_null=True)
    width = serializers.CharField(allow_null=True)
    height = serializers.CharField(allow_null=True)
    unit = serializers.CharField(allow_null=True)
    weight = serializers.CharField(allow_null=True)


class PricedImageSerializer(serializers.Serializer):
    image_id = serializers.UUIDField()
    url = serializers.CharField()
    color = serializers.CharField(allow_null=True)
    sort_order = serializers.IntegerField()


class PushPreviewSerializer(serializers.Serializer):
    """The product as it would be pushed: priced for the customer, amounts as strings."""

    product_id = serializers.UUIDField()
    supplier_id = serializers.UUIDField()
    supplier_sku = serializers.CharField()
    name = serializers.CharField()
    description = serializers.CharField(allow_null=True)
    brand = serializers.CharField(allow_null=True)
    product_type = serializers.CharField()
    category_path = serializers.ListField(
        child=serializers.ListField(child=serializers.CharField(), min_length=2, max_length=2),
        help_text="[category id, name] pairs from the root down",
    )
    items = PricedItemSerializer(many=True)
    images = PricedImageSerializer(many=True)
    rule_id = serializers.UUIDField(allow_null=True)
    payload_hash = serializers.CharField()
    unchanged = serializers.BooleanField(
        help_text="True when this payload is what was last pushed: a push would send nothing"
    )


class BulkPushSerializer(serializers.Serializer):
    """The products to push: `product_ids`, or `filters` as the product list takes them."""

    product_ids = serializers.ListField(
        child=serializers.UUIDField(), min_length=1, max_length=MAX_BATCH, required=False
    )
    filters = serializers.DictField(
        required=False,
        help_text="supplier_id, category_id, customer_id, brand, search, archived",
    )

    def validate_product_ids(self, ids):
        known = set(Product.objects.filter(pk__in=ids).values_list("pk", flat=True))
        missing = {
            index: [f"Product {pk} not found"]
            for index, pk in enumerate(ids) if pk not in known
        }
        if missing:
            raise serializers.ValidationError(missing, code="not_found")
        return list(dict.fromkeys(ids))

    def validate_filters(self, filters):
        errors = {
            name: ["Unknown filter."] for name in filters if name not in ProductFilter.base_filters
        }
        errors.update(
            (name, ["Input should be a string, number or boolean."])
            for name, value in filters.items() if isinstance(value, list | dict)
        )
        if errors:
            raise serializers.ValidationError(errors, code="value_error")
        filterset = ProductFilter(data=filters, queryset=Product.objects.all())
        if not filterset.is_valid():
            raise translate_validation(filterset.errors)
        ids = list(filterset.qs.values_list("pk", flat=True)[: MAX_BATCH + 1])
        if not ids:
            raise serializers.ValidationError("No product matches these filters.", code="empty")
        if len(ids) > MAX_BATCH:
            raise serializers.ValidationError(
                f"More than {MAX_BATCH} products match; narrow the filters.", code="too_long"
            )
        return ids

    def validate(self, attrs):
        if ("product_ids" in attrs) == ("filters" in attrs):
            raise serializers.ValidationError(
                {"product_ids": ["Give either product_ids or filters."]}, code="value_error"
            )
        return {"product_ids": attrs.get("product_ids") or attrs["filters"]}


class BatchStartedSerializer(serializers.Serializer):
    batch_id = serializers.UUIDField()
    status = PushBatchStatusField(read_only=True)
    total = serializers.IntegerField()


class PushBatchSerializer(serializers.ModelSerializer):
    customer_id = serializers.UUIDField(read_only=True)
    status = PushBatchStatusField(read_only=True)
    processed = serializers.IntegerField(read_only=True)
    progress = serializers.IntegerField(read_only=True, help_text="Percent processed")

    class Meta:
        model = PushBatch
        fields = [
            "id", "customer_id", "status", "total", "processed", "succeeded", "failed",
            "progress", "created_at", "completed_at",
        ]
        read_only_fields = fields

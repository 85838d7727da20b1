from collections import defaultdict

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from catalog.models import Category, PrintPricingMethod, Product, ProductImage, Supplier
from hub.api.fields import MoneyStringField, NumberField


class SupplierSerializer(serializers.ModelSerializer):
    class Meta:
        model = Supplier
        fields = ["id", "name", "has_decoration_overlay", "created_at", "updated_at"]
        read_only_fields = ["id", "created_at", "updated_at"]


class CategorySerializer(serializers.ModelSerializer):
    supplier_id = serializers.UUIDField(read_only=True)
    parent_id = serializers.UUIDField(read_only=True, allow_null=True)

    class Meta:
        model = Category
        fields = ["id", "supplier_id", "parent_id", "name", "path", "external_id", "sort_order"]


class ProductListSerializer(serializers.Serializer):
    """ProductListRead: a product with its variant aggregates (given in context["stats"])."""

    id = serializers.UUIDField()
    supplier_id = serializers.UUIDField()
    supplier_name = serializers.CharField(source="supplier.name", allow_null=True)
    supplier_sku = serializers.CharField()
    product_name = serializers.CharField()
    brand = serializers.CharField(allow_null=True)
    category = serializers.CharField(source="category_name", allow_null=True)
    category_id = serializers.UUIDField(allow_null=True)
    product_type = serializers.ChoiceField(choices=["apparel", "print"])
    image_url = serializers.CharField(allow_null=True)
    ops_product_id = serializers.CharField(allow_null=True)
    external_catalogue = serializers.CharField(allow_null=True)
    variant_count = serializers.SerializerMethodField()
    price_min = serializers.SerializerMethodField()
    price_max = serializers.SerializerMethodField()
    total_inventory = serializers.SerializerMethodField()
    archived_at = serializers.DateTimeField(allow_null=True)

    def _stat(self, product, name):
        return self.context["stats"].get(product.id, {}).get(name)

    @extend_schema_field(OpenApiTypes.INT)
    def get_variant_count(self, product):
        return self._stat(product, "variant_count") or 0

    @extend_schema_field({"type": "number", "nullable": True})
    def get_price_min(self, product):
        value = self._stat(product, "price_min")
        return None if value is None else float(value)

    @extend_schema_field({"type": "number", "nullable": True})
    def get_price_max(self, product):
        value = self._stat(product, "price_max")
        return None if value is None else float(value)

    @extend_schema_field(OpenApiTypes.INT)
    def get_total_inventory(self, product):
        return self._stat(product, "total_inventory") or 0


class VariantPriceSerializer(serializers.Serializer):
    price_type = serializers.CharField()
    quantity_min = serializers.IntegerField()
    quantity_max = serializers.IntegerField(allow_null=True)
    price = MoneyStringField()


class VariantSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    color = serializers.CharField(allow_null=True)
    size = serializers.CharField(allow_null=True)
    sku = serializers.CharField(allow_null=True)
    base_price = NumberField(allow_null=True)
    inventory = serializers.IntegerField()
    warehouse = serializers.CharField(allow_null=True)
    prices = VariantPriceSerializer(many=True)


class ProductImageSerializer(serializers.ModelSerializer):
    class Meta:
        model = ProductImage
        fields = ["id", "url", "supplier_image_url", "image_type", "color", "sort_order",
                  "checksum"]


class OptionAttributeSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    title = serializers.CharField()
    sort_order = serializers.IntegerField()
    ops_attribute_id = serializers.CharField(allow_null=True)
    master_attribute_id = serializers.CharField(allow_null=True)
    attribute_key = serializers.CharField(allow_null=True)
    price = NumberField(allow_null=True)
    setup_cost = NumberField(allow_null=True)
    multiplier = NumberField(allow_null=True)


class ProductOptionSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    option_key = serializers.CharField()
    title = serializers.CharField()
    options_type = serializers.CharField()
    sort_order = serializers.IntegerField()
    master_option_id = serializers.CharField(allow_null=True)
    ops_option_id = serializers.CharField(allow_null=True)
    required = serializers.BooleanField()
    attributes = OptionAttributeSerializer(many=True)


class ApparelDetailsSerializer(serializers.Serializer):
    pricing_method = serializers.CharField()
    raw_payload = serializers.JSONField(allow_null=True)


@extend_schema_field({"type": "string", "enum": PrintPricingMethod.values},
                     component_name="PrintPricingMethod")
class PrintPricingMethodField(serializers.CharField):
    """`formula` (the spec's) or `per_size` (prices on each size): see PrintPricingMethod."""


class PrintDetailsSerializer(serializers.Serializer):
    pricing_method = PrintPricingMethodField()
    min_width = NumberField(allow_null=True)
    max_width = NumberField(allow_null=True)
    min_height = NumberField(allow_null=True)
    max_height = NumberField(allow_null=True)
    size_unit = serializers.CharField(allow_null=True)
    base_price_per_sq_unit = NumberField(allow_null=True)


class PrintSizeSerializer(serializers.Serializer):
    width = NumberField()
    height = NumberField()
    unit = serializers.CharField()
    label = serializers.CharField(allow_null=True)


def _one_to_one(product, name):
    try:
        return getattr(product, name)
    except Product._meta.get_field(name).related_model.DoesNotExist:
        return None


class ProductDetailSerializer(serializers.Serializer):
    """ProductRead: the full product record."""

    id = serializers.UUIDField()
    supplier_id = serializers.UUIDField()
    supplier_name = serializers.CharField(source="supplier.name", allow_null=True)
    supplier_has_decoration_overlay = serializers.BooleanField(
        source="supplier.has_decoration_overlay"
    )
    supplier_sku = serializers.CharField()
    product_name = serializers.CharField()
    brand = serializers.CharField(allow_null=True)
    category = serializers.CharField(source="category_name", allow_null=True)
    category_id = serializers.UUIDField(allow_null=True)
    description = serializers.CharField(allow_null=True)
    product_type = serializers.ChoiceField(choices=["apparel", "print"])
    image_url = serializers.CharField(allow_null=True)
    ops_product_id = serializers.CharField(allow_null=True)
    external_catalogue = serializers.CharField(allow_null=True)
    last_synced = serializers.DateTimeField(allow_null=True)
    archived_at = serializers.DateTimeField(allow_null=True)
    variants = VariantSerializer(many=True)
    images = ProductImageSerializer(many=True)
    images_by_color = serializers.SerializerMethodField()
    options = ProductOptionSerializer(many=True)
    apparel_details = serializers.SerializerMethodField()
    print_details = serializers.SerializerMethodField()
    sizes = PrintSizeSerializer(many=True)

    @extend_schema_field({"type": "object", "additionalProperties": {
        "type": "array", "items": {"$ref": "#/components/schemas/ProductImage"}}})
    def get_images_by_color(self, product):
        groups = defaultdict(list)
        for image in product.images.all():
            groups[image.color_key].append(ProductImageSerializer(image).data)
        return groups

    @extend_schema_field(ApparelDetailsSerializer(allow_null=True))
    def get_apparel_details(self, product):
        details = _one_to_one(product, "apparel_details")
        return ApparelDetailsSerializer(details).data if details else None

    @extend_schema_field(PrintDetailsSerializer(allow_null=True))
    def get_print_details(self, product):
        details = _one_to_one(product, "print_details")
        return PrintDetailsSerializer(details).data if details else None

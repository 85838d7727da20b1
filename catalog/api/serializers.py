from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from catalog.models import Category, PrintPricingMethod, ProductImage, Supplier
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
    """ProductListRead: a product with the aggregates of its variants and print sizes.

    The serializers of products declare the answers (and the schema); catalog/api/rows.py
    renders them from database rows.
    """

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
    variant_count = serializers.IntegerField(help_text="Variants and print sizes.")
    price_min = NumberField(allow_null=True)
    price_max = NumberField(allow_null=True)
    total_inventory = serializers.IntegerField()
    archived_at = serializers.DateTimeField(allow_null=True)


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
    sku = serializers.CharField(allow_null=True)
    price = NumberField(allow_null=True)


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
    images_by_color = serializers.DictField(
        child=ProductImageSerializer(many=True),
        help_text="The images grouped by colour key (lower case, spaces as underscores).",
    )
    options = ProductOptionSerializer(many=True)
    apparel_details = ApparelDetailsSerializer(allow_null=True)
    print_details = PrintDetailsSerializer(allow_null=True)
    sizes = PrintSizeSerializer(many=True)

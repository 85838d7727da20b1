"""The orders API's shapes (hub-orders-api.md): the order with its lines, shipments and
events, the list row, and the intake body of `POST /api/orders`.

Money is a string with two decimals; buyer and addresses are staff-only data, and every
endpoint is staff-only.
"""

from decimal import Decimal

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from hub.api.fields import MoneyStringField, money_str
from orders.models import AddressKind, OrderSource
from orders.payload import CanonicalAddress, CanonicalLine, CanonicalOrder
from pushes.models import Customer

MAX_LINES = 500


class MoneyField(MoneyStringField):
    """An order's money in and out: a string with two decimals ("49.99"), never negative
    when given (the order's columns keep two decimals, so it is written with two)."""

    def __init__(self, **kwargs):
        kwargs.setdefault("decimal_places", 2)
        kwargs.setdefault("min_value", Decimal("0"))
        super().__init__(**kwargs)


class TotalsSerializer(serializers.Serializer):
    subtotal = MoneyField(required=False, allow_null=True)
    shipping = MoneyField(required=False, allow_null=True)
    tax = MoneyField(required=False, allow_null=True)
    total = MoneyField(required=False, allow_null=True)


class BuyerSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=255, required=False, allow_blank=True,
                                 allow_null=True)
    email = serializers.EmailField(max_length=255, required=False, allow_blank=True,
                                   allow_null=True)
    phone = serializers.CharField(max_length=64, required=False, allow_blank=True,
                                  allow_null=True)
    company = serializers.CharField(max_length=255, required=False, allow_blank=True,
                                    allow_null=True)


class AddressSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=255)
    company = serializers.CharField(max_length=255, required=False, allow_blank=True,
                                    allow_null=True)
    address_1 = serializers.CharField(max_length=255)
    address_2 = serializers.CharField(max_length=255, required=False, allow_blank=True,
                                      allow_null=True)
    city = serializers.CharField(max_length=128)
    state = serializers.CharField(max_length=128, required=False, allow_blank=True,
                                  allow_null=True)
    postal_code = serializers.CharField(max_length=32)
    country_code = serializers.RegexField(r"^[A-Za-z]{2}$", max_length=2, error_messages={
        "invalid": "Enter a two-letter ISO country code."})
    phone = serializers.CharField(max_length=64, required=False, allow_blank=True,
                                  allow_null=True)


def or_none(value):
    return value or None


# -- reading ---------------------------------------------------------------------------


class FulfillerSerializer(serializers.Serializer):
    type = serializers.CharField(source="fulfiller_type")
    integration_id = serializers.UUIDField(source="fulfiller_integration_id", allow_null=True)
    remote_order_id = serializers.CharField(allow_null=True)
    remote_line_id = serializers.CharField(allow_null=True)
    print_file_status = serializers.CharField(allow_null=True)
    print_file_url = serializers.CharField(allow_null=True)


class LineSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    source_line_id = serializers.CharField()
    sku = serializers.CharField()
    name = serializers.CharField()
    size = serializers.CharField()
    quantity = serializers.IntegerField()
    unit_price = MoneyField(allow_null=True)
    product_id = serializers.UUIDField(allow_null=True)
    variant_id = serializers.UUIDField(allow_null=True)
    size_id = serializers.UUIDField(source="print_size_id", allow_null=True)
    status = serializers.CharField()
    fulfiller = serializers.SerializerMethodField()
    artwork = serializers.ListField(child=serializers.CharField())
    error = serializers.CharField(allow_null=True)

    @extend_schema_field(FulfillerSerializer(allow_null=True))
    def get_fulfiller(self, line):
        return FulfillerSerializer(line).data if line.fulfiller_type else None


class ShipmentLineSerializer(serializers.Serializer):
    line_id = serializers.UUIDField()
    quantity = serializers.IntegerField()


class ShipmentSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    carrier = serializers.CharField()
    tracking_number = serializers.CharField()
    tracking_url = serializers.CharField(allow_null=True)
    shipped_at = serializers.DateTimeField(allow_null=True)
    source = serializers.CharField()
    lines = ShipmentLineSerializer(many=True)
    reported_to_storefront_at = serializers.DateTimeField(allow_null=True)


class EventSerializer(serializers.Serializer):
    at = serializers.DateTimeField()
    kind = serializers.CharField()
    message = serializers.CharField()


class AddressOutSerializer(serializers.Serializer):
    name = serializers.CharField()
    company = serializers.CharField(allow_null=True)
    address_1 = serializers.CharField()
    address_2 = serializers.CharField(allow_null=True)
    city = serializers.CharField()
    state = serializers.CharField(allow_null=True)
    postal_code = serializers.CharField()
    country_code = serializers.CharField()
    phone = serializers.CharField(allow_null=True)

    def to_representation(self, address):
        data = {name: getattr(address, name) for name in self.fields}
        return {name: (value or None) if name in OPTIONAL_ADDRESS else value
                for name, value in data.items()}


OPTIONAL_ADDRESS = ("company", "address_2", "state", "phone")


class OrderListSerializer(serializers.Serializer):
    """An order as the list shows it: without lines, shipments and events."""

    id = serializers.UUIDField()
    customer_id = serializers.UUIDField()
    customer_name = serializers.CharField(source="customer.name")
    source = serializers.CharField()
    source_order_id = serializers.CharField()
    order_number = serializers.CharField()
    status = serializers.CharField()
    source_status = serializers.CharField()
    placed_at = serializers.DateTimeField(allow_null=True)
    received_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()
    currency = serializers.CharField()
    totals = serializers.SerializerMethodField()
    buyer = serializers.SerializerMethodField()
    shipping_address = serializers.SerializerMethodField()
    line_count = serializers.IntegerField()

    @extend_schema_field(TotalsSerializer)
    def get_totals(self, order):
        return {name: money_str(getattr(order, name))
                for name in ("subtotal", "shipping", "tax", "total")}

    @extend_schema_field(BuyerSerializer)
    def get_buyer(self, order):
        return {"name": or_none(order.buyer_name), "email": or_none(order.buyer_email),
                "phone": or_none(order.buyer_phone), "company": or_none(order.buyer_company)}

    @extend_schema_field(AddressOutSerializer(allow_null=True))
    def get_shipping_address(self, order):
        for address in order.addresses.all():
            if address.kind == AddressKind.SHIPPING:
                return AddressOutSerializer(address).data
        return None


class OrderSerializer(OrderListSerializer):
    """The whole order: with lines, shipments (with their lines) and events, oldest first."""

    lines = LineSerializer(many=True)
    shipments = ShipmentSerializer(many=True)
    events = EventSerializer(many=True)


# -- intake ----------------------------------------------------------------------------


class IntakeLineSerializer(serializers.Serializer):
    source_line_id = serializers.CharField(max_length=128)
    sku = serializers.CharField(max_length=255, required=False, allow_blank=True)
    product_id = serializers.UUIDField(required=False, allow_null=True)
    name = serializers.CharField(max_length=500, required=False, allow_blank=True)
    size = serializers.CharField(max_length=255, required=False, allow_blank=True)
    quantity = serializers.IntegerField(min_value=1, max_value=1_000_000)
    unit_price = MoneyField(required=False, allow_null=True)
    artwork = serializers.ListField(
        child=serializers.URLField(max_length=2000), required=False, max_length=50,
    )

    def validate(self, attrs):
        if not attrs.get("sku") and not attrs.get("product_id"):
            raise serializers.ValidationError(
                {"sku": ["Give the line's sku or product_id."]}, code="missing"
            )
        return attrs


class IntakeSerializer(serializers.Serializer):
    customer_id = serializers.UUIDField()
    source_order_id = serializers.CharField(max_length=128)
    order_number = serializers.CharField(max_length=128, required=False, allow_blank=True)
    placed_at = serializers.DateTimeField(required=False, allow_null=True)
    currency = serializers.RegexField(r"^[A-Z]{3}$", required=False, error_messages={
        "invalid": "Enter a three-letter ISO currency code in capitals."})
    totals = TotalsSerializer(required=False)
    buyer = BuyerSerializer(required=False)
    shipping_address = AddressSerializer()
    lines = IntakeLineSerializer(many=True, allow_empty=False, max_length=MAX_LINES)

    def validate_customer_id(self, value):
        customer = Customer.objects.filter(pk=value).first()
        if customer is None:
            raise serializers.ValidationError("Customer not found", code="not_found")
        return customer

    def validate_lines(self, lines):
        seen = set()
        for index, line in enumerate(lines):
            if line["source_line_id"] in seen:
                raise serializers.ValidationError(
                    {index: {"source_line_id": ["Each line needs its own source_line_id."]}},
                    code="duplicate",
                )
            seen.add(line["source_line_id"])
        return lines

    def canonical(self):
        data = self.validated_data
        totals, buyer = data.get("totals") or {}, data.get("buyer") or {}
        address = data["shipping_address"]
        return CanonicalOrder(
            source=OrderSource.API, source_order_id=data["source_order_id"],
            order_number=data.get("order_number") or data["source_order_id"],
            placed_at=data.get("placed_at"), currency=data.get("currency") or "USD",
            subtotal=totals.get("subtotal"), shipping=totals.get("shipping"),
            tax=totals.get("tax"), total=totals.get("total"),
            buyer_name=buyer.get("name") or "", buyer_email=buyer.get("email") or "",
            buyer_phone=buyer.get("phone") or "", buyer_company=buyer.get("company") or "",
            shipping_address=CanonicalAddress(**{
                name: value or "" for name, value in address.items()
            } | {"country_code": address["country_code"].upper()}),
            lines=[
                CanonicalLine(
                    source_line_id=line["source_line_id"], quantity=line["quantity"],
                    sku=line.get("sku") or "", name=line.get("name") or "",
                    size=line.get("size") or "", unit_price=line.get("unit_price"),
                    source_product_id=str(line["product_id"]) if line.get("product_id") else "",
                    artwork=line.get("artwork") or [],
                )
                for line in data["lines"]
            ],
        )

"""The fulfilment side of the orders API (hub-orders-api.md): fulfilment routes, cancel,
manual shipments. Staff only; the views call orders.routing and orders.fulfilment.
"""

from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.exceptions import APIException
from rest_framework.response import Response
from rest_framework.views import APIView

from catalog.models import Supplier
from hub.api.lookups import get_by_uuid_or_404
from hub.api.pagination import SkipLimitPagination
from hub.api.permissions import IsStaff
from integrations.models import Integration, IntegrationType
from orders import fulfilment
from orders.api.serializers import OrderSerializer, ShipmentSerializer
from orders.api.views import FORBIDDEN, INVALID, NOT_FOUND, ORDER_ID, find_order, order_body
from orders.models import FulfilmentRoute
from pushes.models import Customer

# The integration types that can produce an order's lines.
FULFILLER_TYPES = (IntegrationType.OMS,)


class FulfilmentRouteSerializer(serializers.ModelSerializer):
    supplier_id = serializers.UUIDField()
    customer_id = serializers.UUIDField(required=False, allow_null=True,
                                        help_text="null: every customer")
    fulfiller_integration_id = serializers.UUIDField(
        required=False, allow_null=True, help_text="An OMS integration; null: manual")

    class Meta:
        model = FulfilmentRoute
        fields = ["id", "supplier_id", "customer_id", "fulfiller_integration_id", "active"]
        read_only_fields = ["id"]

    def validate_supplier_id(self, value):
        if not Supplier.objects.filter(pk=value).exists():
            raise serializers.ValidationError("Supplier not found", code="not_found")
        return value

    def validate_customer_id(self, value):
        if value is not None and not Customer.objects.filter(pk=value).exists():
            raise serializers.ValidationError("Customer not found", code="not_found")
        return value

    def validate_fulfiller_integration_id(self, value):
        if value is None:
            return None
        integration = Integration.objects.filter(pk=value).first()
        if integration is None:
            raise serializers.ValidationError("Integration not found", code="not_found")
        if integration.integration_type not in FULFILLER_TYPES:
            raise serializers.ValidationError(
                f"{integration.get_integration_type_display()} integrations cannot fulfil "
                "order lines: only an OMS can", code="cannot_fulfil")
        return value

    def validate(self, attrs):
        supplier = attrs.get("supplier_id", getattr(self.instance, "supplier_id", None))
        customer = attrs.get("customer_id", getattr(self.instance, "customer_id", None))
        taken = FulfilmentRoute.objects.filter(supplier_id=supplier, customer_id=customer)
        if self.instance is not None:
            taken = taken.exclude(pk=self.instance.pk)
        if taken.exists():
            raise serializers.ValidationError(
                {"customer_id": ["A route for this supplier and customer exists already."]},
                code="duplicate")
        return attrs


class FulfilmentRouteViewSet(mixins.ListModelMixin, mixins.CreateModelMixin,
                             mixins.RetrieveModelMixin, mixins.UpdateModelMixin,
                             mixins.DestroyModelMixin, viewsets.GenericViewSet):
    """Which fulfiller produces a supplier's products, for one customer or every one."""

    serializer_class = FulfilmentRouteSerializer
    pagination_class = SkipLimitPagination
    permission_classes = [IsStaff]
    queryset = FulfilmentRoute.objects.order_by("created_at", "id")
    http_method_names = ["get", "post", "patch", "delete"]

    def get_object(self):
        return get_by_uuid_or_404(self.get_queryset(), self.kwargs["pk"],
                                  "Fulfilment route not found")


# -- cancel ----------------------------------------------------------------------------


class NothingToCancel(APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "No line of this order is open"


@extend_schema(parameters=[ORDER_ID])
class CancelOrder(APIView):
    """Ask each fulfiller to cancel the order's open lines."""

    permission_classes = [IsStaff]

    @extend_schema(operation_id="orders_cancel", request=None,
                   responses={202: OrderSerializer, 403: FORBIDDEN, 404: NOT_FOUND,
                              409: NothingToCancel})
    def post(self, request, order_id):
        order = find_order(order_id)
        if not fulfilment.request_cancel(order):
            raise NothingToCancel()
        return Response(order_body(order.pk), status=status.HTTP_202_ACCEPTED)


# -- manual shipments ------------------------------------------------------------------


class ShipmentLineInSerializer(serializers.Serializer):
    line_id = serializers.UUIDField()
    quantity = serializers.IntegerField(min_value=1)


class ShipmentInSerializer(serializers.Serializer):
    carrier = serializers.CharField(max_length=128)
    tracking_number = serializers.CharField(max_length=255)
    tracking_url = serializers.URLField(max_length=2000, required=False, allow_null=True)
    lines = ShipmentLineInSerializer(many=True, allow_empty=False)

    def validate_lines(self, lines):
        order = self.context["order"]
        errors, seen = {}, set()
        open_quantities = fulfilment.open_quantities(order)
        for index, row in enumerate(lines):
            line = open_quantities.get(row["line_id"])
            if row["line_id"] in seen:
                errors[index] = {"line_id": ["This line is given twice."]}
            elif line is None:
                errors[index] = {"line_id": ["No such line in this order."]}
            elif not line["manual"]:
                errors[index] = {"line_id": ["Only manual lines are shipped by staff; this "
                                             "line's fulfiller records its own shipments."]}
            elif row["quantity"] > line["open"]:
                errors[index] = {"quantity": [f"Only {line['open']} of this line are still "
                                              "to ship."]}
            seen.add(row["line_id"])
        if errors:
            raise serializers.ValidationError(errors)
        return lines


@extend_schema(parameters=[ORDER_ID])
class RecordShipment(APIView):
    """Staff record a shipment of manual lines."""

    permission_classes = [IsStaff]

    @extend_schema(operation_id="orders_shipments_create", request=ShipmentInSerializer,
                   responses={201: ShipmentSerializer, 403: FORBIDDEN, 404: NOT_FOUND,
                              422: INVALID})
    def post(self, request, order_id):
        order = find_order(order_id)
        incoming = ShipmentInSerializer(data=request.data, context={"order": order})
        incoming.is_valid(raise_exception=True)
        shipment = fulfilment.record_manual_shipment(order, **incoming.validated_data)
        return Response(ShipmentSerializer(shipment).data, status=status.HTTP_201_CREATED)

"""The orders API (hub-orders-api.md): list, detail, intake, route again, pull now.

Staff only. The views find rows and call orders.services / orders.pulls.
"""

from django.db.models import Count, F, Prefetch
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import generics, status
from rest_framework.exceptions import APIException
from rest_framework.response import Response
from rest_framework.views import APIView

from hub.api.errors import invalid
from hub.api.filters import QueryFilterBackend
from hub.api.lookups import get_by_uuid_or_404
from hub.api.pagination import SkipLimitPagination
from hub.api.permissions import IsStaff
from orders import pulls, services
from orders.api.filters import OrderFilter
from orders.api.serializers import IntakeSerializer, OrderListSerializer, OrderSerializer
from orders.models import Order, Shipment
from pushes.models import Customer

ORDER_ID = OpenApiParameter("order_id", OpenApiTypes.UUID, OpenApiParameter.PATH,
                            description="Order id")
CUSTOMER_ID = OpenApiParameter("customer_id", OpenApiTypes.UUID, OpenApiParameter.PATH,
                               description="Customer id")
FORBIDDEN = OpenApiResponse(description="Not staff")
INVALID = OpenApiResponse(description="Invalid input: every invalid field, with its loc")
NOT_FOUND = OpenApiResponse(description="Order not found")


def order_list_queryset():
    return (
        Order.objects.select_related("customer").prefetch_related("addresses")
        .annotate(line_count=Count("lines"))
        .order_by(F("placed_at").desc(nulls_last=True), "id")
    )


def order_detail_queryset():
    return order_list_queryset().prefetch_related(
        "lines", "events",
        Prefetch("shipments", Shipment.objects.prefetch_related("lines")),
    )


def find_order(order_id):
    return get_by_uuid_or_404(order_detail_queryset(), order_id, "Order not found")


def order_body(order_id):
    return OrderSerializer(find_order(order_id)).data


class OrderList(generics.ListAPIView):
    """Orders, newest placed first; POST takes an order in from any system."""

    permission_classes = [IsStaff]
    serializer_class = OrderListSerializer
    pagination_class = SkipLimitPagination
    filter_backends = [QueryFilterBackend]
    filterset_class = OrderFilter

    def get_queryset(self):
        return order_list_queryset()

    @extend_schema(operation_id="orders_list",
                   responses={200: OrderListSerializer(many=True), 403: FORBIDDEN,
                              422: INVALID})
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    @extend_schema(
        operation_id="orders_intake", request=IntakeSerializer,
        responses={201: OrderSerializer,
                   200: OpenApiResponse(OrderSerializer, "The same order again: unchanged"),
                   403: FORBIDDEN, 422: INVALID},
    )
    def post(self, request):
        form = IntakeSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        order, created = services.take_in(form.validated_data["customer_id"], form.canonical())
        return Response(order_body(order.pk),
                        status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)


@extend_schema(parameters=[ORDER_ID])
class OrderDetail(APIView):
    permission_classes = [IsStaff]

    @extend_schema(operation_id="orders_detail",
                   responses={200: OrderSerializer, 403: FORBIDDEN, 404: NOT_FOUND})
    def get(self, request, order_id):
        return Response(order_body(order_id))


@extend_schema(parameters=[ORDER_ID])
class RouteOrder(APIView):
    """Resolve and route every line no fulfiller holds yet, again."""

    permission_classes = [IsStaff]

    @extend_schema(operation_id="orders_route", request=None,
                   responses={202: OrderSerializer, 403: FORBIDDEN, 404: NOT_FOUND})
    def post(self, request, order_id):
        order = find_order(order_id)
        services.route_again(order)
        return Response(order_body(order.pk), status=status.HTTP_202_ACCEPTED)


class PullRunning(APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "An order pull of this customer is already running"


@extend_schema(parameters=[CUSTOMER_ID])
class PullOrders(APIView):
    """Pull new and changed orders from the customer's storefront now (on a worker)."""

    permission_classes = [IsStaff]

    @extend_schema(
        operation_id="customer_orders_sync", request=None,
        responses={
            202: OpenApiResponse(
                {"type": "object", "properties": {"status": {"type": "string"}}},
                'Queued: {"status": "queued"}'),
            403: FORBIDDEN,
            404: OpenApiResponse(description="Customer not found"),
            409: OpenApiResponse(description="A pull of this customer is running"),
            422: OpenApiResponse(description="The customer's storefront has no orders to pull"),
            503: OpenApiResponse(description="The task queue did not take the pull"),
        },
    )
    def post(self, request, customer_id):
        customer = get_by_uuid_or_404(Customer.objects.select_related("storefront"),
                                      customer_id, "Customer not found")
        try:
            pulls.request_pull(customer)
        except pulls.NothingToPull as exc:
            raise invalid("path", "customer_id", str(exc), "nothing_to_pull") from None
        except pulls.PullBusy:
            raise PullRunning() from None
        return Response({"status": "queued"}, status=status.HTTP_202_ACCEPTED)

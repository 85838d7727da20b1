"""Customers, their markup rules, and pushes of products to their storefronts.

Staff only. Writes live in the serializers and pushes.services; the views find the rows,
call them, and pick the response.
"""

import time

from django.conf import settings
from django.db import transaction
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import generics, status
from rest_framework.exceptions import APIException
from rest_framework.response import Response
from rest_framework.views import APIView

from catalog.models import Product
from hub.api.errors import invalid
from hub.api.lookups import get_by_uuid_or_404
from hub.api.pagination import SkipLimitPagination
from hub.api.permissions import IsStaff
from hub.api.schema import NOT_QUEUED, conflict
from pushes.api.serializers import (
    BatchStartedSerializer,
    BulkPushSerializer,
    CustomerSerializer,
    MarkupRuleSerializer,
    PushBatchSerializer,
    PushHistorySerializer,
    PushPreviewSerializer,
    PushResultSerializer,
    release_storefront,
    require_storefront_access,
)
from pushes.models import Customer, MarkupRule, PushBatch, PushLog, StorefrontProduct
from pushes.pricing import NoMarkupRule, price_product
from pushes.services import PushRefused, request_push, start_batch

# How often a push request looks for the push's log entry while it waits.
POLL_SECONDS = 0.2


def path_id(name, description):
    return OpenApiParameter(name, OpenApiTypes.UUID, OpenApiParameter.PATH,
                            description=description)


CUSTOMER_ID = path_id("customer_id", "Customer id")
PRODUCT_ID = path_id("product_id", "Product id")
RULE_ID = path_id("rule_id", "Markup rule id")
BATCH_ID = path_id("batch_id", "Push batch id")
REFUSED = OpenApiResponse(
    description="Invalid input, or the push is refused (inactive customer, archived product, "
                "customer without storefront)"
)


# The storefront's row of each storefront type, read with the customer: showing or using
# the storefront then costs no query of its own.
STOREFRONT_ROWS = [
    "storefront__opsintegration", "storefront__omsintegration",
    "storefront__printopsintegration", "order_pull",
]


def find_customer(customer_id):
    return get_by_uuid_or_404(
        Customer.objects.select_related(*STOREFRONT_ROWS), customer_id, "Customer not found"
    )


def find_product(product_id):
    return get_by_uuid_or_404(Product.objects.all(), product_id, "Product not found")


# -- customers -------------------------------------------------------------------------


class CustomerHasPushes(APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "Customer has push logs; deactivate it instead"


class CustomerList(generics.ListCreateAPIView):
    """Customers by name; POST creates one, with its storefront when one is given."""

    permission_classes = [IsStaff]
    serializer_class = CustomerSerializer
    pagination_class = SkipLimitPagination
    queryset = Customer.objects.select_related(*STOREFRONT_ROWS).order_by("name", "id")


@extend_schema(parameters=[CUSTOMER_ID])
class CustomerDetail(generics.RetrieveUpdateDestroyAPIView):
    """One customer. DELETE removes it (and an OPS storefront no other customer has);
    409 once it has push logs or orders."""

    permission_classes = [IsStaff]
    serializer_class = CustomerSerializer
    http_method_names = ["get", "patch", "delete"]
    queryset = Customer.objects.all()

    def get_object(self):
        return find_customer(self.kwargs["customer_id"])

    @extend_schema(responses={
        200: CustomerSerializer,
        403: OpenApiResponse(description="Changes a storefront that is not the caller's"),
    })
    def patch(self, request, *args, **kwargs):
        return super().patch(request, *args, **kwargs)

    @extend_schema(responses={
        204: None, 403: OpenApiResponse(description="Its storefront is not the caller's"),
        **conflict("Has push logs or orders"),
    })
    def delete(self, request, *args, **kwargs):
        return super().delete(request, *args, **kwargs)

    def perform_destroy(self, customer):
        if customer.push_logs.exists():
            raise CustomerHasPushes(
                f"Customer {customer.name} has push logs; deactivate it instead"
            )
        if customer.orders.exists():
            raise CustomerHasPushes(f"Customer {customer.name} has orders; deactivate it instead")
        storefront = customer.storefront
        require_storefront_access(self.request.user, storefront)
        with transaction.atomic():
            customer.delete()
            if storefront is not None:
                release_storefront(storefront)


# -- markup rules ----------------------------------------------------------------------


class CustomerScoped:
    """A view under /customers/{customer_id}: the customer is found first (404)."""

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        self.customer = find_customer(kwargs["customer_id"])


@extend_schema(parameters=[CUSTOMER_ID])
class MarkupRuleList(CustomerScoped, generics.ListCreateAPIView):
    """The customer's markup rules, highest priority first; POST adds one."""

    permission_classes = [IsStaff]
    serializer_class = MarkupRuleSerializer
    pagination_class = type("MarkupRulePagination", (SkipLimitPagination,),
                            {"default_limit": 1000})
    queryset = MarkupRule.objects.order_by("-priority", "-created_at", "id")

    def get_queryset(self):
        return super().get_queryset().filter(customer=self.customer)

    def perform_create(self, serializer):
        serializer.save(customer=self.customer)


@extend_schema(parameters=[CUSTOMER_ID, RULE_ID])
class MarkupRuleDetail(CustomerScoped, generics.RetrieveUpdateDestroyAPIView):
    permission_classes = [IsStaff]
    serializer_class = MarkupRuleSerializer
    http_method_names = ["get", "patch", "delete"]
    queryset = MarkupRule.objects.all()

    def get_object(self):
        return get_by_uuid_or_404(
            self.customer.markup_rules.all(), self.kwargs["rule_id"], "Markup rule not found"
        )


# -- pushes ----------------------------------------------------------------------------


def refused(exc):
    """A PushRefused as a 422 at the path parameter it is about."""
    return invalid("path", exc.about, str(exc), "push_refused")


def wait_for_log(log_id, seconds):
    """The push's log entry once the worker has written it, or None after `seconds`."""
    deadline = time.monotonic() + seconds
    while True:
        log = PushLog.objects.filter(pk=log_id).first()
        remaining = deadline - time.monotonic()
        if log is not None or remaining <= 0:
            return log
        time.sleep(min(POLL_SECONDS, remaining))


def push_result(log, product):
    """The push's outcome as the spec answers it, with its status code."""
    if log is None:
        return {"status": "pending", "message": "The push is running on a worker"}, 202
    if log.status == PushLog.Status.FAILED:
        message = f"{log.step}: {log.error}" if log.step else log.error
        # 500 tells the client that trying again may help; a refusal it cannot heal is 422.
        return {"status": "failed", "message": message}, 422 if log.refused else 500
    done = {
        PushLog.Action.CREATED: "created in the storefront",
        PushLog.Action.UPDATED: "updated in the storefront",
        PushLog.Action.UNCHANGED: "unchanged since the last push; nothing sent",
    }[log.action]
    message = (f"Product {product.supplier_sku} {done} "
               f"(storefront product id {log.storefront_product_id})")
    return {"status": "success", "message": message}, 200


class PushProduct(APIView):
    """Push one product to the customer's storefront and wait a while for the outcome."""

    permission_classes = [IsStaff]

    @classmethod
    def as_view(cls, **initkwargs):
        # The push is queued when the transaction commits: a request transaction would
        # hold it back for the whole wait.
        return transaction.non_atomic_requests(super().as_view(**initkwargs))

    @extend_schema(
        operation_id="push_product", parameters=[CUSTOMER_ID, PRODUCT_ID], request=None,
        responses={
            200: PushResultSerializer,
            202: OpenApiResponse(PushResultSerializer, "Queued; still running on a worker"),
            404: OpenApiResponse(description="Customer or product not found"),
            422: OpenApiResponse(PushResultSerializer, "Invalid input, or the push is refused "
                                 "(inactive customer, archived product, no storefront, no "
                                 "markup rule, the storefront said no): trying again will "
                                 "not help"),
            500: OpenApiResponse(PushResultSerializer,
                                 "The push failed on a fault that may heal (timeout, 5xx)"),
            **NOT_QUEUED,
        },
    )
    def post(self, request, customer_id, product_id):
        customer, product = find_customer(customer_id), find_product(product_id)
        try:
            log_id = request_push(customer, product)
        except PushRefused as exc:
            raise refused(exc) from None
        # Inside a transaction the task is only sent on commit: there is nothing to wait for.
        in_transaction = transaction.get_connection().in_atomic_block
        log = wait_for_log(log_id, 0 if in_transaction else settings.PUSH_WAIT_SECONDS)
        body, code = push_result(log, product)
        return Response(body, status=code)


class PushHistory(APIView):
    """Every push of the product to the customer, newest first."""

    permission_classes = [IsStaff]

    @extend_schema(operation_id="push_history", parameters=[CUSTOMER_ID, PRODUCT_ID],
                   responses={200: PushHistorySerializer(many=True)})
    def get(self, request, customer_id, product_id):
        customer, product = find_customer(customer_id), find_product(product_id)
        logs = PushLog.objects.filter(customer=customer, product=product).order_by(
            "-pushed_at", "-id"
        )
        return Response(PushHistorySerializer(logs, many=True).data)


class PushPreview(APIView):
    """The product priced for the customer, as a push would send it; sends nothing."""

    permission_classes = [IsStaff]

    @extend_schema(
        operation_id="push_preview", parameters=[CUSTOMER_ID, PRODUCT_ID],
        responses={200: PushPreviewSerializer,
                   422: OpenApiResponse(description="No markup rule covers the product")},
    )
    def get(self, request, customer_id, product_id):
        customer, product = find_customer(customer_id), find_product(product_id)
        try:
            priced = price_product(customer, product)
        except NoMarkupRule as exc:
            raise invalid("path", "product_id", exc.message, "no_markup_rule") from None
        payload_hash = priced.content_hash()
        unchanged = StorefrontProduct.objects.filter(
            customer=customer, product=product, storefront_product_id__isnull=False,
            pushed_hash=payload_hash,
        ).exclude(storefront_product_id="").exists()
        return Response({**priced.as_dict(), "payload_hash": payload_hash,
                         "unchanged": unchanged})


class BulkPush(APIView):
    """Queue a push of many products to the customer; follow it at push/batches/{id}."""

    permission_classes = [IsStaff]

    @extend_schema(operation_id="push_products", parameters=[CUSTOMER_ID],
                   request=BulkPushSerializer,
                   responses={202: BatchStartedSerializer, 422: REFUSED, **NOT_QUEUED})
    def post(self, request, customer_id):
        customer = find_customer(customer_id)
        form = BulkPushSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        try:
            batch = start_batch(customer, form.validated_data["product_ids"], request.user)
        except PushRefused as exc:
            raise refused(exc) from None
        return Response({"batch_id": batch.pk, "status": batch.status, "total": batch.total},
                        status=status.HTTP_202_ACCEPTED)


class PushBatchDetail(APIView):
    permission_classes = [IsStaff]

    @extend_schema(operation_id="push_batch", parameters=[BATCH_ID],
                   responses={200: PushBatchSerializer})
    def get(self, request, batch_id):
        batch = get_by_uuid_or_404(PushBatch.objects.all(), batch_id, "Push batch not found")
        return Response(PushBatchSerializer(batch).data)

import hashlib
import uuid

from django.conf import settings
from django.http import HttpResponse
from django.utils.cache import get_conditional_response
from django.utils.crypto import constant_time_compare
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import generics, mixins, serializers, status, viewsets
from rest_framework.exceptions import APIException, AuthenticationFailed, NotFound
from rest_framework.permissions import BasePermission
from rest_framework.response import Response
from rest_framework.views import APIView

from catalog.api import rows
from catalog.api.filters import CategoryFilter, ProductFilter
from catalog.api.serializers import (
    CategorySerializer,
    ProductDetailSerializer,
    ProductListSerializer,
    SupplierSerializer,
)
from catalog.ingest import ingest_products
from catalog.models import Category, Product, Supplier
from hub.api.errors import invalid
from hub.api.filters import QueryFilterBackend
from hub.api.lookups import get_by_uuid_or_404
from hub.api.pagination import SkipLimitPagination
from hub.api.parsers import ItemsJSONParser
from hub.api.permissions import IsStaff, IsStaffOrReadOnly
from hub.api.renderers import JSONRenderer
from hub.api.schema import conflict


class ProductList(generics.ListAPIView):
    """Products with the aggregates of their variants and print sizes; active ones unless
    `archived=true`."""

    serializer_class = ProductListSerializer
    pagination_class = SkipLimitPagination
    filter_backends = [QueryFilterBackend]
    filterset_class = ProductFilter

    queryset = Product.objects.all()

    def list(self, request, *args, **kwargs):
        # The filters are validated here and applied by the page's statement, which is
        # compiled once per set of filters (rows.LIST_PAGE); `filter_backends` documents them.
        filters = QueryFilterBackend().given_values(request, self.queryset, self)
        skip, limit = self.paginator.bounds(request)
        return Response(rows.product_list(filters, skip, limit))


def product_detail_response(request, product_id):
    """The product's detail with an ETag (a hash of the answer, which holds its archive
    state); 304 when the client's If-None-Match already names it."""
    try:
        key = uuid.UUID(str(product_id))
    except ValueError:
        raise NotFound("Product not found") from None
    answer = rows.product_detail(key)
    if answer is None:
        raise NotFound("Product not found")
    body = JSONRenderer().render(answer)
    etag = f'"{hashlib.blake2b(body, digest_size=16).hexdigest()}"'
    response = HttpResponse(body, content_type="application/json")
    response["ETag"] = etag
    return get_conditional_response(request, etag=etag, response=response) or response


class ProductDetail(APIView):
    @extend_schema(responses={200: ProductDetailSerializer})
    def get(self, request, product_id):
        return product_detail_response(request, product_id)


class ProductArchiveToggle(APIView):
    """POST archive or restore: idempotent, answers the product."""

    permission_classes = [IsStaff]
    archive = True

    @extend_schema(request=None, responses={200: ProductDetailSerializer})
    def post(self, request, product_id):
        product = get_by_uuid_or_404(Product.objects.all(), product_id, "Product not found")
        product.archive() if self.archive else product.restore()
        return product_detail_response(request, product.pk)


class SupplierInUse(APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "Supplier still has products or an integration that feeds it"


class SupplierViewSet(mixins.ListModelMixin, mixins.CreateModelMixin,
                      mixins.RetrieveModelMixin, mixins.UpdateModelMixin,
                      mixins.DestroyModelMixin, viewsets.GenericViewSet):
    serializer_class = SupplierSerializer
    pagination_class = SkipLimitPagination
    permission_classes = [IsStaffOrReadOnly]
    queryset = Supplier.objects.order_by("name", "id")
    http_method_names = ["get", "post", "patch", "delete"]

    def get_object(self):
        obj = get_by_uuid_or_404(self.get_queryset(), self.kwargs["pk"], "Supplier not found")
        self.check_object_permissions(self.request, obj)
        return obj

    @extend_schema(responses={
        204: None, **conflict("The supplier still has products or an integration feeds it"),
    })
    def destroy(self, request, *args, **kwargs):
        return super().destroy(request, *args, **kwargs)

    def perform_destroy(self, supplier):
        # The integration's supplier is protected: it goes only with the integration.
        feeder = getattr(supplier, "integration", None)
        if feeder is not None:
            raise SupplierInUse(
                f"Supplier is fed by the integration {feeder.name}; delete the integration "
                "first"
            )
        count = supplier.products.count()
        if count:
            raise SupplierInUse(
                f"Supplier has {count} products; delete or move them before the supplier"
            )
        supplier.delete()


class CategoryList(generics.ListAPIView):
    """Categories, flat, each with its parent_id (filter by supplier_id)."""

    serializer_class = CategorySerializer
    pagination_class = type("CategoryPagination", (SkipLimitPagination,), {"default_limit": 1000})
    filter_backends = [QueryFilterBackend]
    filterset_class = CategoryFilter
    queryset = Category.objects.order_by("supplier_id", "path", "id")


class IngestResultSerializer(serializers.Serializer):
    created = serializers.IntegerField()
    updated = serializers.IntegerField()
    unchanged = serializers.IntegerField()
    failed = serializers.IntegerField()
    errors = serializers.ListField(child=serializers.DictField())


class HasIngestSecret(BasePermission):
    def has_permission(self, request, view):
        configured = settings.INGEST_SECRET
        if not configured:
            raise IngestNotConfigured()
        given = request.headers.get("X-Ingest-Secret", "")
        if not constant_time_compare(given, configured):
            raise AuthenticationFailed("Invalid or missing X-Ingest-Secret")
        return True


class IngestNotConfigured(APIException):
    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_detail = "Ingest is not configured on this hub (INGEST_SECRET is not set)"


class IngestProducts(APIView):
    """Canonical product payloads in, upserted by supplier_sku."""

    authentication_classes = []
    permission_classes = [HasIngestSecret]
    # Each item is validated on its own: a NUL character is that item's error.
    parser_classes = [ItemsJSONParser]

    @extend_schema(
        request={"application/json": {"type": "array", "items": {"type": "object"}}},
        responses={200: IngestResultSerializer,
                   401: OpenApiResponse(description="Invalid or missing X-Ingest-Secret"),
                   503: OpenApiResponse(description="INGEST_SECRET is not set on this hub")},
        parameters=[OpenApiParameter("X-Ingest-Secret", str, OpenApiParameter.HEADER,
                                     required=True)],
    )
    def post(self, request, supplier_id):
        supplier = get_by_uuid_or_404(Supplier.objects.all(), supplier_id, "Supplier not found")
        if not isinstance(request.data, list):
            raise invalid("body", "items", "Input should be a list of products", "list_type")
        if len(request.data) > settings.MAX_INGEST_ITEMS:
            raise invalid(
                "body", "items", f"List should have at most {settings.MAX_INGEST_ITEMS} items",
                "too_long",
            )
        return Response(ingest_products(supplier, request.data).as_response())

    def get_authenticate_header(self, request):
        # Without it a 401 would be turned into a 403.
        return 'X-Ingest-Secret realm="api"'

"""External integrations: list, create, update, delete, sync and import products.

Lists show personal integrations, or an organization's with `organization_id`; a single
integration is found only if the caller may open it (else 404). Writes live in the
serializers; the views check who may act and pick the response. The typed views serve
every type in INTEGRATION_KINDS with that type's model and serializers; only sources
have a sync, and only sources take product imports (a storefront's id is 422).
"""

from django import forms
from django.db.models import ProtectedError
from django_filters import rest_framework as filters
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    PolymorphicProxySerializer,
    extend_schema,
)
from rest_framework import generics, status
from rest_framework.exceptions import APIException
from rest_framework.response import Response
from rest_framework.views import APIView

from hub.api.errors import invalid
from hub.api.filters import FilterSet, QueryFilterBackend, StrictBooleanField
from hub.api.lookups import get_by_uuid_or_404
from hub.api.pagination import DataCountPagination
from hub.api.schema import NOT_QUEUED, conflict
from integrations.api.permissions import (
    accessible_integration,
    query_organization,
    visible_integrations,
)
from integrations.api.serializers import (
    INTEGRATION_KINDS,
    ImportTaskSerializer,
    IntegrationSerializer,
    MessageSerializer,
    ProductImportSerializer,
    SyncProgressSerializer,
    SyncRunSerializer,
    SyncStatusSerializer,
    SyncTriggerSerializer,
    typed_data,
)
from integrations.models import ImportTask, Integration, IntegrationType, SyncRun
from integrations.services import fail_stale_syncs, trigger_sync

ORGANIZATION = OpenApiParameter(
    "organization_id", OpenApiTypes.UUID, OpenApiParameter.QUERY, required=False,
    description="Act within this organization (the caller must be a member)",
)
INTEGRATION_ID = OpenApiParameter("integration_id", OpenApiTypes.STR, OpenApiParameter.PATH)
TASK_ID = OpenApiParameter("task_id", OpenApiTypes.STR, OpenApiParameter.PATH)
FULL = OpenApiParameter(
    "full", OpenApiTypes.BOOL, OpenApiParameter.QUERY, required=False,
    description="Re-read every product instead of only those changed since the last sync",
)


TYPED_INTEGRATION = PolymorphicProxySerializer(
    component_name="TypedIntegration",
    serializers={str(name): kind.public for name, kind in INTEGRATION_KINDS.items()},
    resource_type_field_name="integration_type",
)


class SyncAlreadyRunning(APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "A sync is already running for this integration"


class IntegrationInUse(APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "The integration is a customer's storefront; give its customers another first"


def require_source(integration, lacking="they have no products to import"):
    """Only a source has products to import and syncs: a storefront's id is 422."""
    try:
        integration.typed().source()
    except NotImplementedError:
        raise invalid(
            "path", "integration_id",
            f"{integration.get_integration_type_display()} integrations are storefronts, "
            f"not sources: {lacking}",
            "not_a_source",
        ) from None


def query_bool(request, name):
    try:
        return bool(StrictBooleanField(required=False).clean(request.query_params.get(name)))
    except forms.ValidationError as exc:
        raise invalid("query", name, exc.messages[0], "bool_parsing") from None


class IntegrationFilter(FilterSet):
    integration_type = filters.ChoiceFilter(
        choices=IntegrationType.choices, help_text="Filter by integration type"
    )

    class Meta:
        model = Integration
        fields = []


class ImportTaskFilter(FilterSet):
    status = filters.ChoiceFilter(choices=ImportTask.Status.choices)

    class Meta:
        model = ImportTask
        fields = []


class ImportTaskPagination(DataCountPagination):
    default_limit = 10


class SyncRunFilter(FilterSet):
    status = filters.ChoiceFilter(choices=SyncRun.Status.choices)

    class Meta:
        model = SyncRun
        fields = []


# -- integrations ----------------------------------------------------------------------


@extend_schema(parameters=[ORGANIZATION])
class IntegrationList(generics.ListAPIView):
    """Integrations of every type, with the fields they share."""

    serializer_class = IntegrationSerializer
    pagination_class = DataCountPagination
    filter_backends = [QueryFilterBackend]
    filterset_class = IntegrationFilter
    queryset = Integration.objects.all()

    def get_queryset(self):
        return visible_integrations(self.request, super().get_queryset())


class IntegrationDetail(APIView):
    """One integration with its type's fields; DELETE keeps its supplier and products."""

    @extend_schema(parameters=[INTEGRATION_ID, ORGANIZATION], responses={200: TYPED_INTEGRATION})
    def get(self, request, integration_id):
        return Response(typed_data(accessible_integration(request, integration_id)))

    @extend_schema(parameters=[INTEGRATION_ID, ORGANIZATION],
                   responses={200: MessageSerializer, **conflict("A customer's storefront")})
    def delete(self, request, integration_id):
        try:
            accessible_integration(request, integration_id).delete()
        except ProtectedError:
            raise IntegrationInUse() from None
        return Response({"message": "Integration deleted"})


# -- one type: /{type}, /{type}/{id}, /{type}/{id}/sync ---------------------------------


class TypedIntegrationSchema(AutoSchema):
    """Documents a typed endpoint with its integration type's serializers."""

    def get_request_serializer(self):
        kind = self.view.kind
        return {"POST": kind.create, "PUT": kind.update}.get(self.method)

    def get_response_serializers(self):
        return self.view.kind.public


class TypedIntegrationView:
    """A view of one integration type: `integration_type` is set per URL (see urls.py)."""

    integration_type = None

    @property
    def kind(self):
        return INTEGRATION_KINDS[self.integration_type]

    def get_integration(self, integration_id):
        return accessible_integration(self.request, integration_id, self.kind.model)


@extend_schema(parameters=[ORGANIZATION])
class TypedIntegrationList(TypedIntegrationView, generics.ListAPIView):
    """Integrations of one type with their settings; POST creates one (in `organization_id`)."""

    schema = TypedIntegrationSchema()
    pagination_class = DataCountPagination

    @property
    def queryset(self):
        return self.kind.model.objects.all()

    def get_serializer_class(self):
        return self.kind.public

    def get_queryset(self):
        return visible_integrations(self.request, super().get_queryset())

    def post(self, request):
        form = self.kind.create(
            data=request.data,
            context={"request": request, "organization": query_organization(request)},
        )
        form.is_valid(raise_exception=True)
        return Response(self.kind.public(form.save()).data)


class TypedIntegrationDetail(TypedIntegrationView, APIView):
    schema = TypedIntegrationSchema()

    @extend_schema(parameters=[INTEGRATION_ID, ORGANIZATION])
    def put(self, request, integration_id):
        form = self.kind.update(
            self.get_integration(integration_id), data=request.data,
            context={"request": request},
        )
        form.is_valid(raise_exception=True)
        return Response(self.kind.public(form.save()).data)


class IntegrationSyncTrigger(TypedIntegrationView, APIView):
    """Queue a sync (a delta, or everything with `full=true`); 409 while one runs."""

    @extend_schema(parameters=[INTEGRATION_ID, ORGANIZATION, FULL], request=None,
                   responses={202: SyncTriggerSerializer, **conflict("A sync is running"),
                              **NOT_QUEUED})
    def post(self, request, integration_id):
        integration = self.get_integration(integration_id)
        full = query_bool(request, "full")
        if trigger_sync(integration.pk, full=full) is None:
            raise SyncAlreadyRunning()
        return Response(
            {
                "message": f"{'Full' if full else 'Delta'} sync queued",
                "integration_id": integration.pk,
                "status": "queued",
            },
            status=status.HTTP_202_ACCEPTED,
        )


def synced_source(request, integration_id, model=Integration):
    """The source whose sync state is read, as `model` (404 when the caller may not open
    it, 422 for a storefront), its run marked failed first when it stopped beating: the
    sweeper is a task, so with no worker alive a dead run is noticed when its state is read.
    """
    integration = accessible_integration(request, integration_id, model)
    require_source(integration, "they do not sync")
    if fail_stale_syncs(Integration.objects.filter(pk=integration.pk)):
        integration.refresh_from_db()
    return integration


class IntegrationSyncStatus(TypedIntegrationView, APIView):
    @extend_schema(parameters=[INTEGRATION_ID, ORGANIZATION],
                   responses={200: SyncStatusSerializer})
    def get(self, request, integration_id):
        integration = synced_source(request, integration_id, self.kind.model)
        return Response(SyncStatusSerializer(integration).data)


@extend_schema(parameters=[INTEGRATION_ID, ORGANIZATION])
class SyncRunList(generics.ListAPIView):
    """The source integration's sync runs, newest first (a storefront's id is 422)."""

    serializer_class = SyncRunSerializer
    pagination_class = ImportTaskPagination
    filter_backends = [QueryFilterBackend]
    filterset_class = SyncRunFilter
    queryset = SyncRun.objects.all()

    def get_queryset(self):
        integration = accessible_integration(self.request, self.kwargs["integration_id"])
        require_source(integration, "they do not sync")
        return super().get_queryset().filter(integration=integration)


class IntegrationSyncProgress(APIView):
    """Live progress of the running sync (or of the last one): processed, total, percent,
    the run's id, when it started and when it last reported."""

    @extend_schema(parameters=[INTEGRATION_ID, ORGANIZATION],
                   responses={200: SyncProgressSerializer,
                              422: OpenApiResponse(description="A storefront: it does not sync")})
    def get(self, request, integration_id):
        integration = synced_source(request, integration_id)
        return Response(SyncProgressSerializer(integration).data)


# -- product imports -------------------------------------------------------------------


class ImportProducts(APIView):
    """Queue an import of these product codes; poll the task it answers."""

    @extend_schema(parameters=[INTEGRATION_ID, ORGANIZATION], request=ProductImportSerializer,
                   responses={202: ImportTaskSerializer, **NOT_QUEUED})
    def post(self, request, integration_id):
        integration = accessible_integration(request, integration_id)
        require_source(integration)
        form = ProductImportSerializer(
            data=request.data, context={"request": request, "integration": integration}
        )
        form.is_valid(raise_exception=True)
        return Response(ImportTaskSerializer(form.save()).data, status=status.HTTP_202_ACCEPTED)


@extend_schema(parameters=[INTEGRATION_ID, ORGANIZATION])
class ImportTaskList(generics.ListAPIView):
    """The integration's import tasks, newest first."""

    serializer_class = ImportTaskSerializer
    pagination_class = ImportTaskPagination
    filter_backends = [QueryFilterBackend]
    filterset_class = ImportTaskFilter
    queryset = ImportTask.objects.all()

    def get_queryset(self):
        integration = accessible_integration(self.request, self.kwargs["integration_id"])
        return super().get_queryset().filter(integration=integration)


class ImportTaskDetail(APIView):
    @extend_schema(parameters=[INTEGRATION_ID, TASK_ID, ORGANIZATION],
                   responses={200: ImportTaskSerializer})
    def get(self, request, integration_id, task_id):
        integration = accessible_integration(request, integration_id)
        task = get_by_uuid_or_404(
            integration.import_tasks.all(), task_id, "Import task not found"
        )
        return Response(ImportTaskSerializer(task).data)

from django.urls import path

from integrations.api import views
from integrations.api.serializers import INTEGRATION_KINDS


def typed_paths(integration_type, kind):
    """The endpoints of one integration type, named like `ovs-integration-list`."""
    def route(suffix, view, name):
        return path(f"{integration_type}{suffix}",
                    view.as_view(integration_type=integration_type),
                    name=f"{integration_type}-{name}")

    paths = [
        route("", views.TypedIntegrationList, "integration-list"),
        route("/<str:integration_id>", views.TypedIntegrationDetail, "integration-detail"),
    ]
    if kind.source:
        paths += [
            route("/<str:integration_id>/sync", views.IntegrationSyncTrigger, "sync"),
            route("/<str:integration_id>/sync/status", views.IntegrationSyncStatus, "sync-status"),
        ]
    return paths


urlpatterns = [
    path("", views.IntegrationList.as_view(), name="integration-list"),
    *[
        route
        for integration_type, kind in INTEGRATION_KINDS.items()
        for route in typed_paths(str(integration_type), kind)
    ],
    path("<str:integration_id>", views.IntegrationDetail.as_view(), name="integration-detail"),
    path("<str:integration_id>/sync/runs", views.SyncRunList.as_view(), name="sync-run-list"),
    path("<str:integration_id>/sync/progress", views.IntegrationSyncProgress.as_view(),
         name="sync-progress"),
    path("<str:integration_id>/import-products", views.ImportProducts.as_view(),
         name="import-products"),
    path("<str:integration_id>/import-tasks", views.ImportTaskList.as_view(),
         name="import-task-list"),
    path("<str:integration_id>/import-tasks/<str:task_id>", views.ImportTaskDetail.as_view(),
         name="import-task-detail"),
]

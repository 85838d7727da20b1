from django.urls import path

from integrations.api import views

urlpatterns = [
    path("", views.IntegrationList.as_view(), name="integration-list"),
    path("ovs", views.OVSIntegrationList.as_view(), name="ovs-integration-list"),
    path("ovs/<str:integration_id>", views.OVSIntegrationDetail.as_view(),
         name="ovs-integration-detail"),
    path("ovs/<str:integration_id>/sync", views.OVSSyncTrigger.as_view(), name="ovs-sync"),
    path("ovs/<str:integration_id>/sync/status", views.OVSSyncStatus.as_view(),
         name="ovs-sync-status"),
    path("<str:integration_id>", views.IntegrationDetail.as_view(), name="integration-detail"),
    path("<str:integration_id>/import-products", views.ImportProducts.as_view(),
         name="import-products"),
    path("<str:integration_id>/import-tasks", views.ImportTaskList.as_view(),
         name="import-task-list"),
    path("<str:integration_id>/import-tasks/<str:task_id>", views.ImportTaskDetail.as_view(),
         name="import-task-detail"),
]

from django.urls import path

from pushes.api import views
from pushes.api.images import ProcessedImageView

urlpatterns = [
    path("customers", views.CustomerList.as_view(), name="customer-list"),
    path("customers/<str:customer_id>", views.CustomerDetail.as_view(), name="customer-detail"),
    path("customers/<str:customer_id>/markup-rules", views.MarkupRuleList.as_view(),
         name="markup-rule-list"),
    path("customers/<str:customer_id>/markup-rules/<str:rule_id>",
         views.MarkupRuleDetail.as_view(), name="markup-rule-detail"),
    # Before push/{customer_id}/{product_id}, which would take these words for ids.
    path("push/history/<str:customer_id>/<str:product_id>", views.PushHistory.as_view(),
         name="push-history"),
    path("push/batches/<str:batch_id>", views.PushBatchDetail.as_view(), name="push-batch"),
    path("push/image/<str:image_id>/processed", ProcessedImageView.as_view(),
         name="push-image-processed"),
    path("push/<str:customer_id>/<str:product_id>/preview", views.PushPreview.as_view(),
         name="push-preview"),
    path("push/<str:customer_id>/<str:product_id>", views.PushProduct.as_view(),
         name="push-product"),
    path("push/<str:customer_id>", views.BulkPush.as_view(), name="push-products"),
]

from django.urls import path
from rest_framework.routers import SimpleRouter

from catalog.api import views

router = SimpleRouter(trailing_slash=False)
router.register("suppliers", views.SupplierViewSet, basename="supplier")

urlpatterns = [
    path("products", views.ProductList.as_view(), name="product-list"),
    path("products/<str:product_id>", views.ProductDetail.as_view(), name="product-detail"),
    path("products/<str:product_id>/archive", views.ProductArchiveToggle.as_view(archive=True),
         name="product-archive"),
    path("products/<str:product_id>/restore", views.ProductArchiveToggle.as_view(archive=False),
         name="product-restore"),
    path("categories", views.CategoryList.as_view(), name="category-list"),
    path("ingest/<str:supplier_id>/products", views.IngestProducts.as_view(),
         name="ingest-products"),
    *router.urls,
]

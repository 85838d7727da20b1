from django.urls import path
from rest_framework.routers import SimpleRouter

from orders.api import fulfilment, views

router = SimpleRouter(trailing_slash=False)
router.register("fulfilment-routes", fulfilment.FulfilmentRouteViewSet,
                basename="fulfilment-route")

urlpatterns = [
    path("orders", views.OrderList.as_view(), name="order-list"),
    path("orders/<str:order_id>", views.OrderDetail.as_view(), name="order-detail"),
    path("orders/<str:order_id>/route", views.RouteOrder.as_view(), name="order-route"),
    path("orders/<str:order_id>/cancel", fulfilment.CancelOrder.as_view(), name="order-cancel"),
    path("orders/<str:order_id>/shipments", fulfilment.RecordShipment.as_view(),
         name="order-shipments"),
    path("customers/<str:customer_id>/orders/sync", views.PullOrders.as_view(),
         name="customer-orders-sync"),
    *router.urls,
]

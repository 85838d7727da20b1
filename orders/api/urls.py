from django.urls import path

from orders.api import views

urlpatterns = [
    path("orders", views.OrderList.as_view(), name="order-list"),
    path("orders/<str:order_id>", views.OrderDetail.as_view(), name="order-detail"),
    path("orders/<str:order_id>/route", views.RouteOrder.as_view(), name="order-route"),
    path("customers/<str:customer_id>/orders/sync", views.PullOrders.as_view(),
         name="customer-orders-sync"),
]

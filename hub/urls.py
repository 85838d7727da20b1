from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from hub.api.views import LoginView, health

handler404 = "hub.api.errors.api_not_found"
handler500 = "hub.api.errors.api_server_error"

urlpatterns = [
    path("", RedirectView.as_view(url="/admin/", permanent=False)),
    path("admin/", admin.site.urls),
    path("api/v1/login/access-token", LoginView.as_view(), name="login"),
    path("api/health", health, name="health"),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="docs"),
    path("api/v1/external-integrations/", include("integrations.api.urls")),
    path("api/", include("orders.api.urls")),
    path("api/", include("pushes.api.urls")),
    path("api/", include("catalog.api.urls")),
    path("webhooks/", include("integrations.webhook_urls")),
]

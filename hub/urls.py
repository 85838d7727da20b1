from django.conf import settings
from django.contrib import admin
from django.urls import include, path, re_path
from django.views.generic import RedirectView
from django.views.static import serve
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from hub.api.views import LoginView, health


def serve_media(request, path):
    return serve(request, path, document_root=settings.MEDIA_ROOT)


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
    # Uploaded art, fetched by storefronts (PrintOps) from HUB_PUBLIC_URL.
    re_path(r"^media/(?P<path>.+)$", serve_media),
]

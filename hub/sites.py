"""The hub's admin site: the stock admin whose home page is the operations dashboard."""

from datetime import timedelta

from django.contrib import admin
from django.utils import timezone


class HubAdminSite(admin.AdminSite):
    site_header = "Hub operations"
    site_title = "Hub"
    index_title = "What needs attention now"
    index_template = "admin/dashboard.html"
    # Tables get the whole width; the app list is on the home page and in the breadcrumbs.
    enable_nav_sidebar = False

    def index(self, request, extra_context=None):
        from hub.dashboard import dashboard

        context = {
            "dashboard": dashboard(timezone.now() - timedelta(hours=24)),
            **(extra_context or {}),
        }
        return super().index(request, context)

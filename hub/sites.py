"""The hub's admin site: the stock admin whose home page is the operations dashboard."""

from datetime import timedelta

from django.contrib import admin
from django.utils import timezone


class HubAdminSite(admin.AdminSite):
    site_header = "Hub operations"
    site_title = "Hub"
    index_title = "What needs attention now"
    index_template = "admin/dashboard.html"

    def index(self, request, extra_context=None):
        from hub.dashboard import dashboard

        context = {
            "dashboard": dashboard(timezone.now() - timedelta(hours=24)),
            **(extra_context or {}),
        }
        return super().index(request, context)

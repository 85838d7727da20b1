from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps


class HubConfig(AppConfig):
    name = "hub"
    verbose_name = "Hub"
    default = True

    def ready(self):
        from hub import logs
        from hub.api.tokens import connect_signals

        logs.install()
        connect_signals()


class HubAdminConfig(admin_apps.AdminConfig):
    """The admin, with the hub's site (its home page is the dashboard)."""

    default = False
    default_site = "hub.sites.HubAdminSite"

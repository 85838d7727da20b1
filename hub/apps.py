from django.apps import AppConfig


class HubConfig(AppConfig):
    name = "hub"
    verbose_name = "Hub"

    def ready(self):
        from hub import logs
        from hub.api.tokens import connect_signals

        logs.install()
        connect_signals()

from django.apps import AppConfig


class PushesConfig(AppConfig):
    name = "pushes"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from pushes import signals  # noqa: F401

"""Endpoints external systems deliver webhooks to, mounted at /webhooks/.

No authentication but the secret in the path; no CSRF check (the caller is not a browser).
"""

from django.urls import path

from integrations.printops.webhooks import receive

urlpatterns = [
    path("printops/<str:secret>", receive, name="printops-webhook"),
]

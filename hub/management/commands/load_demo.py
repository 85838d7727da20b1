import secrets

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand

from catalog.demo import load_demo_catalog
from integrations.demo import load_demo_integrations
from pushes.demo import load_demo_customers


class Command(BaseCommand):
    help = "Load the demo data and (re)set the demo admin's password, printing it."

    def add_arguments(self, parser):
        parser.add_argument("--admin", default="admin", help="demo admin username")
        parser.add_argument("--sandbox-url", default="http://127.0.0.1:8001",
                            help="where the sandbox fakes run (demo integrations point there)")

    def handle(self, admin, sandbox_url, **options):
        password = secrets.token_urlsafe(12)
        user, _ = get_user_model().objects.get_or_create(username=admin)
        user.is_staff = user.is_superuser = True
        user.set_password(password)
        user.save()

        supplier, result = load_demo_catalog()
        self.stdout.write(
            f"Demo catalog '{supplier.name}': {result.created} created, {result.updated} updated,"
            f" {result.unchanged} unchanged."
        )
        for integration in load_demo_integrations(user, sandbox_url):
            integration.refresh_from_db()
            self.stdout.write(
                f"Demo integration '{integration.name}' ({integration.integration_type}) "
                f"at {integration.base_url}: sync {integration.sync_status}."
            )
        for customer in load_demo_customers(user, sandbox_url):
            self.stdout.write(
                f"Demo customer '{customer.name}': storefront '{customer.storefront.name}' "
                f"({customer.storefront.integration_type}), rule '{customer.markup_rules.first()}'."
            )
        from hub.queue import enqueue
        from orders.tasks import load_demo_orders

        enqueue(load_demo_orders, sandbox_url)
        self.stdout.write("Demo orders: queued (pushed, placed in the sandbox, then pulled).")
        self.stdout.write(f"Demo admin: username {admin!r}, password {password!r}")

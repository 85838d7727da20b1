import secrets

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand

from catalog.demo import load_demo_catalog
from integrations.demo import load_demo_integrations
from pushes.demo import load_demo_customers

# The demo admin's password, made once and kept (next to the hub's other local secrets).
PASSWORD_FILE = "demo-admin-password"


def demo_admin(username):
    """The demo superuser and its password: the stored one, or a new one made and stored.

    A restart keeps the password (and so the user's API tokens); only a user whose
    password no longer matches the stored one, or a missing file, gets a new one.
    """
    path = settings.VAR_DIR / PASSWORD_FILE
    password = path.read_text().strip() if path.is_file() else ""
    user, created = get_user_model().objects.get_or_create(username=username)
    changed = created or not (user.is_staff and user.is_superuser)
    user.is_staff = user.is_superuser = True
    if not password or not user.check_password(password):
        password = password or secrets.token_urlsafe(12)
        user.set_password(password)
        changed = True
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(password + "\n")
        path.chmod(0o600)
    if changed:
        user.save()
    return user, password


class Command(BaseCommand):
    help = (
        "Load the demo data and print the demo admin's credentials (the password is made "
        f"once and kept in var/{PASSWORD_FILE})."
    )

    def add_arguments(self, parser):
        parser.add_argument("--admin", default="admin", help="demo admin username")
        parser.add_argument("--sandbox-url", default="http://127.0.0.1:8001",
                            help="where the sandbox fakes run (demo integrations point there)")

    def handle(self, admin, sandbox_url, **options):
        user, password = demo_admin(admin)

        supplier, result = load_demo_catalog(sandbox_url)
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
        self.stdout.write(
            f"Demo admin: username {admin!r}, password {password!r} "
            f"(kept in {settings.VAR_DIR / PASSWORD_FILE})"
        )

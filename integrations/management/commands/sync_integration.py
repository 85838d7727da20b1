from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from integrations.models import Integration
from integrations.services import claim_sync, run_sync


class Command(BaseCommand):
    help = "Run an integration's sync in the foreground, with a progress bar."

    def add_arguments(self, parser):
        parser.add_argument("integration_id")
        parser.add_argument("--full", action="store_true",
                            help="every product, not only those changed since the last sync")

    def handle(self, integration_id, full, **options):
        integration = Integration.objects.filter(pk=integration_id).first()
        if integration is None:
            raise CommandError(f"No integration {integration_id}.")
        run_id = claim_sync(integration.pk, full=full)
        if run_id is None:
            raise CommandError(f"A sync of {integration.name} is already running.")

        with tqdm(unit="product", file=self.stderr._out) as bar:
            def on_page(result, total):
                bar.total = total
                bar.update(result.processed - bar.n)

            result = run_sync(integration.pk, run_id, on_page=on_page)

        integration.refresh_from_db()
        self.stdout.write(
            f"{integration.name}: {integration.sync_status}; created {result.created}, "
            f"updated {result.updated}, unchanged {result.unchanged}, failed {result.failed}"
        )
        if integration.last_error_message:
            raise CommandError(integration.last_error_message)

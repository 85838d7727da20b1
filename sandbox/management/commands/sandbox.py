from django.core.management.base import BaseCommand

from sandbox.server import serve


class Command(BaseCommand):
    help = "Serve the fakes of the external systems over HTTP until interrupted."
    requires_system_checks = []
    requires_migrations_checks = False

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8001)
        parser.add_argument(
            "--public-base",
            help="The URL clients reach the sandbox at, when not http://HOST:PORT "
            "(image URLs in the catalog point at it).",
        )
        parser.add_argument("--catalog-size", type=int, help="Products in the catalog.")
        parser.add_argument("--rate-limit", type=int,
                            help="Requests per minute each fake allows (benchmarks raise it).")

    def handle(self, *args, host, port, public_base, catalog_size, rate_limit, **options):
        fake_options = {}
        if catalog_size is not None:
            fake_options["catalog_size"] = catalog_size
        if rate_limit is not None:
            fake_options["rate_limit"] = rate_limit
        serve(host, port, public_base, **fake_options)

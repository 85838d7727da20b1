import json

from django.core.management.base import BaseCommand, CommandError

from catalog.bench import SECTIONS, BenchError, BenchRun, run_bench


class Command(BaseCommand):
    help = (
        "Load a synthetic catalog, time ingest, the product API, syncs, pushes and processed "
        "images, print the numbers as JSON. What the bench makes is removed at the start "
        "and, unless --keep, at the end."
    )

    def add_arguments(self, parser):
        parser.add_argument("--products", type=int, default=20000)
        parser.add_argument("--variants", type=int, default=30, help="Variants per product.")
        parser.add_argument("--tiers", type=int, default=3, help="Price tiers per variant.")
        parser.add_argument("--images", type=int, default=4, help="Images per product.")
        parser.add_argument("--repeat", type=int, default=30, help="Requests per measurement.")
        parser.add_argument(
            "--sync-products", type=int, default=20000,
            help="Products in the sandbox catalog the sync section syncs.",
        )
        parser.add_argument(
            "--pushes", type=int, default=200,
            help="Products the push section pushes with one worker, then with two.",
        )
        parser.add_argument(
            "--orders", type=int, default=10_000,
            help="Orders (of 3 lines) the orders section places in the sandbox and pulls.",
        )
        parser.add_argument("--supplier", default="Bench Supplier")
        parser.add_argument("--keep", action="store_true", help="Keep the bench catalog.")
        parser.add_argument(
            "--only", default=",".join(SECTIONS),
            help=f"Comma-separated sections to run, of: {', '.join(SECTIONS)}.",
        )

    def handle(self, *args, products, variants, tiers, images, repeat, sync_products, pushes,
               orders, supplier, keep, only, **options):
        names = [name.strip() for name in only.split(",") if name.strip()]
        unknown = [name for name in names if name not in SECTIONS]
        if unknown:
            raise CommandError(f"Unknown sections {unknown}; choose from {list(SECTIONS)}")
        if min(products, variants, repeat, sync_products, pushes, orders) < 1 or \
                min(tiers, images) < 0:
            raise CommandError(
                "--products, --variants, --repeat, --sync-products, --pushes and --orders must "
                "be at least 1, --tiers and --images at least 0"
            )
        run = BenchRun(
            supplier_name=supplier, products=products, variants=variants, tiers=tiers,
            images=images, repeat=repeat, sync_products=sync_products, pushes=pushes,
            orders=orders, say=self.stderr.write,
        )
        try:
            report = run_bench(run, names, keep=keep)
        except BenchError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(json.dumps(report, indent=2))

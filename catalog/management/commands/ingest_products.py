import json
import uuid

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from catalog.ingest import ingest_products
from catalog.models import Supplier


def find_supplier(value, create=False):
    try:
        return Supplier.objects.get(pk=uuid.UUID(value))
    except (ValueError, Supplier.DoesNotExist):
        pass
    supplier = Supplier.objects.filter(name=value).first()
    if supplier is None and create:
        supplier = Supplier.objects.create(name=value)
    if supplier is None:
        raise CommandError(f"No supplier with id or name {value!r} (use --create to add it).")
    return supplier


class Command(BaseCommand):
    help = "Ingest canonical product payloads (a JSON list) from a file into a supplier."

    def add_arguments(self, parser):
        parser.add_argument("supplier", help="supplier id or name")
        parser.add_argument("file", help="a JSON file holding a list of product payloads")
        parser.add_argument("--create", action="store_true", help="create the supplier by name")
        parser.add_argument("--batch-size", type=int, default=200)

    def handle(self, supplier, file, create, batch_size, **options):
        supplier = find_supplier(supplier, create)
        try:
            with open(file, encoding="utf-8") as handle:
                items = json.load(handle)
        except (OSError, ValueError) as exc:
            raise CommandError(f"Cannot read {file}: {exc}") from None
        if not isinstance(items, list):
            raise CommandError(f"{file} must hold a JSON list of products.")

        with tqdm(total=len(items), unit="product", file=self.stderr._out) as bar:
            def progress(result):
                bar.update(result.processed - bar.n)

            result = ingest_products(supplier, items, batch_size=batch_size, progress=progress)

        self.stdout.write(
            f"{supplier.name}: created {result.created}, updated {result.updated}, "
            f"unchanged {result.unchanged}, failed {result.failed}"
        )
        for error in result.errors:
            self.stderr.write(f"  item {error['index']} ({error['supplier_sku']}): "
                              + "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}"
                                          for e in error["errors"]))

import json
import uuid

import ijson
from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from catalog.ingest import ingest_products
from catalog.models import Supplier


def read_payloads(handle):
    """The products of a JSON array or of JSON Lines (one product per line), read one at a
    time, so a file of any size takes the memory of one batch."""
    start = handle.read(1)
    while start and start.isspace():
        start = handle.read(1)
    handle.seek(0)
    if start == b"[":
        # Numbers as json.load reads them (floats), so both formats give the same payloads.
        yield from ijson.items(handle, "item", use_float=True)
        return
    for number, line in enumerate(handle, start=1):
        if line.strip():
            try:
                yield json.loads(line)
            except ValueError as exc:
                raise ValueError(f"line {number}: {exc}") from None


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
    help = (
        "Ingest canonical product payloads from a file (a JSON list, or JSON Lines: one "
        "product per line) into a supplier, reading it incrementally."
    )

    def add_arguments(self, parser):
        parser.add_argument("supplier", help="supplier id or name")
        parser.add_argument(
            "file", help="a JSON file holding a list of product payloads, or JSON Lines"
        )
        parser.add_argument("--create", action="store_true", help="create the supplier by name")
        parser.add_argument("--batch-size", type=int, default=200)

    def handle(self, supplier, file, create, batch_size, **options):
        supplier = find_supplier(supplier, create)
        try:
            with open(file, "rb") as handle, tqdm(
                unit="product", file=self.stderr._out
            ) as bar:
                def progress(result):
                    bar.update(result.processed - bar.n)

                result = ingest_products(
                    supplier, read_payloads(handle), batch_size=batch_size, progress=progress
                )
        except (OSError, ValueError, ijson.JSONError) as exc:
            # The batches before the fault are stored; ingest is idempotent, so the fixed
            # file can simply be ingested again.
            raise CommandError(f"Cannot read {file}: {exc}") from None

        self.stdout.write(
            f"{supplier.name}: created {result.created}, updated {result.updated}, "
            f"unchanged {result.unchanged}, failed {result.failed}"
        )
        for error in result.errors:
            self.stderr.write(f"  item {error['index']} ({error['supplier_sku']}): "
                              + "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}"
                                          for e in error["errors"]))

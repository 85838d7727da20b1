"""Trigram indexes write straight into the index (PostgreSQL only).

With GIN's default fast update, rows inserted by a bulk ingest wait in the index's pending
list until a vacuum merges them, and while the list is long the planner prices the index
so high that it walks the whole name index for a search instead. The product table is
small next to its variants, so inserting into the index directly costs ingest little.
"""

from django.db import migrations

INDEXES = ("product_name", "supplier_sku", "brand")


def fast_update(on):
    def change(apps, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return
        for column in INDEXES:
            name = f"catalog_product_{column}_trgm"
            schema_editor.execute(f"ALTER INDEX {name} SET (fastupdate = {'on' if on else 'off'})")
            if not on:
                schema_editor.execute(f"SELECT gin_clean_pending_list('{name}'::regclass)")

    return change


class Migration(migrations.Migration):
    dependencies = [("catalog", "0002_product_search_trigram")]
    operations = [migrations.RunPython(fast_update(False), fast_update(True))]

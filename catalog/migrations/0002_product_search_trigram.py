"""Trigram indexes for the case-insensitive product search, on PostgreSQL only.

`icontains` is `UPPER(col) LIKE UPPER(%s)` on PostgreSQL, so the indexes are built on
UPPER(col). SQLite has no such index and scans, which is fine at its scale.
"""

from django.db import migrations

COLUMNS = ("product_name", "supplier_sku", "brand")


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for column in COLUMNS:
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS catalog_product_{column}_trgm "
            f"ON catalog_product USING gin (UPPER({column}) gin_trgm_ops)"
        )


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for column in COLUMNS:
        schema_editor.execute(f"DROP INDEX IF EXISTS catalog_product_{column}_trgm")


class Migration(migrations.Migration):
    dependencies = [("catalog", "0001_initial")]
    operations = [migrations.RunPython(create, drop)]

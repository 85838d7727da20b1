"""The one way products enter the catalog: bulk, batched, idempotent upserts.

Every source (the ingest endpoint, the file command, integration syncs and imports)
hands canonical payloads to `ingest_products`. Per batch, products whose content hash
is unchanged are skipped without a write; the rest are upserted by natural key with their
children in one transaction. A payload that fails validation, or a row the database
refuses, is reported and skipped; the other items of the batch are still stored.
"""

import hashlib
import json
import logging
import uuid
from collections import Counter
from dataclasses import dataclass, field
from itertools import islice

import orjson
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from catalog.models import (
    CATEGORY_PATH_SEPARATOR,
    ApparelDetails,
    Category,
    OptionAttribute,
    PrintDetails,
    PrintSize,
    Product,
    ProductImage,
    ProductOption,
    Supplier,
    Variant,
    VariantPrice,
)
from catalog.payload import PayloadError, content_hash, parse_product

logger = logging.getLogger(__name__)

DEFAULT_BATCH_SIZE = 200
# A load that writes this many products refreshes the planner's statistics afterwards.
LARGE_LOAD = 1000

CREATED, UPDATED, UNCHANGED, FAILED = "created", "updated", "unchanged", "failed"


@dataclass
class IngestResult:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    failed: int = 0
    variants: int = 0
    errors: list = field(default_factory=list)
    # supplier_sku -> created | updated | unchanged | failed
    outcomes: dict = field(default_factory=dict)
    changed_product_ids: list = field(default_factory=list)

    @property
    def processed(self):
        return self.created + self.updated + self.unchanged + self.failed

    def record(self, sku, outcome):
        setattr(self, outcome, getattr(self, outcome) + 1)
        if sku is not None:
            self.outcomes[sku] = outcome

    def fail(self, index, sku, errors):
        self.record(sku, FAILED)
        self.errors.append({"index": index, "supplier_sku": sku, "errors": errors})

    def add(self, other):
        for name in (CREATED, UPDATED, UNCHANGED, FAILED, "variants"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.errors.extend(other.errors)
        self.outcomes.update(other.outcomes)
        self.changed_product_ids.extend(other.changed_product_ids)

    def as_response(self):
        return {
            "created": self.created, "updated": self.updated, "unchanged": self.unchanged,
            "failed": self.failed, "errors": self.errors,
        }


def ingest_products(supplier, payloads, *, batch_size=DEFAULT_BATCH_SIZE, progress=None,
                    is_filler=None):
    """Ingest an iterable of raw payload dicts for one supplier.

    `progress(result)` is called after each batch. `is_filler`, when not None, overrides
    the payloads' own flag (imports of filler products set it).
    """
    ingest = _Ingest(supplier)
    result = IngestResult()
    items = iter(enumerate(payloads))
    while batch := list(islice(items, batch_size)):
        result.add(ingest.batch(batch, is_filler))
        if progress:
            progress(result)
    if result.created + result.updated >= LARGE_LOAD:
        refresh_planner_statistics()
    return result


def _sku_of(raw):
    sku = raw.get("supplier_sku") if isinstance(raw, dict) else None
    return sku.strip() if isinstance(sku, str) else None


def source_hash(raw, is_filler):
    """A hash of a raw payload (and of the is_filler it is ingested with).

    Taken of every payload of every load, so it is what an unchanged reload costs: the
    fast encoder, or the standard one for what it refuses (integers beyond 64 bits, text
    that is not valid Unicode).
    """
    try:
        encoded = orjson.dumps([raw, is_filler], default=str,
                               option=orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS)
    except orjson.JSONEncodeError:
        encoded = json.dumps([raw, is_filler], sort_keys=True, default=str,
                             separators=(",", ":")).encode()
    return hashlib.sha256(encoded).hexdigest()


def refresh_planner_statistics(*, vacuum=False):
    """ANALYZE the catalog tables after a large load (PostgreSQL); with `vacuum`, VACUUM
    them too, clearing the dead rows of deleted products before reads step over them.

    Until autovacuum gets to it, the planner believes the tables are as small as before
    and plans the API's variant and price lookups as scans of whole tables.
    """
    if connection.vendor != "postgresql" or connection.in_atomic_block:
        return
    command = "VACUUM ANALYZE" if vacuum else "ANALYZE"
    with connection.cursor() as cursor:
        for model in (Supplier, Category, Product, Variant, VariantPrice, ProductImage):
            cursor.execute(f"{command} {connection.ops.quote_name(model._meta.db_table)}")


class _Ingest:
    def __init__(self, supplier):
        self.supplier = supplier
        self.categories = None  # path -> Category, read once when first needed

    # -- batch ---------------------------------------------------------------------------

    def products(self, skus):
        return Product.objects.filter(supplier=self.supplier, supplier_sku__in=list(skus))

    def batch(self, items, is_filler):
        result = IngestResult()
        items = [(index, raw, _sku_of(raw), source_hash(raw, is_filler)) for index, raw in items]
        times_in_batch = Counter(sku for _, _, sku, _ in items)
        stored_sources = dict(
            self.products([sku for sku in times_in_batch if sku])
            .values_list("supplier_sku", "source_hash")
        )
        parsed, sources = {}, {}
        for index, raw, sku, source in items:
            if sku and times_in_batch[sku] == 1 and stored_sources.get(sku) == source:
                # The very payload stored last time: nothing to validate or write.
                result.record(sku, UNCHANGED)
                continue
            sources[index] = source
            try:
                product = parse_product(raw)
            except PayloadError as exc:
                result.fail(index, sku, exc.errors)
                continue
            warnings = product.pop("warnings")
            if warnings:
                result.errors.append({"index": index, "supplier_sku": sku, "errors": warnings})
            if is_filler is not None:
                product["is_filler"] = is_filler
            if product["supplier_sku"] in parsed:
                earlier, _ = parsed.pop(product["supplier_sku"])
                result.fail(earlier, product["supplier_sku"], [{
                    "loc": ["supplier_sku"], "type": "duplicate",
                    "msg": "The same supplier_sku appears again later in this batch; "
                           "the later item was used",
                }])
            parsed[product["supplier_sku"]] = (index, product)

        stored = {
            sku: (hash_, filler, image_url) for sku, hash_, filler, image_url in
            self.products(parsed)
            .values_list("supplier_sku", "content_hash", "is_filler", "image_url")
        }
        existing = {sku: hash_ for sku, (hash_, _, _) in stored.items()}
        changed, new_sources = [], {}
        for sku, (index, product) in parsed.items():
            if product["is_filler"] is None:
                product["is_filler"] = stored[sku][1] if sku in stored else False
            if product["images"] is None and not product["image_url"] and sku in stored:
                product["image_url"] = stored[sku][2]
            product["content_hash"] = content_hash(product)
            product["source_hash"] = sources[index]
            if existing.get(sku) == product["content_hash"]:
                result.record(sku, UNCHANGED)
                if stored_sources.get(sku) != product["source_hash"]:
                    new_sources[sku] = product["source_hash"]
            else:
                changed.append((index, product))
        if new_sources:
            # The same content in another form (or stored before source hashes): remember
            # this form, so that next time it is skipped before validation.
            ids = dict(self.products(new_sources).values_list("supplier_sku", "id"))
            Product.objects.bulk_update(
                [Product(pk=ids[sku], source_hash=h) for sku, h in new_sources.items()],
                ["source_hash"],
            )
        if not changed:
            return result
        try:
            result.add(self.store(changed, existing))
        except DatabaseError:
            # Rare: a row the database refuses. Store the others one by one so the bad
            # item is the only one lost, and name it.
            logger.warning("Batch write failed; retrying %s items one by one", len(changed))
            # A product another load stored meanwhile is updated now, not inserted.
            existing = dict(self.products([product["supplier_sku"] for _, product in changed])
                            .values_list("supplier_sku", "content_hash"))
            for index, product in changed:
                try:
                    result.add(self.store([(index, product)], existing))
                except DatabaseError as exc:
                    result.fail(index, product["supplier_sku"], [
                        {"loc": [], "msg": f"Could not be stored: {exc.__class__.__name__}",
                         "type": "database_error"}
                    ])
        return result

    def store(self, changed, existing):
        """Write `changed` in one transaction; what it wrote, counted once it committed."""
        categories = None if self.categories is None else dict(self.categories)
        written = IngestResult()
        try:
            with transaction.atomic():
                self.write(changed, existing, written)
        except DatabaseError:
            # The categories created inside the transaction are gone with it.
            self.categories = categories
            raise
        return written

    def write(self, changed, existing, result):
        now = timezone.now()
        fresh = {data["supplier_sku"]: uuid.uuid4() for _, data in changed
                 if data["supplier_sku"] not in existing}
        products = []
        for _, data in changed:
            category = self.category_for(data["category_path"])
            products.append({
                "supplier_id": self.supplier.pk,
                "supplier_sku": data["supplier_sku"],
                "product_name": data["product_name"],
                "brand": data["brand"],
                "category_id": category.pk if category else None,
                "category_name": category.name if category else None,
                "description": data["description"],
                "product_type": data["product_type"],
                "image_url": data["image_url"],
                "external_catalogue": data["external_catalogue"],
                "is_filler": data["is_filler"],
                "last_synced": now,
                "content_hash": data["content_hash"],
                "source_hash": data["source_hash"],
            })
        insert_rows(Product, [{**row, "id": fresh[row["supplier_sku"]]} for row in products
                              if row["supplier_sku"] in fresh], now)
        updated = [Product(**row) for row in products if row["supplier_sku"] not in fresh]
        if updated:
            Product.objects.bulk_create(
                updated, update_conflicts=True, unique_fields=["supplier", "supplier_sku"],
                update_fields=[
                    "product_name", "brand", "category", "category_name", "description",
                    "product_type", "image_url", "external_catalogue", "is_filler",
                    "last_synced", "content_hash", "source_hash", "updated_at",
                ],
            )
        ids = dict(
            self.products([p.supplier_sku for p in updated]).values_list("supplier_sku", "id")
        ) if updated else {}
        by_id = {(fresh.get(data["supplier_sku"]) or ids[data["supplier_sku"]]): data
                 for _, data in changed}
        new_ids = set(fresh.values())
        write = _Children(now, list(by_id), new_ids)

        variant_ids = write.children(
            Variant, "product_id", "variant_key",
            [
                {"product_id": pid, "variant_key": v["variant_key"], "sku": v["sku"],
                 "color": v["color"], "size": v["size"], "base_price": v["base_price"],
                 "inventory": v["inventory"], "warehouse": v["warehouse"], "sort_order": n}
                for pid, data in by_id.items() for n, v in enumerate(data["variants"])
            ],
            ["sku", "color", "size", "base_price", "inventory", "warehouse", "sort_order",
             "updated_at"],
        )
        # Prices have no key of their own: an updated product's are replaced.
        VariantPrice.objects.filter(
            variant_id__in=[pk for (pid, _), pk in variant_ids.items() if pid not in new_ids]
        ).delete()
        insert_rows(VariantPrice, [
            {"variant_id": variant_ids[(pid, v["variant_key"])], **price}
            for pid, data in by_id.items() for v in data["variants"] for price in v["prices"]
        ], now)
        write.children(
            ProductImage, "product_id", "source_url",
            [
                {"product_id": pid, "source_url": i["url"], "url": i["url"],
                 "image_type": i["image_type"], "color": i["color"],
                 "sort_order": i["sort_order"], "checksum": i["checksum"]}
                for pid, data in by_id.items() for i in data["images"] or ()
            ],
            # `url` and `checksum` are left alone: they may describe a hosted copy of the
            # source image, which must not be uploaded again for an unrelated change.
            ["image_type", "color", "sort_order", "updated_at"],
            parents_to_prune=[pid for pid, data in by_id.items() if data["images"] is not None],
        )
        option_ids = write.children(
            ProductOption, "product_id", "option_key",
            [
                {"product_id": pid, "option_key": o["option_key"], "title": o["title"],
                 "options_type": o["options_type"], "sort_order": o["sort_order"],
                 "master_option_id": o["master_option_id"], "required": o["required"]}
                for pid, data in by_id.items() for o in data["options"]
            ],
            ["title", "options_type", "sort_order", "master_option_id", "required",
             "updated_at"],
        )
        _Children(now, list(option_ids.values()),
                  {pk for (pid, _), pk in option_ids.items() if pid in new_ids}).children(
            OptionAttribute, "option_id", "title",
            [
                {"option_id": option_ids[(pid, o["option_key"])], **a}
                for pid, data in by_id.items() for o in data["options"] for a in o["attributes"]
            ],
            ["sort_order", "attribute_key", "master_attribute_id", "price", "setup_cost",
             "multiplier", "updated_at"],
        )
        write.children(
            PrintSize, "product_id", "size_key",
            [
                {"product_id": pid, "sort_order": n, **s}
                for pid, data in by_id.items() for n, s in enumerate(data["sizes"])
            ],
            ["width", "height", "unit", "label", "sku", "price", "weight", "attributes",
             "sort_order", "updated_at"],
        )
        self.write_details(by_id)

        for _, data in changed:
            sku = data["supplier_sku"]
            result.record(sku, UPDATED if sku in existing else CREATED)
            result.variants += len(data["variants"]) or len(data["sizes"])
        result.changed_product_ids.extend(by_id)

    def write_details(self, by_id):
        apparel = {pid: d for pid, d in by_id.items() if d["product_type"] == "apparel"}
        printed = {pid: d for pid, d in by_id.items() if d["product_type"] == "print"}
        # A product whose type changed loses the details of its old type.
        ApparelDetails.objects.filter(product_id__in=list(printed)).delete()
        PrintDetails.objects.filter(product_id__in=list(apparel)).delete()
        ApparelDetails.objects.bulk_create(
            [ApparelDetails(product_id=pid, **(d["apparel_details"] or {}))
             for pid, d in apparel.items()],
            update_conflicts=True, unique_fields=["product"],
            update_fields=["pricing_method", "raw_payload"],
        )
        PrintDetails.objects.bulk_create(
            [PrintDetails(product_id=pid, **(d["print_details"] or {}))
             for pid, d in printed.items()],
            update_conflicts=True, unique_fields=["product"],
            update_fields=["pricing_method", "min_width", "max_width", "min_height",
                           "max_height", "size_unit", "base_price_per_sq_unit", "raw_payload"],
        )

    # -- categories ------------------------------------------------------------------------

    def category_for(self, names):
        """The category at the end of a path of names, creating missing levels."""
        if self.categories is None:
            self.categories = {
                c.path: c for c in Category.objects.filter(supplier=self.supplier)
            }
        parent = None
        for depth in range(1, len(names) + 1):
            path = CATEGORY_PATH_SEPARATOR.join(names[:depth])
            category = self.categories.get(path)
            if category is None:
                category, _ = Category.objects.get_or_create(
                    supplier=self.supplier, path=path,
                    defaults={"name": names[depth - 1], "parent": parent, "sort_order": 0},
                )
                self.categories[path] = category
            parent = category
        return parent


class _Children:
    """Writes the child rows of a batch's `parents`. The rows of new parents
    (`new_parents`) are inserted as they are; those of stored parents are upserted by
    (parent, key) and the parents' other children deleted."""

    def __init__(self, now, parents, new_parents):
        self.now = now
        self.parents = parents
        self.new_parents = new_parents

    def children(self, model, parent_field, key_field, rows, update_fields, *,
                 parents_to_prune=None):
        """Write `rows` (dicts of column values) of `model`; {(parent_id, key): id} of the
        rows kept. Only the stored children of `parents_to_prune` (default every parent)
        are deleted when not in `rows`."""
        new, stored = [], []
        for row in rows:
            if row[parent_field] in self.new_parents:
                row["id"] = uuid.uuid4()
                new.append(row)
            else:
                stored.append(row)
        insert_rows(model, new, self.now)
        ids = {(row[parent_field], row[key_field]): row["id"] for row in new}
        stored_parents = [pk for pk in self.parents if pk not in self.new_parents]
        if stored_parents:
            prune = set(stored_parents if parents_to_prune is None else parents_to_prune)
            ids |= _upsert_children(model, parent_field, key_field, stored_parents,
                                    [model(**row) for row in stored], update_fields, prune)
        return ids


def _upsert_children(model, parent_field, key_field, parent_ids, rows, update_fields, prune):
    """Upsert `rows` by (parent, key), delete the other children of the parents in `prune`.

    Returns {(parent_id, key): id} for the rows kept.
    """
    if rows:
        model.objects.bulk_create(
            rows, update_conflicts=True, update_fields=update_fields,
            unique_fields=[parent_field.removesuffix("_id"), key_field],
        )
    wanted = {(getattr(row, parent_field), getattr(row, key_field)) for row in rows}
    kept, stale = {}, []
    for pk, parent_id, key in model.objects.filter(
        **{f"{parent_field}__in": parent_ids}
    ).values_list("pk", parent_field, key_field):
        if (parent_id, key) in wanted:
            kept[(parent_id, key)] = pk
        elif parent_id in prune:
            stale.append(pk)
    if stale:
        model.objects.filter(pk__in=stale).delete()
    return kept


def insert_rows(model, rows, now):
    """Insert new rows of `model` (dicts of column values by attribute name; a missing
    field takes its default, timestamps `now`).

    On PostgreSQL the rows are copied in (COPY): the fastest way into a table, and what a
    first load is made of. The values must be ready to store as they are (the payload's
    decimals already have their column's scale).
    """
    if not rows:
        return
    if connection.vendor != "postgresql":
        model.objects.bulk_create([model(**row) for row in rows])
        return
    fields = [f for f in model._meta.concrete_fields
              if not (f.primary_key and f.get_internal_type() == "BigAutoField")]
    makers = [_column_value(field, now) for field in fields]
    columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    # The driver's own cursor copies; its errors are raised as Django's, like a query's.
    with connection.wrap_database_errors, connection.cursor() as cursor, cursor.cursor.copy(
        f"COPY {connection.ops.quote_name(model._meta.db_table)} ({columns}) FROM STDIN"
    ) as copy:
        for row in rows:
            copy.write_row([make(row) for make in makers])


def _column_value(field, now):
    """A function of a row dict giving `field`'s value to store."""
    if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
        return lambda row: now
    name = field.attname
    if field.get_internal_type() == "JSONField":
        def prepared(row):
            value = row[name] if name in row else field.get_default()
            return field.get_db_prep_save(value, connection)
        return prepared
    if field.has_default() and not callable(field.default):
        default = field.get_default()
        return lambda row: row.get(name, default)
    if field.has_default():
        return lambda row: row[name] if name in row else field.get_default()
    return lambda row: row.get(name)

"""Numbers for the catalog at a realistic size: `manage.py bench`.

A deterministic synthetic catalog is loaded for one supplier through `ingest_products`,
then ingest and the product API are timed in-process (real URL routing, real database).
Each section in SECTIONS takes the shared BenchRun and returns a dict of numbers. The
sync, push and image sections live in their apps (integrations/bench.py, pushes/bench.py).
"""

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from functools import cached_property, partial

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils.module_loading import import_string

from catalog.ingest import ingest_products, refresh_planner_statistics
from catalog.models import (
    CATEGORY_PATH_SEPARATOR,
    Category,
    Product,
    Supplier,
    Variant,
)
from hub.api.tokens import issue_access_token

SKU_PREFIX = "BENCH-"
# Every product name holds one of these, so a search for one finds 2% of the products.
# None is part of another, nor of a brand, garment or sku.
WORDS = (
    "Aurora", "Basalt", "Cedar", "Dune", "Ember", "Fjord", "Glacier", "Hollow", "Iris",
    "Juniper", "Kestrel", "Lagoon", "Meadow", "Nebula", "Orchid", "Prairie", "Quartz",
    "Raven", "Sierra", "Tundra", "Umber", "Violet", "Willow", "Xenon", "Yarrow", "Zephyr",
    "Alpine", "Boulder", "Canyon", "Delta", "Estuary", "Falcon", "Granite", "Heron",
    "Indigo", "Jasper", "Kelp", "Lichen", "Mesa", "Nimbus", "Obsidian", "Pebble", "Quill",
    "Ridge", "Saffron", "Thistle", "Upland", "Vale", "Wren", "Zenith",
)
SEARCH_WORD = WORDS[7]
BRANDS = (
    "Northfold", "Brightloom", "Coastline Goods", "Driftmark", "Evenkeel", "Foxbury",
    "Greyhaven", "Hilltop Knit", "Ironweave", "Jetty Supply", "Kingsford Mill", "Lowtide",
    "Marrow & Co", "Nettlecombe", "Oakhurst", "Portmoor", "Redbank", "Stonegate",
    "Threadwell", "Westbrook",
)
GARMENTS = (
    "Tee", "Hoodie", "Polo", "Crewneck", "Jacket", "Tank", "Fleece", "Quarter-Zip",
    "Long Sleeve", "Softshell",
)
COLORS = (
    "Black", "White", "Navy", "Heather Grey", "Red", "Royal", "Forest", "Maroon", "Gold",
    "Purple", "Orange", "Kelly Green", "Sand", "Charcoal", "Light Blue", "Pink",
)
SIZES = ("S", "M", "L", "XL", "2XL", "3XL")
IMAGE_TYPES = ("front", "back", "side", "detail")
ROOT_CATEGORY = "Bench"
# Children per level below the root: 3, 12, 60 and 300 categories, 376 with the root.
CATEGORY_BRANCHING = (3, 4, 5, 5)
# The category the list section filters by: "Bench / L1-1 / L2-1", a twelfth of the products.
FILTER_CATEGORY_DEPTH = 2
CENT = Decimal("0.01")


def sku_for(index):
    return f"{SKU_PREFIX}{index:06d}"


def category_path(index):
    """The leaf category of the product at `index`: the products go round the leaves."""
    leaves = math.prod(CATEGORY_BRANCHING)
    rest = index % leaves
    path = [ROOT_CATEGORY]
    for level, branching in enumerate(CATEGORY_BRANCHING, start=1):
        leaves //= branching
        path.append(f"L{level}-{rest // leaves + 1}")
        rest %= leaves
    return path


def color_for(index):
    name = COLORS[index % len(COLORS)]
    return name if index < len(COLORS) else f"{name} {index // len(COLORS) + 1}"


def tier_prices(base_price, tiers):
    prices = []
    for tier in range(tiers):
        quantity_min = 1 if tier == 0 else 12 * 4 ** (tier - 1)
        quantity_max = 12 * 4**tier - 1 if tier < tiers - 1 else None
        price = base_price * (1 - Decimal("0.04") * tier)
        prices.append({
            "price_type": "Net", "quantity_min": quantity_min, "quantity_max": quantity_max,
            "price": str(price.quantize(CENT)),
        })
    return prices


def bench_payload(index, variants, tiers, images):
    """The canonical payload of the product at `index`: the same every time."""
    sku = sku_for(index)
    word = WORDS[index % len(WORDS)]
    brand = BRANDS[index // len(WORDS) % len(BRANDS)]
    garment = GARMENTS[index % len(GARMENTS)]
    price = Decimal("4.00") + Decimal("0.50") * (index % 37)
    colors = math.ceil(variants / len(SIZES))
    return {
        "supplier_sku": sku,
        "product_name": f"{word} {garment} {index:06d}",
        "brand": brand,
        "category_path": category_path(index),
        "description": f"A {garment.lower()} by {brand}, soft and made for printing.",
        "product_type": "apparel",
        "variants": [
            {
                "sku": f"{sku}-{n // len(SIZES):02d}-{SIZES[n % len(SIZES)]}",
                "color": color_for(n // len(SIZES)),
                "size": SIZES[n % len(SIZES)],
                "base_price": str(price + Decimal("0.75") * (n % len(SIZES))),
                "inventory": (index * 37 + n * 11) % 1000,
                "warehouse": "Main",
                "prices": tier_prices(price + Decimal("0.75") * (n % len(SIZES)), tiers),
            }
            for n in range(variants)
        ],
        "images": [
            {
                "url": f"https://images.example.com/bench/{sku}/{n}.jpg",
                "image_type": IMAGE_TYPES[n % len(IMAGE_TYPES)],
                "color": color_for(n % colors),
                "sort_order": n,
            }
            for n in range(images)
        ],
        "apparel_details": {"pricing_method": "tiered_variant"},
    }


def bench_payloads(products, variants, tiers, images):
    for index in range(products):
        yield bench_payload(index, variants, tiers, images)


@dataclass
class BenchRun:
    """What the sections share: the sizes asked for and the bench supplier."""

    supplier_name: str
    products: int
    variants: int
    tiers: int
    images: int
    repeat: int
    say: Callable[[str], None]
    sync_products: int = 20000
    pushes: int = 200
    orders: int = 10_000
    keep: bool = False
    supplier: Supplier = None
    seeded: bool = False

    def ingest(self, label):
        """Load every payload through ingest; (seconds, IngestResult).

        The seconds leave out the time spent making the payloads.
        """
        making = 0.0

        def payloads():
            nonlocal making
            made = bench_payloads(self.products, self.variants, self.tiers, self.images)
            while True:
                started = time.perf_counter()
                payload = next(made, None)
                making += time.perf_counter() - started
                if payload is None:
                    return
                yield payload

        step = max(self.products // 10, 1)
        next_report = step
        started = time.perf_counter()

        def progress(result):
            nonlocal next_report
            if result.processed >= next_report:
                elapsed = time.perf_counter() - started
                self.say(f"{label}: {result.processed}/{self.products} products, {elapsed:.0f}s")
                next_report += step

        result = ingest_products(self.supplier, payloads(), progress=progress)
        seconds = time.perf_counter() - started - making
        if result.failed:
            self.say(f"{label}: {result.failed} failed, first: {result.errors[0]}")
        if not self.seeded:
            refresh_planner_statistics()
            self.seeded = True
        return seconds, result

    def seed(self):
        if not self.seeded:
            self.ingest("seeding")

    @cached_property
    def user(self):
        users = get_user_model().objects
        return users.filter(username="bench").first() or users.create_user(
            "bench", is_staff=True
        )

    @cached_property
    def client(self):
        token = issue_access_token(self.user)["access_token"]
        return Client(HTTP_HOST="localhost", HTTP_AUTHORIZATION=f"Bearer {token}")

    def time_get(self, path, params=None):
        """p50/p95 milliseconds and the query count of GET `path`."""
        client = self.client
        with CaptureQueriesContext(connection) as queries:
            response = client.get(path, params)
        if response.status_code != 200:
            raise BenchError(
                f"GET {path} {params or ''} answered {response.status_code}: "
                f"{response.content[:300]!r}"
            )
        # Read now: the next request resets the log the capture slices.
        query_count = len(queries)
        numbers = self.time(lambda: client.get(path, params))
        numbers["queries"] = query_count
        numbers["bytes"] = len(response.content)
        return numbers

    def time(self, call):
        samples = []
        for _ in range(self.repeat):
            started = time.perf_counter()
            call()
            samples.append((time.perf_counter() - started) * 1000)
        return {"p50_ms": percentile(samples, 0.5), "p95_ms": percentile(samples, 0.95)}


class BenchError(Exception):
    pass


def percentile(samples, share):
    """Nearest-rank percentile."""
    ordered = sorted(samples)
    return ordered[max(math.ceil(share * len(ordered)) - 1, 0)]


def prefixed(prefix, numbers):
    return {f"{prefix}_{name}": value for name, value in numbers.items()}


# -- sections ------------------------------------------------------------------------------


def ingest_section(run):
    first_seconds, first = run.ingest("first load")
    reload_seconds, reload = run.ingest("unchanged reload")
    variant_rows = run.products * run.variants
    rows = run.products * (1 + run.variants * (1 + run.tiers) + run.images)
    return {
        "rows": rows,
        "first_load_seconds": first_seconds,
        "first_load_variant_rows_per_second": variant_rows / first_seconds,
        "first_load_rows_per_second": rows / first_seconds,
        "first_load_created": first.created,
        "first_load_failed": first.failed,
        "reload_seconds": reload_seconds,
        "reload_variant_rows_per_second": variant_rows / reload_seconds,
        "reload_rows_per_second": rows / reload_seconds,
        "reload_unchanged": reload.unchanged,
        "reload_failed": reload.failed,
        "unchanged_speedup": first_seconds / reload_seconds,
    }


def list_section(run):
    run.seed()
    category = Category.objects.get(
        supplier=run.supplier,
        path=CATEGORY_PATH_SEPARATOR.join(category_path(0)[: FILTER_CATEGORY_DEPTH + 1]),
    )
    run.say(f"list: search={SEARCH_WORD!r}, category_id is {category.path!r}")
    numbers = {
        "search_matches": Product.objects.active().search(SEARCH_WORD).count(),
        "category_products": Product.objects.active().in_category_tree(category.id).count(),
    }
    for label, params in [
        ("limit_50", {"limit": 50}),
        ("limit_1000", {"limit": 1000}),
        ("search", {"search": SEARCH_WORD, "limit": 50}),
        ("category", {"category_id": str(category.id), "limit": 50}),
    ]:
        numbers.update(prefixed(label, run.time_get("/api/products", params)))
    for limit in (50, 1000):
        list_page_floor(limit)
        numbers.update(prefixed(f"floor_limit_{limit}", run.time(partial(list_page_floor, limit))))
        numbers[f"ratio_to_floor_limit_{limit}"] = (
            numbers[f"limit_{limit}_p50_ms"] / numbers[f"floor_limit_{limit}_p50_ms"]
        )
    return numbers


def list_page_floor(limit):
    """The list page in one hand-written SELECT: what the endpoint cannot beat."""
    columns = ", ".join(
        f"p.{name}" for name in (
            "id", "supplier_id", "supplier_sku", "product_name", "brand", "category_name",
            "category_id", "product_type", "image_url", "ops_product_id",
            "external_catalogue", "archived_at",
        )
    )
    # The variants are grouped for the page's products only; grouping the joined rows by
    # every product column instead lets PostgreSQL hash all variants of the catalog.
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            WITH page AS (
                SELECT * FROM {Product._meta.db_table} WHERE archived_at IS NULL
                ORDER BY product_name, id LIMIT %s
            )
            SELECT {columns}, s.name, v.variant_count, v.price_min, v.price_max,
                   v.total_inventory
            FROM page p
            JOIN {Supplier._meta.db_table} s ON s.id = p.supplier_id
            LEFT JOIN (
                SELECT product_id, COUNT(*) AS variant_count, MIN(base_price) AS price_min,
                       MAX(base_price) AS price_max, SUM(inventory) AS total_inventory
                FROM {Variant._meta.db_table}
                WHERE product_id IN (SELECT id FROM page)
                GROUP BY product_id
            ) v ON v.product_id = p.id
            ORDER BY p.product_name, p.id
            """,
            [limit],
        )
        return cursor.fetchall()


def detail_section(run):
    run.seed()
    product = Product.objects.get(supplier=run.supplier, supplier_sku=sku_for(run.products // 2))
    return run.time_get(f"/api/products/{product.id}")


def section_of(path):
    """A section defined in another app, imported when it runs: those apps import this."""
    def section(run):
        return import_string(path)(run)

    return section


SECTIONS = {
    "ingest": ingest_section,
    "list": list_section,
    "detail": detail_section,
    "sync": section_of("integrations.bench.sync_section"),
    "push": section_of("pushes.bench.push_section"),
    "images": section_of("pushes.bench.images_section"),
    "orders": section_of("orders.bench.orders_section"),
    "routing": section_of("orders.bench_routing.routing_section"),
}


# -- the run -------------------------------------------------------------------------------


def run_bench(run, names, *, keep=False):
    """Run the named sections on a fresh bench supplier; the report as a dict."""
    if settings.DEBUG:
        run.say("DEBUG is on: every query is logged, so the numbers run slow.")
    remove_bench_supplier(run.supplier_name, run.say)
    run.supplier = Supplier.objects.create(name=run.supplier_name)
    run.keep = keep
    try:
        sections = {name: section(run) for name, section in SECTIONS.items() if name in names}
    finally:
        if not keep:
            remove_bench_supplier(run.supplier_name, run.say)
    return {
        "database": connection.vendor,
        "products": run.products,
        "variants_per_product": run.variants,
        "sections": {name: rounded(numbers) for name, numbers in sections.items()},
    }


def rounded(numbers):
    return {
        name: round(value, 2) if isinstance(value, float) else value
        for name, value in numbers.items()
    }


DELETE_BATCH = 500


def remove_bench_supplier(name, say):
    supplier = Supplier.objects.filter(name=name).first()
    if supplier is None:
        return
    if supplier.products.exclude(supplier_sku__startswith=SKU_PREFIX).exists():
        raise BenchError(
            f"Supplier {name!r} holds products the bench did not make; "
            "name another with --supplier"
        )
    ids = list(supplier.products.values_list("id", flat=True))
    say(f"removing {len(ids)} bench products of {name!r}")
    # In slices: a single delete would load every variant of the catalog at once.
    for start in range(0, len(ids), DELETE_BATCH):
        Product.objects.filter(id__in=ids[start : start + DELETE_BATCH]).delete()
    supplier.delete()

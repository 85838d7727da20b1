"""Numbers for the catalog at a realistic size: `manage.py bench`.

A deterministic synthetic catalog is loaded for one supplier through `ingest_products`,
then ingest and the product API are timed in-process (real URL routing, real database).
Each section in SECTIONS takes the shared BenchRun and returns a dict of numbers. The
sync, push and image sections live in their apps (integrations/bench.py, pushes/bench.py).
"""

import http.client
import json
import math
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from functools import cached_property, partial
from urllib.parse import quote, urlencode

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection, models, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils.module_loading import import_string
from psycopg.types.json import Jsonb

from catalog.ingest import ingest_products, refresh_planner_statistics
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
    found_by_trigram,
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
            # Each run removes the last run's rows: reads would otherwise step over several
            # runs of dead rows that autovacuum has not yet cleared, which a maintained
            # database does not hold.
            refresh_planner_statistics(vacuum=True)
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
    def token(self):
        return issue_access_token(self.user)["access_token"]

    @cached_property
    def client(self):
        """In-process client: counts a request's queries (timing goes over HTTP)."""
        return Client(HTTP_HOST="localhost", HTTP_AUTHORIZATION=f"Bearer {self.token}")

    @cached_property
    def web(self):
        """The hub served by gunicorn as documented (gthread), reached over keep-alive."""
        return WebServer(token=self.token).start()

    def close(self):
        if "web" in self.__dict__:
            self.web.stop()

    def time_get(self, path, params=None, *, floor=None):
        """p50/p95 milliseconds over keep-alive HTTP and the query count of GET `path`.

        With `floor` (the bare SQL of the same answer) the floor is timed too, prefixed
        `floor_`, in alternating rounds: on a shared machine both then see the same load.
        """
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
        url = f"{path}?{urlencode(params)}" if params else path
        body = self.web.get(url)
        if body != response.content:
            raise BenchError(f"GET {url} answered differently over HTTP and in-process")
        if floor is None:
            numbers = self.time(partial(self.web.get, url))
        else:
            floor()
            numbers, floor_numbers = self.time_rounds(partial(self.web.get, url), floor)
            numbers.update(prefixed("floor", floor_numbers))
        numbers["queries"] = query_count
        numbers["bytes"] = len(body)
        numbers["transport"] = self.web.transport
        return numbers

    def time(self, call):
        return self.time_rounds(call)[0]

    def time_rounds(self, *calls):
        """p50/p95 of each call, each run once per round, `repeat` rounds."""
        samples = [[] for _ in calls]
        for _ in range(self.repeat):
            for call, taken in zip(calls, samples, strict=True):
                started = time.perf_counter()
                call()
                taken.append((time.perf_counter() - started) * 1000)
        return [{"p50_ms": percentile(taken, 0.5), "p95_ms": percentile(taken, 0.95)}
                for taken in samples]


class WebServer:
    """gunicorn with the project's gunicorn.conf.py (one gthread worker) on a free port of
    127.0.0.1, and one kept-alive connection to it. It reads the database this process
    uses; an in-memory SQLite database cannot be shared, so then the requests are served
    in-process instead."""

    def __init__(self, token):
        self.token = token
        self.process = None
        self.connection = None
        self.transport = None

    def start(self):
        database = database_url()
        if database is None:
            self.transport = "in-process (the database is in memory)"
            self.client = Client(HTTP_HOST="localhost", HTTP_AUTHORIZATION=f"Bearer {self.token}")
            return self
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        gunicorn = os.path.join(os.path.dirname(sys.executable), "gunicorn")
        self.process = subprocess.Popen(
            [gunicorn, "hub.wsgi", "-c", "gunicorn.conf.py", "--workers", "1",
             "--bind", f"127.0.0.1:{port}", "--log-level", "warning"],
            cwd=settings.BASE_DIR, env=child_env(database),
        )
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        for _ in range(300):
            try:
                self.request("/api/health")
                break
            except OSError:
                self.connection.close()
                time.sleep(0.1)
        else:
            self.stop()
            raise BenchError("gunicorn did not start")
        self.socket = self.connection.sock
        self.transport = "HTTP keep-alive, gunicorn gthread"
        return self

    def request(self, url, etag=None):
        headers = {"Authorization": f"Bearer {self.token}", "Host": "localhost"}
        if etag:
            headers["If-None-Match"] = etag
        try:
            self.connection.request("GET", url, headers=headers)
            response = self.connection.getresponse()
        except (http.client.RemoteDisconnected, ConnectionError):
            # The server closes a connection idle for longer than its keep-alive (while
            # other sections ran): open a new one.
            self.connection.close()
            self.connection.request("GET", url, headers=headers)
            response = self.connection.getresponse()
            self.socket = self.connection.sock
        self.last_etag = response.getheader("ETag")
        return response.status, response.read()

    def get(self, url, etag=None):
        """The body of GET `url` (200, or 304 when `etag` is given)."""
        if self.process is None:
            response = self.client.get(url, HTTP_IF_NONE_MATCH=etag or "")
            return response.content
        status, body = self.request(url, etag)
        if status != (304 if etag else 200):
            raise BenchError(f"GET {url} answered {status}: {body[:300]!r}")
        if self.connection.sock is not self.socket:
            raise BenchError("the server did not keep the connection alive")
        return body

    def etag_of(self, url):
        if self.process is None:
            return self.client.get(url)["ETag"]
        self.get(url)
        return self.last_etag

    def stop(self):
        if self.connection is not None:
            self.connection.close()
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=30)


def database_url():
    """A URL of this process's database for another process (a server, a child); None when
    no other process can open it (it lives in this process's memory)."""
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return None if connection.is_in_memory_db() else f"sqlite:///{db['NAME']}"
    if connection.vendor != "postgresql":
        return None
    user = quote(db["USER"] or "postgres", safe="")
    password = f":{quote(db['PASSWORD'], safe='')}" if db["PASSWORD"] else ""
    host = quote(db["HOST"] or "127.0.0.1", safe="")
    port = db["PORT"] or 5432
    return f"postgres://{user}{password}@{host}:{port}/{quote(db['NAME'], safe='')}"


def child_env(database, **extra):
    """This process's environment for a child on the same database."""
    return {**os.environ, "DATABASE_URL": database, **extra}


# Runs `manage.py` in a process forked from this small one and writes down its peak RSS
# (kB). The bench's own child would not do: Linux keeps in a process's peak the memory of
# the image it replaced at exec, and a child of the bench replaces a copy of the bench.
MEASURED_MANAGE_PY = """
import os, sys
peak_file, *args = sys.argv[1:]
pid = os.fork()
if not pid:
    os.execv(sys.executable, [sys.executable, "manage.py", *args])
_, status, usage = os.wait4(pid, 0)
with open(peak_file, "w") as out:
    out.write(str(usage.ru_maxrss))
sys.exit(os.waitstatus_to_exitcode(status))
"""


def child_peak_rss_mb(args, database):
    """Run `manage.py *args` in a process of its own on `database`; its peak RSS in MB."""
    with tempfile.TemporaryFile() as output, tempfile.NamedTemporaryFile("r") as peak:
        process = subprocess.run(
            [sys.executable, "-c", MEASURED_MANAGE_PY, peak.name, *args],
            cwd=settings.BASE_DIR, env=child_env(database), stdout=output, stderr=output,
        )
        if process.returncode:
            output.seek(0)
            tail = output.read().decode(errors="replace")[-1000:]
            raise BenchError(f"manage.py {args[0]} exited with {process.returncode}: {tail}")
        # Kilobytes on Linux.
        return int(peak.read()) / 1024


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
    loaded = first_load_rows(run.supplier)
    reload_seconds, reload = run.ingest("unchanged reload")
    variant_rows = run.products * run.variants
    rows = run.products * (1 + run.variants * (1 + run.tiers) + run.images)
    numbers = {
        "rows": rows,
        "first_load_seconds": first_seconds,
        "first_load_rows": loaded,
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
    if connection.vendor != "postgresql":
        numbers["copy_floor_skipped"] = "needs PostgreSQL: the floor is its COPY"
        return numbers
    floor_seconds, floor_rows = copy_floor(run)
    numbers.update({
        "copy_floor_seconds": floor_seconds,
        "copy_floor_rows": floor_rows,
        "copy_floor_rows_per_second": floor_rows / floor_seconds,
        "first_load_share_of_copy_floor": floor_seconds / first_seconds,
        "target_share_of_copy_floor": TARGET_SHARE_OF_COPY_FLOOR,
    })
    return numbers


# The tables a first load of bench payloads writes, parents first, each with the path from
# its rows to their product (None: rows of the supplier itself).
LOADED_TABLES = (
    (Category, None),
    (Product, "id"),
    (Variant, "product_id"),
    (VariantPrice, "variant__product_id"),
    (ProductImage, "product_id"),
    (ApparelDetails, "product_id"),
)
# Products whose rows the copy floor reads back and copies at a time.
COPY_CHUNK = 500
TARGET_SHARE_OF_COPY_FLOOR = 0.6


def loaded_rows(model, to_product, supplier, products):
    """The rows of `model` a load wrote for `products` (ids, or a query of them) of
    `supplier`."""
    if to_product is None:
        return model.objects.filter(supplier=supplier)
    return model.objects.filter(**{f"{to_product}__in": products})


def first_load_rows(supplier):
    """The rows the supplier's products hold in every table a load writes, counted."""
    products = Product.objects.filter(supplier=supplier).values("id")
    return sum(
        loaded_rows(model, to_product, supplier, products).count()
        for model, to_product in LOADED_TABLES
    )


def copy_floor(run):
    """What the first load cannot beat: its rows written again by COPY; (seconds, rows).

    The bench supplier's rows are read back a chunk of products at a time, given fresh ids
    and a supplier of their own, and copied into the same tables (same indexes and
    constraints, foreign keys checked as each COPY ends) in a transaction that is rolled
    back. Only the COPY statements are timed.
    """
    name = f"{run.supplier_name} copy floor"
    remove_bench_supplier(name, run.say)
    floor = Supplier.objects.create(name=name)
    # Every id and key is a UUID: each old one stands for one fresh one, in every table.
    fresh = defaultdict(uuid.uuid4, {run.supplier.id: floor.id})
    ids = list(
        Product.objects.filter(supplier=run.supplier).order_by("id").values_list("id", flat=True)
    )
    run.say(f"copy floor: {len(ids)} products' rows, {COPY_CHUNK} products at a time")
    seconds = rows = 0
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            for start in range(0, len(ids), COPY_CHUNK):
                for model, to_product in LOADED_TABLES:
                    if to_product is None and start:
                        continue  # the supplier's own rows are copied once
                    fields = [field for field in model._meta.concrete_fields
                              if not isinstance(field, models.AutoField)]
                    chunk = loaded_rows(model, to_product, run.supplier,
                                        ids[start : start + COPY_CHUNK])
                    copied = [remapped(row, fields, fresh)
                              for row in chunk.values_list(*(f.attname for f in fields))]
                    seconds += timed_copy(cursor, model, fields, copied)
                    rows += len(copied)
            transaction.set_rollback(True)
    finally:
        remove_bench_supplier(name, run.say)
    # The rolled-back rows are dead rows in the tables the next sections read.
    with connection.cursor() as cursor:
        for model, _ in LOADED_TABLES:
            cursor.execute(f"VACUUM {connection.ops.quote_name(model._meta.db_table)}")
    return seconds, rows


def remapped(row, fields, fresh):
    """A row read back, for COPY: its ids and keys fresh, its JSON as JSON."""
    values = []
    for field, value in zip(fields, row, strict=True):
        if value is not None and (field.primary_key or field.is_relation):
            value = fresh[value]
        elif value is not None and isinstance(field, models.JSONField):
            value = Jsonb(value)
        values.append(value)
    return values


def timed_copy(cursor, model, fields, rows):
    """Seconds to COPY `rows` into the model's table."""
    quote_name = connection.ops.quote_name
    columns = ", ".join(quote_name(field.column) for field in fields)
    started = time.perf_counter()
    with cursor.copy(f"COPY {quote_name(model._meta.db_table)} ({columns}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)
    return time.perf_counter() - started


TARGET_PEAK_RSS_MB = 200


def ingest_memory_section(run):
    """Peak RSS of `manage.py ingest_products` loading bench payloads from a JSON array and
    from JSON Lines, at --products and at a tenth of it: each a first load, in a child
    process. Flat memory shows as close numbers."""
    database = database_url()
    if database is None:
        return {"skipped": "needs a database a child process can open (this one is in memory)"}
    supplier = f"{run.supplier_name} ingest memory"
    numbers = {}
    with tempfile.TemporaryDirectory() as folder:
        try:
            for size, products in (("small", max(run.products // 10, 1)),
                                   ("large", run.products)):
                numbers[f"products_{size}"] = products
                for form, suffix in (("json_array", "json"), ("json_lines", "jsonl")):
                    path = os.path.join(folder, f"bench-{products}.{suffix}")
                    write_payload_file(run, products, path, lines=form == "json_lines")
                    numbers[f"{form}_file_mb_{size}"] = os.path.getsize(path) / 2**20
                    remove_bench_supplier(supplier, run.say)
                    run.say(f"ingest_products of {products} products ({form}) in a child process")
                    numbers[f"{form}_peak_rss_mb_{size}"] = child_peak_rss_mb(
                        ["ingest_products", supplier, path, "--create"], database
                    )
                    os.remove(path)
        finally:
            remove_bench_supplier(supplier, run.say)
    numbers["target_peak_rss_mb"] = TARGET_PEAK_RSS_MB
    return numbers


def write_payload_file(run, products, path, *, lines):
    """The first `products` bench payloads written to `path` one at a time, as JSON Lines
    or as one JSON array."""
    with open(path, "w") as out:
        if not lines:
            out.write("[")
        for index, payload in enumerate(
            bench_payloads(products, run.variants, run.tiers, run.images)
        ):
            if lines:
                out.write(f"{json.dumps(payload)}\n")
            else:
                out.write(f"{',' if index else ''}{json.dumps(payload)}")
        if not lines:
            out.write("]\n")


def list_section(run):
    """Pages of the bench supplier's products, each against the bare SQL of the same page.

    Every page is filtered to the bench supplier, so only its rows are measured whatever
    else the database holds.
    """
    run.seed()
    category = Category.objects.get(
        supplier=run.supplier,
        path=CATEGORY_PATH_SEPARATOR.join(category_path(0)[: FILTER_CATEGORY_DEPTH + 1]),
    )
    skip = min(10000, max(run.products - 50, 0))
    run.say(f"list: search={SEARCH_WORD!r}, category_id is {category.path!r}, skip={skip}")
    own = Product.objects.active().filter(supplier=run.supplier)
    numbers = {
        "search_matches": own.search(SEARCH_WORD).count(),
        "category_products": own.in_category_tree(category.id).count(),
        "skip": skip,
    }
    supplier = {"supplier_id": str(run.supplier.id)}
    pages = [
        ("limit_50", {"limit": 50}),
        ("limit_1000", {"limit": 1000}),
        ("skip", {"skip": skip, "limit": 50}),
        ("search", {"search": SEARCH_WORD, "limit": 50}),
        ("category", {"category_id": str(category.id), "limit": 50}),
    ]
    for label, params in pages:
        page = run.time_get("/api/products", {**supplier, **params},
                            floor=partial(list_page_floor, run.supplier.id, params))
        floor = {name: page.pop(f"floor_{name}") for name in ("p50_ms", "p95_ms")}
        numbers.update(prefixed(label, page))
        numbers.update(prefixed(f"floor_{label}", floor))
        numbers[f"ratio_to_floor_{label}"] = (
            numbers[f"{label}_p50_ms"] / numbers[f"floor_{label}_p50_ms"]
        )
        numbers[f"target_ms_{label}"] = target_ms(numbers[f"floor_{label}_p50_ms"])
    numbers["search_plan_indexes"] = plan_indexes(
        own.search(SEARCH_WORD).by_name(SEARCH_WORD)[:50]
    )
    return numbers


def target_ms(floor_ms):
    """What a read may cost: 1.5 times its bare SQL plus 2 ms of Python and HTTP."""
    return 1.5 * floor_ms + 2


def plan_indexes(queryset):
    """The indexes the database's plan for `queryset` reads."""
    plan = queryset.explain()
    pattern = r"Index(?: Only)? Scan(?: Backward)? using (\S+)|Bitmap Index Scan on (\S+)"
    if connection.vendor == "sqlite":
        pattern = r"USING (?:COVERING )?INDEX (\S+)()"
    return sorted({a or b for a, b in re.findall(pattern, plan)})


def list_page_floor(supplier_id, params):
    """A list page in one hand-written SELECT: what the endpoint cannot beat."""
    product, size = Product._meta.db_table, PrintSize._meta.db_table
    key = Product._meta.pk.get_db_prep_value
    where = ["archived_at IS NULL", "supplier_id = %s"]
    args = [key(supplier_id, connection)]
    order = "product_name, id"
    if "search" in params:
        # The hub's order for a search (see ProductQuerySet.by_name).
        if found_by_trigram(params["search"], connection.vendor):
            order = "product_name || '', id"
        where.append(
            "(UPPER(product_name) LIKE UPPER(%s) OR UPPER(supplier_sku) LIKE UPPER(%s)"
            " OR UPPER(brand) LIKE UPPER(%s))"
        )
        args += [f"%{params['search']}%"] * 3
    if "category_id" in params:
        category = Category._meta.db_table
        where.append(
            f"category_id IN (WITH RECURSIVE tree(id) AS (SELECT id FROM {category} "
            f"WHERE id = %s UNION ALL SELECT child.id FROM {category} child "
            "JOIN tree ON child.parent_id = tree.id) SELECT id FROM tree)"
        )
        args.append(key(params["category_id"], connection))
    names = (
        "id", "supplier_id", "supplier_sku", "product_name", "brand", "category_name",
        "category_id", "product_type", "image_url", "ops_product_id", "external_catalogue",
        "archived_at",
    )
    columns = ", ".join(f"p.{name}" for name in names)
    variant = Variant._meta.db_table
    if connection.vendor == "postgresql":
        # Each page product's figures by index, as the hub reads them (rows.py).
        figures = f"""
            LEFT JOIN LATERAL (
                SELECT COUNT(*), MIN(price), MAX(price), COALESCE(SUM(inventory), 0)
                FROM (
                    SELECT base_price AS price, inventory FROM {variant}
                    WHERE product_id = p.id
                    UNION ALL
                    SELECT price, 0 FROM {size} WHERE product_id = p.id
                ) configurations
            ) c ON TRUE"""
    else:
        figures = f"""
            LEFT JOIN (
                SELECT product_id, COUNT(*), MIN(price), MAX(price), SUM(inventory)
                FROM (
                    SELECT product_id, base_price AS price, inventory FROM {variant}
                    WHERE product_id IN (SELECT id FROM page)
                    UNION ALL
                    SELECT product_id, price, 0 FROM {size}
                    WHERE product_id IN (SELECT id FROM page)
                ) configurations
                GROUP BY product_id
            ) c ON c.product_id = p.id"""
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            WITH page AS (
                SELECT {", ".join(names)} FROM {product} WHERE {" AND ".join(where)}
                ORDER BY {order} LIMIT %s OFFSET %s
            )
            SELECT {columns}, s.name, c.*
            FROM page p
            JOIN {Supplier._meta.db_table} s ON s.id = p.supplier_id
            {figures}
            ORDER BY p.product_name, p.id
            """,
            [*args, params["limit"], params.get("skip", 0)],
        )
        return cursor.fetchall()


def detail_section(run):
    run.seed()
    product = Product.objects.get(supplier=run.supplier, supplier_sku=sku_for(run.products // 2))
    path = f"/api/products/{product.id}"
    numbers = run.time_get(path, floor=partial(detail_floor, product.id))
    numbers["ratio_to_floor"] = numbers["p50_ms"] / numbers["floor_p50_ms"]
    numbers["target_ms"] = target_ms(numbers["floor_p50_ms"])
    etag = run.web.etag_of(path)
    numbers.update(prefixed("not_modified", run.time(partial(run.web.get, path, etag=etag))))
    return numbers


def detail_floor(product_id):
    """The detail's rows in hand-written SELECTs: the product with its supplier, details and
    print sizes; variants with prices; images; options with attributes."""
    key = Product._meta.pk.get_db_prep_value(product_id, connection)
    tables = {
        "product": Product._meta.db_table, "supplier": Supplier._meta.db_table,
        "apparel": ApparelDetails._meta.db_table, "print": PrintDetails._meta.db_table,
        "size": PrintSize._meta.db_table, "variant": Variant._meta.db_table,
        "price": VariantPrice._meta.db_table, "image": ProductImage._meta.db_table,
        "option": ProductOption._meta.db_table, "attribute": OptionAttribute._meta.db_table,
    }
    queries = [
        """SELECT p.*, s.name, s.has_decoration_overlay, a.pricing_method, a.raw_payload,
                  d.pricing_method, d.min_width, d.max_width, d.min_height, d.max_height,
                  d.size_unit, d.base_price_per_sq_unit, z.id, z.width, z.height, z.unit,
                  z.label, z.sku, z.price
           FROM {product} p JOIN {supplier} s ON s.id = p.supplier_id
           LEFT JOIN {apparel} a ON a.product_id = p.id
           LEFT JOIN {print} d ON d.product_id = p.id
           LEFT JOIN {size} z ON z.product_id = p.id
           WHERE p.id = %s ORDER BY z.sort_order, z.id""",
        """SELECT v.id, v.color, v.size, v.sku, v.base_price, v.inventory, v.warehouse,
                  r.id, r.price_type, r.quantity_min, r.quantity_max, r.price
           FROM {variant} v LEFT JOIN {price} r ON r.variant_id = v.id
           WHERE v.product_id = %s
           ORDER BY v.sort_order, v.id, r.price_type, r.quantity_min, r.id""",
        """SELECT id, url, supplier_image_url, image_type, color, sort_order, checksum
           FROM {image} WHERE product_id = %s ORDER BY sort_order, id""",
        """SELECT o.id, o.option_key, o.title, o.options_type, o.sort_order,
                  o.master_option_id, o.ops_option_id, o.required, t.id, t.title,
                  t.sort_order, t.ops_attribute_id, t.master_attribute_id, t.attribute_key,
                  t.price, t.setup_cost, t.multiplier
           FROM {option} o LEFT JOIN {attribute} t ON t.option_id = o.id
           WHERE o.product_id = %s ORDER BY o.sort_order, o.id, t.sort_order, t.id""",
    ]
    with connection.cursor() as cursor:
        for sql in queries:
            cursor.execute(sql.format(**tables), [key])
            cursor.fetchall()


def section_of(path):
    """A section defined in another app, imported when it runs: those apps import this."""
    def section(run):
        return import_string(path)(run)

    return section


SECTIONS = {
    "ingest": ingest_section,
    "ingest_memory": ingest_memory_section,
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
        run.close()
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

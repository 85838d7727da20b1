import io
import json

import pytest
from django.core.management import call_command
from django.db import connection

from catalog.bench import SECTIONS
from catalog.models import Category, Product, Supplier, Variant
from integrations.models import Integration
from orders.models import Order
from pushes.models import Customer


@pytest.mark.django_db(transaction=True)
def test_bench_reports_every_section_and_removes_its_catalog():
    out = io.StringIO()

    call_command("bench", products=30, variants=4, repeat=2, sync_products=40, pushes=8,
                 orders=260, stdout=out, stderr=io.StringIO())

    report = json.loads(out.getvalue())
    assert report["products"] == 30 and report["variants_per_product"] == 4
    assert set(report["sections"]) == set(SECTIONS)
    ingest, listing, detail = (report["sections"][name] for name in ("ingest", "list", "detail"))
    assert ingest["first_load_created"] == 30 and ingest["first_load_failed"] == 0
    assert ingest["reload_unchanged"] == 30 and ingest["reload_failed"] == 0
    assert ingest["rows"] == 30 * (1 + 4 * (1 + 3) + 4)
    # Counted in the tables: with the 30 apparel details and the 40 categories of 30 products.
    assert ingest["first_load_rows"] == ingest["rows"] + 30 + 40
    if connection.vendor == "postgresql":
        assert ingest["copy_floor_rows"] == ingest["first_load_rows"]
        assert ingest["copy_floor_seconds"] > 0 and ingest["copy_floor_rows_per_second"] > 0
        assert ingest["first_load_share_of_copy_floor"] > 0
        assert ingest["target_share_of_copy_floor"] == 0.6
    else:
        assert ingest["copy_floor_skipped"].startswith("needs PostgreSQL")
    assert ingest["unchanged_speedup"] > 0
    for numbers, prefix in [(listing, "limit_50_"), (listing, "limit_1000_"),
                            (listing, "search_"), (listing, "category_"), (detail, "")]:
        assert isinstance(numbers[f"{prefix}queries"], int)
        assert numbers[f"{prefix}queries"] >= 1
        assert numbers[f"{prefix}p95_ms"] >= numbers[f"{prefix}p50_ms"] > 0
    assert listing["limit_50_queries"] == listing["limit_1000_queries"]
    assert listing["search_matches"] == 1
    assert listing["category_products"] == 25
    for label in ("limit_50", "limit_1000", "skip", "search", "category"):
        assert listing[f"ratio_to_floor_{label}"] > 0
        assert listing[f"target_ms_{label}"] > listing[f"floor_{label}_p50_ms"] > 0
        assert listing[f"{label}_queries"] == 1
    assert detail["queries"] <= 4 and detail["floor_p50_ms"] > 0
    assert detail["not_modified_p50_ms"] > 0
    if connection.vendor == "postgresql":
        # Measured as documented: gunicorn's threaded workers over one kept-alive connection.
        assert "keep-alive" in listing["limit_50_transport"]
        assert "keep-alive" in detail["transport"]
    # At 30 products a scan is cheapest; the plan at size is in the bench's report.
    assert isinstance(listing["search_plan_indexes"], list)
    assert_ingest_memory(report["sections"]["ingest_memory"])
    assert_sync(report["sections"]["sync"])
    assert_push(report["sections"]["push"])
    assert_images(report["sections"]["images"])
    assert_orders(report["sections"]["orders"])
    assert_routing(report["sections"]["routing"])
    assert not Supplier.objects.exists()
    assert not Product.objects.exists() and not Variant.objects.exists()
    assert not Category.objects.exists()
    assert not Integration.objects.exists() and not Customer.objects.exists()
    assert not Order.objects.exists()


def assert_ingest_memory(memory):
    if "skipped" in memory:
        # A database in memory cannot be opened by a child process.
        assert memory["skipped"].startswith("needs ")
        return
    assert (memory["products_small"], memory["products_large"]) == (3, 30)
    for form in ("json_array", "json_lines"):
        for size in ("small", "large"):
            assert memory[f"{form}_file_mb_{size}"] > 0
            assert memory[f"{form}_peak_rss_mb_{size}"] > 0
        assert memory[f"{form}_file_mb_large"] > memory[f"{form}_file_mb_small"]
    assert memory["target_peak_rss_mb"] == 200


def assert_sync(sync):
    assert sync["products"] == 40
    assert sync["full_created"] == 40 and sync["full_failed"] == 0
    assert sync["variant_rows"] > 40
    assert sync["full_products_per_second"] > 0 and sync["full_variant_rows_per_second"] > 0
    assert sync["target_products_per_second"] == 400
    # The full sync's time as its run recorded it, split in four.
    assert all(sync[f"full_{phase}_seconds"] >= 0 for phase in ("map", "ingest", "publish"))
    assert sync["full_fetch_seconds"] > 0
    # Nothing changed in the sandbox between the two syncs.
    assert sync["delta_changed"] == 0 and sync["delta_ratio"] > 0
    if "peak_rss_skipped" not in sync:
        assert sync["peak_rss_products_small"] == 4 and sync["peak_rss_products_large"] == 40
        assert sync["peak_rss_mb_small"] > 0 and sync["peak_rss_mb_large"] > 0


def assert_push(push):
    if "skipped" in push:
        # Without PostgreSQL and a Redis broker there are no workers to measure.
        assert push["skipped"].startswith(("needs ", "other workers"))
        return
    assert push["pushes"] == 8 and push["customers"] == 8
    assert push["failed_1_worker"] == 0 and push["failed_2_workers"] == 0
    assert push["pushes_per_second_1_worker"] > 0 and push["pushes_per_second_2_workers"] > 0
    assert push["speedup"] > 0


def assert_images(images):
    for prefix in ("cold_", "cached_"):
        assert images[f"{prefix}p95_ms"] >= images[f"{prefix}p50_ms"] > 0
        assert images[f"{prefix}bytes"] > 0
    assert images["cold_bytes"] == images["cached_bytes"]
    assert images["cached_queries"] >= 1
    assert images["cached_speedup"] > 0


def assert_orders(orders):
    assert orders["orders"] == 260 and orders["lines_per_order"] == 3
    assert orders["orders_per_second"] > 0
    # A fixed number of queries per page of orders, not per order or line. SQLite takes
    # 999 parameters a statement, so Django splits each batch write of a page in several.
    assert orders["queries_per_page"] <= (20 if connection.vendor == "postgresql" else 40)
    assert orders["unchanged_orders"] == 260 and orders["unchanged_pull_order_writes"] == 0


def assert_routing(routing):
    if "skipped" in routing:
        assert routing["skipped"].startswith(("needs ", "other workers"))
        return
    # The bench catalog holds SKUs like the routing products' while the sections run:
    # every line must still resolve and reach the OMS, one OMS order per order.
    assert "error" not in routing, routing.get("error")
    assert routing["orders"] == 260 and routing["lines_per_order"] == 3
    for workers in ("1_worker", "2_workers"):
        assert routing[f"oms_orders_created_{workers}"] == 260
        assert routing[f"oms_429_{workers}"] == 0
        assert routing[f"orders_per_second_{workers}"] > 0

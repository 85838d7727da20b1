import io
import json

import pytest
from django.core.management import call_command

from catalog.bench import SECTIONS
from catalog.models import Category, Product, Supplier, Variant


@pytest.mark.django_db(transaction=True)
def test_bench_reports_every_section_and_removes_its_catalog():
    out = io.StringIO()

    call_command("bench", products=30, variants=4, repeat=2, stdout=out, stderr=io.StringIO())

    report = json.loads(out.getvalue())
    assert report["products"] == 30 and report["variants_per_product"] == 4
    assert set(report["sections"]) == set(SECTIONS)
    ingest, listing, detail = (report["sections"][name] for name in ("ingest", "list", "detail"))
    assert ingest["first_load_created"] == 30 and ingest["first_load_failed"] == 0
    assert ingest["reload_unchanged"] == 30 and ingest["reload_failed"] == 0
    assert ingest["rows"] == 30 * (1 + 4 * (1 + 3) + 4)
    assert ingest["unchanged_speedup"] > 0
    for numbers, prefix in [(listing, "limit_50_"), (listing, "limit_1000_"),
                            (listing, "search_"), (listing, "category_"), (detail, "")]:
        assert isinstance(numbers[f"{prefix}queries"], int)
        assert numbers[f"{prefix}queries"] >= 1
        assert numbers[f"{prefix}p95_ms"] >= numbers[f"{prefix}p50_ms"] > 0
    assert listing["limit_50_queries"] == listing["limit_1000_queries"]
    assert listing["search_matches"] == 1
    assert listing["category_products"] == 25
    assert listing["ratio_to_floor_limit_50"] > 0 and listing["ratio_to_floor_limit_1000"] > 0
    assert not Supplier.objects.filter(name="Bench Supplier").exists()
    assert not Product.objects.exists() and not Variant.objects.exists()
    assert not Category.objects.exists()

from decimal import Decimal

import pytest

from catalog.ingest import ingest_products
from catalog.models import (
    ApparelDetails,
    Category,
    OptionAttribute,
    PrintSize,
    Product,
    ProductImage,
    Variant,
    VariantPrice,
)
from tests.factories import apparel_payload, print_payload

pytestmark = pytest.mark.django_db


def row_counts():
    return {
        model.__name__: model.objects.count()
        for model in (Product, Variant, VariantPrice, ProductImage, OptionAttribute, PrintSize,
                      Category)
    }


def test_it_creates_products_with_all_their_rows(supplier):
    result = ingest_products(supplier, [apparel_payload("PC61"), print_payload("P1")])

    assert (result.created, result.updated, result.unchanged, result.failed) == (2, 0, 0, 0)
    tee = Product.objects.get(supplier_sku="PC61")
    assert tee.variants.count() == 4
    assert VariantPrice.objects.filter(variant__product=tee).count() == 8
    assert tee.images.count() == 2
    assert tee.image_url == "https://cdn.example.com/PC61/Natural.jpg"
    assert tee.category.path == "Apparel / T-Shirts"
    assert tee.category.parent.name == "Apparel"
    assert tee.category_name == "T-Shirts"
    assert tee.apparel_details.pricing_method == "tiered_variant"
    poster = Product.objects.get(supplier_sku="P1")
    assert [s.label for s in poster.sizes.all()] == ["12x18", "24x36"]
    assert str(poster.print_details.base_price_per_sq_unit) == "0.1200"


def test_a_second_ingest_changes_nothing(supplier):
    payloads = [apparel_payload("PC61"), print_payload("P1")]
    ingest_products(supplier, payloads)
    before = row_counts()
    ids = set(Variant.objects.values_list("id", flat=True))

    result = ingest_products(supplier, payloads)

    assert (result.created, result.updated, result.unchanged) == (0, 0, 2)
    assert row_counts() == before
    assert set(Variant.objects.values_list("id", flat=True)) == ids


def test_it_skips_unchanged_products_without_writing(supplier, django_assert_num_queries):
    payloads = [apparel_payload(f"SKU{n}") for n in range(5)]
    ingest_products(supplier, payloads)

    # One read of the stored hashes; no writes at all.
    with django_assert_num_queries(1):
        result = ingest_products(supplier, payloads)
    assert result.unchanged == 5


def test_the_same_content_in_another_form_is_unchanged_and_then_skipped_early(
    supplier, django_assert_num_queries
):
    ingest_products(supplier, [apparel_payload("PC61", price="4.58")])
    # Numbers instead of strings: another payload, the same product.
    reworded = apparel_payload("PC61", price=4.58)
    reworded["variants"][0]["prices"][1]["price"] = 4.18

    assert ingest_products(supplier, [reworded]).unchanged == 1
    # The stored source hash now names this form: one read, no validation, no write.
    with django_assert_num_queries(1):
        assert ingest_products(supplier, [reworded]).unchanged == 1
    assert Variant.objects.filter(base_price=Decimal("4.58")).count() == 4


def test_an_import_that_marks_a_synced_product_as_filler_is_not_skipped(supplier):
    payload = apparel_payload("PC61")
    ingest_products(supplier, [payload])

    result = ingest_products(supplier, [payload], is_filler=True)

    assert result.updated == 1
    assert Product.objects.get().is_filler is True


def test_variants_without_a_size_stay_one_variant_across_ingests(supplier):
    payload = apparel_payload("TOTE", sizes=(None,), colors=("Natural",))
    payload["variants"][0]["sku"] = None
    ingest_products(supplier, [payload])
    payload["product_name"] = "Tote, renamed"
    result = ingest_products(supplier, [payload])

    assert result.updated == 1
    variant = Variant.objects.get(product__supplier_sku="TOTE")
    assert (variant.color, variant.size, variant.sku) == ("Natural", None, None)


def test_a_changed_product_is_updated_in_place(supplier):
    ingest_products(supplier, [apparel_payload("PC61")])
    variant_ids = set(Variant.objects.values_list("id", flat=True))
    product_id = Product.objects.get().id

    changed = apparel_payload("PC61", name="Essential Tee v2", price="5.00", sizes=("S",))
    result = ingest_products(supplier, [changed])

    assert result.updated == 1
    product = Product.objects.get()
    assert product.id == product_id
    assert product.product_name == "Essential Tee v2"
    # The M variants are gone, the S variants kept their ids, prices were replaced.
    assert set(product.variants.values_list("size", flat=True)) == {"S"}
    assert set(product.variants.values_list("id", flat=True)) < variant_ids
    assert {str(p) for p in product.variants.values_list("base_price", flat=True)} == {"5.0000"}
    assert VariantPrice.objects.filter(variant__product=product).count() == 4


def test_a_hosted_image_url_survives_a_reingest(supplier):
    payload = apparel_payload("PC61")
    ingest_products(supplier, [payload])
    image = ProductImage.objects.get(color="Natural")
    image.supplier_image_url = image.url
    image.url = "https://hosted.example.com/natural.webp"
    image.save()

    payload["description"] = "Changed"
    ingest_products(supplier, [payload])

    image.refresh_from_db()
    assert image.url == "https://hosted.example.com/natural.webp"
    assert ProductImage.objects.filter(product__supplier_sku="PC61").count() == 2


def test_a_bad_item_is_reported_and_the_rest_of_the_batch_is_stored(supplier):
    ingest_products(supplier, [apparel_payload("KEEP")])
    bad = apparel_payload("BAD")
    bad["product_type"] = "mug"
    bad["variants"][0]["base_price"] = "cheap"

    result = ingest_products(supplier, [apparel_payload("NEW"), bad, apparel_payload("NEW2")])

    assert (result.created, result.failed) == (2, 1)
    assert result.errors[0]["index"] == 1
    assert result.errors[0]["supplier_sku"] == "BAD"
    locs = [e["loc"] for e in result.errors[0]["errors"]]
    assert ["product_type"] in locs
    assert ["variants", 0, "base_price"] in locs
    assert set(Product.objects.values_list("supplier_sku", flat=True)) == {"KEEP", "NEW", "NEW2"}


def paper_stocks(sku, *stocks):
    """A print product sold as variants that share one SKU (one per paper stock)."""
    payload = apparel_payload(sku, colors=("Natural",), sizes=("A4",))
    first = payload["variants"][0]
    payload["variants"] = [
        {**first, "sku": f"{sku}-A4", "color": stock, "base_price": price}
        for stock, price in stocks
    ]
    return payload


def test_variants_sharing_a_sku_are_all_stored_with_a_warning(supplier):
    payload = paper_stocks("DUP", ("Gloss", "4.00"), ("Matte", "4.50"))

    result = ingest_products(supplier, [payload])

    assert (result.created, result.failed) == (1, 0)
    variants = Variant.objects.filter(product__supplier_sku="DUP").order_by("sort_order")
    assert [(v.sku, v.color, str(v.base_price)) for v in variants] == [
        ("DUP-A4", "Gloss", "4.0000"), ("DUP-A4", "Matte", "4.5000"),
    ]
    assert [v.variant_key for v in variants] == ["DUP-A4|Gloss|A4", "DUP-A4|Matte|A4"]
    [warning] = result.as_response()["errors"]
    assert warning["supplier_sku"] == "DUP" and warning["index"] == 0
    assert warning["errors"] == [{
        "loc": ["variants", 1, "sku"], "type": "duplicate_sku",
        "msg": "Warning: SKU 'DUP-A4' is used by more than one variant; each is kept, "
               "keyed by SKU, colour and size",
    }]

    again = ingest_products(supplier, [payload])
    assert again.unchanged == 1
    assert list(variants.values_list("id", flat=True)) == [v.id for v in variants]


def test_variants_equal_in_sku_colour_and_size_are_all_kept(supplier):
    payload = paper_stocks("SAME", ("Gloss", "4.00"), ("Gloss", "4.50"), ("Gloss", "5.00"))

    result = ingest_products(supplier, [payload])

    assert (result.created, result.failed) == (1, 0)
    assert list(
        Variant.objects.order_by("sort_order").values_list("variant_key", "base_price")
    ) == [("SAME-A4|Gloss|A4", 4), ("SAME-A4|Gloss|A4#2", 4.5), ("SAME-A4|Gloss|A4#3", 5)]
    assert [e["loc"] for e in result.errors[0]["errors"]] == [
        ["variants", 1, "sku"], ["variants", 2, "sku"],
    ]


def test_the_same_sku_twice_in_a_batch_keeps_the_later_item(supplier):
    result = ingest_products(
        supplier, [apparel_payload("TWICE", name="First"), apparel_payload("TWICE", name="Second")]
    )

    assert (result.created, result.failed) == (1, 1)
    assert Product.objects.get().product_name == "Second"


def test_it_works_in_batches_and_reports_progress(supplier):
    seen = []
    result = ingest_products(
        supplier, (apparel_payload(f"B{n}") for n in range(7)), batch_size=3,
        progress=lambda r: seen.append(r.processed),
    )

    assert result.created == 7
    assert seen == [3, 6, 7]


def test_categories_are_reused_across_products(supplier):
    ingest_products(supplier, [apparel_payload("A"), apparel_payload("B"),
                               apparel_payload("C", category=("Apparel", "Hoodies"))])

    assert sorted(Category.objects.values_list("path", flat=True)) == [
        "Apparel", "Apparel / Hoodies", "Apparel / T-Shirts",
    ]


def test_a_product_that_changes_type_loses_its_old_details(supplier):
    ingest_products(supplier, [apparel_payload("X")])
    ingest_products(supplier, [print_payload("X")])

    product = Product.objects.get()
    assert product.product_type == "print"
    assert not ApparelDetails.objects.filter(product=product).exists()
    assert product.print_details.size_unit == "in"
    assert not product.variants.exists()


def test_a_payload_without_is_filler_keeps_the_stored_flag(supplier):
    ingest_products(supplier, [apparel_payload("F1")], is_filler=True)

    result = ingest_products(supplier, [apparel_payload("F1")])

    assert result.unchanged == 1
    assert Product.objects.get().is_filler is True
    ingest_products(supplier, [apparel_payload("F1", is_filler=False)])
    assert Product.objects.get().is_filler is False


def test_a_payload_without_images_keeps_the_stored_ones(supplier):
    payload = apparel_payload("ART")
    ingest_products(supplier, [payload])
    del payload["images"]
    payload["description"] = "Changed"

    result = ingest_products(supplier, [payload])

    product = Product.objects.get()
    assert result.updated == 1
    assert product.images.count() == 2
    assert product.image_url == "https://cdn.example.com/ART/Natural.jpg"
    ingest_products(supplier, [{**payload, "images": []}])
    assert not ProductImage.objects.exists()


def test_a_nul_character_costs_only_its_item(supplier):
    bad = apparel_payload("BAD", name="Tee\x00")

    result = ingest_products(supplier, [apparel_payload("GOOD"), bad])

    assert (result.created, result.updated, result.unchanged, result.failed) == (1, 0, 0, 1)
    assert result.errors == [{"index": 1, "supplier_sku": "BAD", "errors": [
        {"loc": ["product_name"], "msg": "String should not contain NUL characters",
         "type": "string_nul"},
    ]}]
    assert list(Product.objects.values_list("supplier_sku", flat=True)) == ["GOOD"]


@pytest.mark.parametrize("path, value, loc", [
    (("supplier_sku",), "S" * 256, ["supplier_sku"]),
    (("brand",), "B" * 256, ["brand"]),
    (("product_name",), "N" * 501, ["product_name"]),
    (("variants", 0, "color"), "C" * 256, ["variants", 0, "color"]),
    (("variants", 0, "inventory"), 2**31, ["variants", 0, "inventory"]),
    (("variants", 0, "prices", 0, "quantity_max"), 2**31, ["variants", 0, "prices", 0,
                                                          "quantity_max"]),
    (("options", 0, "attributes", 0, "title"), "T" * 256,
     ["options", 0, "attributes", 0, "title"]),
    (("description",), "fine\x00", ["description"]),
    (("category_path",), ["Apparel", "Tees\x00"], ["category_path"]),
    (("category_path",), ["C" * 255] * 5, ["category_path"]),
    (("apparel_details", "raw_payload"), {"note": "a\x00b"}, ["apparel_details", "raw_payload"]),
])
def test_values_the_database_cannot_hold_are_refused_at_validation(supplier, path, value, loc):
    bad = apparel_payload("BAD")
    target = bad
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value

    result = ingest_products(supplier, [bad, apparel_payload("GOOD")])

    assert (result.created, result.failed) == (1, 1)
    assert [e["loc"] for e in result.errors[0]["errors"]] == [loc]
    assert list(Product.objects.values_list("supplier_sku", flat=True)) == ["GOOD"]


def test_over_long_print_sizes_are_refused_at_validation(supplier):
    bad = print_payload("BAD")
    bad["sizes"][0]["width"] = 10_000_000  # the column holds 7 digits before the point

    result = ingest_products(supplier, [bad, print_payload("GOOD")])

    assert (result.created, result.failed) == (1, 1)
    assert [e["loc"] for e in result.errors[0]["errors"]] == [["sizes", 0, "width"]]


@pytest.fixture
def database_refuses_sku(db):
    """A row the database refuses although it passed validation (a CHECK constraint)."""
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL")

    def refuse(sku):
        with connection.cursor() as cursor:
            cursor.execute(
                "ALTER TABLE catalog_product ADD CONSTRAINT test_refused_sku "
                "CHECK (supplier_sku <> %s) NOT VALID", [sku],
            )
    return refuse


def test_a_row_the_database_refuses_costs_only_itself(supplier, database_refuses_sku):
    database_refuses_sku("SKU100")
    items = [apparel_payload(f"SKU{n}", category=("Apparel", "Tees")) for n in range(250)]

    result = ingest_products(supplier, items)

    assert (result.created, result.updated, result.unchanged, result.failed) == (249, 0, 0, 1)
    assert [(e["index"], e["supplier_sku"]) for e in result.errors] == [(100, "SKU100")]
    assert Product.objects.count() == 249
    assert not Product.objects.filter(supplier_sku="SKU100").exists()
    # The category the rolled-back batch created is created again, once, and used by all.
    tees = Category.objects.get(path="Apparel / Tees")
    assert Product.objects.filter(category=tees).count() == 249
    assert Category.objects.count() == 2


def test_a_refused_row_does_not_lose_the_next_batch(supplier, database_refuses_sku):
    database_refuses_sku("SKU0")
    items = [apparel_payload(f"SKU{n}", category=("New", "Path")) for n in range(5)]

    result = ingest_products(supplier, items, batch_size=2)

    assert (result.created, result.failed) == (4, 1)
    assert result.processed == 5
    assert sorted(Product.objects.values_list("supplier_sku", flat=True)) == [
        "SKU1", "SKU2", "SKU3", "SKU4",
    ]


def test_a_print_pricing_method_outside_the_documented_enum_is_an_item_error(supplier):
    per_size, formula, unknown = (print_payload(sku) for sku in ("SIZES", "FORMULA", "BAD"))
    per_size["print_details"]["pricing_method"] = "per_size"
    unknown["print_details"]["pricing_method"] = "per_sq_ft"

    result = ingest_products(supplier, [per_size, formula, unknown])

    assert (result.created, result.failed) == (2, 1)
    [error] = result.errors[0]["errors"]
    assert (error["loc"], error["type"]) == (["print_details", "pricing_method"], "enum")
    assert dict(Product.objects.values_list("supplier_sku", "print_details__pricing_method")) == {
        "SIZES": "per_size", "FORMULA": "formula",
    }


@pytest.mark.django_db(transaction=True)
def test_a_product_another_load_stores_meanwhile_is_updated_not_lost(supplier):
    """New products are copied in; when another load commits the same SKU between this
    load's read and its write, the product is updated rather than refused."""
    import threading
    import time

    from django.db import connection, transaction

    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL")
    other_started, other_may_commit = threading.Event(), threading.Event()

    def other_load():
        try:
            with transaction.atomic():
                ingest_products(supplier, [apparel_payload("RACE", name="Stored by the other")])
                other_started.set()
                other_may_commit.wait(10)
        finally:
            connection.close()

    other = threading.Thread(target=other_load)
    other.start()
    assert other_started.wait(10)
    outcome = {}

    def this_load():
        try:
            outcome["result"] = ingest_products(
                supplier, [apparel_payload("RACE", name="Stored by this load"),
                           apparel_payload("CALM")])
        finally:
            connection.close()

    this = threading.Thread(target=this_load)
    this.start()
    time.sleep(0.5)  # this load now waits on the other's uncommitted row
    other_may_commit.set()
    other.join(10)
    this.join(10)

    result = outcome["result"]
    assert (result.created, result.updated, result.failed) == (1, 1, 0)
    assert result.outcomes == {"RACE": "updated", "CALM": "created"}
    assert Product.objects.get(supplier_sku="RACE").product_name == "Stored by this load"
    assert Variant.objects.filter(product__supplier_sku="RACE").count() == 4


def test_payloads_the_fast_encoder_refuses_are_hashed_all_the_same(supplier):
    big = apparel_payload("BIG", vendor_ref=2**70)  # an integer beyond 64 bits
    odd = apparel_payload("ODD")
    odd["variants"][0]["inventory"] = "\ud800"  # text that is not valid Unicode

    first = ingest_products(supplier, [big, odd])
    again = ingest_products(supplier, [big, odd])

    assert (first.created, first.failed) == (1, 1)
    assert first.errors[0]["errors"][0]["loc"] == ["variants", 0, "inventory"]
    assert again.outcomes == {"BIG": "unchanged", "ODD": "failed"}

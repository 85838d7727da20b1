import uuid

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from catalog.ingest import ingest_products
from catalog.models import Category, Product, Supplier
from pushes.models import Customer, PushLog
from tests.factories import apparel_payload, print_payload

pytestmark = pytest.mark.django_db

LIST_FIELDS = {
    "id", "supplier_id", "supplier_name", "supplier_sku", "product_name", "brand", "category",
    "category_id", "product_type", "image_url", "ops_product_id", "external_catalogue",
    "variant_count", "price_min", "price_max", "total_inventory", "archived_at",
}
DETAIL_FIELDS = {
    "id", "supplier_id", "supplier_name", "supplier_has_decoration_overlay", "supplier_sku",
    "product_name", "brand", "category", "category_id", "description", "product_type",
    "image_url", "ops_product_id", "external_catalogue", "last_synced", "archived_at",
    "variants", "images", "images_by_color", "options", "apparel_details", "print_details",
    "sizes",
}


@pytest.fixture
def catalog(supplier):
    other = Supplier.objects.create(name="Other Mills")
    ingest_products(supplier, [
        apparel_payload("PC61", name="Essential Tee", brand="Port & Company"),
        apparel_payload("PC90H", name="Hooded Sweatshirt", brand="Port & Company",
                        category=("Apparel", "Fleece", "Hoodies"), price="12.50"),
        print_payload("BAN1", name="Vinyl Banner", category=("Print", "Banners")),
    ])
    ingest_products(other, [apparel_payload("G500", name="Heavy Cotton Tee", brand="Gildan")])
    return supplier


def skus(response):
    return [item["supplier_sku"] for item in response.json()]


def test_it_lists_products_with_exactly_the_documented_fields(api, catalog):
    response = api.get("/api/products")

    assert response.status_code == 200
    body = response.json()
    assert [p["product_name"] for p in body] == [
        "Essential Tee", "Heavy Cotton Tee", "Hooded Sweatshirt", "Vinyl Banner",
    ]
    assert set(body[0]) == LIST_FIELDS
    tee = body[0]
    assert tee["supplier_name"] == "SanMar"
    assert tee["supplier_id"] == str(catalog.id)
    assert tee["category"] == "T-Shirts"
    assert tee["variant_count"] == 4
    assert tee["price_min"] == 4.58 and tee["price_max"] == 4.58
    assert tee["total_inventory"] == 400
    assert tee["archived_at"] is None
    banner = body[3]
    # A print product counts its print sizes; the fixture's sizes carry no price.
    assert (banner["variant_count"], banner["price_min"], banner["total_inventory"]) == (2, None, 0)


def test_it_filters_by_supplier_brand_and_search(api, catalog):
    assert skus(api.get(f"/api/products?supplier_id={catalog.id}")) == ["PC61", "PC90H", "BAN1"]
    assert skus(api.get("/api/products?brand=Gildan")) == ["G500"]
    assert skus(api.get("/api/products?brand=gildan")) == []
    assert skus(api.get("/api/products?search=tEe")) == ["PC61", "G500"]
    assert skus(api.get("/api/products?search=pc9")) == ["PC90H"]
    assert skus(api.get("/api/products?search=port %26")) == ["PC61", "PC90H"]


def test_the_category_filter_includes_every_descendant(api, catalog):
    apparel = Category.objects.get(supplier=catalog, path="Apparel")
    fleece = Category.objects.get(supplier=catalog, path="Apparel / Fleece")

    assert skus(api.get(f"/api/products?category_id={apparel.id}")) == ["PC61", "PC90H"]
    assert skus(api.get(f"/api/products?category_id={fleece.id}")) == ["PC90H"]
    assert skus(api.get(f"/api/products?category_id={uuid.uuid4()}")) == []


def test_the_customer_filter_lists_products_pushed_to_that_customer(api, catalog):
    customer = Customer.objects.create(name="Acme")
    other = Customer.objects.create(name="Globex")
    tee = Product.objects.get(supplier_sku="PC61")
    PushLog.objects.create(customer=customer, product=tee, status="pushed")
    PushLog.objects.create(customer=customer, product=tee, status="failed", error="boom")
    PushLog.objects.create(customer=other, product=Product.objects.get(supplier_sku="BAN1"),
                           status="pushed")

    assert skus(api.get(f"/api/products?customer_id={customer.id}")) == ["PC61"]


def test_archived_products_are_hidden_unless_asked_for(api, staff_api, catalog):
    tee = Product.objects.get(supplier_sku="PC61")
    assert staff_api.post(f"/api/products/{tee.id}/archive").status_code == 200

    assert "PC61" not in skus(api.get("/api/products"))
    assert "PC61" not in skus(api.get("/api/products?archived=false"))
    assert skus(api.get("/api/products?archived=true")) == ["PC61"]


def test_skip_and_limit_page_through_a_stable_order(api, catalog):
    first = skus(api.get("/api/products?limit=2"))
    second = skus(api.get("/api/products?skip=2&limit=2"))

    assert first + second == skus(api.get("/api/products"))
    assert len(set(first + second)) == 4


def test_limit_is_capped_at_one_thousand(api, supplier):
    ingest_products(supplier, [
        {"supplier_sku": f"S{n:04}", "product_name": f"P{n:04}", "product_type": "print"}
        for n in range(1005)
    ])

    assert len(api.get("/api/products?limit=5000").json()) == 1000
    assert len(api.get("/api/products").json()) == 50


@pytest.mark.parametrize("query, field", [
    ("limit=-1", "limit"), ("limit=0", "limit"), ("limit=abc", "limit"), ("skip=-5", "skip"),
    ("skip=x", "skip"), ("supplier_id=not-a-uuid", "supplier_id"),
    ("category_id=123", "category_id"), ("customer_id=zz", "customer_id"),
    ("archived=maybe", "archived"),
])
def test_bad_query_values_are_422_naming_the_parameter(api, query, field):
    response = api.get(f"/api/products?{query}")

    assert response.status_code == 422
    error = response.json()["detail"][0]
    assert error["loc"] == ["query", field]
    assert error["msg"] and error["type"]


def test_the_detail_has_exactly_the_documented_fields(api, catalog):
    tee = Product.objects.get(supplier_sku="PC61")

    body = api.get(f"/api/products/{tee.id}").json()

    assert set(body) == DETAIL_FIELDS
    assert body["supplier_has_decoration_overlay"] is False
    variant = body["variants"][0]
    assert set(variant) == {"id", "color", "size", "sku", "base_price", "inventory", "warehouse",
                            "prices"}
    assert variant["base_price"] == 4.58
    assert variant["prices"] == [
        {"price_type": "Net", "quantity_min": 1, "quantity_max": 11, "price": "4.58"},
        {"price_type": "Net", "quantity_min": 12, "quantity_max": None, "price": "4.18"},
    ]
    assert set(body["images"][0]) == {"id", "url", "supplier_image_url", "image_type", "color",
                                      "sort_order", "checksum"}
    assert set(body["images_by_color"]) == {"natural", "black"}
    assert body["images_by_color"]["black"][0]["color"] == "Black"
    option = body["options"][0]
    assert option["option_key"] == "imprint_location"
    assert [a["title"] for a in option["attributes"]] == ["Left Chest", "Full Back"]
    assert option["attributes"][1]["price"] == 1.5
    assert body["apparel_details"] == {"pricing_method": "tiered_variant", "raw_payload": None}
    assert body["print_details"] is None
    assert body["sizes"] == []


def test_a_print_product_has_print_details_and_sizes(api, catalog):
    banner = Product.objects.get(supplier_sku="BAN1")

    body = api.get(f"/api/products/{banner.id}").json()

    assert body["apparel_details"] is None
    assert body["print_details"] == {
        "pricing_method": "formula", "min_width": 8.0, "max_width": 48.0, "min_height": 10.0,
        "max_height": 72.0, "size_unit": "in", "base_price_per_sq_unit": 0.12,
    }
    assert body["sizes"] == [
        {"width": 12.0, "height": 18.0, "unit": "in", "label": "12x18", "sku": None,
         "price": None},
        {"width": 24.0, "height": 36.0, "unit": "in", "label": "24x36", "sku": None,
         "price": None},
    ]


@pytest.mark.parametrize("product_id", ["not-a-uuid", str(uuid.uuid4()), "123"])
def test_an_unknown_or_malformed_id_is_product_not_found(api, staff_api, product_id):
    for response in (api.get(f"/api/products/{product_id}"),
                     staff_api.post(f"/api/products/{product_id}/archive"),
                     staff_api.post(f"/api/products/{product_id}/restore")):
        assert response.status_code == 404
        assert response.json() == {"detail": "Product not found"}


def test_archive_and_restore_are_idempotent_and_return_the_product(staff_api, catalog):
    tee = Product.objects.get(supplier_sku="PC61")

    first = staff_api.post(f"/api/products/{tee.id}/archive").json()
    second = staff_api.post(f"/api/products/{tee.id}/archive").json()
    assert first["archived_at"] is not None
    assert second["archived_at"] == first["archived_at"]
    assert set(second) == DETAIL_FIELDS

    restored = staff_api.post(f"/api/products/{tee.id}/restore")
    assert restored.status_code == 200 and restored.json()["archived_at"] is None
    assert staff_api.post(f"/api/products/{tee.id}/restore").json()["archived_at"] is None


def test_only_staff_may_archive(api, catalog):
    tee = Product.objects.get(supplier_sku="PC61")

    response = api.post(f"/api/products/{tee.id}/archive")

    assert response.status_code == 403
    assert Product.objects.get(pk=tee.pk).archived_at is None


@pytest.mark.parametrize("path", ["/api/products", "/api/categories", "/api/suppliers"])
def test_the_catalog_needs_a_token(anonymous_api, path):
    response = anonymous_api.get(path)

    assert response.status_code == 401
    assert "detail" in response.json()


def test_the_list_uses_the_same_few_queries_whatever_the_limit(api, supplier):
    ingest_products(supplier, [apparel_payload(f"Q{n}") for n in range(60)])
    counts = []
    for limit in (5, 60):
        with CaptureQueriesContext(connection) as ctx:
            assert len(api.get(f"/api/products?limit={limit}").json()) == limit
        counts.append(len(ctx.captured_queries))
    assert counts[0] == counts[1] <= 1


def list_filters(catalog):
    customer = Customer.objects.create(name="Acme")
    PushLog.objects.create(customer=customer, product=Product.objects.get(supplier_sku="PC61"),
                           status="pushed")
    apparel = Category.objects.get(supplier=catalog, path="Apparel")
    return {
        "none": "", "supplier_id": f"supplier_id={catalog.id}",
        "category_id": f"category_id={apparel.id}", "customer_id": f"customer_id={customer.id}",
        "brand": "brand=Gildan", "search": "search=tee", "archived": "archived=true",
        "all": f"supplier_id={catalog.id}&category_id={apparel.id}&brand=Port %26 Company"
               f"&search=tee&customer_id={customer.id}&archived=false&skip=0&limit=1000",
    }


def test_every_list_filter_answers_in_one_query_and_none_for_the_token(api, catalog):
    api.get("/api/products")  # the token's user is now cached
    for name, query in list_filters(catalog).items():
        with CaptureQueriesContext(connection) as ctx:
            assert api.get(f"/api/products?{query}").status_code == 200
        # The page with the aggregates of its variants and print sizes (none for a page no
        # product can be on).
        assert len(ctx.captured_queries) <= 1, (name, [q["sql"] for q in ctx.captured_queries])
        assert "catalog_product" in ctx.captured_queries[0]["sql"]


def test_print_products_count_and_price_their_sizes_in_list_and_detail(api, supplier):
    ingest_products(supplier, [print_payload("POS1", sizes=[
        {"width": 12, "height": 18, "unit": "in", "label": "12x18", "sku": "POS1-12",
         "price": "3.10"},
        {"width": 24, "height": 36, "unit": "in", "label": "24x36", "sku": "POS1-24",
         "price": "7"},
        {"width": 36, "height": 48, "unit": "in", "label": "36x48"},
    ])])
    poster = Product.objects.get(supplier_sku="POS1")

    listed = api.get("/api/products").json()[0]
    detail = api.get(f"/api/products/{poster.id}").json()

    assert (listed["variant_count"], listed["price_min"], listed["price_max"],
            listed["total_inventory"]) == (3, 3.1, 7.0, 0)
    assert type(listed["variant_count"]) is int and type(listed["price_min"]) is float
    assert len(detail["sizes"]) == listed["variant_count"]
    priced = [size["price"] for size in detail["sizes"] if size["price"] is not None]
    assert (min(priced), max(priced)) == (listed["price_min"], listed["price_max"])


def test_print_sizes_show_their_sku_and_price(api, supplier):
    ingest_products(supplier, [print_payload("POS1", sizes=[
        {"width": 12, "height": 18, "unit": "in", "label": "12x18", "sku": "POS1-12",
         "price": "3.10", "weight": "0.2", "attributes": {"paper": "gloss"}},
        {"width": 24.5, "height": 36, "unit": "cm", "label": None, "sku": None, "price": None},
    ])])
    poster = Product.objects.get(supplier_sku="POS1")

    sizes = api.get(f"/api/products/{poster.id}").json()["sizes"]

    assert sizes == [
        {"width": 12.0, "height": 18.0, "unit": "in", "label": "12x18", "sku": "POS1-12",
         "price": 3.1},
        {"width": 24.5, "height": 36.0, "unit": "cm", "label": None, "sku": None,
         "price": None},
    ]
    assert type(sizes[0]["price"]) is float and type(sizes[0]["sku"]) is str


def test_the_detail_answers_in_four_queries_whatever_its_size(api, supplier):
    ingest_products(supplier, [
        apparel_payload("SMALL", colors=("Red",), sizes=("S",)),
        apparel_payload("LARGE", colors=("Red", "Blue", "Green", "Black"),
                        sizes=("S", "M", "L", "XL", "2XL")),
        print_payload("PRINT", options=apparel_payload("X")["options"]),
    ])
    api.get("/api/products")  # the token's user is now cached
    for sku in ("SMALL", "LARGE", "PRINT"):
        product = Product.objects.get(supplier_sku=sku)
        with CaptureQueriesContext(connection) as ctx:
            assert api.get(f"/api/products/{product.id}").status_code == 200
        assert len(ctx.captured_queries) <= 4, (sku, [q["sql"] for q in ctx.captured_queries])


def test_the_detail_has_an_etag_and_answers_304_when_it_matches(api, staff_api, catalog):
    tee = Product.objects.get(supplier_sku="PC61")
    first = api.get(f"/api/products/{tee.id}")
    etag = first["ETag"]
    assert etag.startswith('"') and etag.endswith('"')
    assert api.get(f"/api/products/{tee.id}")["ETag"] == etag

    unchanged = api.get(f"/api/products/{tee.id}", HTTP_IF_NONE_MATCH=etag)
    assert unchanged.status_code == 304 and unchanged.content == b""
    assert unchanged["ETag"] == etag
    other = api.get(f"/api/products/{tee.id}", HTTP_IF_NONE_MATCH='"something-else"')
    assert other.status_code == 200 and other.content == first.content

    staff_api.post(f"/api/products/{tee.id}/archive")
    archived = api.get(f"/api/products/{tee.id}", HTTP_IF_NONE_MATCH=etag)
    assert archived.status_code == 200 and archived["ETag"] != etag
    ingest_products(catalog, [apparel_payload("PC61", name="Essential Tee", price="5.00")])
    staff_api.post(f"/api/products/{tee.id}/restore")
    changed = api.get(f"/api/products/{tee.id}", HTTP_IF_NONE_MATCH=etag)
    assert changed.status_code == 200 and changed["ETag"] != etag


def test_the_detail_uses_the_same_queries_whatever_the_variant_count(api, supplier):
    ingest_products(supplier, [
        apparel_payload("SMALL", colors=("Red",), sizes=("S",)),
        apparel_payload("LARGE", colors=("Red", "Blue", "Green", "Black"),
                        sizes=("S", "M", "L", "XL", "2XL")),
    ])
    counts = []
    for sku in ("SMALL", "LARGE"):
        product = Product.objects.get(supplier_sku=sku)
        with CaptureQueriesContext(connection) as ctx:
            api.get(f"/api/products/{product.id}")
        counts.append(len(ctx.captured_queries))
    assert counts[0] == counts[1]



def test_search_pages_keep_name_then_id_order(api, supplier):
    ingest_products(supplier, [
        apparel_payload(f"S{n}", name=name)
        for n, name in enumerate(["Zeta Tee", "alpha tee", "Alpha Tee", "Mid Tee", "Alpha Tee",
                                  "Hoodie"])
    ])
    tees = Product.objects.filter(product_name__icontains="tee")
    expected = [(p.product_name, str(p.id)) for p in tees.order_by("product_name", "id")]

    for term in ("tee", "Tee", "ee"):
        pages = [api.get(f"/api/products?search={term}&skip={skip}&limit=2").json()
                 for skip in (0, 2, 4)]
        assert [(p["product_name"], p["id"]) for page in pages for p in page] == expected


@pytest.mark.skipif(connection.vendor != "postgresql", reason="trigram indexes are PostgreSQL's")
def test_a_search_is_found_through_the_trigram_indexes_not_by_walking_the_name_index(supplier):
    from catalog.bench import plan_indexes

    Product.objects.bulk_create(
        Product(supplier=supplier, supplier_sku=f"T{n}", product_type="apparel",
                product_name=f"{'Zulu Hollow' if n % 50 == 0 else 'Alpha'} {n:05d}")
        for n in range(2000)
    )
    searched = Product.objects.active().filter(supplier=supplier).search("Hollow")
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE catalog_product")
        # A sort and a scan of the table made to look dear: the planner walks the name
        # index wherever it can, and reads the fewest rows where it cannot.
        cursor.execute("SET LOCAL enable_sort = off")
        cursor.execute("SET LOCAL enable_seqscan = off")
        walked = plan_indexes(searched.order_by("product_name", "id")[:50])
        found = plan_indexes(searched.by_name("Hollow")[:50])
        short = plan_indexes(searched.by_name("Ho")[:50])

    assert "product_name_order" in walked
    assert "product_name_order" not in found
    assert "catalog_product_product_name_trgm" in found
    # Two characters hold no trigram: walking the name index stays the way to find them.
    assert "product_name_order" in short


@pytest.fixture
def tricky_catalog(catalog):
    """Names, SKUs and brands with the characters a LIKE pattern gives meaning to."""
    ingest_products(catalog, [
        apparel_payload("PCT-100%", name="100% Cotton Tee", brand="Brand_One"),
        apparel_payload("PCT-10X", name="10X Cotton Tee", brand="BrandXOne"),
        apparel_payload("BS\\1", name="Back\\slash Tote", brand="Port & Company"),
    ])
    Product.objects.filter(supplier_sku="PC90H").update(archived_at="2026-01-01T00:00:00Z")
    return catalog


def test_every_filter_answers_what_its_filterset_selects(api, tricky_catalog):
    from catalog.api.filters import ProductFilter

    customer = Customer.objects.create(name="Acme")
    PushLog.objects.create(customer=customer, product=Product.objects.get(supplier_sku="PC61"),
                           status="pushed")
    apparel = Category.objects.get(supplier=tricky_catalog, path="Apparel")
    queries = [
        {}, {"search": "100%"}, {"search": "0%"}, {"search": "%"}, {"search": "_"},
        {"search": "d_o"}, {"search": "k\\s"}, {"search": "\\"}, {"search": "  tee "},
        {"search": "Te"}, {"brand": "Brand_One"}, {"brand": "Brand%"},
        {"supplier_id": str(tricky_catalog.id), "search": "cotton"},
        {"category_id": str(apparel.id), "archived": "true"},
        {"category_id": str(apparel.id), "archived": "false", "search": "tee"},
        {"customer_id": str(customer.id)}, {"customer_id": str(uuid.uuid4())},
        {"archived": "true"}, {"archived": "false"}, {"supplier_id": str(uuid.uuid4())},
    ]
    for query in queries:
        expected = ProductFilter(query, queryset=Product.objects.order_by("product_name", "id")).qs
        for skip, limit in ((0, 50), (1, 2)):
            response = api.get("/api/products", {**query, "skip": skip, "limit": limit})
            assert response.status_code == 200, (query, response.content)
            assert [p["id"] for p in response.json()] == [
                str(key) for key in expected.values_list("id", flat=True)[skip : skip + limit]
            ], query


def test_a_filter_shape_is_compiled_once_whatever_its_values(api, tricky_catalog):
    from catalog.api.rows import LIST_PAGE

    LIST_PAGE.compiled.clear()
    for word in ("Cotton", "Banner", "nothing"):
        assert api.get(f"/api/products?search=tee&brand={word}&limit=1").status_code == 200
    api.get(f"/api/products?supplier_id={tricky_catalog.id}")
    api.get(f"/api/products?supplier_id={uuid.uuid4()}")

    # search with a brand of six letters, and of seven; a supplier, whichever it is.
    assert len(LIST_PAGE.compiled) == 3

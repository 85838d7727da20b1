import io

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from PIL import Image

from catalog.ingest import ingest_products
from catalog.models import Product, Supplier, Variant
from pushes.models import Customer, PushLog

pytestmark = pytest.mark.django_db


def apparel_payload(n):
    return {
        "supplier_sku": f"TEE-{n}",
        "product_name": f"Cotton tee {n}",
        "brand": "Plainwear",
        "product_type": "apparel",
        "category_path": ["Shirts", "T-Shirts"],
        "variants": [
            {
                "sku": f"TEE-{n}-{color}-{size}", "color": color, "size": size,
                "base_price": "4.50", "inventory": 10,
                "prices": [
                    {"price_type": "Net", "quantity_min": 1, "price": "4.50"},
                    {"price_type": "Net", "quantity_min": 50, "price": "3.90"},
                ],
            }
            for color in ("Black", "White") for size in ("S", "M")
        ],
        "images": [
            {"url": f"https://images.example.com/tee-{n}-{color}.jpg", "color": color}
            for color in ("Black", "White")
        ],
        "options": [
            {"option_key": "print_side", "title": "Print side",
             "attributes": [{"title": "Front"}, {"title": "Back", "price": "1.00"}]},
        ],
        "apparel_details": {"pricing_method": "tiered_variant"},
    }


def print_payload(n):
    return {
        "supplier_sku": f"POSTER-{n}",
        "product_name": f"Poster {n}",
        "product_type": "print",
        "category_path": ["Posters"],
        "images": [{"url": f"https://images.example.com/poster-{n}.jpg"}],
        "sizes": [
            {"width": "8", "height": "10", "unit": "in", "label": "8x10", "price": "12.00"},
            {"width": "16", "height": "20", "unit": "in", "label": "16x20", "price": "30.00"},
        ],
        "print_details": {"min_width": "4", "max_width": "40", "size_unit": "in"},
    }


def seed(count, start=0):
    """`count` products, every other one a print, each pushed once to a customer."""
    supplier, _ = Supplier.objects.get_or_create(name="Northwind Blanks")
    payloads = [
        print_payload(n) if n % 2 else apparel_payload(n) for n in range(start, start + count)
    ]
    result = ingest_products(supplier, payloads)
    assert result.failed == 0, result.errors
    customer, _ = Customer.objects.get_or_create(name="Corner Print Shop")
    PushLog.objects.bulk_create(
        PushLog(customer=customer, product_id=product_id, status=PushLog.Status.FAILED,
                error="The storefront answered 502 " * 10)
        for product_id in result.changed_product_ids
    )
    return supplier


LIST_PAGES = [
    "admin:catalog_supplier_changelist",
    "admin:catalog_category_changelist",
    "admin:catalog_product_changelist",
    "admin:catalog_variant_changelist",
    "admin:catalog_productimage_changelist",
    "admin:catalog_productoption_changelist",
    "admin:pushes_customer_changelist",
    "admin:pushes_pushlog_changelist",
]


def queries_for(client, url):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries)


@pytest.mark.parametrize("page", LIST_PAGES)
def test_each_list_page_opens(admin_client, page):
    seed(4)

    assert admin_client.get(reverse(page)).status_code == 200


@pytest.mark.parametrize("page", LIST_PAGES)
def test_each_list_page_runs_as_many_queries_for_30_rows_as_for_3(admin_client, page):
    url = reverse(page)
    seed(3)
    admin_client.get(url)
    few = queries_for(admin_client, url)

    seed(27, start=3)
    many = queries_for(admin_client, url)

    assert many == few


def test_the_product_list_shows_the_variant_count_and_the_archived_column(admin_client):
    seed(2)
    Product.objects.get(supplier_sku="POSTER-1").archive()

    response = admin_client.get(reverse("admin:catalog_product_changelist"))

    rows = {p.supplier_sku: p for p in response.context["cl"].result_list}
    assert rows["TEE-0"].variant_count == 4
    assert rows["POSTER-1"].variant_count == 0
    assert rows["POSTER-1"].archived_at is not None
    assert rows["TEE-0"].archived_at is None


@pytest.mark.parametrize("sku", ["TEE-0", "POSTER-1"])
def test_the_product_page_opens_for_an_apparel_and_a_print_product(admin_client, sku):
    seed(2)
    product = Product.objects.get(supplier_sku=sku)

    response = admin_client.get(reverse("admin:catalog_product_change", args=[product.pk]))

    assert response.status_code == 200
    assert product.product_name in response.content.decode()


def test_the_add_pages_open(admin_client):
    for model in ("supplier", "category", "product", "variant", "productimage", "productoption"):
        assert admin_client.get(reverse(f"admin:catalog_{model}_add")).status_code == 200


def test_the_variant_page_shows_its_prices(admin_client):
    seed(1)
    variant = Variant.objects.get(sku="TEE-0-Black-S")

    response = admin_client.get(reverse("admin:catalog_variant_change", args=[variant.pk]))

    assert response.status_code == 200
    assert "3.9000" in response.content.decode()


def form_data(response):
    """The POST data of an admin change form as the page filled it in."""
    forms = [response.context["adminform"].form]
    for inline in response.context["inline_admin_formsets"]:
        forms += [inline.formset.management_form, *inline.formset.forms]
    data = {}
    for form in forms:
        for field in form:
            value = field.value()
            if value is True:
                data[field.html_name] = "on"
            elif value is not None and value is not False:
                data[field.html_name] = str(value)
    return data


@pytest.mark.parametrize("sku", ["TEE-0", "POSTER-1"])
def test_saving_a_product_page_unchanged_keeps_its_rows(admin_client, sku):
    seed(2)
    product = Product.objects.get(supplier_sku=sku)
    url = reverse("admin:catalog_product_change", args=[product.pk])
    data = form_data(admin_client.get(url))
    data["product_name"] = "Renamed"

    response = admin_client.post(url, data)

    assert response.status_code == 302
    product.refresh_from_db()
    assert product.product_name == "Renamed"
    assert product.category_name == product.category.name
    assert product.variants.count() == (4 if sku == "TEE-0" else 0)
    assert product.sizes.count() == (0 if sku == "TEE-0" else 2)


def test_the_ops_product_id_is_shown_read_only_and_a_posted_one_is_ignored(admin_client):
    seed(1)
    product = Product.objects.get(supplier_sku="TEE-0")
    Product.objects.filter(pk=product.pk).update(ops_product_id="4821")
    url = reverse("admin:catalog_product_change", args=[product.pk])
    page = admin_client.get(url)
    data = form_data(page)

    response = admin_client.post(url, {**data, "ops_product_id": "786322:48606"})

    assert "ops_product_id" not in page.context["adminform"].form.fields
    assert "4821" in page.content.decode()
    assert response.status_code == 302
    product.refresh_from_db()
    assert product.ops_product_id == "4821"


def test_a_variant_with_a_sku_its_product_already_has_is_refused(admin_client):
    seed(1)
    product = Product.objects.get(supplier_sku="TEE-0")

    response = admin_client.post(reverse("admin:catalog_variant_add"), {
        "product": str(product.pk), "sku": "TEE-0-Black-S", "inventory": "0",
        "sort_order": "0",
        "prices-TOTAL_FORMS": "0", "prices-INITIAL_FORMS": "0",
    })

    assert response.status_code == 200
    assert "already has a variant" in response.content.decode()
    assert product.variants.count() == 4


def select(client, action, products):
    return client.post(
        reverse("admin:catalog_product_changelist"),
        {"action": action, "_selected_action": [str(p.pk) for p in products]},
        follow=True,
    )


def messages_of(response):
    return [str(message) for message in response.context["messages"]]


def test_archiving_products_stamps_them_and_reports_the_counts(admin_client):
    seed(3)
    products = list(Product.objects.order_by("supplier_sku"))
    products[0].archive()
    archived_at = Product.objects.get(pk=products[0].pk).archived_at

    response = select(admin_client, "archive_products", products)

    assert messages_of(response) == ["Archived 2 products (1 was already archived)."]
    assert Product.objects.filter(archived_at__isnull=True).count() == 0
    # A product archived before keeps its first date.
    assert Product.objects.get(pk=products[0].pk).archived_at == archived_at


def test_restoring_products_clears_the_stamp_and_reports_the_counts(admin_client):
    seed(3)
    products = list(Product.objects.order_by("supplier_sku"))
    for product in products[:2]:
        product.archive()

    response = select(admin_client, "restore_products", products)

    assert messages_of(response) == ["Restored 2 products (1 was not archived)."]
    assert Product.objects.filter(archived_at__isnull=False).count() == 0


def test_the_archived_filter_lists_archived_or_active_products(admin_client):
    seed(3)
    Product.objects.get(supplier_sku="TEE-0").archive()
    url = reverse("admin:catalog_product_changelist")

    def listed(query):
        response = admin_client.get(url, {"archived": query})
        return sorted(p.supplier_sku for p in response.context["cl"].result_list)

    assert listed("yes") == ["TEE-0"]
    assert listed("no") == ["POSTER-1", "TEE-2"]


def test_the_product_search_finds_by_name_sku_and_brand(admin_client):
    seed(3)
    url = reverse("admin:catalog_product_changelist")

    def found(term):
        response = admin_client.get(url, {"q": term})
        return sorted(p.supplier_sku for p in response.context["cl"].result_list)

    assert found("poster 1") == ["POSTER-1"]
    assert found("tee-2") == ["TEE-2"]
    assert found("plainwear") == ["TEE-0", "TEE-2"]


def test_a_category_cannot_be_added_twice_nor_under_another_suppliers_parent(admin_client):
    supplier = seed(1)
    other = Supplier.objects.create(name="Other Blanks")
    shirts = supplier.categories.get(path="Shirts")
    url = reverse("admin:catalog_category_add")

    twice = admin_client.post(url, {
        "supplier": str(supplier.pk), "parent": str(shirts.pk), "name": "T-Shirts",
        "sort_order": "0",
    })
    elsewhere = admin_client.post(url, {
        "supplier": str(other.pk), "parent": str(shirts.pk), "name": "Polos", "sort_order": "0",
    })

    assert twice.status_code == 200
    assert "already has the category" in twice.content.decode()
    assert elsewhere.status_code == 200
    assert "same supplier" in elsewhere.content.decode()
    assert supplier.categories.count() == 2
    assert other.categories.count() == 0


def test_the_push_log_can_be_read_but_not_added_changed_or_deleted(admin_client):
    seed(1)
    log = PushLog.objects.get()
    change_url = reverse("admin:pushes_pushlog_change", args=[log.pk])

    assert admin_client.get(change_url).status_code == 200
    assert admin_client.get(reverse("admin:pushes_pushlog_add")).status_code == 403
    assert admin_client.post(reverse("admin:pushes_pushlog_add"), {}).status_code == 403
    assert admin_client.post(change_url, {"status": "pushed"}).status_code == 403
    delete_url = reverse("admin:pushes_pushlog_delete", args=[log.pk])
    assert admin_client.post(delete_url, {"post": "yes"}).status_code == 403
    assert PushLog.objects.get().status == PushLog.Status.FAILED


def test_staff_upload_art_that_is_stored_and_served_at_the_public_url(
    admin_client, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path
    settings.HUB_PUBLIC_URL = "https://hub.example.com"
    seed(2)
    product = Product.objects.get(supplier_sku="POSTER-1")
    url = reverse("admin:catalog_product_change", args=[product.pk])
    data = form_data(admin_client.get(url))
    picture = io.BytesIO()
    Image.new("RGB", (40, 30), (200, 40, 40)).save(picture, "PNG")
    picture.name = "poster art.png"
    picture.seek(0)
    data.update({"images-TOTAL_FORMS": str(int(data["images-TOTAL_FORMS"]) + 1)})
    new = int(data["images-TOTAL_FORMS"]) - 1
    data[f"images-{new}-art_file"] = picture
    data[f"images-{new}-sort_order"] = "5"

    response = admin_client.post(url, data)

    assert response.status_code == 302
    image = product.images.get(sort_order=5)
    assert image.url.startswith("https://hub.example.com/media/art/")
    assert image.url.endswith("/poster_art.png")
    stored = tmp_path / image.url.removeprefix("https://hub.example.com/media/")
    assert stored.read_bytes() == picture.getvalue()
    served = admin_client.get(image.url.removeprefix("https://hub.example.com"))
    assert b"".join(served.streaming_content) == picture.getvalue()


def test_an_image_needs_a_url_or_an_upload(admin_client):
    seed(2)
    product = Product.objects.get(supplier_sku="POSTER-1")
    url = reverse("admin:catalog_product_change", args=[product.pk])
    data = form_data(admin_client.get(url))
    new = int(data["images-TOTAL_FORMS"])
    data["images-TOTAL_FORMS"] = str(new + 1)
    data[f"images-{new}-color"] = "Red"

    response = admin_client.post(url, data)

    assert response.status_code == 200
    assert "Give the image&#x27;s URL, or upload a file." in response.content.decode()

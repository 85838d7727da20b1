"""A customer's PrintOps store as its storefront, through the push service, over real HTTP
against the sandbox's PrintOps fake.

The product pushed is the one a PrintOps sync makes of product category 7 (four acrylic
print sizes), with art added to it.
"""

from decimal import Decimal

import pytest
import requests

from catalog.ingest import ingest_products
from catalog.models import PrintSize, Product, ProductImage
from integrations.models import PrintOpsIntegration
from integrations.printops import client as printops_client
from integrations.printops.storefront import NOTHING_SENT
from integrations.services import claim_sync, create_integration, run_sync
from pushes.models import Customer, MarkupRule, PushLog, StorefrontProduct
from pushes.services import PushRefused, check_pushable, push_product
from tests.factories import print_payload

pytestmark = pytest.mark.django_db

TOKEN = "demo-printops-token"
STORE = 786322
ACRYLIC = "printops-category-7"
ART = "https://cdn.example.com/art/harbour-at-dusk.jpg"
# The base products of category 7 in the fake: id -> sku.
ACRYLIC_BASE_PRODUCTS = {21: "AP0810", 27: "AP1114", 32: "AP1216", 38: "AP1218"}


# -- fixtures and helpers ------------------------------------------------------------


@pytest.fixture
def fake(sandbox):
    return sandbox.fakes["printops"]


@pytest.fixture(autouse=True)
def no_waiting(monkeypatch):
    """Retry-After and used-up windows are counted, not waited out."""
    waited = []
    monkeypatch.setattr(printops_client, "sleep", waited.append)
    return waited


@pytest.fixture
def printops(sandbox, user):
    integration = create_integration(
        PrintOpsIntegration, name="PrintOps", base_url=sandbox.url_of("printops"),
        api_token=TOKEN, user=user,
    )
    run_id = claim_sync(integration.pk)
    run_sync(integration.pk, run_id)
    integration.refresh_from_db()
    return integration


@pytest.fixture
def product(printops):
    product = Product.objects.get(supplier=printops.supplier, supplier_sku=ACRYLIC)
    ProductImage.objects.create(product=product, url=ART, sort_order=0)
    return product


@pytest.fixture
def customer(printops):
    customer = Customer.objects.create(
        name="Poster shop", storefront=printops,
        storefront_options={"store_id": STORE, "scale_option": "fit"},
    )
    MarkupRule.objects.create(customer=customer, name="all +50%", markup_pct=50)
    return customer


def fake_state(sandbox):
    return requests.get(f"{sandbox.url_of('printops')}/_sandbox/state", timeout=5).json()


def pushed_user_products(sandbox):
    """The user products of the store the pushes made (the seeded ones left out)."""
    return [row for row in fake_state(sandbox)["user_products"]
            if row["store_id"] == STORE and row["id"] >= 48606]


def api_requests(fake):
    with fake.lock:
        return [(entry["method"], entry["path"]) for entry in fake.request_log]


def entry_of(customer, product):
    return StorefrontProduct.objects.get(customer=customer, product=product)


def size_keys(product):
    return dict(product.sizes.values_list("sku", "size_key"))


# -- first push ------------------------------------------------------------------------


def test_a_first_push_imports_the_art_then_makes_one_user_product_per_size(
    sandbox, fake, customer, product
):
    fake.request_log.clear()

    log, retryable = push_product(customer.pk, product.pk)

    assert (log.status, log.action, log.error, retryable) == ("pushed", "created", None, False)
    assert api_requests(fake) == [("POST", "/api/images")] + [
        ("POST", f"/api/stores/{STORE}/user-products")
    ] * 4
    state = fake_state(sandbox)
    [imported] = state["image_imports"]
    assert (imported["image_url"], imported["filename"]) == (ART, "harbour-at-dusk.jpg")
    made = pushed_user_products(sandbox)
    assert {row["base_product_id"]: row["user_sku"] for row in made} == {
        base_id: f"hub-{sku}" for base_id, sku in ACRYLIC_BASE_PRODUCTS.items()
    }
    assert {row["image_id"] for row in made} == {imported["image_id"]}
    assert {row["scale_option"] for row in made} == {"fit"}
    assert made[0]["name"] == "Face Mounted Acrylic Print - 8 x 10 Acrylic Print"
    assert made[0]["description"] == product.description

    entry = entry_of(customer, product)
    refs = entry.refs
    assert refs["store_id"] == STORE
    assert refs["image"] == {"url": ART, "id": imported["image_id"]}
    keys = size_keys(product)
    assert {key: ids["id"] for key, ids in refs["user_products"].items()} == {
        keys[row["user_sku"].removeprefix("hub-")]: row["id"] for row in made
    }
    assert refs["superseded"] == []
    assert last_detail(customer, product).startswith(
        f"imported the art {ART} as image {imported['image_id']}; created user products in "
        f"store {STORE}: {made[0]['id']} (hub-AP0810), "
    )
    first = refs["user_products"][keys["AP0810"]]["id"]
    assert entry.storefront_product_id == log.storefront_product_id == f"{STORE}:{first}"


def test_a_second_push_of_the_unchanged_product_sends_nothing(sandbox, fake, customer, product):
    push_product(customer.pk, product.pk)
    before = len(api_requests(fake))

    log, _ = push_product(customer.pk, product.pk)

    assert (log.status, log.action) == ("pushed", "unchanged")
    assert len(api_requests(fake)) == before
    assert len(pushed_user_products(sandbox)) == 4


# -- changes ---------------------------------------------------------------------------


def test_a_changed_size_gets_a_new_user_product_and_the_old_one_is_recorded(
    sandbox, fake, customer, product
):
    push_product(customer.pk, product.pk)
    keys = size_keys(product)
    old = entry_of(customer, product).refs["user_products"][keys["AP1114"]]
    PrintSize.objects.filter(product=product, sku="AP1114").update(label="11 x 14 Gloss Acrylic")
    fake.request_log.clear()

    log, _ = push_product(customer.pk, product.pk)

    assert (log.status, log.action) == ("pushed", "updated")
    assert api_requests(fake) == [("POST", f"/api/stores/{STORE}/user-products")]
    made = pushed_user_products(sandbox)
    assert len(made) == 5
    new_row = made[-1]
    assert (new_row["user_sku"], new_row["base_product_id"]) == ("hub-AP1114-v2", 27)
    assert new_row["name"] == "Face Mounted Acrylic Print - 11 x 14 Gloss Acrylic"

    refs = entry_of(customer, product).refs
    assert refs["user_products"][keys["AP1114"]]["id"] == new_row["id"]
    assert refs["user_products"][keys["AP1114"]]["version"] == 2
    [superseded] = refs["superseded"]
    assert superseded["id"] == old["id"]
    assert (superseded["key"], superseded["user_sku"], superseded["replaced_by"]) == (
        keys["AP1114"], "hub-AP1114", new_row["id"]
    )
    assert last_detail(customer, product) == (
        f"replaced user product {old['id']} (hub-AP1114) by {new_row['id']} (hub-AP1114-v2):"
        " PrintOps cannot update one; 3 sizes unchanged."
    )


def test_a_changed_price_alone_sends_nothing_as_a_user_product_has_no_price(
    sandbox, fake, customer, product
):
    push_product(customer.pk, product.pk)
    refs_before = entry_of(customer, product).refs
    PrintSize.objects.filter(product=product, sku="AP1216").update(price=Decimal("70.00"))
    fake.request_log.clear()

    log, _ = push_product(customer.pk, product.pk)

    assert (log.status, log.action) == ("pushed", "unchanged")
    assert api_requests(fake) == []
    refs = entry_of(customer, product).refs
    assert refs["user_products"] == refs_before["user_products"]
    assert last_detail(customer, product) == NOTHING_SENT


def test_new_art_is_imported_and_every_size_gets_a_new_user_product(
    sandbox, fake, customer, product
):
    push_product(customer.pk, product.pk)
    ProductImage.objects.filter(product=product).update(url="https://cdn.example.com/v2.png")
    fake.request_log.clear()

    push_product(customer.pk, product.pk)

    assert api_requests(fake) == [("POST", "/api/images")] + [
        ("POST", f"/api/stores/{STORE}/user-products")
    ] * 4
    refs = entry_of(customer, product).refs
    assert len(refs["superseded"]) == 4
    assert {entry["user_sku"].rsplit("-", 1)[-1] for entry in refs["user_products"].values()} \
        == {"v2"}


# -- refusals --------------------------------------------------------------------------


def test_a_product_of_another_supplier_is_refused_before_any_push(
    sandbox, fake, staff_api, customer, supplier
):
    ingest_products(supplier, [print_payload("POSTER-9")])
    other = Product.objects.get(supplier=supplier, supplier_sku="POSTER-9")
    message = "PrintOps can only fulfil its own products; POSTER-9 comes from SanMar."

    with pytest.raises(PushRefused, match=f"^{message}$") as refused:
        check_pushable(customer, other)
    assert refused.value.about == "product_id"

    response = staff_api.post(f"/api/push/{customer.id}/{other.id}")

    assert response.status_code == 422, response.json()
    [error] = response.json()["detail"]
    assert (error["loc"], error["msg"], error["type"]) == (
        ["path", "product_id"], message, "push_refused"
    )
    assert not PushLog.objects.exists()
    assert api_requests(fake) == [("GET", "/api/base-products"),
                                  ("GET", "/api/shipping-methods")]


def test_a_customer_without_a_store_fails_at_the_store_step(sandbox, customer, product):
    Customer.objects.filter(pk=customer.pk).update(storefront_options={})

    log, retryable = push_product(customer.pk, product.pk)

    assert (log.status, log.step, retryable) == ("failed", "store", False)
    assert log.error.startswith("The customer's storefront options name no PrintOps store")
    assert pushed_user_products(sandbox) == []


def test_a_product_without_art_is_refused_with_the_message(
    sandbox, fake, staff_api, customer, product
):
    product.images.all().delete()
    message = (f"{ACRYLIC} has no image: PrintOps prints the product's art, so give the "
               "product an image first.")

    response = staff_api.post(f"/api/push/{customer.id}/{product.id}")

    assert response.status_code == 422, response.json()
    [error] = response.json()["detail"]
    assert (error["loc"], error["msg"], error["type"]) == (
        ["path", "product_id"], message, "push_refused"
    )
    assert not PushLog.objects.exists()
    log, retryable = push_product(customer.pk, product.pk)
    assert (log.status, log.step, log.error, retryable) == ("failed", "check", message, False)
    assert pushed_user_products(sandbox) == []


# -- failures lose nothing -------------------------------------------------------------


def test_nothing_is_lost_when_the_rate_limit_stops_a_push_half_way(
    sandbox, fake, customer, product, no_waiting
):
    # Room for the image and two user products, then 429 until the window moves on.
    with fake.lock:
        fake.rate_limit = len(fake.api_calls) + 3

    failed, retryable = push_product(customer.pk, product.pk)

    assert (failed.status, failed.step, retryable) == ("failed", "user_products", True)
    # The window the fake said was used up, then every 429 up to the client's limit.
    assert len(no_waiting) == 1 + printops_client.MAX_RATE_LIMIT_WAITS
    made = pushed_user_products(sandbox)
    assert [row["user_sku"] for row in made] == ["hub-AP0810", "hub-AP1114"]
    assert failed.error == (
        f"PrintOps kept answering 429 (too many requests) to POST api/stores/{STORE}/"
        f"user-products after 10 waits. Done before the failure: imported the art {ART} as "
        f"image {made[0]['image_id']}; created user products in store {STORE}: "
        f"{made[0]['id']} (hub-AP0810), {made[1]['id']} (hub-AP1114)."
    )
    entry = entry_of(customer, product)
    assert sorted(ids["id"] for ids in entry.refs["user_products"].values()) == [
        made[0]["id"], made[1]["id"]
    ]
    assert entry.storefront_product_id == f"{STORE}:{made[0]['id']}"
    assert entry.pushed_hash == ""

    with fake.lock:
        fake.rate_limit = 60
        fake.api_calls.clear()
    fake.request_log.clear()
    log, _ = push_product(customer.pk, product.pk)

    assert (log.status, log.action) == ("pushed", "updated")
    assert api_requests(fake) == [("POST", f"/api/stores/{STORE}/user-products")] * 2
    assert len(fake_state(sandbox)["image_imports"]) == 1
    assert [row["user_sku"] for row in pushed_user_products(sandbox)] == [
        "hub-AP0810", "hub-AP1114", "hub-AP1216", "hub-AP1218"
    ]


def test_a_server_error_fails_the_push_as_retryable_and_keeps_the_art(
    sandbox, fake, customer, product
):
    fake.set_faults(fail_path=f"/api/stores/{STORE}/user-products")

    failed, retryable = push_product(customer.pk, product.pk)

    assert (failed.status, failed.step, retryable) == ("failed", "user_products", True)
    assert failed.error.startswith(
        f"PrintOps answered POST api/stores/{STORE}/user-products with 500 Internal Server Error: "
        "Server Error. Done before the failure: imported the art"
    )
    assert entry_of(customer, product).refs["image"]["url"] == ART

    fake.set_faults(fail_path=None)
    log, _ = push_product(customer.pk, product.pk)

    assert log.status == "pushed"
    assert len(fake_state(sandbox)["image_imports"]) == 1
    assert len(pushed_user_products(sandbox)) == 4


def last_detail(customer, product):
    """What the newest push of the pair did, as its log says."""
    return PushLog.objects.filter(customer=customer, product=product).latest("pushed_at").detail

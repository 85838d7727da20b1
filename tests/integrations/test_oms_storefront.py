"""The OMS storefront and its client, driven over real HTTP against the sandbox fake."""

import uuid
from decimal import Decimal

import pytest
import requests
from django.contrib.auth import get_user_model

from catalog.models import Category, Product
from integrations.models import OMSIntegration
from integrations.oms.client import OMSClient
from integrations.oms.storefront import OMSStorefront
from pushes.priced import PricedImage, PricedItem, PricedProduct, PricedTier
from pushes.storefronts import PushFailed, PushState
from sandbox.testing import RunningSandbox

pytestmark = pytest.mark.django_db

TOKEN = "demo-oms-token"
TEE_CATEGORIES = [("c-apparel", "Apparel"), ("c-tees", "T-Shirts")]


# -- fixtures and helpers ------------------------------------------------------------


@pytest.fixture
def sandbox():
    with RunningSandbox(catalog_size=1) as running:
        yield running


@pytest.fixture
def oms(sandbox):
    return sandbox.fakes["oms"]


@pytest.fixture
def integration(sandbox):
    return make_integration(sandbox)


def make_integration(sandbox, **fields):
    # A user without a password: hashing one would cost more than the test.
    owner, _ = get_user_model().objects.get_or_create(username="owner")
    values = {
        "name": "Order desk", "base_url": sandbox.url_of("oms"), "api_token": TOKEN,
        "store_id": "store-7", "team_id": "5", "country_id": "44", "default_dpi": 300,
        **fields,
    }
    return OMSIntegration.objects.create(user=owner, **values)


def item_id(key):
    """A hub variant id (a UUID) that stays the same for a key."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, key))


def tee_item(key, title, price="9.16"):
    return PricedItem(
        key=key, title=title, sku=f"PC61-{key}", cost=Decimal("4.58"), price=Decimal(price),
        item_id=item_id(key),
        tiers=[
            PricedTier(quantity_min=1, quantity_max=11, cost=Decimal("4.58"),
                       price=Decimal(price)),
            PricedTier(quantity_min=12, quantity_max=None, cost=Decimal("4.18"),
                       price=Decimal("8.36")),
        ],
        color="Natural", size=title.split(" / ")[1], weight=Decimal("180"),
    )


def tee(*keys, name="Essential Tee", price="9.16"):
    items = {
        "NAT-S": tee_item("NAT-S", "Natural / S", price),
        "NAT-M": tee_item("NAT-M", "Natural / M", price),
    }
    return PricedProduct(
        product_id="product-1", supplier_id="supplier-1", supplier_sku="PC61", name=name,
        description="A soft tee.", brand="Port & Company", product_type="apparel",
        category_path=list(TEE_CATEGORIES), items=[items[key] for key in keys or items],
        images=[PricedImage(image_id="image-1", url="https://cdn.example.com/pc61.jpg",
                            color="Natural", sort_order=0)],
    )


def poster():
    def size(width, height, price):
        return PricedItem(
            key=f"{width}x{height}", title=f"{width}x{height}", sku=None,
            cost=Decimal(price) / 2, price=Decimal(price),
            tiers=[PricedTier(quantity_min=1, quantity_max=None, cost=Decimal(price) / 2,
                              price=Decimal(price))],
            width=Decimal(width), height=Decimal(height), unit="in",
        )

    return PricedProduct(
        product_id="product-2", supplier_id="supplier-1", supplier_sku="POSTER-1",
        name="Poster", description=None, brand=None, product_type="print",
        category_path=[("c-print", "Print")], items=[size(12, 18, "6.50")], images=[],
    )


def stored(sandbox):
    """The fake's tables, as its /_sandbox/state path shows them."""
    return requests.get(f"{sandbox.url_of('oms')}/_sandbox/state", timeout=5).json()


def sent(sandbox):
    """(method, path) of every API request the fake received, in order."""
    log = requests.get(f"{sandbox.url_of('oms')}/_sandbox/requests", timeout=5).json()
    return [(entry["method"], entry["path"]) for entry in log]


def clear_log(oms):
    with oms.lock:
        oms.request_log.clear()


def state_after(outcome, previous=None):
    """The state the push service hands the next push of the product."""
    return PushState(
        storefront_product_id=outcome.storefront_product_id, refs=outcome.refs,
        category_ids={**(previous.category_ids if previous else {}),
                      **outcome.new_category_ids},
    )


def tags_of(variant):
    return variant["ecommerce_tags"].split(",")


# -- create ----------------------------------------------------------------------------


def test_a_first_push_creates_the_categories_parents_first_then_the_product_and_variants(
    sandbox, integration
):
    outcome = OMSStorefront(integration).push(tee(), PushState())

    assert sent(sandbox) == [
        ("POST", "/api/v1/product-categories"), ("POST", "/api/v1/product-categories"),
        ("POST", "/api/v1/products"),
        ("POST", "/api/v1/product-variants"), ("POST", "/api/v1/product-variants"),
    ]
    state = stored(sandbox)
    apparel, tees = state["categories"]
    assert (apparel["name"], apparel["parent_id"]) == ("Apparel", None)
    assert (tees["name"], tees["parent_id"]) == ("T-Shirts", apparel["id"])
    assert outcome.new_category_ids == {"c-apparel": str(apparel["id"]),
                                        "c-tees": str(tees["id"])}
    [product] = state["products"]
    assert outcome.created is True
    assert outcome.storefront_product_id == str(product["id"])
    assert {key: product[key] for key in (
        "category_id", "name", "code", "description", "active", "team_id", "default_dpi",
    )} == {
        "category_id": tees["id"], "name": "Essential Tee", "code": "PC61",
        "description": "A soft tee.", "active": True, "team_id": 5, "default_dpi": 300,
    }
    small, medium = state["variants"]
    assert outcome.refs == {"variants": {"NAT-S": str(small["id"]), "NAT-M": str(medium["id"])}}
    # The hub's variant id is the OMS variant's uuid: orders name it by ecommerce_variant_id.
    assert (small["uuid"], medium["uuid"]) == (item_id("NAT-S"), item_id("NAT-M"))
    assert (small["name"], small["product_id"], small["country_id"], small["weight"]) == (
        "Natural / S", product["id"], 44, 180
    )
    assert tags_of(small) == [
        "sku:PC61-NAT-S", "color:Natural", "size:S", "price:9.16", "tier:1-11:9.16",
        "tier:12+:8.36",
    ]


def test_known_categories_are_reused_and_only_missing_levels_are_created(sandbox, integration):
    first = OMSStorefront(integration).push(tee("NAT-S"), PushState())
    apparel_id = first.new_category_ids["c-apparel"]
    clear_log(sandbox.fakes["oms"])

    # Another product (its variants are other hub variants) under the known root.
    outcome = OMSStorefront(integration).push(
        tee("NAT-M"), PushState(category_ids={"c-apparel": apparel_id})
    )

    assert sent(sandbox).count(("POST", "/api/v1/product-categories")) == 1
    # The known parent's UID is read once, to name it as the new child's parent.
    assert sent(sandbox)[0] == ("GET", f"/api/v1/product-categories/{apparel_id}")
    created = stored(sandbox)["categories"][-1]
    assert (created["name"], created["parent_id"]) == ("T-Shirts", int(apparel_id))
    assert outcome.new_category_ids == {"c-tees": str(created["id"])}


def test_a_print_size_is_sent_in_whole_centimetres_with_its_single_price(
    sandbox, integration
):
    OMSStorefront(integration).push(poster(), PushState())

    [variant] = stored(sandbox)["variants"]
    # 12 × 18 in = 30.48 × 45.72 cm.
    assert (variant["name"], variant["width"], variant["height"]) == ("12x18", 30, 46)
    assert variant["weight"] is None
    assert tags_of(variant) == ["price:6.50"]


def test_the_integrations_defaults_go_on_every_row_typed_as_each_endpoint_documents(sandbox):
    integration = make_integration(sandbox, default_dpi=600, default_location="7")

    OMSStorefront(integration).push(poster(), PushState())

    state = stored(sandbox)
    [category], [product], [variant] = state["categories"], state["products"], state["variants"]
    assert (category["default_dpi"], category["default_location_id"]) == (600, "7")
    assert (product["default_dpi"], product["default_location_id"]) == (600, 7)
    assert (variant["default_dpi"], variant["default_location_id"]) == (600, 7)
    assert (type(product["team_id"]), type(variant["country_id"])) == (int, int)


def test_a_location_uid_goes_to_categories_only(sandbox):
    location = "3bb7725c-11ea-4487-99f8-e025fc6617ac"
    integration = make_integration(sandbox, default_location=location)

    OMSStorefront(integration).push(poster(), PushState())

    state = stored(sandbox)
    [category], [product], [variant] = state["categories"], state["products"], state["variants"]
    assert category["default_location_id"] == location
    assert product["default_location_id"] is None and variant["default_location_id"] is None


def test_an_update_sends_no_uuid(sandbox, integration):
    first = OMSStorefront(integration).push(tee(), PushState())

    outcome = OMSStorefront(integration).push(tee(price="9.99"), state_after(first))

    # The fake refuses a uuid on update (the spec's update has none).
    assert outcome.refs == first.refs
    assert [variant["uuid"] for variant in stored(sandbox)["variants"]] == [
        item_id("NAT-S"), item_id("NAT-M")
    ]


# -- update ----------------------------------------------------------------------------


def test_a_second_push_updates_everything_with_put_and_duplicates_nothing(
    sandbox, integration
):
    first = OMSStorefront(integration).push(tee(), PushState())
    clear_log(sandbox.fakes["oms"])

    outcome = OMSStorefront(integration).push(
        tee(name="Essential Tee (new)", price="9.99"), state_after(first)
    )

    product_id = first.storefront_product_id
    variants = first.refs["variants"]
    assert sent(sandbox) == [
        ("PUT", f"/api/v1/products/{product_id}"),
        ("PUT", f"/api/v1/product-variants/{variants['NAT-S']}"),
        ("PUT", f"/api/v1/product-variants/{variants['NAT-M']}"),
    ]
    assert (outcome.created, outcome.storefront_product_id, outcome.refs) == (
        False, product_id, first.refs
    )
    assert outcome.new_category_ids == {}
    state = stored(sandbox)
    assert {table: state["counts"][table] for table in ("categories", "products", "variants")} == {
        "categories": 2, "products": 1, "variants": 2,
    }
    assert state["products"][0]["name"] == "Essential Tee (new)"
    assert "price:9.99" in tags_of(state["variants"][0])


def test_a_removed_item_deletes_its_variant(sandbox, integration):
    first = OMSStorefront(integration).push(tee(), PushState())
    clear_log(sandbox.fakes["oms"])

    outcome = OMSStorefront(integration).push(tee("NAT-S"), state_after(first))

    removed = first.refs["variants"]["NAT-M"]
    assert ("DELETE", f"/api/v1/product-variants/{removed}") in sent(sandbox)
    assert outcome.refs == {"variants": {"NAT-S": first.refs["variants"]["NAT-S"]}}
    assert [variant["name"] for variant in stored(sandbox)["variants"]] == ["Natural / S"]


def test_a_product_deleted_in_the_oms_is_created_again_with_its_variants(
    sandbox, integration
):
    first = OMSStorefront(integration).push(tee(), PushState())
    requests.delete(
        f"{sandbox.url_of('oms')}/api/v1/products/{first.storefront_product_id}",
        headers={"Authorization": f"Bearer {TOKEN}"}, timeout=5,
    ).raise_for_status()

    outcome = OMSStorefront(integration).push(tee(), state_after(first))

    state = stored(sandbox)
    [product] = state["products"]
    assert outcome.created is True
    assert outcome.storefront_product_id == str(product["id"]) != first.storefront_product_id
    assert state["counts"]["variants"] == 2
    assert {variant["product_id"] for variant in state["variants"]} == {product["id"]}


# -- errors ----------------------------------------------------------------------------


@pytest.mark.parametrize("case, step, message, retryable", [
    ("400", "product", "OMS answered 400: Bad Request (team_id: Must be an integer.)", False),
    ("401", "category",
     "OMS answered 401: Unauthorized (authorization: Missing or invalid API token.)", False),
    ("403", "category",
     "OMS answered 403: Forbidden (authorization: This token may not perform this action.)",
     False),
    ("404", "category",
     "OMS answered 404: Not Found (path: No route for POST /v0/api/v1/product-categories.)",
     False),
    ("500", "product", "OMS answered 500: Server Error (server: Internal server error.)", True),
])
def test_each_error_of_the_oms_fails_the_push_with_the_oms_own_words(
    sandbox, oms, case, step, message, retryable
):
    fields = {
        "400": {"team_id": "five"},
        "401": {"api_token": "not-the-token"},
        "404": {"base_url": sandbox.url_of("oms") + "/v0"},
    }.get(case, {})
    integration = make_integration(sandbox, **fields)
    if case == "403":
        oms.set_faults(forbid_next=1)
    if case == "500":
        oms.set_faults(fail_path="/api/v1/products")

    with pytest.raises(PushFailed) as failure:
        OMSStorefront(integration).push(tee(), PushState())

    assert (failure.value.step, failure.value.message, failure.value.retryable) == (
        step, message, retryable
    )
    if step == "product":
        # The categories created before the failure are handed back to be kept.
        assert set(failure.value.new_category_ids) == {"c-apparel", "c-tees"}
    assert TOKEN not in failure.value.message


def test_a_timeout_fails_as_retryable(sandbox, oms, integration, settings):
    settings.OUTBOUND_TIMEOUT = (2.0, 0.2)
    oms.set_faults(latency_ms=600)

    with pytest.raises(PushFailed) as failure:
        OMSStorefront(integration).push(tee(), PushState())

    assert failure.value.step == "category"
    assert failure.value.retryable is True
    assert "did not answer POST /api/v1/product-categories in time" in failure.value.message


def test_a_storefront_without_a_team_or_country_id_fails_before_sending_that_step(sandbox):
    no_team = make_integration(sandbox, team_id=None)
    no_country = make_integration(sandbox, country_id=None)

    with pytest.raises(PushFailed) as team_failure:
        OMSStorefront(no_team).push(tee(), PushState())
    with pytest.raises(PushFailed) as country_failure:
        OMSStorefront(no_country).push(tee(), PushState())

    assert team_failure.value.step == "product"
    assert "no team id" in team_failure.value.message
    assert country_failure.value.step == "variants"
    assert "no country id" in country_failure.value.message
    assert stored(sandbox)["counts"]["variants"] == 0


def test_a_product_without_a_category_is_refused(integration, supplier):
    uncategorised = Product(supplier=supplier, supplier_sku="PC61", product_name="Tee")
    categorised = Product(supplier=supplier, supplier_sku="PC62", product_name="Tee",
                          category=Category(supplier=supplier, name="Apparel"))

    storefront = OMSStorefront(integration)

    assert storefront.refusal(uncategorised) == (
        "Product PC61 has no category; the OMS needs one for every product."
    )
    assert storefront.refusal(categorised) is None


def test_a_failure_half_way_keeps_the_ids_so_the_retry_completes_without_duplicates(
    sandbox, oms, integration, monkeypatch
):
    create_variant = OMSClient.create_variant
    calls = []

    def second_fails(client, body):
        calls.append(body)
        if len(calls) == 2:
            oms.set_faults(fail_path="/api/v1/product-variants")
        return create_variant(client, body)

    monkeypatch.setattr(OMSClient, "create_variant", second_fails)

    with pytest.raises(PushFailed) as failure:
        OMSStorefront(integration).push(tee(), PushState())

    failed = failure.value
    state = stored(sandbox)
    [product], [first_variant] = state["products"], state["variants"]
    assert (failed.step, failed.retryable) == ("variants", True)
    assert failed.storefront_product_id == str(product["id"])
    assert failed.refs == {"variants": {"NAT-S": str(first_variant["id"])}}
    assert set(failed.new_category_ids) == {"c-apparel", "c-tees"}

    oms.set_faults(fail_path=None)
    clear_log(oms)
    outcome = OMSStorefront(integration).push(tee(), PushState(
        storefront_product_id=failed.storefront_product_id, refs=failed.refs,
        category_ids=failed.new_category_ids,
    ))

    assert outcome.created is False
    assert [call for call in sent(sandbox) if call[0] == "POST"] == [
        ("POST", "/api/v1/product-variants")
    ]
    state = stored(sandbox)
    assert {table: state["counts"][table] for table in ("categories", "products", "variants")} == {
        "categories": 2, "products": 1, "variants": 2,
    }
    assert outcome.refs["variants"]["NAT-S"] == str(first_variant["id"])


# -- deactivate ------------------------------------------------------------------------


def test_deactivating_sets_the_product_inactive(sandbox, integration):
    first = OMSStorefront(integration).push(tee(), PushState())
    clear_log(sandbox.fakes["oms"])

    OMSStorefront(integration).deactivate(state_after(first))

    assert sent(sandbox) == [("PUT", f"/api/v1/products/{first.storefront_product_id}")]
    [product] = stored(sandbox)["products"]
    assert (product["active"], product["name"]) == (False, "Essential Tee")


def test_deactivating_a_product_the_oms_no_longer_has_is_done(sandbox, integration):
    OMSStorefront(integration).deactivate(PushState(storefront_product_id="999"))


def test_a_refused_deactivation_fails_with_the_oms_own_words(sandbox, oms, integration):
    first = OMSStorefront(integration).push(tee(), PushState())
    oms.set_faults(forbid_next=1)

    with pytest.raises(PushFailed) as failure:
        OMSStorefront(integration).deactivate(state_after(first))

    assert failure.value.step == "deactivate"
    assert failure.value.message.startswith("OMS answered 403: Forbidden")
    assert stored(sandbox)["products"][0]["active"] is True

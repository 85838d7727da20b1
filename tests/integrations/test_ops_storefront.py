"""The OnPrintShop storefront and its client, driven over real HTTP against the sandbox fake."""

import time
from decimal import Decimal

import pytest
import requests
from django.contrib.auth import get_user_model
from django.db import connection
from werkzeug.wrappers import Response

from hub import ratelimit
from hub.secrets import decrypt
from integrations.models import OPSIntegration
from integrations.ops import client as ops_client
from integrations.ops.client import OPSClient
from integrations.ops.storefront import OPSStorefront
from pushes.priced import PricedImage, PricedItem, PricedProduct, PricedTier
from pushes.storefronts import PushFailed, PushState
from sandbox.testing import RunningSandbox

pytestmark = pytest.mark.django_db

TEE_CATEGORIES = [("c-apparel", "Apparel"), ("c-tees", "T-Shirts")]


# -- fixtures and helpers ------------------------------------------------------------


@pytest.fixture
def sandbox():
    with RunningSandbox(catalog_size=1, rate_limit=1000) as running:
        yield running


@pytest.fixture
def ops(sandbox):
    return sandbox.fakes["ops"]


@pytest.fixture
def integration(sandbox):
    return make_integration(sandbox)


@pytest.fixture
def waits(monkeypatch):
    """The seconds the client was asked to sleep, instead of sleeping them."""
    asked = []
    monkeypatch.setattr(ops_client, "sleep", asked.append)
    return asked


@pytest.fixture
def fault_before(monkeypatch, ops):
    """Set fault switches of the fake just before the client first sends a given mutation."""

    def arrange(mutation, **faults):
        send = OPSClient.mutate
        pending = [faults]

        def mutate(client, name, inputs):
            if name == mutation and pending:
                ops.set_faults(**pending.pop())
            return send(client, name, inputs)

        monkeypatch.setattr(OPSClient, "mutate", mutate)

    return arrange


def make_integration(sandbox, **fields):
    # A user without a password: hashing one would cost more than the test.
    owner, _ = get_user_model().objects.get_or_create(username="owner")
    url = sandbox.url_of("ops")
    return OPSIntegration.objects.create(
        name="Shop", base_url=url, token_url=f"{url}/oauth/token", client_id="demo-client",
        client_secret="demo-secret", user=owner, **fields,
    )


def tee_item(key, title):
    return PricedItem(
        key=key, title=title, sku=f"PC61-{key}", cost=Decimal("4.58"), price=Decimal("9.16"),
        tiers=[
            PricedTier(quantity_min=1, quantity_max=11, cost=Decimal("4.58"),
                       price=Decimal("9.16")),
            PricedTier(quantity_min=12, quantity_max=None, cost=Decimal("4.18"),
                       price=Decimal("8.36")),
        ],
        color="Natural", size=title.split(" / ")[1],
    )


def tee(*keys):
    items = {"NAT-S": tee_item("NAT-S", "Natural / S"), "NAT-M": tee_item("NAT-M", "Natural / M")}
    return PricedProduct(
        product_id="product-1", supplier_id="supplier-1", supplier_sku="PC61",
        name="Essential Tee", description="A soft tee.", brand="Port & Company",
        product_type="apparel", category_path=list(TEE_CATEGORIES),
        items=[items[key] for key in keys or items],
        images=[
            PricedImage(image_id="image-2", url="https://cdn.example.com/pc61/black.jpg",
                        color="Black", sort_order=1),
            PricedImage(image_id="image-1", url="https://cdn.example.com/pc61/natural.jpg",
                        color="Natural", sort_order=0),
        ],
    )


def poster():
    def size(width, height, price):
        return PricedItem(
            key=f"{width}x{height}", title=f"{width}x{height}", sku=None, cost=None, price=None,
            tiers=[PricedTier(quantity_min=1, quantity_max=None, cost=Decimal(price) / 2,
                              price=Decimal(price))],
            width=Decimal(width), height=Decimal(height), unit="in",
        )

    return PricedProduct(
        product_id="product-2", supplier_id="supplier-1", supplier_sku="POSTER-1",
        name="Poster", description=None, brand=None, product_type="print",
        category_path=[("c-print", "Print")], items=[size(12, 18, "6.50"), size(24, 36, "19.00")],
        images=[],
    )


def stored(sandbox):
    """The fake's catalog, as its /_sandbox/state path shows it."""
    return requests.get(f"{sandbox.url_of('ops')}/_sandbox/state", timeout=5).json()


def request_log(sandbox):
    return requests.get(f"{sandbox.url_of('ops')}/_sandbox/requests", timeout=5).json()


def api_statuses(sandbox):
    return [entry["status"] for entry in request_log(sandbox) if entry["path"] == "/api/"]


def token_requests(sandbox):
    return [entry for entry in request_log(sandbox)
            if entry["path"] in ("/oauth/token", "/api/oauth/token")]


def state_after(outcome, previous=None):
    """The state the push service hands the next push of the product."""
    return PushState(
        storefront_product_id=outcome.storefront_product_id, refs=outcome.refs,
        category_ids={**(previous.category_ids if previous else {}),
                      **outcome.new_category_ids},
    )


def push(integration, priced, state=None):
    return OPSStorefront(integration).push(priced, state or PushState())


def fresh(integration):
    return OPSIntegration.objects.get(pk=integration.pk)


# -- creating and updating -----------------------------------------------------------


def test_the_first_push_creates_the_category_path_product_sizes_prices_and_gallery(
    integration, sandbox
):
    outcome = push(integration, tee())

    state = stored(sandbox)
    assert state["counts"] == {
        "categories": 2, "products": 1, "sizes": 2, "prices": 4, "images": 2,
    }
    root, child = state["categories"]
    assert (root["category_name"], root["parent_id"], root["external_ref"]) == (
        "Apparel", 0, "c-apparel",
    )
    assert (child["category_name"], child["parent_id"], child["external_ref"]) == (
        "T-Shirts", root["category_id"], "c-tees",
    )
    assert outcome.new_category_ids == {
        "c-apparel": str(root["category_id"]), "c-tees": str(child["category_id"]),
    }

    (product,) = state["products"]
    assert outcome.created is True
    assert outcome.storefront_product_id == str(product["products_id"])
    assert product["products_title"] == "Essential Tee"
    assert product["main_sku"] == product["products_internal_title"] == "PC61"
    assert product["external_ref"] == "product-1"
    assert product["category_id"] == child["category_id"]
    assert product["image_url"] == "https://cdn.example.com/pc61/natural.jpg"
    assert (product["predefined_product_type"], product["price_defining_method"]) == ("1", "1")

    sizes = {size["size_title"]: size for size in state["sizes"]}
    assert set(sizes) == {"Natural / S", "Natural / M"}
    assert outcome.refs["sizes"] == {
        "NAT-S": str(sizes["Natural / S"]["size_id"]),
        "NAT-M": str(sizes["Natural / M"]["size_id"]),
    }
    prices = {(price["size_id"], price["qty"]): price for price in state["prices"]}
    small = sizes["Natural / S"]["size_id"]
    assert {price["user_type_id"] for price in state["prices"]} == {"1"}
    assert (prices[small, 1]["qty_to"], prices[small, 1]["price"],
            prices[small, 1]["vendor_price"]) == (11, 9.16, 4.58)
    # qty_to 0: the last band is open-ended.
    assert (prices[small, 12]["qty_to"], prices[small, 12]["price"]) == (0, 8.36)
    assert outcome.refs["prices"]["NAT-S"] == {
        "1": str(prices[small, 1]["product_price_id"]),
        "12": str(prices[small, 12]["product_price_id"]),
    }
    assert [(image["image_url"], image["title"]) for image in state["images"]] == [
        ("https://cdn.example.com/pc61/natural.jpg", "Natural"),
        ("https://cdn.example.com/pc61/black.jpg", "Black"),
    ]


def test_a_push_sends_all_sizes_in_one_request_and_all_prices_in_another(integration, sandbox):
    push(integration, tee())

    # Two categories, the product, the sizes, the prices, the gallery.
    assert api_statuses(sandbox) == [200] * 6
    assert len(token_requests(sandbox)) == 1


def test_a_print_product_gets_one_size_per_print_size_with_its_dimensions(integration, sandbox):
    outcome = push(integration, poster())

    state = stored(sandbox)
    assert [(size["size_title"], size["size_width"], size["size_height"])
            for size in state["sizes"]] == [("12x18", 12.0, 18.0), ("24x36", 24.0, 36.0)]
    assert sorted(price["price"] for price in state["prices"]) == [6.5, 19.0]
    assert state["counts"]["images"] == 0
    assert state["products"][0]["image_url"] is None
    assert set(outcome.refs["sizes"]) == {"12x18", "24x36"}


def test_a_second_push_with_the_first_state_updates_the_same_rows(integration, sandbox):
    first = push(integration, tee())
    changed = tee()
    changed.name = "Essential Tee, renamed"
    changed.items[0].tiers[0].price = Decimal("9.99")

    second = push(integration, changed, state_after(first))

    state = stored(sandbox)
    assert state["counts"] == {
        "categories": 2, "products": 1, "sizes": 2, "prices": 4, "images": 2,
    }
    assert second.created is False
    assert second.storefront_product_id == first.storefront_product_id
    assert second.refs == first.refs
    assert second.new_category_ids == {}
    assert state["products"][0]["products_title"] == "Essential Tee, renamed"
    assert 9.99 in [price["price"] for price in state["prices"]]


def test_a_removed_item_loses_its_size_and_prices(integration, sandbox):
    first = push(integration, tee())

    second = push(integration, tee("NAT-M"), state_after(first))

    state = stored(sandbox)
    assert [size["size_title"] for size in state["sizes"]] == ["Natural / M"]
    assert state["counts"]["prices"] == 2
    assert {price["size_id"] for price in state["prices"]} == {int(first.refs["sizes"]["NAT-M"])}
    assert {price["visible"] for price in state["prices"]} == {1}
    assert second.refs == {
        "sizes": {"NAT-M": first.refs["sizes"]["NAT-M"]},
        "prices": {"NAT-M": first.refs["prices"]["NAT-M"]},
    }


def test_a_removed_tier_has_its_price_row_hidden_not_deleted(integration, sandbox):
    first = push(integration, tee())
    fewer = tee()
    for item in fewer.items:
        item.tiers = item.tiers[:1]

    second = push(integration, fewer, state_after(first))

    # The fake refuses setProductPrice's undocumented `delete`: the row is hidden.
    state = stored(sandbox)
    assert sorted((price["qty"], price["visible"]) for price in state["prices"]) == [
        (1, 1), (1, 1), (12, 0), (12, 0)
    ]
    assert second.refs["prices"] == {
        key: {"1": rows["1"]} for key, rows in first.refs["prices"].items()
    }


def test_a_new_tier_reuses_the_row_of_a_removed_one(integration, sandbox):
    first = push(integration, tee())
    moved = tee()
    for item in moved.items:
        item.tiers[1].quantity_min = 24
        item.tiers[0].quantity_max = 23

    second = push(integration, moved, state_after(first))

    state = stored(sandbox)
    assert state["counts"]["prices"] == 4
    assert sorted((price["qty"], price["visible"]) for price in state["prices"]) == [
        (1, 1), (1, 1), (24, 1), (24, 1)
    ]
    assert second.refs["prices"] == {
        key: {"1": rows["1"], "24": rows["12"]} for key, rows in first.refs["prices"].items()
    }


def test_a_product_that_ops_no_longer_has_is_created_again(integration, sandbox):
    stale = PushState(
        storefront_product_id="4999",
        refs={"sizes": {"NAT-S": "1"}, "prices": {"NAT-S": {"1": "2"}}},
    )

    outcome = push(integration, tee(), stale)

    state = stored(sandbox)
    assert outcome.created is True
    assert outcome.storefront_product_id == str(state["products"][0]["products_id"]) != "4999"
    assert state["counts"]["sizes"] == 2 and state["counts"]["prices"] == 4
    assert set(outcome.refs["sizes"].values()) == {str(size["size_id"]) for size in state["sizes"]}


# -- failures ------------------------------------------------------------------------


def test_an_item_answered_result_false_fails_its_step_and_keeps_what_was_created(
    integration, sandbox, fault_before
):
    fault_before("setProductSize", result_false_next=1)

    with pytest.raises(PushFailed) as raised:
        push(integration, tee())

    failure = raised.value
    state = stored(sandbox)
    assert failure.step == "sizes"
    assert "Simulated failure" in failure.message
    assert failure.retryable is False
    assert failure.storefront_product_id == str(state["products"][0]["products_id"])
    # The first size was refused, the second created: only the second is known.
    assert failure.refs == {"sizes": {"NAT-M": str(state["sizes"][0]["size_id"])}, "prices": {}}
    assert set(failure.new_category_ids) == {"c-apparel", "c-tees"}


def test_a_retry_after_a_refused_item_completes_without_duplicates(
    integration, sandbox, fault_before
):
    fault_before("setProductSize", result_false_next=1)
    with pytest.raises(PushFailed) as raised:
        push(integration, tee())
    failure = raised.value
    retry_state = PushState(storefront_product_id=failure.storefront_product_id,
                            refs=failure.refs, category_ids=failure.new_category_ids)

    outcome = push(integration, tee(), retry_state)

    assert outcome.created is False
    assert stored(sandbox)["counts"] == {
        "categories": 2, "products": 1, "sizes": 2, "prices": 4, "images": 2,
    }


def test_a_graphql_error_fails_the_push(integration, ops):
    ops.set_faults(graphql_error_next=1)

    with pytest.raises(PushFailed) as raised:
        push(integration, tee())

    assert raised.value.step == "category"
    assert raised.value.message == "OPS reported an error: Simulated error"
    assert raised.value.retryable is False


def test_a_failing_price_mutation_is_retryable_and_the_retry_does_not_duplicate(
    integration, sandbox, ops
):
    ops.set_faults(fail_mutation="setProductPrice")

    with pytest.raises(PushFailed) as raised:
        push(integration, tee())

    failure = raised.value
    assert failure.step == "prices"
    assert failure.retryable is True
    assert failure.message == "OPS answered the API with 500"
    assert set(failure.refs["sizes"]) == {"NAT-S", "NAT-M"}
    # Creating prices is not sent twice: the server may have acted before failing.
    assert api_statuses(sandbox).count(500) == 1

    ops.set_faults(fail_mutation=None)
    retry_state = PushState(storefront_product_id=failure.storefront_product_id,
                            refs=failure.refs, category_ids=failure.new_category_ids)
    outcome = push(integration, tee(), retry_state)

    assert outcome.storefront_product_id == failure.storefront_product_id
    assert outcome.refs["sizes"] == failure.refs["sizes"]
    assert stored(sandbox)["counts"] == {
        "categories": 2, "products": 1, "sizes": 2, "prices": 4, "images": 2,
    }


def test_an_update_answered_500_is_sent_again(integration, sandbox, ops, waits):
    first = push(integration, tee())
    ops.set_faults(fail_next=1)

    outcome = push(integration, tee(), state_after(first))

    assert outcome.storefront_product_id == first.storefront_product_id
    assert api_statuses(sandbox)[6:8] == [500, 200]
    assert waits == [1]


def test_a_create_answered_500_is_not_sent_again(integration, sandbox, ops, waits):
    OPSClient(integration).token()
    ops.set_faults(fail_next=1)

    with pytest.raises(PushFailed) as raised:
        push(integration, tee())

    assert (raised.value.step, raised.value.retryable) == ("category", True)
    assert api_statuses(sandbox) == [500]
    assert waits == []


def test_a_body_that_is_not_json_is_a_retryable_failure(integration, ops):
    OPSClient(integration).token()
    ops.set_faults(malformed_next=1)

    with pytest.raises(PushFailed) as raised:
        push(integration, tee())

    assert raised.value.message == "OPS answered the API with a body that is not JSON"
    assert raised.value.retryable is True


# -- authentication ------------------------------------------------------------------


def test_the_token_is_stored_encrypted_and_reused_by_the_next_push(integration, sandbox):
    push(integration, tee())
    push(integration, poster())
    push(fresh(integration), poster())

    assert len(token_requests(sandbox)) == 1
    token = fresh(integration).token
    assert token
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT token FROM {OPSIntegration._meta.db_table}")
        (raw,) = cursor.fetchone()
    assert raw != token
    assert decrypt(raw) == token


def test_an_expired_token_is_replaced_once_and_the_request_sent_again(integration, sandbox):
    first = push(integration, tee())
    requests.post(f"{sandbox.url_of('ops')}/_sandbox/expire-tokens", timeout=5)

    push(integration, tee(), state_after(first))

    assert len(token_requests(sandbox)) == 2
    assert api_statuses(sandbox).count(401) == 1


def test_a_tenant_serving_the_token_under_api_is_reached_there(integration, sandbox, ops):
    ops.set_faults(token_at_api=True)
    integration.token_url = f"{sandbox.url_of('ops')}/api/oauth/token"
    integration.save()

    outcome = push(integration, tee())

    assert outcome.created is True
    assert [(entry["path"], entry["status"]) for entry in token_requests(sandbox)] == [
        ("/api/oauth/token", 200)
    ]


def test_an_expired_token_answered_200_unauthenticated_is_replaced_once(
    integration, sandbox, ops
):
    ops.set_faults(unauthenticated_as_200=True)
    first = push(integration, tee())
    requests.post(f"{sandbox.url_of('ops')}/_sandbox/expire-tokens", timeout=5)

    changed = tee()
    changed.name = "Essential Tee (new)"

    second = push(integration, changed, state_after(first))

    assert second.storefront_product_id == first.storefront_product_id
    assert len(token_requests(sandbox)) == 2
    state = stored(sandbox)
    assert state["counts"]["products"] == 1
    assert state["products"][0]["products_title"] == "Essential Tee (new)"
    assert 401 not in api_statuses(sandbox)


def test_a_new_token_refused_as_unauthenticated_too_fails_as_refused_credentials(
    integration, sandbox, ops
):
    ops.set_faults(unauthenticated_as_200=True)
    ops.token_ttl = 0.001  # every token it issues has expired by the time it is used

    with pytest.raises(PushFailed) as raised:
        push(integration, tee())

    assert raised.value.message == "OPS refused the credentials"
    assert len(token_requests(sandbox)) == 2
    assert stored(sandbox)["counts"]["categories"] == 0


def test_refused_credentials_fail_the_push_without_the_secret(integration, sandbox):
    integration.client_secret = "wrong-secret"

    with pytest.raises(PushFailed) as raised:
        push(integration, tee())

    assert raised.value.message == "OPS refused the credentials"
    assert "wrong-secret" not in str(raised.value)
    assert api_statuses(sandbox) == []
    assert fresh(integration).token is None


def test_a_tenant_that_only_takes_a_form_encoded_token_request_gets_one(
    integration, sandbox, ops, monkeypatch
):
    answer = ops.token

    def form_only(request):
        if request.is_json:
            return Response("unsupported", status=415)
        return answer(request)

    monkeypatch.setattr(ops, "token", form_only)

    push(integration, tee())

    assert [entry["status"] for entry in token_requests(sandbox)] == [415, 200]


# -- request budget ------------------------------------------------------------------


def test_a_429_is_waited_out_for_the_seconds_retry_after_asks(integration, sandbox, ops, waits):
    OPSClient(integration).token()
    ops.set_faults(rate_limit_next=2, retry_after=7)

    push(integration, tee())

    assert waits == [7, 7]
    assert api_statuses(sandbox)[:3] == [429, 429, 200]


def test_more_than_three_429s_in_a_row_are_a_retryable_failure(integration, ops, waits):
    OPSClient(integration).token()
    ops.set_faults(rate_limit_next=10, retry_after=3600)

    with pytest.raises(PushFailed) as raised:
        push(integration, tee())

    assert raised.value.retryable is True
    assert "429" in raised.value.message
    assert waits == [60, 60, 60]


class FakeClock:
    def __init__(self):
        # The start of a minute, so the windows fall the same way on every run.
        self.start = self.current = time.time() // 60 * 60

    def now(self):
        return self.current

    def advance(self, seconds):
        self.current += seconds


def test_every_request_waits_for_the_shared_budget_instead_of_going_over_it(monkeypatch):
    clock = FakeClock()
    monkeypatch.setattr(ratelimit.time, "time", clock.now)
    monkeypatch.setattr(ratelimit, "sleep", clock.advance)
    # The fake enforces the same limit on the same clock: going over would be a 429.
    with RunningSandbox(catalog_size=1, rate_limit=5, rate_window=60, clock=clock.now) as sandbox:
        integration = make_integration(sandbox, rate_limit_per_minute=5)
        storefront = OPSStorefront(integration)
        sent_at = []
        storefront.client.session.hooks["response"].append(
            lambda response, **kwargs: sent_at.append(clock.now())
        )

        storefront.push(tee(), PushState())

        log = request_log(sandbox)
    assert len(log) == len(sent_at) == 7
    assert {entry["status"] for entry in log} == {200}
    assert clock.now() - clock.start >= 60
    for moment in sent_at:
        assert len([other for other in sent_at if moment - 60 < other <= moment]) <= 5

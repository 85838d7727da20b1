"""The OVS fake, driven over real HTTP as the hub's connector would drive it."""

import io
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
import requests
from PIL import Image

from sandbox.testing import RunningSandbox

CREDENTIALS = {"username": "demo", "password": "demo-password"}


@pytest.fixture
def sandbox():
    with RunningSandbox() as running:
        yield running


@pytest.fixture
def ovs(sandbox):
    return sandbox.url_of("ovs")


@pytest.fixture
def auth(ovs):
    return bearer(ovs)


def bearer(ovs):
    response = requests.post(f"{ovs}/auth/login", json=CREDENTIALS, timeout=5)
    assert response.status_code == 200
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def get(url, auth, **params):
    return requests.get(url, headers=auth, params=params, timeout=5)


def all_products(ovs, auth, **params):
    products = []
    page = 1
    while page is not None:
        body = get(f"{ovs}/products", auth, page=page, **params).json()
        products.extend(body["items"])
        page = body["next_page"]
    return products


# -- authentication ------------------------------------------------------------------


def test_it_issues_a_bearer_token_for_the_right_credentials(ovs):
    response = requests.post(f"{ovs}/auth/login", json=CREDENTIALS, timeout=5)

    assert response.status_code == 200
    body = response.json()
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == 3600
    assert len(body["access_token"]) >= 20
    products = get(f"{ovs}/products", {"Authorization": f"Bearer {body['access_token']}"})
    assert products.status_code == 200


def test_it_refuses_wrong_credentials(ovs):
    response = requests.post(
        f"{ovs}/auth/login", json={"username": "demo", "password": "wrong"}, timeout=5
    )

    assert response.status_code == 401
    assert response.json() == {"detail": "Invalid credentials"}


def test_it_accepts_the_credentials_it_was_configured_with():
    with RunningSandbox(username="acme", password="s3cret") as running:
        ovs = running.url_of("ovs")
        refused = requests.post(f"{ovs}/auth/login", json=CREDENTIALS, timeout=5)
        accepted = requests.post(
            f"{ovs}/auth/login", json={"username": "acme", "password": "s3cret"}, timeout=5
        )

    assert refused.status_code == 401
    assert accepted.status_code == 200


def test_it_refuses_products_without_a_token_or_with_an_unknown_one(ovs):
    without = requests.get(f"{ovs}/products", timeout=5)
    unknown = get(f"{ovs}/products/OVS-00001", {"Authorization": "Bearer not-a-token"})

    assert without.status_code == 401
    assert without.json() == {"detail": "Not authenticated"}
    assert unknown.status_code == 401
    assert unknown.json() == {"detail": "Not authenticated"}


def test_it_refuses_every_token_issued_before_tokens_are_expired(ovs, auth):
    assert get(f"{ovs}/products", auth).status_code == 200

    requests.post(f"{ovs}/_sandbox/expire-tokens", timeout=5)

    response = get(f"{ovs}/products", auth)
    assert response.status_code == 401
    assert response.json() == {"detail": "Not authenticated"}
    assert get(f"{ovs}/products", bearer(ovs)).status_code == 200


def test_it_refuses_a_token_past_its_lifetime():
    with RunningSandbox(token_ttl=0) as running:
        ovs = running.url_of("ovs")
        login = requests.post(f"{ovs}/auth/login", json=CREDENTIALS, timeout=5).json()
        response = get(f"{ovs}/products", {"Authorization": f"Bearer {login['access_token']}"})

    assert login["expires_in"] == 0
    assert response.status_code == 401


# -- listing -------------------------------------------------------------------------


def test_it_follows_next_page_to_the_end():
    with RunningSandbox(catalog_size=250) as running:
        ovs = running.url_of("ovs")
        auth = bearer(ovs)
        pages = []
        page = 1
        while page is not None:
            body = get(f"{ovs}/products", auth, page=page, page_size=100).json()
            pages.append(body)
            page = body["next_page"]

    assert [body["page"] for body in pages] == [1, 2, 3]
    assert [len(body["items"]) for body in pages] == [100, 100, 50]
    assert [body["next_page"] for body in pages] == [2, 3, None]
    assert {body["total"] for body in pages} == {250}
    codes = [item["code"] for body in pages for item in body["items"]]
    assert codes == [f"OVS-{index:05d}" for index in range(1, 251)]


def test_it_answers_an_empty_page_past_the_end(ovs, auth):
    body = get(f"{ovs}/products", auth, page=9, page_size=100).json()

    assert body["items"] == []
    assert body["total"] == 200
    assert body["next_page"] is None


def test_it_defaults_to_pages_of_100(ovs, auth):
    body = get(f"{ovs}/products", auth).json()

    assert body["page"] == 1
    assert body["page_size"] == 100
    assert len(body["items"]) == 100
    assert body["next_page"] == 2


def test_it_rejects_a_page_size_over_500(ovs, auth):
    too_large = get(f"{ovs}/products", auth, page_size=501)
    largest = get(f"{ovs}/products", auth, page_size=500)

    assert too_large.status_code == 422
    assert "page_size" in too_large.json()["detail"]
    assert largest.status_code == 200
    assert len(largest.json()["items"]) == 200


@pytest.mark.parametrize("page", ["0", "-1", "two", "1.5"])
def test_it_rejects_a_page_that_is_not_a_positive_integer(ovs, auth, page):
    response = get(f"{ovs}/products", auth, page=page)

    assert response.status_code == 422
    assert "page" in response.json()["detail"]


def test_it_lists_only_the_products_touched_since_a_moment(ovs, auth):
    before = get(f"{ovs}/products/OVS-00012", auth).json()
    since = (datetime.now(UTC) - timedelta(seconds=1)).isoformat().replace("+00:00", "Z")

    touched = requests.post(
        f"{ovs}/_sandbox/touch", json={"codes": ["OVS-00012", "OVS-00150"]}, timeout=5
    ).json()
    changed = all_products(ovs, auth, updated_since=since)

    assert touched["touched"] == ["OVS-00012", "OVS-00150"]
    assert [product["code"] for product in changed] == ["OVS-00012", "OVS-00150"]
    assert get(f"{ovs}/products", auth, updated_since=since).json()["total"] == 2
    after = changed[0]
    assert after["name"] == before["name"] + " (rev 2)"
    assert after["updated_at"] > before["updated_at"]
    assert Decimal(after["variants"][0]["price"]) == (
        Decimal(before["variants"][0]["price"]) + Decimal("0.10")
    )


def test_it_touches_a_count_of_products_across_the_catalog(ovs, auth):
    since = (datetime.now(UTC) - timedelta(seconds=1)).isoformat()

    touched = requests.post(f"{ovs}/_sandbox/touch", json={"count": 7}, timeout=5).json()
    changed = all_products(ovs, auth, updated_since=since)

    assert len(touched["touched"]) == 7
    assert [product["code"] for product in changed] == touched["touched"]


def test_it_reads_updated_since_with_an_offset_like_the_same_moment_in_utc(ovs, auth):
    with_offset = get(f"{ovs}/products", auth, updated_since="2026-03-01T02:00:00+02:00")
    in_utc = get(f"{ovs}/products", auth, updated_since="2026-03-01T00:00:00Z")

    assert with_offset.status_code == 200
    assert 0 < with_offset.json()["total"] < 200
    assert with_offset.json() == in_utc.json()
    assert all(item["updated_at"] > "2026-03-01T00:00:00Z" for item in in_utc.json()["items"])


def test_it_rejects_a_malformed_updated_since(ovs, auth):
    response = get(f"{ovs}/products", auth, updated_since="yesterday")

    assert response.status_code == 422
    assert "updated_since" in response.json()["detail"]


# -- single products -----------------------------------------------------------------


def test_it_answers_a_product_by_its_code(ovs, auth):
    listed = get(f"{ovs}/products", auth, page_size=3).json()["items"][2]

    assert get(f"{ovs}/products/OVS-00003", auth).json() == listed


@pytest.mark.parametrize("code", ["OVS-99999", "OVS-3", "nothing"])
def test_it_answers_404_for_an_unknown_product(ovs, auth, code):
    response = get(f"{ovs}/products/{code}", auth)

    assert response.status_code == 404
    assert response.json() == {"detail": "Product not found"}


def test_a_removed_product_disappears_from_listings_and_detail(ovs, auth):
    requests.post(f"{ovs}/_sandbox/remove", json={"codes": ["OVS-00002"]}, timeout=5)

    codes = [product["code"] for product in all_products(ovs, auth)]
    assert "OVS-00002" not in codes
    assert len(codes) == 199
    assert get(f"{ovs}/products", auth).json()["total"] == 199
    assert get(f"{ovs}/products/OVS-00002", auth).status_code == 404


def test_the_same_options_give_the_same_catalog():
    products = []
    for _ in range(2):
        with RunningSandbox(public_base="http://sandbox.test") as running:
            ovs = running.url_of("ovs")
            products.append(get(f"{ovs}/products", bearer(ovs), page_size=50).json()["items"])

    assert products[0] == products[1]
    assert products[0][0]["images"][0]["url"] == "http://sandbox.test/ovs/images/OVS-00001-0.png"


def test_apparel_products_carry_priced_variants_in_colors_and_sizes(ovs, auth):
    product = get(f"{ovs}/products/OVS-00001", auth).json()

    assert product["product_type"] == "apparel"
    assert product["print"] is None
    assert product["category_path"][0] == "Apparel"
    assert len(product["variants"]) == 12
    assert len({variant["sku"] for variant in product["variants"]}) == 12
    for variant in product["variants"]:
        assert variant["currency"] == "USD"
        assert variant["size"] in {"S", "M", "L", "XL", "2XL", "3XL"}
        tiers = variant["price_tiers"]
        assert [(tier["min_qty"], tier["max_qty"]) for tier in tiers] == [
            (1, 11), (12, 143), (144, None),
        ]
        assert tiers[0]["price"] == variant["price"]
        assert Decimal(tiers[0]["price"]) > Decimal(tiers[2]["price"])
    assert 2 <= len(product["images"]) <= 4
    assert [image["sort_order"] for image in product["images"]] == list(
        range(len(product["images"]))
    )


def test_some_apparel_variants_have_no_size(ovs, auth):
    products = all_products(ovs, auth)
    one_size = [
        product for product in products
        if product["variants"] and all(v["size"] is None for v in product["variants"])
    ]

    assert one_size
    assert all(product["product_type"] == "apparel" for product in one_size)
    assert len({v["sku"] for product in one_size for v in product["variants"]}) == sum(
        len(product["variants"]) for product in one_size
    )


def test_every_fifth_product_is_a_print_product_with_its_sizes(ovs, auth):
    products = all_products(ovs, auth)
    prints = [product for product in products if product["product_type"] == "print"]

    assert [product["code"] for product in prints] == [
        f"OVS-{index:05d}" for index in range(5, 201, 5)
    ]
    for product in prints:
        assert product["variants"] == []
        assert product["category_path"][0] == "Print"
        details = product["print"]
        assert details["min_width"] <= details["max_width"]
        assert details["min_height"] <= details["max_height"]
        assert Decimal(details["base_price_per_sq_unit"]) > 0
        assert details["sizes"] and all(size["unit"] == "in" for size in details["sizes"])
    assert any(len(product["category_path"]) == 3 for product in products)


def test_it_serves_each_product_image_as_a_png(sandbox, ovs, auth):
    product = get(f"{ovs}/products/OVS-00001", auth).json()
    sandbox.fakes["ovs"].set_faults(fail_next=5)

    for image in product["images"]:
        response = requests.get(image["url"], timeout=5)
        assert response.status_code == 200
        assert response.headers["Content-Type"] == "image/png"
        assert Image.open(io.BytesIO(response.content)).size == (64, 64)
    assert requests.get(f"{ovs}/images/OVS-00001-9.png", timeout=5).status_code == 404
    assert requests.get(f"{ovs}/images/OVS-99999-0.png", timeout=5).status_code == 404


# -- faults --------------------------------------------------------------------------


def test_fail_next_answers_500_then_recovers(sandbox, ovs, auth):
    sandbox.fakes["ovs"].set_faults(fail_next=2)

    statuses = [get(f"{ovs}/products", auth).status_code for _ in range(3)]

    assert statuses == [500, 500, 200]


def test_faults_apply_to_login_too(sandbox, ovs):
    sandbox.fakes["ovs"].set_faults(fail_next=1)

    first = requests.post(f"{ovs}/auth/login", json=CREDENTIALS, timeout=5)
    second = requests.post(f"{ovs}/auth/login", json=CREDENTIALS, timeout=5)

    assert first.status_code == 500
    assert second.status_code == 200


def test_rate_limit_next_answers_429_with_retry_after(ovs, auth):
    requests.post(
        f"{ovs}/_sandbox/faults", json={"rate_limit_next": 1, "retry_after": 7}, timeout=5
    )

    limited = get(f"{ovs}/products", auth)
    allowed = get(f"{ovs}/products", auth)

    assert limited.status_code == 429
    assert limited.headers["Retry-After"] == "7"
    assert allowed.status_code == 200


def test_malformed_next_answers_a_body_that_is_not_json(sandbox, ovs, auth):
    sandbox.fakes["ovs"].set_faults(malformed_next=1)

    malformed = get(f"{ovs}/products", auth)

    assert malformed.status_code == 200
    with pytest.raises(requests.JSONDecodeError):
        malformed.json()
    assert get(f"{ovs}/products", auth).json()["total"] == 200


def test_error_rate_fails_about_that_fraction_of_requests(sandbox, ovs, auth):
    sandbox.fakes["ovs"].set_faults(error_rate=0.5)

    statuses = [get(f"{ovs}/products", auth, page_size=1).status_code for _ in range(40)]

    assert set(statuses) == {200, 500}
    assert 8 <= statuses.count(500) <= 32


def test_fail_page_fails_only_that_page_while_set(sandbox, ovs, auth):
    sandbox.fakes["ovs"].set_faults(fail_page=2)

    first = get(f"{ovs}/products", auth, page=1)
    second = [get(f"{ovs}/products", auth, page=2).status_code for _ in range(2)]
    third = get(f"{ovs}/products", auth, page=3)
    sandbox.fakes["ovs"].set_faults(fail_page=None)

    assert first.status_code == 200
    assert second == [500, 500]
    assert third.status_code == 200
    assert get(f"{ovs}/products", auth, page=2).status_code == 200


def test_bad_product_codes_are_served_malformed(sandbox, ovs, auth):
    sandbox.fakes["ovs"].set_faults(bad_product_codes=["OVS-00004"])

    items = get(f"{ovs}/products", auth, page_size=5).json()["items"]
    bad = items[3]

    assert bad["code"] == "OVS-00004"
    assert "name" not in bad
    assert isinstance(bad["variants"], str)
    assert all("name" in item and isinstance(item["variants"], list) for item in items[:3])
    assert "name" not in get(f"{ovs}/products/OVS-00004", auth).json()


def test_control_paths_are_never_faulted(sandbox, ovs):
    sandbox.fakes["ovs"].set_faults(fail_next=3)

    touched = requests.post(f"{ovs}/_sandbox/touch", json={"count": 1}, timeout=5)
    expired = requests.post(f"{ovs}/_sandbox/expire-tokens", timeout=5)

    assert touched.status_code == 200
    assert expired.status_code == 200
    assert sandbox.fakes["ovs"].faults["fail_next"] == 3


def test_reset_restores_the_catalog_and_clears_faults(sandbox, ovs, auth):
    original = get(f"{ovs}/products/OVS-00010", auth).json()
    requests.post(f"{ovs}/_sandbox/touch", json={"codes": ["OVS-00010"]}, timeout=5)
    requests.post(f"{ovs}/_sandbox/remove", json={"codes": ["OVS-00011"]}, timeout=5)
    sandbox.fakes["ovs"].set_faults(fail_page=1)

    requests.post(f"{ovs}/_sandbox/reset", timeout=5)
    auth = bearer(ovs)

    assert get(f"{ovs}/products/OVS-00010", auth).json() == original
    assert get(f"{ovs}/products/OVS-00011", auth).status_code == 200
    assert get(f"{ovs}/products", auth, page=1).status_code == 200


def test_it_logs_the_requests_it_answered(ovs, auth):
    get(f"{ovs}/products", auth, page=2, page_size=10)

    log = requests.get(f"{ovs}/_sandbox/requests", timeout=5).json()

    assert log == [
        {"method": "POST", "path": "/auth/login", "query": "", "status": 200},
        {"method": "GET", "path": "/products", "query": "page=2&page_size=10", "status": 200},
    ]


def test_the_root_lists_the_mounted_fakes(sandbox):
    body = requests.get(f"{sandbox.url}/", timeout=5).json()

    assert body["fakes"]["ovs"] == f"{sandbox.url}/ovs"

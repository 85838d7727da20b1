"""The fake PrintOps, driven in-process over WSGI (and once over real HTTP)."""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests
from werkzeug.test import Client

from sandbox.printops import SPEC_BASE_PRODUCTS, PrintOpsFake, page_numbers
from sandbox.testing import RunningSandbox

TOKEN = "demo-printops-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
ENVELOPE_KEYS = {"data", "status", "code", "messages"}
DEMO_STORE = 786322
FIRST_STORE = 786321


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


@pytest.fixture
def fake():
    return PrintOpsFake()


@pytest.fixture
def client(fake):
    return Client(fake)


def get(client, path, **kwargs):
    return client.get(path, headers=AUTH, **kwargs)


def post(client, path, body=None):
    return client.post(path, headers=AUTH, json=body if body is not None else {})


def all_pages(client, path):
    """Every row of a list, following links.next until it is null."""
    rows, url, pages = [], path, 0
    while url:
        answer = get(client, url).json
        key = next(iter(answer["data"]))
        rows += answer["data"][key]
        url = answer["links"]["next"]
        pages += 1
    return rows, pages


def test_a_request_with_the_token_is_answered_in_the_envelope(client):
    answer = get(client, "/api/stores")

    assert answer.status_code == 200
    assert answer.json["status"] == "OK"
    assert answer.json["code"] == 200
    assert answer.json["messages"] == []


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer wrong"},
                                     {"Authorization": TOKEN}])
def test_a_missing_or_wrong_token_gets_the_401_envelope(client, headers):
    answer = client.get("/api/base-products", headers=headers)

    assert answer.status_code == 401
    assert answer.json == {"data": {"message": "Unauthenticated."}, "status": "Unauthorized",
                           "code": 401, "messages": []}


def test_another_token_can_be_configured():
    client = Client(PrintOpsFake(api_token="other-token"))

    assert client.get("/api/authentication-test", headers=AUTH).status_code == 401
    answer = client.get("/api/authentication-test",
                        headers={"Authorization": "Bearer other-token"})
    assert answer.status_code == 200


def test_authentication_test_confirms_the_token(client):
    answer = get(client, "/api/authentication-test")

    assert answer.status_code == 200
    assert answer.json["data"] == {"message": ["Success - you are authenticated."]}


def test_base_products_page_through_links_next_until_null_each_seen_once(client):
    products, pages = all_pages(client, "/api/base-products")

    ids = [product["id"] for product in products]
    assert pages == 3
    assert len(ids) == 40 == len(set(ids))
    assert {1, 15, 50, 102} <= set(ids)


def test_the_first_page_of_base_products_has_the_spec_paging_shape(client):
    answer = get(client, "/api/base-products").json

    assert [product["id"] for product in answer["data"]["base_products"]] == list(range(1, 16))
    assert answer["links"] == {
        "first": "http://localhost/api/base-products?page=1",
        "last": "http://localhost/api/base-products?page=3",
        "prev": None,
        "next": "http://localhost/api/base-products?page=2",
    }
    meta = answer["meta"]
    assert {key: meta[key] for key in meta if key != "links"} == {
        "current_page": 1, "from": 1, "last_page": 3,
        "path": "http://localhost/api/base-products", "per_page": 15, "to": 15, "total": 40,
    }
    assert meta["links"] == [
        {"url": None, "label": "« Previous", "active": False},
        {"url": "http://localhost/api/base-products?page=1", "label": "1", "active": True},
        {"url": "http://localhost/api/base-products?page=2", "label": "2", "active": False},
        {"url": "http://localhost/api/base-products?page=3", "label": "3", "active": False},
        {"url": "http://localhost/api/base-products?page=2", "label": "Next »", "active": False},
    ]


def test_limit_sets_the_page_size_but_the_links_carry_only_the_page(client):
    answer = get(client, "/api/base-products?limit=2&page=2").json

    assert [product["id"] for product in answer["data"]["base_products"]] == [3, 4]
    assert answer["meta"]["per_page"] == 2
    assert answer["meta"]["from"] == 3
    assert answer["meta"]["to"] == 4
    assert answer["meta"]["last_page"] == 20
    assert answer["links"]["next"] == "http://localhost/api/base-products?page=3"


def test_the_page_size_option_sets_the_default_page_size():
    client = Client(PrintOpsFake(page_size=10, catalog_size=25))

    products, pages = all_pages(client, "/api/base-products")

    assert pages == 3
    assert len(products) == 25


def test_a_page_past_the_last_is_empty(client):
    answer = get(client, "/api/base-products?page=9").json

    assert answer["data"]["base_products"] == []
    assert answer["meta"]["from"] is None
    assert answer["meta"]["to"] is None
    assert answer["links"]["next"] is None


def test_meta_links_elide_the_middle_of_many_pages():
    assert page_numbers(1, 105) == [*range(1, 11), "...", 104, 105]
    assert page_numbers(50, 105) == [1, 2, "...", *range(47, 54), "...", 104, 105]
    assert page_numbers(105, 105) == [1, 2, "...", *range(96, 106)]
    assert page_numbers(3, 13) == list(range(1, 14))


def test_base_products_filter_by_product_category(client):
    answer = get(client, "/api/base-products?product_category_id=5&limit=50").json

    products = answer["data"]["base_products"]
    assert {product["product_category"] for product in products} == {5}
    assert "FB12" in [product["sku"] for product in products]


def test_the_catalog_holds_several_categories_each_in_several_sizes(client):
    products, _ = all_pages(client, "/api/base-products")

    sizes_by_category = {}
    for product in products:
        size = (product["properties"]["width"], product["properties"]["height"])
        sizes_by_category.setdefault(product["product_category"], set()).add(size)
    assert len(sizes_by_category) >= 5
    assert all(len(sizes) >= 4 for sizes in sizes_by_category.values())


def test_a_base_product_is_as_the_spec_shows(client):
    answer = get(client, "/api/base-products/1")

    assert answer.status_code == 200
    assert answer.json["data"]["base_product"] == SPEC_BASE_PRODUCTS[0]
    assert answer.json["data"]["base_product"]["properties"] == {
        "ratio": "4:5", "width": 8, "height": 10, "weight": 0.037,
        "paperType": "Sappi McCoy 80lb/216gsm Coated Cover", "thickness": 0.009,
        "ratio_decimal": 0.8,
    }


def test_a_generated_base_product_has_the_same_properties_keys(client):
    product = get(client, "/api/base-products/16").json["data"]["base_product"]

    assert set(product) == set(SPEC_BASE_PRODUCTS[0])
    assert set(product["properties"]) == set(SPEC_BASE_PRODUCTS[0]["properties"])
    assert product["properties"]["width"] == 8
    assert product["properties"]["height"] == 10


def test_an_unknown_base_product_is_a_404_in_the_envelope(client):
    answer = get(client, "/api/base-products/999")

    assert answer.status_code == 404
    assert answer.json == {"data": {"message": "The base product record was not found."},
                           "status": "Not Found", "code": 404, "messages": []}


def test_shipping_methods_are_listed_as_the_spec_shows(client):
    methods = get(client, "/api/shipping-methods").json["data"]["shipping_methods"]

    assert len(methods) == 41
    assert methods[0] == {"shipping_carrier": "UPS", "name": "UPS Standard℠",
                          "identifier": "ups_standard"}
    assert {"shipping_carrier": "USPS", "name": "USPS Ground Advantage",
            "identifier": "usps_ground_advantage"} in methods


def test_a_created_store_is_listed_and_fetched(client):
    created = post(client, "/api/stores", {"name": "My Great Store", "type": "generic"})

    assert created.status_code == 201
    assert created.json["status"] == "created"
    assert created.json["code"] == 201
    store = created.json["data"]["store"]
    assert store == {"id": 786323, "name": "My Great Store", "type": "generic",
                     "is_live": True, "dropbox_name": None}
    stores, _ = all_pages(client, "/api/stores")
    assert [row["id"] for row in stores] == [FIRST_STORE, DEMO_STORE, 786323]
    assert get(client, "/api/stores/786323").json["data"]["store"] == store


def test_a_store_without_a_name_is_a_422_with_messages(client):
    answer = post(client, "/api/stores", {"type": "generic"})

    assert answer.status_code == 422
    assert answer.json["code"] == 422
    assert answer.json["messages"] == ["The name field is required."]
    assert answer.json["data"]["errors"] == {"name": ["The name field is required."]}


def test_an_unknown_store_is_a_404(client):
    assert get(client, "/api/stores/1").status_code == 404
    assert get(client, "/api/stores/1/orders").json["data"]["message"] == (
        "The store record was not found."
    )


def test_an_image_created_from_a_url_is_stored_without_being_fetched(client, fake):
    url = "http://images.invalid/art/sunset.jpg"

    answer = post(client, "/api/images", {"image_url": url, "filename": "sunset.jpg"})

    assert answer.status_code == 201
    assert answer.json["status"] == "created"
    upload = answer.json["data"]
    assert upload["image_url"] == url
    assert upload["filename"] == "sunset.jpg"
    assert upload["errors"] is None
    assert len(upload["image_token"]) == 32
    image = get(client, f"/api/images/{upload['image_id']}").json["data"]["image"]
    assert image["image_token"] == upload["image_token"]
    assert image["original_name"] == "sunset.jpg"
    assert fake.state["image_imports"][0]["image_url"] == url


def test_an_image_without_a_url_is_a_422(client):
    answer = post(client, "/api/images", {"filename": "sunset.jpg"})

    assert answer.status_code == 422
    assert "image_url" in answer.json["data"]["errors"]


def test_images_are_listed(client):
    images, _ = all_pages(client, "/api/images")

    assert [image["id"] for image in images] == [1, 2, 20, 210, 211]


def test_a_user_product_created_from_a_base_product_is_listed(client):
    body = {"base_product_id": 50, "user_sku": "LS_Gas_station_12x16_FB",
            "name": "Landscape Gas Station 12x16 Framed Black",
            "description": "Landscape Gas Station Photo in 12x16 size.", "scale_option": "fit",
            "image": {"image_url": "https://art.invalid/gas_station.jpg",
                      "filename": "gas_station.jpg"}}

    created = post(client, f"/api/stores/{FIRST_STORE}/user-products", body)

    assert created.status_code == 201
    assert created.json["status"] == ["OK", "created"]
    assert created.json["code"] == [201]
    user_product = created.json["data"]["userProduct"]
    assert user_product["store_id"] == FIRST_STORE
    assert user_product["base_product"]["sku"] == "FB12"
    assert user_product["image"]["original_name"] == "gas_station.jpg"
    assert user_product["thumbnail"].endswith(f"/{user_product['image']['image_token']}.jpg")
    listed, _ = all_pages(client, f"/api/stores/{FIRST_STORE}/user-products")
    assert [row["id"] for row in listed] == [48604, 48605, user_product["id"]]
    fetched = get(client, f"/api/stores/{FIRST_STORE}/user-products/{user_product['id']}")
    assert fetched.json["data"]["userProduct"] == user_product


def test_a_user_product_with_bad_fields_is_a_422_naming_each(client):
    body = {"base_product_id": 999, "user_sku": "x", "name": "x", "scale_option": "squash",
            "image": {"image_url": "https://art.invalid/a.jpg", "filename": "a.gif"}}

    answer = post(client, f"/api/stores/{FIRST_STORE}/user-products", body)

    assert answer.status_code == 422
    assert set(answer.json["data"]["errors"]) == {
        "base_product_id", "description", "scale_option", "image.filename",
    }
    assert len(answer.json["messages"]) == 4


def test_a_user_product_of_another_store_is_a_404(client):
    answer = get(client, f"/api/stores/{DEMO_STORE}/user-products/48604")

    assert answer.status_code == 404
    assert answer.json["data"]["message"] == "The user product record was not found."


def test_orders_of_a_store_are_listed_and_fetched(client):
    orders, _ = all_pages(client, f"/api/stores/{DEMO_STORE}/orders")

    assert [(order["id"], order["state"]) for order in orders] == [
        (320100, "payment_pending"), (320101, "shipped"),
    ]
    order = get(client, f"/api/stores/{DEMO_STORE}/orders/320101").json["data"]["order"]
    assert order["line_items"][0]["user_product"]["base_product"]["sku"] == "PP16"
    assert order["shipments"]["shipments"][0]["tracking_number"] == "9434611206219544571716"
    assert order["order_total"]["grand_total"] == 1420
    assert get(client, f"/api/stores/{FIRST_STORE}/orders/320101").status_code == 404


def test_an_order_can_be_canceled_unless_it_shipped(client):
    canceled = post(client, f"/api/stores/{DEMO_STORE}/orders/320100/cancel")
    refused = post(client, f"/api/stores/{DEMO_STORE}/orders/320101/cancel")

    assert canceled.status_code == 201
    assert canceled.json == {"data": {"message": "Cancellation request received."},
                             "status": "OK", "code": 200, "messages": []}
    order = get(client, f"/api/stores/{DEMO_STORE}/orders/320100").json["data"]["order"]
    assert order["state"] == "canceled"
    assert order["canceled_at"]
    assert refused.status_code == 422


def test_shipments_of_a_store_are_listed_and_fetched(client):
    shipments, _ = all_pages(client, f"/api/stores/{DEMO_STORE}/shipments")

    assert [shipment["id"] for shipment in shipments] == [3]
    shipment = get(client, f"/api/stores/{DEMO_STORE}/shipments/3").json["data"]["shipment"]
    assert shipment["order_id"] == 320101
    assert shipment["shipping_method_identifier"] == "usps_ground_advantage"
    assert get(client, f"/api/stores/{FIRST_STORE}/shipments/3").status_code == 404


def test_webhooks_are_created_listed_fetched_and_deleted(client):
    created = post(client, "/api/webhooks", {"type": "order_shipment", "is_active": "true"})

    assert created.status_code == 201
    assert created.json["status"] == "created"
    webhook = created.json["data"]
    assert webhook["is_active"] is True
    assert webhook["type"] == "order_shipment"
    listed = get(client, "/api/webhooks").json
    assert [(row["id"], row["is_active"]) for row in listed["data"]["webhooks"]] == [
        (webhook["id"], 1)
    ]
    assert set(get(client, f"/api/webhooks/{webhook['id']}").json["data"]["webhook"]) == {
        "id", "is_active", "type", "created_at", "updated_at"
    }
    deleted = client.delete(f"/api/webhooks/{webhook['id']}", headers=AUTH)
    assert deleted.json == {"data": {"message": "Webhook deleted"}, "status": "Success",
                            "code": 200, "messages": []}
    gone = get(client, f"/api/webhooks/{webhook['id']}")
    assert gone.status_code == 404
    assert gone.json["data"] == {"message": "The webhook record was not found."}


def test_a_webhook_of_an_unknown_type_is_a_422(client):
    assert post(client, "/api/webhooks", {"type": "order_created"}).status_code == 422


@pytest.mark.parametrize(("body", "field"), [
    ({"type": "order_shipment", "is_active": "true", "url": "https://hub.example.com/h"},
     "url"),
    ({"type": "order_shipment", "is_active": True}, "is_active"),
    ({"type": "order_shipment", "is_active": 1}, "is_active"),
    ({"type": "order_shipment", "is_active": "yes"}, "is_active"),
    ({"type": ["order_shipment"]}, "type"),
])
def test_a_webhook_body_beyond_the_spec_is_a_422_naming_the_field(client, body, field):
    answer = post(client, "/api/webhooks", body)

    assert answer.status_code == 422
    assert list(answer.json["data"]["errors"]) == [field]
    assert get(client, "/api/webhooks").json["data"]["webhooks"] == []


def test_rate_limit_headers_count_down_then_429_with_retry_after():
    clock = Clock()
    client = Client(PrintOpsFake(rate_limit=3, clock=clock))

    remaining = [get(client, "/api/stores").headers["x-ratelimit-remaining"] for _ in range(3)]
    limited = get(client, "/api/stores")

    assert remaining == ["2", "1", "0"]
    assert limited.status_code == 429
    assert limited.headers["x-ratelimit-limit"] == "3"
    assert limited.headers["Retry-After"] == "60"
    assert limited.json["code"] == 429
    clock.now += 60
    assert get(client, "/api/stores").status_code == 200


def test_the_default_rate_limit_is_60_a_minute(client):
    answer = get(client, "/api/stores")

    assert answer.headers["x-ratelimit-limit"] == "60"
    assert answer.headers["x-ratelimit-remaining"] == "59"


def test_the_rate_limit_next_fault_answers_429_in_the_envelope(client, fake):
    fake.set_faults(rate_limit_next=1, retry_after=7)

    limited = get(client, "/api/stores")

    assert limited.status_code == 429
    assert limited.headers["Retry-After"] == "7"
    assert set(limited.json) == ENVELOPE_KEYS
    assert get(client, "/api/stores").status_code == 200


def test_fail_path_answers_500_while_set(client):
    client.post("/_sandbox/faults", json={"fail_path": "/api/stores/786322/orders"})

    failing = get(client, f"/api/stores/{DEMO_STORE}/orders")

    assert failing.status_code == 500
    assert failing.json["code"] == 500
    assert get(client, f"/api/stores/{DEMO_STORE}/shipments").status_code == 200
    client.post("/_sandbox/faults", json={"fail_path": None})
    assert get(client, f"/api/stores/{DEMO_STORE}/orders").status_code == 200


def test_removed_base_products_are_unlisted_and_404(client):
    removed = client.post("/_sandbox/remove-base-products", json={"ids": [1, 50]})

    assert removed.status_code == 200
    products, _ = all_pages(client, "/api/base-products")
    ids = {product["id"] for product in products}
    assert len(ids) == 38
    assert not {1, 50} & ids
    assert get(client, "/api/base-products/50").status_code == 404


def test_a_changed_price_shows_on_the_base_product(client):
    client.post("/_sandbox/change-base-product", json={"id": 6, "price": 3.5})

    assert get(client, "/api/base-products/6").json["data"]["base_product"]["price"] == "3.50"


def test_reset_restores_the_seeded_state(client):
    post(client, "/api/stores", {"name": "Extra", "type": "generic"})
    client.post("/_sandbox/remove-base-products", json={"ids": [1]})

    client.post("/_sandbox/reset")

    assert get(client, "/api/stores").json["meta"]["total"] == 2
    assert get(client, "/api/base-products/1").status_code == 200


def test_the_state_control_shows_what_the_fake_holds(client):
    state = client.get("/_sandbox/state").json

    assert state["base_products"]["count"] == 40
    assert [store["id"] for store in state["stores"]] == [FIRST_STORE, DEMO_STORE]
    assert len(state["orders"]) == 4


def test_a_thumbnail_is_served_by_the_fake(client):
    user_product = get(client, f"/api/stores/{FIRST_STORE}/user-products/48604").json
    path = user_product["data"]["userProduct"]["thumbnail"].removeprefix("http://localhost")

    answer = client.get(path)

    assert answer.status_code == 200
    assert answer.mimetype == "image/jpeg"


def test_every_answer_is_in_the_envelope(client):
    answers = [
        get(client, "/api/base-products"), get(client, "/api/base-products/1"),
        get(client, "/api/base-products/abc"), get(client, "/api/authentication-test"),
        get(client, "/api/shipping-methods"), get(client, "/api/stores"),
        get(client, f"/api/stores/{DEMO_STORE}"), post(client, "/api/stores", {}),
        get(client, "/api/images"), get(client, "/api/images/1"),
        post(client, "/api/images", {}),
        get(client, f"/api/stores/{DEMO_STORE}/user-products"),
        get(client, f"/api/stores/{DEMO_STORE}/user-products/47230"),
        post(client, f"/api/stores/{DEMO_STORE}/user-products", {}),
        get(client, f"/api/stores/{DEMO_STORE}/orders"),
        get(client, f"/api/stores/{DEMO_STORE}/orders/320100"),
        post(client, f"/api/stores/{DEMO_STORE}/orders/320101/cancel"),
        get(client, f"/api/stores/{DEMO_STORE}/shipments"),
        get(client, f"/api/stores/{DEMO_STORE}/shipments/3"),
        get(client, "/api/webhooks"), get(client, "/api/webhooks/1"),
        post(client, "/api/webhooks", {"type": "order_state_update"}),
        client.delete("/api/webhooks/1", headers=AUTH),
        client.put("/api/stores", headers=AUTH), client.get("/api/stores"),
        get(client, "/api/unknown"),
    ]

    for answer in answers:
        assert ENVELOPE_KEYS <= set(answer.json), answer.request.path
        assert answer.headers["Content-Type"] == "application/json"


class Receiver(BaseHTTPRequestHandler):
    received = []

    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.received.append((self.path, json.loads(body)))
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def receiver():
    Receiver.received = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                              daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()
    thread.join()


def test_a_sent_webhook_is_delivered_over_http_to_the_accounts_delivery_url(receiver):
    hook_url = f"http://127.0.0.1:{receiver.server_port}/hooks/printops"
    with RunningSandbox() as sandbox:
        base = sandbox.url_of("printops")
        for event in ("order_shipment", "order_state_update"):
            requests.post(f"{base}/api/webhooks", headers=AUTH, timeout=5,
                          json={"type": event, "is_active": "true"})
        undelivered = requests.post(f"{base}/_sandbox/send-webhook", timeout=10, json={
            "event": "order_shipment", "store_id": DEMO_STORE, "order_id": 320101,
        }).json()["deliveries"]
        requests.post(f"{base}/_sandbox/delivery-url", json={"url": hook_url}, timeout=5)

        sent = requests.post(f"{base}/_sandbox/send-webhook", timeout=10, json={
            "event": "order_shipment", "store_id": DEMO_STORE, "order_id": 320101,
        })

    assert undelivered == [{"webhook_id": 1, "url": None, "status": None,
                            "error": "the account has no delivery URL"}]
    assert sent.status_code == 200
    assert sent.json()["deliveries"] == [
        {"webhook_id": 1, "url": hook_url, "status": 200, "error": None}
    ]
    [(path, payload)] = Receiver.received
    assert path == "/hooks/printops"
    assert payload["type"] == "order_shipment"
    assert payload["store_id"] == DEMO_STORE
    assert payload["order_id"] == 320101
    assert payload["order"]["state"] == "shipped"
    assert payload["shipments"][0]["tracking_number"] == "9434611206219544571716"
    thumbnail = payload["order"]["line_items"][0]["user_product"]["thumbnail"]
    assert thumbnail.startswith(f"{base}/thumbnails/")

"""The OMS fake, driven in-process over WSGI as the hub's OMS client would drive it."""

import pytest
from werkzeug.test import Client

from sandbox.oms import OMSFake
from sandbox.server import FAKES

AUTH = {"Authorization": "Bearer demo-oms-token"}


@pytest.fixture
def fake():
    return OMSFake(public_base="http://sandbox.test", catalog_size=10)


@pytest.fixture
def client(fake):
    return Client(fake)


def call(client, method, path, body=None, headers=AUTH):
    return client.open(path, method=method, json=body, headers=headers)


def create(client, path, body):
    response = call(client, "POST", path, body)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def category(client, name="Apparel", **fields):
    return create(client, "/api/v1/product-categories", {"name": name, **fields})


def product(client, category_id, name="Classic White T-Shirt", **fields):
    body = {
        "category_id": category_id, "name": name, "code": "CWT001", "order_column": 1,
        "active": True, "team_id": 5, **fields,
    }
    return create(client, "/api/v1/products", body)


def variant(client, product_id, name="Classic White T-Shirt - Large", **fields):
    body = {"name": name, "product_id": product_id, "country_id": 1, **fields}
    return create(client, "/api/v1/product-variants", body)


def order_item(item_id="ITEM-001", **fields):
    return {
        "ecommerce_order_item_id": item_id,
        "ecommerce_variant_id": "VAR-1",
        "quantity": 2,
        "template_config": "%7B%22text%22%3A%22Hi%22%7D",
        "thumbnails": ["https://shop.test/thumb.png"],
        **fields,
    }


def order(client, items=None, **fields):
    body = {
        "store_id": "store-1", "ecommerce_order_id": "ORD-001",
        "items": items or [order_item()], **fields,
    }
    return create(client, "/api/v1/orders", body)


# -- authentication ------------------------------------------------------------------


def test_it_answers_a_request_that_carries_the_api_token(client):
    response = call(client, "GET", "/api/v1/products")

    assert response.status_code == 200
    assert response.get_json() == []


@pytest.mark.parametrize(
    "headers", [{}, {"Authorization": "Bearer wrong"}, {"Authorization": "demo-oms-token"}]
)
def test_it_refuses_a_missing_or_wrong_token_with_401(client, headers):
    response = call(client, "GET", "/api/v1/products", headers=headers)

    assert response.status_code == 401
    assert response.get_json() == {
        "message": "Unauthorized",
        "details": {"authorization": "Missing or invalid API token."},
    }


def test_it_accepts_the_token_it_was_configured_with_and_ignores_unknown_options():
    client = Client(OMSFake(api_token="s3cret", public_base="http://x.test", unknown=1))

    assert call(client, "GET", "/api/v1/products").status_code == 401
    ok = call(client, "GET", "/api/v1/products", headers={"Authorization": "Bearer s3cret"})
    assert ok.status_code == 200


def test_the_sandbox_server_mounts_it_as_oms():
    assert FAKES["oms"] == "sandbox.oms.OMSFake"


# -- product categories --------------------------------------------------------------


def test_a_category_tree_is_built_parent_first(client):
    apparel = category(client, "Apparel", description="All apparel")
    shirts = category(client, "T-Shirts", parent_id=apparel["uuid"])
    polos = category(client, "Polos", parent_id=apparel["uuid"])

    assert apparel["id"] == 1 and shirts["id"] == 2
    assert apparel["parent_id"] is None
    assert apparel["default_dpi"] == 300
    assert len(apparel["uuid"]) == 36
    assert shirts["parent_id"] == apparel["id"]
    assert polos["parent_id"] == apparel["id"]
    fetched = call(client, "GET", f"/api/v1/product-categories/{shirts['id']}").get_json()
    assert fetched == shirts
    by_uuid = call(client, "GET", f"/api/v1/product-categories/{shirts['uuid']}").get_json()
    assert by_uuid == shirts


def test_a_category_under_an_unknown_parent_is_refused(client):
    unknown = "aef6d9d6-4cc6-4b45-bccf-aab97e886440"
    response = call(client, "POST", "/api/v1/product-categories",
                    {"name": "X", "parent_id": unknown})

    assert response.status_code == 400
    assert response.get_json() == {
        "message": "Bad Request",
        "details": {"parent_id": f"Product category {unknown} not found."},
    }


@pytest.mark.parametrize(("path", "body", "field"), [
    # A category names its parent and its location by UID: strings.
    ("/api/v1/product-categories", {"name": "X", "parent_id": 1}, "parent_id"),
    ("/api/v1/product-categories", {"name": "X", "default_location_id": 2},
     "default_location_id"),
    # A product's and a variant's ids are integers.
    ("/api/v1/products", {"category_id": "1", "name": "X", "order_column": 1, "active": True,
                          "team_id": 5}, "category_id"),
    ("/api/v1/products", {"category_id": 1, "name": "X", "order_column": 1, "active": True,
                          "team_id": "5"}, "team_id"),
    ("/api/v1/products", {"category_id": 1, "name": "X", "order_column": 1, "active": True,
                          "team_id": 5, "default_location_id": "2"}, "default_location_id"),
    ("/api/v1/product-variants", {"name": "L", "product_id": 1, "country_id": "44"},
     "country_id"),
    ("/api/v1/product-variants", {"name": "L", "product_id": 1, "country_id": 44,
                                  "default_location_id": "2"}, "default_location_id"),
    # Fields an endpoint does not document are refused, not dropped.
    ("/api/v1/product-variants", {"name": "L", "product_id": 1, "country_id": 44,
                                  "price": "7.99"}, "price"),
])
def test_catalog_fields_of_another_type_or_undocumented_are_refused(
    client, path, body, field
):
    apparel = category(client, "Apparel")
    product(client, apparel["id"])

    response = call(client, "POST", path, body)

    assert response.status_code == 400
    assert field in response.get_json()["details"]


def test_a_variant_takes_a_uuid_on_create_only(client):
    apparel = category(client, "Apparel")
    shirt = product(client, apparel["id"])
    uid = "d4e5f6a7-b8c9-0123-def0-234567890123"

    created = create(client, "/api/v1/product-variants",
                     {"uuid": uid, "name": "L", "product_id": shirt["id"], "country_id": 44})
    update = call(client, "PUT", f"/api/v1/product-variants/{created['id']}",
                  {"uuid": uid, "name": "XL"})

    assert created["uuid"] == uid
    assert update.status_code == 400 and "uuid" in update.get_json()["details"]


def test_a_category_is_updated_with_put_and_keeps_the_fields_not_sent(client):
    shirts = category(client, "T-Shirts", description="All types")

    response = call(
        client, "PUT", f"/api/v1/product-categories/{shirts['id']}",
        {"name": "Premium T-Shirts", "default_dpi": 600},
    )

    assert response.status_code == 200
    assert response.get_json() == {
        **shirts, "name": "Premium T-Shirts", "default_dpi": 600,
    }


def test_a_category_cannot_be_moved_under_its_own_descendant(client):
    apparel = category(client, "Apparel")
    shirts = category(client, "T-Shirts", parent_id=apparel["uuid"])

    response = call(
        client, "PUT", f"/api/v1/product-categories/{apparel['id']}",
        {"parent_id": shirts["uuid"]},
    )

    assert response.status_code == 400
    assert response.get_json()["details"] == {
        "parent_id": "A category cannot be placed under itself."
    }


def test_a_category_is_deleted_only_once_it_is_empty(client):
    apparel = category(client, "Apparel")
    shirts = category(client, "T-Shirts", parent_id=apparel["uuid"])

    refused = call(client, "DELETE", f"/api/v1/product-categories/{apparel['id']}")
    deleted = call(client, "DELETE", f"/api/v1/product-categories/{shirts['id']}")

    assert refused.status_code == 400
    assert refused.get_json()["details"] == {
        "category_id": "Product category 1 still has 1 subcategories and 0 products."
    }
    assert deleted.status_code == 200
    assert deleted.get_json() == {
        "message": "Product category successfully deleted", "category_id": shirts["id"],
    }
    listed = call(client, "GET", "/api/v1/product-categories").get_json()
    assert [row["name"] for row in listed] == ["Apparel"]


# -- products ------------------------------------------------------------------------


def test_a_product_is_created_in_its_category(client):
    shirts = category(client, "T-Shirts")

    created = product(client, shirts["id"], description="A classic", default_location_id=2)

    assert created["id"] == 1
    assert len(created["uuid"]) == 36
    assert {key: created[key] for key in ("category_id", "name", "code", "active", "team_id")} == {
        "category_id": shirts["id"], "name": "Classic White T-Shirt", "code": "CWT001",
        "active": True, "team_id": 5,
    }
    assert created["default_dpi"] is None
    assert call(client, "GET", "/api/v1/products/1").get_json() == created


def test_a_product_without_its_required_fields_is_refused_with_each_field_named(client):
    response = call(client, "POST", "/api/v1/products", {"name": "", "code": "X"})

    assert response.status_code == 400
    assert response.get_json() == {
        "message": "Bad Request",
        "details": {
            "category_id": "This field is required.",
            "name": "This field may not be empty.",
            "order_column": "This field is required.",
            "active": "This field is required.",
            "team_id": "This field is required.",
        },
    }


def test_a_product_with_wrong_types_or_an_unknown_category_is_refused(client):
    shirts = category(client, "T-Shirts")
    body = {"category_id": shirts["id"], "name": "Tee", "order_column": 1, "active": True}

    wrong_types = call(client, "POST", "/api/v1/products", {**body, "team_id": "5", "active": 1})
    unknown = call(client, "POST", "/api/v1/products", {**body, "team_id": 5, "category_id": 7})

    assert wrong_types.status_code == 400
    assert wrong_types.get_json()["details"] == {
        "active": "Must be true or false.", "team_id": "Must be an integer.",
    }
    assert unknown.status_code == 400
    assert unknown.get_json()["details"] == {"category_id": "Product category 7 not found."}


def test_a_product_is_updated_with_put_and_keeps_the_fields_not_sent(client):
    shirts = category(client, "T-Shirts")
    created = product(client, shirts["id"])

    response = call(
        client, "PUT", f"/api/v1/products/{created['id']}",
        {"name": "Premium White T-Shirt", "active": False, "default_dpi": 600},
    )

    assert response.status_code == 200
    assert response.get_json() == {
        **created, "name": "Premium White T-Shirt", "active": False, "default_dpi": 600,
    }


def test_a_product_update_may_not_empty_a_required_field(client):
    created = product(client, category(client)["id"])

    response = call(client, "PUT", f"/api/v1/products/{created['id']}", {"name": None})

    assert response.status_code == 400
    assert response.get_json()["details"] == {"name": "This field may not be empty."}


def test_deleting_a_product_deletes_its_variants(client, fake):
    shirts = category(client, "T-Shirts")
    kept = product(client, shirts["id"], name="Kept")
    gone = product(client, shirts["id"], name="Gone")
    variant(client, kept["id"], name="Kept - L")
    variant(client, gone["id"], name="Gone - L")

    response = call(client, "DELETE", f"/api/v1/products/{gone['id']}")

    assert response.status_code == 200
    assert response.get_json() == {"message": "Product successfully deleted", "product_id": 2}
    assert [row["name"] for row in fake.state["variants"].values()] == ["Kept - L"]
    assert call(client, "GET", "/api/v1/products/2").status_code == 404


# -- product variants ----------------------------------------------------------------


def test_variants_are_created_updated_and_deleted(client):
    created_product = product(client, category(client)["id"])
    large = variant(
        client, created_product["id"], weight=200, length=70, width=50, height=5,
        ecommerce_tags="tshirt,white,large",
    )
    given_uuid = "3bb7725c-11ea-4487-99f8-e025fc6617ac"
    small = variant(client, created_product["id"], name="Small", uuid=given_uuid)

    assert large["id"] == 1 and small["id"] == 2
    assert len(large["uuid"]) == 36
    assert small["uuid"] == given_uuid
    assert large["weight"] == 200 and large["country_id"] == 1

    updated = call(
        client, "PUT", "/api/v1/product-variants/1",
        {"name": "Extra Large", "weight": 220, "ecommerce_tags": "tshirt,xl"},
    )
    assert updated.status_code == 200
    assert updated.get_json() == {
        **large, "name": "Extra Large", "weight": 220, "ecommerce_tags": "tshirt,xl",
    }

    deleted = call(client, "DELETE", "/api/v1/product-variants/2")
    assert deleted.get_json() == {
        "message": "Product variant successfully deleted", "variant_id": 2,
    }
    listed = call(client, "GET", "/api/v1/product-variants").get_json()
    assert [row["name"] for row in listed] == ["Extra Large"]


def test_a_variant_must_name_an_existing_product(client):
    missing = call(client, "POST", "/api/v1/product-variants", {"name": "L", "country_id": 1})
    unknown = call(
        client, "POST", "/api/v1/product-variants", {"name": "L", "product_id": 4, "country_id": 1}
    )

    assert missing.status_code == 400
    assert missing.get_json()["details"] == {"product_id": "This field is required."}
    assert unknown.status_code == 400
    assert unknown.get_json()["details"] == {"product_id": "Product 4 not found."}


def test_a_variant_with_a_negative_weight_or_a_short_uuid_is_refused(client):
    product_id = product(client, category(client)["id"])["id"]
    body = {"name": "L", "product_id": product_id, "country_id": 1}

    negative = call(client, "POST", "/api/v1/product-variants", {**body, "weight": -1})
    short_uuid = call(client, "POST", "/api/v1/product-variants", {**body, "uuid": "abc"})

    assert negative.get_json()["details"] == {"weight": "Must be an integer >= 0."}
    assert short_uuid.get_json()["details"] == {"uuid": "Must be 36 characters long."}


def test_the_list_endpoints_answer_every_row_in_id_order(client):
    apparel = category(client, "Apparel")
    category(client, "Bags")
    first = product(client, apparel["id"], name="First")
    product(client, apparel["id"], name="Second")
    variant(client, first["id"], name="First - S")

    categories = call(client, "GET", "/api/v1/product-categories").get_json()
    products = call(client, "GET", "/api/v1/products").get_json()
    variants = call(client, "GET", "/api/v1/product-variants").get_json()

    assert [(row["id"], row["name"]) for row in categories] == [(1, "Apparel"), (2, "Bags")]
    assert [(row["id"], row["name"]) for row in products] == [(1, "First"), (2, "Second")]
    assert [(row["id"], row["product_id"]) for row in variants] == [(1, first["id"])]


# -- orders --------------------------------------------------------------------------


def test_an_order_is_created_and_read_back_by_its_uid(client):
    created = order(
        client, ecommerce_order_number="#1001", total_price=59.99, currency_code="EUR",
        customer={"email": "ann@shop.test", "name": "Ann"},
        addresses=[{
            "type_id": "shipping", "address_1": "1 Main St", "post_code": "10115",
            "city": "Berlin", "country_code": "DE",
        }],
        shippings=[{"code": "STANDARD", "shipping_price": 4.99}],
    )

    assert len(created["uid"]) == 36
    assert created["ecommerce_order_id"] == "ORD-001"
    assert created["customer"]["email"] == "ann@shop.test"
    assert created["customer"]["surname"] is None
    assert created["addresses"][0]["address_2"] is None
    assert created["create_print_files"] is False
    assert [(item["ecommerce_order_item_id"], len(item["uid"])) for item in created["items"]] == [
        ("ITEM-001", 36)
    ]
    assert "print_status" not in created["items"][0]
    fetched = call(client, "GET", f"/api/v1/orders/{created['uid']}")
    assert fetched.get_json() == created
    assert call(client, "GET", "/api/v1/orders").get_json() == [created]


def test_an_order_with_an_incomplete_item_or_address_is_refused(client):
    body = {
        "store_id": "store-1", "ecommerce_order_id": "ORD-001",
        "items": [order_item(), {**order_item("ITEM-002"), "template_config": None}, "x"],
        "addresses": [{"type_id": "home", "address_1": "1 Main St"}],
    }

    response = call(client, "POST", "/api/v1/orders", body)

    assert response.status_code == 400
    assert response.get_json() == {
        "message": "Bad Request",
        "details": {
            "items.1.template_config": "This field may not be empty.",
            "items.2": "Must be an object.",
            "addresses.0.type_id": "Must be one of: billing, shipping.",
            "addresses.0.post_code": "This field is required.",
            "addresses.0.city": "This field is required.",
            "addresses.0.country_code": "This field is required.",
        },
    }


def test_an_order_id_or_an_item_id_is_not_taken_twice(client):
    order(client)

    again = call(client, "POST", "/api/v1/orders", {
        "store_id": "store-1", "ecommerce_order_id": "ORD-001",
        "items": [order_item("ITEM-001")],
    })
    other_store = call(client, "POST", "/api/v1/orders", {
        "store_id": "store-2", "ecommerce_order_id": "ORD-001",
        "items": [order_item("ITEM-002")],
    })

    assert again.status_code == 400
    assert again.get_json()["details"] == {
        "items.0.ecommerce_order_item_id": "Has already been taken.",
        "ecommerce_order_id": "Has already been taken in this store.",
    }
    assert other_store.status_code == 200


def test_an_order_is_updated_with_put_and_its_items_replaced(client):
    created = order(client, note="Leave at door", items=[order_item("A"), order_item("B")])
    kept_uid = created["items"][0]["uid"]

    response = call(client, "PUT", f"/api/v1/orders/{created['uid']}", {
        "note": "Updated shipping instructions",
        "total_price": 69.98,
        "shippings": [{"code": "STANDARD", "shipping_price": 9.99}],
        "items": [order_item("A", quantity=3), order_item("C")],
        "store_id": "ignored",
    })

    assert response.status_code == 200
    updated = response.get_json()
    assert updated["note"] == "Updated shipping instructions"
    assert updated["total_price"] == 69.98
    assert updated["shippings"] == [{"code": "STANDARD", "shipping_price": 9.99}]
    assert updated["store_id"] == "store-1"
    assert [(item["ecommerce_order_item_id"], item["quantity"]) for item in updated["items"]] == [
        ("A", 3), ("C", 2)
    ]
    assert updated["items"][0]["uid"] == kept_uid
    assert call(client, "GET", "/api/v1/order-items/B/print").status_code == 404


def test_an_order_is_deleted_with_a_confirmation(client):
    created = order(client)

    response = call(client, "DELETE", f"/api/v1/orders/{created['uid']}")

    assert response.status_code == 200
    assert response.get_json() == {
        "message": "Order successfully deleted", "order_uid": created["uid"],
    }
    assert call(client, "GET", f"/api/v1/orders/{created['uid']}").status_code == 404
    assert call(client, "GET", "/api/v1/order-items/ITEM-001/print").status_code == 404


# -- print files and batch orders ----------------------------------------------------


def test_a_print_file_ordered_at_once_becomes_ready_as_it_is_polled(client):
    order(client, create_print_files=True)

    polls = [call(client, "GET", "/api/v1/order-items/ITEM-001/print").get_json() for _ in "123"]

    assert polls == [
        {"ecommerce_order_item_id": "ITEM-001", "status": "received", "url": None},
        {"ecommerce_order_item_id": "ITEM-001", "status": "processing", "url": None},
        {
            "ecommerce_order_item_id": "ITEM-001", "status": "ready",
            "url": "http://sandbox.test/oms/print-files/ITEM-001.pdf",
        },
    ]
    download = client.get("/print-files/ITEM-001.pdf")
    assert download.status_code == 200
    assert download.mimetype == "application/pdf"
    assert download.data.startswith(b"%PDF-") and download.data.rstrip().endswith(b"%%EOF")


def test_a_print_file_not_ordered_at_once_stays_received(client):
    order(client)

    polls = [call(client, "GET", "/api/v1/order-items/ITEM-001/print").get_json() for _ in "123"]

    assert {poll["status"] for poll in polls} == {"received"}
    assert client.get("/print-files/ITEM-001.pdf").status_code == 404


def test_a_control_path_sets_a_print_status(client):
    order(client, create_print_files=True)

    control = client.post(
        "/_sandbox/print-status",
        json={"ecommerce_order_item_id": "ITEM-001", "status": "processingfailed"},
    )
    polls = [call(client, "GET", "/api/v1/order-items/ITEM-001/print").get_json() for _ in "12"]

    assert control.status_code == 200
    assert [(poll["status"], poll["url"]) for poll in polls] == [
        ("processingfailed", None), ("processingfailed", None)
    ]
    wrong = client.post(
        "/_sandbox/print-status", json={"ecommerce_order_item_id": "ITEM-001", "status": "done"}
    )
    assert wrong.status_code == 422


def test_a_batch_order_combines_known_order_items(client, fake):
    items = order(client, items=[order_item("A"), order_item("B")])["items"]
    uids = [item["uid"] for item in items]

    response = call(
        client, "POST", "/api/v1/batch-orders",
        {"order_items": uids, "print_templates": ["TEMPLATE_UID_1"]},
    )

    assert response.status_code == 200
    batch = response.get_json()
    assert batch["status"] == "Batching"
    assert len(batch["uid"]) == 36
    assert fake.state["batch_orders"][batch["uid"]]["order_items"] == uids


def test_a_batch_order_with_unknown_items_or_no_templates_is_refused(client):
    order(client)

    unknown = call(
        client, "POST", "/api/v1/batch-orders",
        {"order_items": ["nope"], "print_templates": ["T1"]},
    )
    empty = call(client, "POST", "/api/v1/batch-orders", {"order_items": [1]})

    assert unknown.status_code == 400
    assert unknown.get_json()["details"] == {"order_items.0": "Order item nope not found."}
    assert empty.get_json()["details"] == {
        "order_items": "Must be an array of strings.",
        "print_templates": "This field is required.",
    }


# -- errors and faults ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "details"),
    [
        ("/api/v1/product-categories/5", {"category_id": "Product category 5 not found."}),
        ("/api/v1/products/5", {"product_id": "Product 5 not found."}),
        ("/api/v1/product-variants/5", {"variant_id": "Product variant 5 not found."}),
        ("/api/v1/orders/nope", {"order_uid": "Order nope not found."}),
        (
            "/api/v1/order-items/nope/print",
            {"ecommerce_order_item_id": "Order item nope not found."},
        ),
        ("/api/v1/nothing-here", {"path": "No route for GET /api/v1/nothing-here."}),
    ],
)
def test_an_unknown_id_or_path_answers_404(client, path, details):
    response = call(client, "GET", path)

    assert response.status_code == 404
    assert response.get_json() == {"message": "Not Found", "details": details}


def test_a_body_that_is_not_a_json_object_is_refused(client):
    response = client.post("/api/v1/products", data="[1]", headers=AUTH)

    assert response.status_code == 400
    assert response.get_json()["details"] == {"body": "Must be a JSON object."}


def test_forbid_next_answers_that_many_requests_with_403(client, fake):
    fake.set_faults(forbid_next=2)

    answers = [call(client, "GET", "/api/v1/products") for _ in range(3)]

    assert [answer.status_code for answer in answers] == [403, 403, 200]
    assert answers[0].get_json() == {
        "message": "Forbidden",
        "details": {"authorization": "This token may not perform this action."},
    }


def test_fail_path_answers_500_below_that_path_only_while_set(client):
    client.post("/_sandbox/faults", json={"fail_path": "/api/v1/product-variants"})

    failing = call(client, "GET", "/api/v1/product-variants/1")
    listing = call(client, "GET", "/api/v1/product-variants")
    products = call(client, "GET", "/api/v1/products")
    client.post("/_sandbox/faults", json={"fail_path": None})
    cleared = call(client, "GET", "/api/v1/product-variants")

    assert failing.status_code == 500
    assert failing.get_json() == {
        "message": "Server Error", "details": {"server": "Internal server error."},
    }
    assert listing.status_code == 500
    assert products.status_code == 200
    assert cleared.status_code == 200


def test_the_common_fail_next_switch_answers_in_the_oms_error_shape(client, fake):
    fake.set_faults(fail_next=1)

    response = call(client, "GET", "/api/v1/products")

    assert response.status_code == 500
    assert response.get_json()["message"] == "Server Error"


# -- control paths -------------------------------------------------------------------


def test_the_state_path_shows_every_table(client):
    product(client, category(client)["id"])

    state = client.get("/_sandbox/state").get_json()

    assert state["counts"] == {
        "categories": 1, "products": 1, "variants": 0, "orders": 0, "batch_orders": 0,
    }
    assert state["products"][0]["name"] == "Classic White T-Shirt"


def test_reset_clears_the_state_faults_and_ids(client, fake):
    product(client, category(client)["id"])
    fake.set_faults(forbid_next=5, fail_path="/api/v1/orders")

    response = client.post("/_sandbox/reset")

    assert response.get_json() == {"reset": True}
    assert fake.faults["forbid_next"] == 0 and fake.faults["fail_path"] is None
    assert call(client, "GET", "/api/v1/products").get_json() == []
    assert category(client)["id"] == 1


def test_the_request_log_records_what_was_sent(client):
    call(client, "GET", "/api/v1/products", headers={})
    call(client, "GET", "/api/v1/products")

    log = client.get("/_sandbox/requests").get_json()

    assert [(entry["method"], entry["path"], entry["status"]) for entry in log] == [
        ("GET", "/api/v1/products", 401), ("GET", "/api/v1/products", 200)
    ]

"""The fake PrintOps' buyer controls: place an order in a store, ship it."""

import pytest
from werkzeug.test import Client

from sandbox.printops import PrintOpsFake

AUTH = {"Authorization": "Bearer demo-printops-token"}


@pytest.fixture
def client():
    return Client(PrintOpsFake())


def test_an_order_is_placed_with_the_stores_user_products_and_shipped(client):
    placed = client.post("/_sandbox/place-order", json={
        "store_id": 786322, "lines": [{"user_product_id": 47230, "quantity": 2}]})
    assert placed.status_code == 200
    [order_id] = placed.json["order_ids"]

    order = client.get(f"/api/stores/786322/orders/{order_id}", headers=AUTH).json["data"]["order"]
    assert order["state"] == "payment_pending"
    [item] = order["line_items"]
    assert (item["quantity"], item["unit_price"], item["user_product"]["id"]) == (2, 225, 47230)
    assert order["fulfillments"][0]["line_items"][0]["id"] == item["id"]
    assert order["order_total"]["line_items_total"] == 450

    shipped = client.post("/_sandbox/ship-order", json={"store_id": 786322,
                                                        "order_id": order_id})
    assert shipped.status_code == 200 and shipped.json["deliveries"] == []
    order = client.get(f"/api/stores/786322/orders/{order_id}", headers=AUTH).json["data"]["order"]
    assert order["state"] == "shipped"
    [shipment] = order["shipments"]["shipments"]
    assert shipment["fulfillment_id"] == order["fulfillments"][0]["id"]
    assert client.post("/_sandbox/ship-order", json={"store_id": 786322,
                                                     "order_id": order_id}).status_code == 422


def test_placing_an_order_refuses_user_products_of_another_store(client):
    response = client.post("/_sandbox/place-order", json={
        "store_id": 786322, "lines": [{"user_product_id": 48604}]})
    assert response.status_code == 422

"""The order calls of the OMS and OnPrintShop clients, over real HTTP against the sandbox."""

import pytest
import requests
from django.contrib.auth import get_user_model

from integrations.models import OMSIntegration, OPSIntegration
from integrations.oms import client as oms
from integrations.oms.client import OMSClient, OMSError
from integrations.ops import client as ops_client
from integrations.ops.client import OPSClient, OPSError
from sandbox.testing import RunningSandbox

pytestmark = pytest.mark.django_db


@pytest.fixture
def sandbox():
    with RunningSandbox(catalog_size=1, rate_limit=1000) as running:
        yield running


@pytest.fixture
def owner():
    return get_user_model().objects.get_or_create(username="owner")[0]


@pytest.fixture
def oms_client(sandbox, owner):
    integration = OMSIntegration.objects.create(
        user=owner, name="Production", base_url=sandbox.url_of("oms"),
        api_token="demo-oms-token", store_id="store-7", team_id="5", country_id="44",
    )
    return OMSClient(integration)


@pytest.fixture
def ops_client_(sandbox, owner, monkeypatch):
    monkeypatch.setattr(ops_client, "sleep", lambda seconds: None)
    url = sandbox.url_of("ops")
    integration = OPSIntegration.objects.create(
        name="Shop", base_url=url, token_url=f"{url}/oauth/token", client_id="demo-client",
        client_secret="demo-secret", user=owner,
    )
    return OPSClient(integration)


def an_order(line_ids=("line-1",), order_id="order-1"):
    return oms.order_body(
        store_id="store-7", ecommerce_order_id=order_id, number="1001", currency="USD",
        total="49.99", subtotal="40.00",
        buyer=oms.customer_body(email="ann@example.com", name="Ann Lee", phone=None),
        billing_address=None,
        shipping_address={"name": "Ann Lee", "address_1": "1 Main St", "city": "Nashville",
                          "postal_code": "37207", "country_code": "US"},
        shipping_code="STANDARD", shipping_price="9.99",
        items=[oms.item_body(line_id=line_id, variant_uuid="a" * 36, quantity=2, price="7.00",
                             template_config="%7B%7D", thumbnails=["https://cdn.test/a.png"])
               for line_id in line_ids],
    )


def oms_state(sandbox):
    return requests.get(f"{sandbox.url_of('oms')}/_sandbox/state").json()


# -- OMS -------------------------------------------------------------------------------


def test_an_oms_order_is_created_with_the_spec_fields_and_its_uids_come_back(sandbox,
                                                                             oms_client):
    created = oms_client.create_order(an_order(("line-1", "line-2")))

    stored = oms_state(sandbox)["orders"][0]
    assert stored["uid"] == created.uid
    assert stored["ecommerce_order_id"] == "order-1"
    assert stored["total_price"] == 49.99 and stored["currency_code"] == "USD"
    assert stored["customer"] == {"email": "ann@example.com", "name": "Ann", "surname": "Lee",
                                  "ecommerce_customer_id": None, "phone": None}
    assert stored["addresses"][0]["post_code"] == "37207"
    assert stored["shippings"] == [{"code": "STANDARD", "shipping_price": 9.99}]
    assert set(created.item_uids) == {"line-1", "line-2"}


def test_later_lines_update_the_oms_order_keeping_the_items_it_has(sandbox, oms_client):
    created = oms_client.create_order(an_order(("line-1",)))
    body = an_order(("line-1", "line-2"))
    del body["store_id"], body["ecommerce_order_id"]

    updated = oms_client.update_order(created.uid, body)

    assert updated.uid == created.uid
    assert updated.item_uids["line-1"] == created.item_uids["line-1"]
    assert oms_state(sandbox)["counts"]["orders"] == 1


def test_the_oms_refuses_a_field_the_spec_does_not_name(oms_client):
    with pytest.raises(OMSError) as refused:
        oms_client.create_order({**an_order(), "priority": "high"})
    assert refused.value.status == 400
    assert "priority: Unknown field." in refused.value.message


def test_an_order_item_is_known_by_the_hub_line_id_only_once_the_oms_holds_it(sandbox,
                                                                             oms_client):
    assert oms_client.order_item_known("line-1") is False
    oms_client.create_order(an_order(("line-1",)))
    assert oms_client.order_item_known("line-1") is True


def test_print_files_report_received_then_ready_with_a_url_or_failed(sandbox, oms_client):
    oms_client.create_order(an_order(("line-1", "line-2")))
    assert oms_client.print_file("line-1") == oms.PrintFile("received", None)
    control = f"{sandbox.url_of('oms')}/_sandbox/print-status"
    requests.post(control, json={"ecommerce_order_item_id": "line-1", "status": "ready"})
    requests.post(control, json={"ecommerce_order_item_id": "line-2",
                                 "status": "processingfailed"})

    ready = oms_client.print_file("line-1")
    assert ready.status == "ready" and ready.url.endswith("/oms/print-files/line-1.pdf")
    assert oms_client.print_file("line-2") == oms.PrintFile("processingfailed", None)
    assert oms_client.print_file("unknown") is None


def test_a_malformed_print_file_answer_is_a_retryable_failure(sandbox, oms_client):
    oms_client.create_order(an_order())
    sandbox.fakes["oms"].set_faults(malformed_next=1)
    with pytest.raises(OMSError) as failed:
        oms_client.print_file("line-1")
    assert failed.value.retryable


def test_deleting_an_oms_order_twice_is_fine(sandbox, oms_client):
    created = oms_client.create_order(an_order())
    oms_client.delete_order(created.uid)
    oms_client.delete_order(created.uid)
    assert oms_state(sandbox)["counts"]["orders"] == 0


def test_a_batch_order_is_made_of_item_uids_and_print_templates(sandbox, oms_client):
    created = oms_client.create_order(an_order(("line-1", "line-2")))
    batch = oms_client.create_batch_order(list(created.item_uids.values()), ["TEMPLATE-1"])
    assert batch["status"] == "Batching"
    assert oms_state(sandbox)["batch_orders"][0]["print_templates"] == ["TEMPLATE-1"]


def test_a_lost_create_answer_says_the_oms_may_have_acted(sandbox, oms_client, settings):
    settings.OUTBOUND_TIMEOUT = (2, 0.5)
    sandbox.fakes["oms"].set_faults(slow_answer_next=1, slow_answer_seconds=1.5)
    with pytest.raises(OMSError) as lost:
        oms_client.create_order(an_order())
    assert lost.value.may_have_acted and lost.value.retryable
    # It did: the order is there, and the line tells.
    assert oms_client.order_item_known("line-1") is True


@pytest.mark.parametrize("faults, retryable", [
    ({"fail_next": 1}, True), ({"rate_limit_next": 1}, True), ({"forbid_next": 1}, False),
])
def test_oms_failures_carry_whether_they_may_heal(sandbox, oms_client, faults, retryable):
    sandbox.fakes["oms"].set_faults(**faults)
    with pytest.raises(OMSError) as failed:
        oms_client.create_order(an_order())
    assert failed.value.retryable is retryable
    assert oms_state(sandbox)["counts"]["orders"] == 0


# -- OnPrintShop -----------------------------------------------------------------------


def place_ops_order(sandbox, ops_client_, quantities=(2, 1)):
    """An order on the sandbox storefront of one pushed product; its id and line ids."""
    products_id = ops_client_.mutate(ops_client.SET_PRODUCT, [{"products_title": "Tee"}])[0]
    size_ids = ops_client_.mutate(ops_client.SET_SIZE, [
        {"products_id": products_id, "size_title": title} for title in ("S", "M")
    ])
    placed = requests.post(f"{sandbox.url_of('ops')}/_sandbox/place-order", json={
        "lines": [{"size_id": size_id, "quantity": quantity}
                  for size_id, quantity in zip(size_ids, quantities, strict=True)],
    })
    orders_id = placed.json()["orders_id"][0]
    order = ops_state(sandbox)["orders"][0]
    return orders_id, [line["orders_products_id"] for line in order["product"]]


def ops_state(sandbox):
    return requests.get(f"{sandbox.url_of('ops')}/_sandbox/state").json()


def test_line_and_order_statuses_are_set_by_title(sandbox, ops_client_):
    orders_id, (first, _) = place_ops_order(sandbox, ops_client_)
    ops_client_.update_order_status(orders_products_id=first, status="Printing")
    ops_client_.update_order_status(orders_id=orders_id, status="In Production", notify=True)

    state = ops_state(sandbox)
    order = state["orders"][0]
    assert order["order_status"] == "In Production"
    assert order["product"][0]["product_status"] == "Printing"
    assert order["product"][1]["product_status"] == "Pending"
    assert state["status_updates"][1] == {
        "type": "order", "orders_id": orders_id, "orders_products_id": None,
        "order_status": "In Production", "notify": 1,
    }


def test_a_title_the_storefront_does_not_have_is_a_failure(sandbox, ops_client_):
    _, (first, _) = place_ops_order(sandbox, ops_client_)
    with pytest.raises(OPSError, match="Unknown product status 'In Production'"):
        ops_client_.update_order_status(orders_products_id=first, status="In Production")


def test_a_shipment_is_recorded_with_its_lines_and_its_id_comes_back(sandbox, ops_client_):
    orders_id, (first, second) = place_ops_order(sandbox, ops_client_)
    shipment_id = ops_client_.set_shipment(
        order_id=orders_id, tracking_number="1Z999",
        packages=[{"lines": [(first, 2), (second, 1)]}],
    )
    shipment = ops_state(sandbox)["shipments"][0]
    assert shipment["shipment_id"] == shipment_id
    assert shipment["tracking_number"] == "1Z999"
    assert shipment["shipmentinfo"] == [{"packageinfo": [{
        "weight": 0, "length": 0, "width": 0, "height": 0, "tracking": "1Z999",
        "opdata": [{"opid": first, "qty": "2"}, {"opid": second, "qty": "1"}],
    }]}]


def test_a_shipment_of_more_than_a_line_holds_is_refused(sandbox, ops_client_):
    orders_id, (_, second) = place_ops_order(sandbox, ops_client_)
    with pytest.raises(OPSError, match="ships more than its quantity"):
        ops_client_.set_shipment(order_id=orders_id, tracking_number="1Z",
                                 packages=[{"lines": [(second, 5)]}])
    assert ops_state(sandbox)["shipments"] == []


def test_a_shipment_is_not_sent_again_after_a_5xx(sandbox, ops_client_):
    orders_id, (first, _) = place_ops_order(sandbox, ops_client_)
    sandbox.fakes["ops"].set_faults(fail_mutation="setShipment")
    before = len(sandbox.fakes["ops"].request_log)
    with pytest.raises(OPSError) as failed:
        ops_client_.set_shipment(order_id=orders_id, tracking_number="1Z",
                                 packages=[{"lines": [(first, 1)]}])
    assert failed.value.may_have_acted
    assert len(sandbox.fakes["ops"].request_log) == before + 1


def test_an_expired_token_answered_as_a_graphql_error_is_fetched_again_once(sandbox,
                                                                             ops_client_):
    _, (first, _) = place_ops_order(sandbox, ops_client_)
    ops_client_.update_order_status(orders_products_id=first, status="Ready")
    fake = sandbox.fakes["ops"]
    fake.set_faults(unauthenticated_as_200=True)
    requests.post(f"{sandbox.url_of('ops')}/_sandbox/expire-tokens")

    ops_client_.update_order_status(orders_products_id=first, status="Shipped")

    assert ops_state(sandbox)["orders"][0]["product"][0]["product_status"] == "Shipped"
    assert [call["path"] for call in fake.request_log][-3:] == ["/api/", "/oauth/token",
                                                              "/api/"]


@pytest.mark.parametrize("faults", [{"graphql_error_next": 1}, {"result_false_next": 1},
                                    {"malformed_next": 1}])
def test_both_error_shapes_and_a_malformed_answer_are_failures(sandbox, ops_client_, faults):
    _, (first, _) = place_ops_order(sandbox, ops_client_)
    sandbox.fakes["ops"].set_faults(**faults)
    with pytest.raises(OPSError):
        ops_client_.update_order_status(orders_products_id=first, status="Ready")
    assert ops_state(sandbox)["orders"][0]["product"][0]["product_status"] == "Pending"

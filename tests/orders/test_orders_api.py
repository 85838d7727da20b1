"""The orders API: intake (every 422, idempotency), list filters and paging, detail, route."""

import uuid

import pytest

from orders.models import EventKind, LineStatus, Order, OrderStatus
from pushes.models import Customer

pytestmark = pytest.mark.django_db


@pytest.fixture
def customer(db):
    return Customer.objects.create(name="Shop Co.")


def body(customer, **changes):
    data = {
        "customer_id": str(customer.pk), "source_order_id": "SHOP-1001", "order_number": "1001",
        "placed_at": "2026-12-01T10:00:00Z", "currency": "USD",
        "totals": {"subtotal": "40.00", "shipping": "9.99", "tax": "0.00", "total": "49.99"},
        "buyer": {"name": "Ann Lee", "email": "ann@example.com"},
        "shipping_address": {"name": "Ann Lee", "address_1": "1 Main St", "city": "Nashville",
                             "postal_code": "37207", "country_code": "US"},
        "lines": [{"source_line_id": "1", "sku": "PC61-NAT-S", "quantity": 12,
                   "unit_price": "7.00", "artwork": ["https://files.example.com/art.png"]}],
    }
    data.update(changes)
    return data


def test_intake_stores_a_new_order_with_its_line_resolved_by_sku(staff_api, customer, tee):
    response = staff_api.post("/api/orders", body(customer), format="json")

    assert response.status_code == 201, response.json()
    data = response.json()
    assert data["source"] == "api" and data["source_order_id"] == "SHOP-1001"
    assert data["customer_name"] == "Shop Co." and data["status"] == "received"
    assert data["totals"] == {"subtotal": "40.00", "shipping": "9.99", "tax": "0.00",
                              "total": "49.99"}
    assert data["buyer"] == {"name": "Ann Lee", "email": "ann@example.com", "phone": None,
                             "company": None}
    assert data["shipping_address"]["city"] == "Nashville"
    assert data["shipping_address"]["address_2"] is None
    [line] = data["lines"]
    variant = tee.variants.get(sku="PC61-NAT-S")
    assert line["product_id"] == str(tee.pk) and line["variant_id"] == str(variant.pk)
    assert line["size_id"] is None and line["unit_price"] == "7.00"
    assert line["status"] == "received" and line["fulfiller"] is None
    assert line["artwork"] == ["https://files.example.com/art.png"]
    assert data["line_count"] == 1 and data["shipments"] == []
    assert [e["kind"] for e in data["events"]] == ["received"]


def test_the_same_order_posted_again_answers_200_and_changes_nothing(staff_api, customer, tee):
    first = staff_api.post("/api/orders", body(customer), format="json").json()
    again = staff_api.post("/api/orders", body(customer, lines=[
        {"source_line_id": "9", "sku": "OTHER", "quantity": 1}], order_number="X"),
        format="json")

    assert again.status_code == 200
    assert again.json()["id"] == first["id"]
    assert again.json()["order_number"] == "1001" and again.json()["line_count"] == 1
    assert Order.objects.count() == 1


def test_an_unknown_sku_is_an_unmatched_line_and_the_order_needs_attention(staff_api, customer):
    data = staff_api.post("/api/orders", body(customer), format="json").json()

    [line] = data["lines"]
    assert line["status"] == "unmatched"
    assert "PC61-NAT-S" in line["error"] and "Shop Co." in line["error"]
    assert data["status"] == "needs_attention"
    assert "status_changed" in [e["kind"] for e in data["events"]]


@pytest.mark.parametrize("change, loc", [
    ({"customer_id": None}, ["body", "customer_id"]),
    ({"customer_id": "not-a-uuid"}, ["body", "customer_id"]),
    ({"customer_id": str(uuid.uuid4())}, ["body", "customer_id"]),
    ({"source_order_id": ""}, ["body", "source_order_id"]),
    ({"source_order_id": "x" * 129}, ["body", "source_order_id"]),
    ({"placed_at": "Invalid date"}, ["body", "placed_at"]),
    ({"currency": "dollars"}, ["body", "currency"]),
    ({"totals": {"total": "-1.00"}}, ["body", "totals", "total"]),
    ({"totals": {"tax": "abc"}}, ["body", "totals", "tax"]),
    ({"buyer": {"email": "not-an-email"}}, ["body", "buyer", "email"]),
    ({"shipping_address": None}, ["body", "shipping_address"]),
    ({"shipping_address": {"name": "A", "address_1": "1", "city": "C", "postal_code": "1"}},
     ["body", "shipping_address", "country_code"]),
    ({"shipping_address": {"name": "A", "address_1": "1", "city": "C", "postal_code": "1",
                           "country_code": "USA"}}, ["body", "shipping_address", "country_code"]),
    ({"lines": []}, ["body", "lines"]),
    ({"lines": [{"source_line_id": str(n), "sku": "A", "quantity": 1} for n in range(501)]},
     ["body", "lines"]),
    ({"lines": [{"sku": "A", "quantity": 1}]}, ["body", "lines", 0, "source_line_id"]),
    ({"lines": [{"source_line_id": "1", "sku": "A", "quantity": 0}]},
     ["body", "lines", 0, "quantity"]),
    ({"lines": [{"source_line_id": "1", "sku": "A", "quantity": "many"}]},
     ["body", "lines", 0, "quantity"]),
    ({"lines": [{"source_line_id": "1", "quantity": 1}]}, ["body", "lines", 0, "sku"]),
    ({"lines": [{"source_line_id": "1", "product_id": "nope", "quantity": 1}]},
     ["body", "lines", 0, "product_id"]),
    ({"lines": [{"source_line_id": "1", "sku": "A", "quantity": 1, "unit_price": "x"}]},
     ["body", "lines", 0, "unit_price"]),
    ({"lines": [{"source_line_id": "1", "sku": "A", "quantity": 1, "artwork": ["ftp://x"]}]},
     ["body", "lines", 0, "artwork", 0]),
    ({"lines": [{"source_line_id": "1", "sku": "A", "quantity": 1},
                {"source_line_id": "1", "sku": "B", "quantity": 1}]},
     ["body", "lines", 1, "source_line_id"]),
])
def test_intake_answers_422_naming_each_invalid_field(staff_api, customer, change, loc):
    response = staff_api.post("/api/orders", body(customer, **change), format="json")

    assert response.status_code == 422, response.json()
    assert loc in [error["loc"] for error in response.json()["detail"]]
    assert Order.objects.count() == 0


def test_intake_of_a_body_that_is_not_json_is_a_422(staff_api):
    response = staff_api.post("/api/orders", "{", content_type="application/json")
    assert response.status_code == 422


def test_orders_are_staff_only(api, customer):
    assert api.get("/api/orders").status_code == 403
    assert api.post("/api/orders", body(customer), format="json").status_code == 403


def test_the_list_filters_pages_and_orders_newest_first(staff_api, customer, tee):
    other = Customer.objects.create(name="Other")
    for n, (who, placed) in enumerate([(customer, "2026-11-01T10:00:00Z"),
                                       (customer, "2026-11-02T23:59:00Z"),
                                       (other, "2026-11-03T00:00:00Z")]):
        response = staff_api.post("/api/orders", body(
            who, source_order_id=f"S-{n}", placed_at=placed,
            buyer={"name": f"Buyer {n}", "email": f"b{n}@example.com"}), format="json")
        assert response.status_code == 201

    rows = staff_api.get("/api/orders").json()
    assert [row["source_order_id"] for row in rows] == ["S-2", "S-1", "S-0"]
    assert "lines" not in rows[0] and rows[0]["line_count"] == 1

    def ids(query):
        response = staff_api.get(f"/api/orders?{query}")
        assert response.status_code == 200, response.json()
        return [row["source_order_id"] for row in response.json()]

    assert ids(f"customer_id={customer.pk}") == ["S-1", "S-0"]
    assert ids("placed_after=2026-11-02&placed_before=2026-11-02") == ["S-1"]
    assert ids("search=B2@EXAMPLE") == ["S-2"]
    assert ids("search=pc61-nat") == ["S-2", "S-1", "S-0"]
    assert ids("status=received&source=api&limit=1&skip=1") == ["S-1"]
    assert ids("status=needs_attention") == []
    for bad in ("status=lost", "source=fax", "placed_after=yesterday", "limit=0",
                "customer_id=nope", "skip=-1"):
        response = staff_api.get(f"/api/orders?{bad}")
        assert response.status_code == 422, bad
        assert response.json()["detail"][0]["loc"][0] == "query"


def test_the_list_costs_the_same_queries_for_any_number_of_orders(
    staff_api, customer, tee, django_assert_max_num_queries
):
    for n in range(12):
        staff_api.post("/api/orders", body(customer, source_order_id=f"S-{n}"), format="json")
    with django_assert_max_num_queries(6):
        assert len(staff_api.get("/api/orders").json()) == 12


def test_an_unknown_or_malformed_order_id_is_404(staff_api):
    for order_id in (uuid.uuid4(), "nope"):
        for method, path in (("get", ""), ("post", "/route")):
            response = getattr(staff_api, method)(f"/api/orders/{order_id}{path}")
            assert response.status_code == 404
            assert response.json() == {"detail": "Order not found"}


def test_route_resolves_unmatched_lines_again_once_the_catalog_knows_them(
    staff_api, customer, tee
):
    order = staff_api.post("/api/orders", body(customer, lines=[
        {"source_line_id": "1", "sku": "PC61-NEW-XL", "quantity": 2}]), format="json").json()
    assert order["status"] == "needs_attention"
    variant = tee.variants.first()
    variant.sku = "PC61-NEW-XL"
    variant.save()

    response = staff_api.post(f"/api/orders/{order['id']}/route")

    assert response.status_code == 202
    data = response.json()
    assert data["lines"][0]["status"] == "received"
    assert data["lines"][0]["variant_id"] == str(variant.pk)
    assert data["status"] == "received"
    assert Order.objects.get().lines.get().status == LineStatus.RECEIVED
    assert Order.objects.get().status == OrderStatus.RECEIVED
    assert EventKind.RESOLVED in [e["kind"] for e in data["events"]]


def test_intake_by_product_id_of_a_product_with_several_sizes_asks_which(
    staff_api, customer, tee
):
    data = staff_api.post("/api/orders", body(customer, lines=[
        {"source_line_id": "1", "product_id": str(tee.pk), "quantity": 1}]), format="json").json()
    assert data["lines"][0]["status"] == "unmatched"
    assert "which of its 4 sizes" in data["lines"][0]["error"]

    data = staff_api.post("/api/orders", body(customer, source_order_id="2", lines=[
        {"source_line_id": "1", "product_id": str(tee.pk), "sku": "PC61-BLA-M", "quantity": 1}]),
        format="json").json()
    assert data["lines"][0]["variant_id"] == str(tee.variants.get(sku="PC61-BLA-M").pk)


def test_pull_now_queues_a_pull_and_refuses_a_second_one(staff_api, sandbox, ops_shop):
    url = f"/api/customers/{ops_shop.pk}/orders/sync"
    response = staff_api.post(url)
    assert response.status_code == 202 and response.json() == {"status": "queued"}
    assert staff_api.post(url).status_code == 409


def test_pull_now_of_a_customer_without_orders_to_pull_is_422(staff_api, customer):
    response = staff_api.post(f"/api/customers/{customer.pk}/orders/sync")
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["path", "customer_id"]
    assert staff_api.post(f"/api/customers/{uuid.uuid4()}/orders/sync").status_code == 404


def test_the_customer_shows_its_order_pull_state_and_last_error(staff_api, sandbox, ops_shop):
    assert staff_api.get(f"/api/customers/{ops_shop.pk}").json()["order_pull"] is None
    sandbox.fakes["ops"].set_faults(fail_next=10)
    from orders import pulls

    pulls.pull_of(ops_shop)
    pulls.run_pull(ops_shop.pk, str(pulls.claim_pull(ops_shop.pk)))

    state = staff_api.get(f"/api/customers/{ops_shop.pk}").json()["order_pull"]
    assert state["status"] == "error"
    assert "OPS answered" in state["last_error"]


def test_a_customer_with_orders_is_not_deleted(staff_api, customer, tee):
    staff_api.post("/api/orders", body(customer), format="json")

    response = staff_api.delete(f"/api/customers/{customer.pk}")

    assert response.status_code == 409
    assert "has orders" in response.json()["detail"]
    assert Order.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_pull_now_with_the_broker_down_is_503_and_leaves_the_pull_as_it_was(
    staff_api, sandbox, ops_shop, broker_down
):
    from orders import pulls
    from orders.models import OrderPull

    pulls.pull_of(ops_shop)
    OrderPull.objects.filter(customer=ops_shop).update(status="completed",
                                                       last_stats={"created": 2})

    response = staff_api.post(f"/api/customers/{ops_shop.pk}/orders/sync")

    assert response.status_code == 503
    state = OrderPull.objects.get(customer=ops_shop)
    assert state.status == "completed" and state.last_stats == {"created": 2}
    assert pulls.claim_pull(ops_shop.pk) is not None  # not left claimed

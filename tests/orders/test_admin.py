"""The order desk in the admin: the list, needs attention, the order page, the actions."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from orders.models import LineStatus, Order, OrderPull
from pushes.models import Customer
from tests.factories import make_order

pytestmark = pytest.mark.django_db

LIST = reverse("admin:orders_order_changelist")


@pytest.fixture
def customer(db):
    return Customer.objects.create(name="Shop Co.")


def test_the_list_shows_orders_in_a_constant_number_of_queries(admin_client, customer, tee):
    for n in range(3):
        make_order(customer, n)
    with CaptureQueriesContext(connection) as few:
        assert admin_client.get(LIST).status_code == 200
    for n in range(3, 12):
        make_order(customer, n)
    with CaptureQueriesContext(connection) as many:
        response = admin_client.get(LIST)
    assert len(many) == len(few)
    html = response.content.decode()
    assert "Shop Co." in html and "12.50 USD" in html and "Received" in html


def test_needs_attention_is_one_click_away(admin_client, customer, tee):
    make_order(customer, 1)
    unmatched = make_order(customer, 2, sku="NOPE")

    response = admin_client.get(LIST)
    assert "?attention=yes" in response.content.decode()
    response = admin_client.get(LIST + "?attention=yes")
    assert [order.pk for order in response.context["cl"].result_list] == [unmatched.pk]


def test_the_order_page_shows_lines_addresses_shipments_and_the_timeline(
    admin_client, customer, tee
):
    order = make_order(customer, 1, shipped=True)

    response = admin_client.get(reverse("admin:orders_order_change", args=[order.pk]))

    html = response.content.decode()
    assert response.status_code == 200
    for text in ("PC61-NAT-S", "PC61", "6.25", "Nashville", "1ZTRACK", "UPS",
                 "Received from API with 1 line", "Shipped", "Pull now"):
        assert text in html, text
    # Its one line has shipped: nothing to retry.
    assert "Retry unmatched lines" not in html


def test_retry_unmatched_resolves_lines_once_the_catalog_knows_them(
    admin_client, customer, tee
):
    order = make_order(customer, 1, sku="PC61-NEW")
    variant = tee.variants.first()
    variant.sku = "PC61-NEW"
    variant.save()

    response = admin_client.post(LIST, {"action": "retry_unmatched",
                                        "_selected_action": [order.pk]}, follow=True)

    assert "1 line resolved" in response.content.decode()
    line = order.lines.get()
    assert (line.status, line.variant_id) == (LineStatus.RECEIVED, variant.pk)
    assert Order.objects.get().status == "received"


def test_the_retry_button_on_the_order_page_only_answers_a_post(admin_client, customer, tee):
    order = make_order(customer, 1, sku="NOPE")
    url = reverse("admin:orders_order_retry", args=[order.pk])
    assert admin_client.get(url).status_code == 405
    response = admin_client.post(url, follow=True)
    assert "still unmatched" in response.content.decode()


def test_pull_now_queues_a_pull_or_says_why_not(admin_client, customer, sandbox, ops_shop):
    make_order(customer, 1)
    ops_order = make_order(ops_shop, 2)

    response = admin_client.post(LIST, {"action": "pull_now", "_selected_action": [
        o.pk for o in Order.objects.all()]}, follow=True)

    html = response.content.decode()
    assert "Queued 1 pull" in html and "has no storefront" in html
    assert OrderPull.objects.get(customer=ops_order.customer).status == "running"


def test_staff_edit_the_pull_schedule(admin_client, sandbox, ops_shop):
    from orders.pulls import pull_of

    pull = pull_of(ops_shop)
    assert pull.schedule.interval.every == 5 and pull.schedule.enabled

    response = admin_client.post(reverse("admin:orders_orderpull_change", args=[pull.pk]),
                                 {"schedule_enabled": "", "schedule_every_minutes": "15"})

    assert response.status_code == 302
    pull.schedule.refresh_from_db()
    assert pull.schedule.interval.every == 15 and not pull.schedule.enabled


def test_the_dashboard_shows_the_order_desk_in_a_fixed_number_of_queries(
        admin_client, customer, tee):
    from orders.models import OrderStatus, StorefrontUpdate, UpdateState

    make_order(customer, 1)
    make_order(customer, 2, sku="NOPE")
    with CaptureQueriesContext(connection) as few:
        assert admin_client.get("/admin/").status_code == 200

    for n in range(3, 6):
        make_order(customer, n)
    for n in range(6, 8):
        make_order(customer, n, sku="NOPE")
    # Storefront updates: tried and being retried, and given up (count); sent, superseded
    # and waiting for their first try (do not).
    retrying, gave_up, told = Order.objects.filter(status=OrderStatus.RECEIVED)[:3]
    for order, state, attempts in [
        (retrying, UpdateState.SENT, 1), (retrying, UpdateState.PENDING, 2),
        (gave_up, UpdateState.FAILED, 9), (told, UpdateState.SENT, 3),
        (told, UpdateState.SUPERSEDED, 1), (told, UpdateState.PENDING, 0),
    ]:
        StorefrontUpdate.objects.create(order=order, channel="ops", kind="order_status",
                                        title="Shipped", state=state, attempts=attempts)
    for name in ("Alpha Prints", "Beta Prints"):
        OrderPull.objects.create(customer=Customer.objects.create(name=name), status="error",
                                 last_error=f"{name}: storefront answered 401")
    OrderPull.objects.create(customer=Customer.objects.create(name="Gamma"), status="completed",
                             last_error=None)
    with CaptureQueriesContext(connection) as many:
        response = admin_client.get("/admin/")
    assert len(many) == len(few)

    orders = response.context["dashboard"]["orders"]
    assert orders["needs_attention"] == 3
    assert orders["needs_attention_url"] == LIST + "?attention=yes"
    assert [(row["status"], row["count"]) for row in orders["by_status"]] == [
        ("received", 4), ("in_production", 0), ("partially_shipped", 0)]
    assert orders["by_status"][0]["url"] == LIST + "?status__exact=received"
    assert orders["storefront_not_updated"] == 2
    assert orders["storefront_not_updated_url"] == LIST + "?storefront=not_updated"
    pulls = orders["failed_pulls"]
    assert [row["customer"] for row in pulls] == ["Alpha Prints", "Beta Prints"]
    assert pulls[0]["error"] == "Alpha Prints: storefront answered 401"
    alpha = OrderPull.objects.get(customer__name="Alpha Prints")
    assert pulls[0]["url"] == reverse("admin:orders_orderpull_change", args=[alpha.pk])
    html = response.content.decode()
    assert 'id="dash-orders"' in html and "Beta Prints: storefront answered 401" in html
    assert f'href="{LIST}?storefront=not_updated"' in html

    listed = admin_client.get(orders["storefront_not_updated_url"]).context["cl"].result_list
    assert {order.pk for order in listed} == {retrying.pk, gave_up.pk}

import pytest

from catalog.models import Variant
from integrations.models import SyncRun
from orders.models import Order, OrderPull, StorefrontUpdate, UpdateState
from pushes.models import PushLog
from tests.factories import make_order

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_dashboard_shows_what_needs_attention(browser, shop):
    storefront = shop["storefront_customer"]
    sku = Variant.objects.filter(product=shop["products"][0]).values_list("sku", flat=True)[0]
    matched = [make_order(storefront, n, sku=sku) for n in range(3)]
    for n in range(3, 5):
        make_order(storefront, n, sku="NOT-IN-THE-CATALOG")
    OrderPull.objects.update_or_create(customer=storefront, defaults={
        "status": "error", "last_error": "The storefront answered 401: token expired"})
    not_told = matched[0]
    StorefrontUpdate.objects.create(order=not_told, channel="ops", kind="order_status",
                                    title="Shipped", state=UpdateState.FAILED, attempts=9)
    browser.open("/admin/")

    integrations = browser.text("#dash-integrations")
    assert "Demo OVS (sandbox)" in integrations and "Demo PrintOps (sandbox)" in integrations
    assert "Completed" in integrations and "40 created" in integrations
    products = browser.text("#dash-products")
    assert "Demo Apparel Co." in products
    failed = browser.text("#dash-failed-pushes")
    assert "Demo Storefront Co." in failed and "prices" in failed
    assert "Imports running" in browser.text("#dashboard")
    orders = browser.text("#dash-orders")
    assert browser.text("#dash-orders-attention") == "2"
    # The matched orders are routed as they are stored: no fulfilment route names their
    # supplier, so their lines are made by hand (manual fulfilment) and in production.
    assert "In production\n3" in orders or "In production 3" in orders
    assert "Storefront not updated" in orders
    assert browser.text("#dash-orders-storefront a.dash-number") == "1"
    pulls = browser.text("#dash-order-pulls")
    assert "Demo Storefront Co." in pulls and "token expired" in pulls
    assert "Everything" in browser.text()  # the app list stays reachable
    browser.assert_fits()
    browser.screenshot("dashboard")

    # A customer's failed-push number opens the push log filtered to those pushes.
    row = next(r for r in browser.find_all("#dash-failed-pushes tbody tr")
               if "Demo Storefront Co." in r.text)
    browser.click_element(row.find_element("css selector", "a.dash-number"))
    rows = browser.find_all("#result_list tbody tr")
    assert len(rows) == PushLog.objects.filter(
        status="failed", customer=shop["storefront_customer"]).count() == 2
    assert "Failed" in browser.text("#result_list")
    browser.assert_fits()

    # The needs-attention number opens the orders staff must act on.
    browser.open("/admin/")
    browser.click("#dash-orders-attention")
    assert "attention=yes" in browser.driver.current_url
    rows = browser.find_all("#result_list tbody tr")
    assert len(rows) == Order.objects.filter(status="needs_attention").count() == 2
    assert "Needs attention" in browser.text("#result_list")
    browser.assert_fits()

    # The storefront number opens the orders whose storefront was not told.
    browser.open("/admin/")
    browser.click("#dash-orders-storefront a.dash-number")
    assert "storefront=not_updated" in browser.driver.current_url
    rows = browser.find_all("#result_list tbody tr")
    assert len(rows) == 1 and not_told.order_number in rows[0].text
    browser.assert_fits()

    # The supplier's number opens its products.
    browser.open("/admin/")
    browser.click("#dash-products a.dash-number")
    assert "Demo Apparel Co." in browser.text("#changelist-filter")
    assert SyncRun.objects.count() == 2

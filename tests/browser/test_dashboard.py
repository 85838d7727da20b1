import pytest

from integrations.models import SyncRun
from pushes.models import PushLog

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_dashboard_shows_what_needs_attention(browser, shop):
    browser.open("/admin/")

    integrations = browser.text("#dash-integrations")
    assert "Demo OVS (sandbox)" in integrations and "Demo PrintOps (sandbox)" in integrations
    assert "Completed" in integrations and "40 created" in integrations
    products = browser.text("#dash-products")
    assert "Demo Apparel Co." in products
    failed = browser.text("#dash-failed-pushes")
    assert "Demo Storefront Co." in failed and "prices" in failed
    assert "Imports running" in browser.text("#dashboard")
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

    # The supplier's number opens its products.
    browser.open("/admin/")
    browser.click("#dash-products a.dash-number")
    assert "Demo Apparel Co." in browser.text("#changelist-filter")
    assert SyncRun.objects.count() == 2

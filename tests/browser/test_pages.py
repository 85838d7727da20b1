"""The pages staff live in: they load, show their data, fit 1440 px, and their actions work."""

import pytest
from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException
from selenium.webdriver.support.ui import WebDriverWait

from integrations.models import Integration, OVSIntegration, SyncRun
from integrations.services import claim_sync, create_integration
from pushes.models import PushLog

pytestmark = pytest.mark.django_db(transaction=True)


def test_products_show_pictures_prices_stock_where_published_and_push(browser, shop):
    browser.open("/admin/catalog/product/?supplier__id__exact="
                 f"{shop['products'][0].supplier_id}")

    listing = browser.text("#result_list")
    assert "Essential Cotton Tee" in listing
    assert "3.20" in listing          # one price for every variant of the tee
    assert "0.09" not in listing      # print products show their sizes' prices
    assert "38.88–233.28" in listing  # the banner's sizes, cheapest to dearest
    thumbnails = browser.find_all("#result_list img.thumbnail")
    assert len(thumbnails) == 7
    assert browser.driver.execute_script(
        "return arguments[0].naturalWidth", thumbnails[0]) > 0  # served by the sandbox
    browser.assert_fits()

    # The category filter is the tree; a category takes in everything below it.
    apparel = next(link for link in browser.find_all("#changelist-filter a[href*='category=']")
                   if link.text.strip() == "Apparel")
    browser.click_element(apparel)
    listing = browser.text("#result_list")
    assert "Full-Zip Hooded Sweatshirt" in listing and "Essential Cotton Tee" in listing
    assert "Canvas Tote" not in listing and "Vinyl Banner" not in listing

    # The product page: where it is published, its tier prices, a push that works.
    product = shop["products"][0]
    browser.open(f"/admin/catalog/product/{product.pk}/change/")

    panel = browser.text(".published-to")
    assert "Demo Storefront Co." in panel and "up to date" in panel
    assert "Demo Production Co." in panel
    assert "tier prices" in browser.text("#variants-group").lower()
    assert "1–11: 3.20 · 12–143: 2.94 · 144+: 2.72" in browser.text("#variants-group")
    # What the hub owns is shown, not editable.
    assert not browser.find_all("input[name=content_hash]")
    assert not browser.find_all("input[name=ops_product_id]")
    browser.assert_fits()
    browser.screenshot("product")

    before = PushLog.objects.filter(product=product).count()
    row = next(r for r in browser.find_all(".published-to tbody tr")
               if "Demo Storefront Co." in r.text)
    browser.click_element(row.find_element("css selector", "button.push-now"))
    assert "Queued a push of DA100" in browser.text(".messagelist")
    assert PushLog.objects.filter(product=product).count() == before + 1
    assert PushLog.objects.filter(product=product).first().action == "unchanged"


def test_the_push_log_reads_well_and_links_to_its_batch(browser, shop):
    browser.open("/admin/pushes/pushlog/")

    listing = browser.text("#result_list")
    assert "Essential Cotton Tee" in listing and "DA100" in listing
    assert "OPS answered the API with 500" in listing
    assert "step" in browser.text("#changelist-filter").lower()
    browser.assert_fits()
    browser.screenshot("push-log")

    browser.click("#changelist-filter a[href*='step=prices']")
    assert len(browser.find_all("#result_list tbody tr")) == 2

    browser.open("/admin/pushes/pushlog/?batch__id__exact=" + str(shop["batch"].pk))
    browser.click("#result_list a[href*='/pushbatch/']")
    assert len(browser.find_all("#logs-group tr.has_original")) == 4
    assert len(browser.find_all("#logs-group .badge-failed")) == 1
    items = browser.text("#logs-group")
    assert "Created in the storefront" in items and "403" in items
    browser.assert_fits()

    browser.click("#retry-failed")
    assert "Queued 1 retry." in browser.text(".messagelist")
    failed = PushLog.objects.filter(customer=shop["batch"].customer, status="failed").first()
    assert PushLog.objects.filter(customer=failed.customer, product=failed.product).first(
        ).status == "pushed"


def test_integration_pages_sync_and_show_their_runs_and_schedules(browser, synced):
    ovs = synced[0]
    browser.open(f"/admin/integrations/ovsintegration/{ovs.pk}/change/")

    runs = browser.text("#sync_runs-group")
    assert "Full" in runs and "Completed" in runs and "40" in runs and "fetch" in runs
    assert browser.find("#id_schedule_every_minutes").get_attribute("value") == "360"
    assert "next run" in browser.text(".field-schedule_link")
    browser.assert_fits()

    browser.click("#sync-now")
    assert "Queued 1 sync." in browser.text(".messagelist")
    assert SyncRun.objects.filter(integration=ovs).count() == 2
    assert len(browser.find_all("#sync_runs-group tr.has_original")) == 2
    assert "created" in browser.text(".field-sync_stats") and "Raw JSON" in browser.text(
        ".field-sync_stats")

    # An import by codes, started here; the codes it did not find are named.
    browser.click("#import-products")
    browser.find("#id_product_codes").send_keys("OVS-00001\nNOPE-1")
    browser.click("#start-import")
    assert "1 of 2 codes not found" in browser.text(".field-outcome")
    outcomes = browser.text(".field-outcomes")
    assert "NOPE-1" in outcomes and "not_found" in outcomes and "OVS-00001" in outcomes
    browser.assert_fits()

    # PrintOps: its schedule is on its page too, and a full sync runs from there.
    printops = synced[1]
    browser.open(f"/admin/integrations/printopsintegration/{printops.pk}/change/")
    assert browser.find("#id_schedule_enabled").is_selected()
    browser.find("#id_schedule_every_minutes").clear()
    browser.find("#id_schedule_every_minutes").send_keys("90")
    browser.click("input[name=_continue]")
    printops.refresh_from_db()
    assert printops.schedule.interval.every == 90

    browser.click("#full-sync")
    assert "Queued 1 full sync." in browser.text(".messagelist")
    assert SyncRun.objects.filter(integration=printops, full=True).count() == 2
    browser.assert_fits()


def test_progress_follows_a_running_sync_and_the_page_refreshes_when_it_ends(
    browser, sandbox, admin_user
):
    ovs = create_integration(
        OVSIntegration, name="Sandbox OVS", base_url=sandbox.url_of("ovs"), username="demo",
        password="demo-password", user=admin_user,
    )
    run_id = claim_sync(ovs.pk)
    Integration.objects.filter(pk=ovs.pk).update(sync_processed=30, sync_total=100)
    browser.open(f"/admin/integrations/ovsintegration/{ovs.pk}/change/")
    assert "Running: 30 of 100 products (30%)" in browser.text(".sync-progress")

    Integration.objects.filter(pk=ovs.pk).update(sync_processed=60)
    WebDriverWait(browser.driver, 10).until(
        lambda _: "60 of 100" in browser.text(".sync-progress"))

    Integration.objects.filter(pk=ovs.pk).update(sync_status="completed")
    SyncRun.objects.filter(pk=run_id).update(status="completed")
    # The page reloads by itself: elements read while it does are gone, and read again.
    WebDriverWait(browser.driver, 10, ignored_exceptions=[
        StaleElementReferenceException, NoSuchElementException]).until(
        lambda _: browser.text(".sync-progress") == "Completed")
    assert "Completed" in browser.text("#sync_runs-group")


def test_the_customer_page_shows_rules_at_work_its_products_and_its_pushes(browser, shop):
    customer = shop["storefront_customer"]
    # A second rule whose rounding sells two tiers at one price.
    customer.markup_rules.create(name="Tees flat", scope="category",
                                 category=shop["products"][0].category, markup_pct=40,
                                 rounding="nearest_dollar")
    browser.open(f"/admin/pushes/customer/{customer.pk}/change/")

    previews = browser.text(".rule-previews")
    assert "Everything +40%, at least 30% margin" in previews
    assert "1–11" in previews and "4.58" not in previews  # the tee costs 3.20
    assert "%" in previews                               # margin per tier
    assert "Two tiers sell at one price" in previews      # 4.48 and 4.12 both round to 4
    assert "Essential Cotton Tee" in browser.text(".pushed-products")
    history = browser.text(".push-history")
    assert "Failed" in history and "OPS answered the API with 500" in history
    assert not browser.find_all("textarea[name=storefront_options]")
    browser.assert_fits()
    # The rules' table fits its box: no scrolling inside the page either.
    assert browser.driver.execute_script(
        "const box = document.querySelector('fieldset.markup-rules');"
        "return box.querySelector('table').getBoundingClientRect().right"
        " <= box.getBoundingClientRect().right + 1")
    browser.screenshot("customer")

    # The order webhook: its URL a plain field, its secret a password box never filled in.
    assert "Order webhook" in browser.text("#content-main")
    assert browser.find("#id_order_webhook_secret").get_attribute("type") == "password"
    browser.find("#id_order_webhook_url").send_keys("https://hooks.example.com/orders")
    browser.find("#id_order_webhook_secret").send_keys("webhook-secret-plain-1")
    browser.find("#id_name").clear()
    browser.find("#id_name").send_keys("Demo Storefront Company")
    browser.click("input[name=_continue]")
    customer.refresh_from_db()
    assert customer.name == "Demo Storefront Company"
    assert customer.order_webhook_url == "https://hooks.example.com/orders"
    assert customer.order_webhook_secret == "webhook-secret-plain-1"
    assert browser.find("#id_order_webhook_url").get_attribute("value") == \
        "https://hooks.example.com/orders"
    assert browser.find("#id_order_webhook_secret").get_attribute("value") == ""
    assert "webhook-secret-plain-1" not in browser.driver.page_source
    assert "A secret is stored; leave empty to keep it." in browser.text("#content-main")

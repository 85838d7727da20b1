"""Pages staff use, checked in a real browser: Debian's Chromium driven by Selenium.

One headless Chromium serves the whole session, with a 1440 px wide viewport. `shop`
fills the database the way a day of work does (a synced catalog, customers, pushes that
went through and pushes that failed, a batch), against the sandbox over real HTTP.
With HUB_SCREENSHOTS=1 the tests that show a page also save it under docs/.
"""

import base64
import os
import shutil
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.test import Client
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.ui import WebDriverWait

from catalog.demo import load_demo_catalog
from catalog.models import Product
from integrations.demo import load_demo_integrations
from pushes.demo import load_demo_customers
from pushes.models import Customer
from pushes.services import push_product, start_batch

WIDTH, HEIGHT = 1440, 900
MAX_SHOT_HEIGHT = 2000
DOCS = Path(__file__).resolve().parents[2] / "docs"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"


@pytest.fixture(scope="session")
def chromium(django_db_setup, live_server):
    # Set up after the database and the live server, so quit before them: the server's
    # request threads (kept alive by the browser) close their connections first.
    if not (os.path.exists(CHROMIUM) and os.path.exists(CHROMEDRIVER)):
        pytest.fail("The browser tests need Debian's chromium and chromium-driver packages.")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage",
                     "--disable-gpu", f"--window-size={WIDTH},{HEIGHT}",
                     "--hide-scrollbars", "--force-device-scale-factor=1"):
        options.add_argument(argument)
    driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(30)
    yield driver
    driver.quit()


class Browser:
    """The session's Chromium, signed in to the live server as one user."""

    def __init__(self, driver, base_url):
        self.driver, self.base_url = driver, base_url

    def open(self, path):
        self.driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
            "width": WIDTH, "height": HEIGHT, "deviceScaleFactor": 1, "mobile": False})
        self.driver.get(self.base_url + path)
        self.wait_loaded()
        return self

    def wait_loaded(self):
        WebDriverWait(self.driver, 20).until(
            lambda d: d.execute_script("return document.readyState") == "complete")

    def find(self, css):
        return self.driver.find_element(By.CSS_SELECTOR, css)

    def find_all(self, css):
        return self.driver.find_elements(By.CSS_SELECTOR, css)

    def text(self, css="body"):
        return self.find(css).text

    def click(self, css):
        """Click what opens another page, and wait until that page has loaded."""
        self.click_element(self.find(css))

    def click_element(self, element):
        old_page = self.find("html")
        element.click()
        # The old page is gone only once the browser navigated: readyState alone may
        # still be the old page's "complete".
        WebDriverWait(self.driver, 30).until(expected_conditions.staleness_of(old_page))
        self.wait_loaded()

    def assert_fits(self):
        """No horizontal scroll at 1440 px: the page is no wider than the window."""
        scroll_width, inner_width = self.driver.execute_script(
            "return [document.documentElement.scrollWidth, window.innerWidth]")
        assert inner_width == WIDTH
        assert scroll_width <= inner_width, f"{self.driver.current_url} is {scroll_width} px wide"

    def screenshot(self, name):
        """With HUB_SCREENSHOTS=1, the whole page (not only the window) as docs/<name>.png."""
        if not os.environ.get("HUB_SCREENSHOTS"):
            return
        height = self.driver.execute_script("return document.documentElement.scrollHeight")
        self.driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
            "width": WIDTH, "height": min(height, MAX_SHOT_HEIGHT), "deviceScaleFactor": 1,
            "mobile": False})
        shot = self.driver.execute_cdp_cmd("Page.captureScreenshot", {"format": "png"})
        self.driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
            "width": WIDTH, "height": HEIGHT, "deviceScaleFactor": 1, "mobile": False})
        DOCS.mkdir(exist_ok=True)
        (DOCS / f"{name}.png").write_bytes(base64.b64decode(shot["data"]))


@pytest.fixture
def browser(chromium, live_server, admin_user):
    client = Client()
    client.force_login(admin_user)
    chromium.delete_all_cookies()
    chromium.get(f"{live_server.url}/admin/login/")
    chromium.add_cookie({"name": django_settings.SESSION_COOKIE_NAME,
                         "value": client.cookies[django_settings.SESSION_COOKIE_NAME].value,
                         "path": "/"})
    return Browser(chromium, live_server.url)


@pytest.fixture
def synced(sandbox, admin_user, eager_tasks, settings):
    """The demo catalog and the demo integrations, their first syncs run."""
    settings.HUB_PUBLIC_URL = "http://127.0.0.1:8000"
    load_demo_catalog(sandbox.url)
    return load_demo_integrations(admin_user, sandbox.url)


@pytest.fixture
def shop(synced, sandbox, admin_user):
    """The synced catalog, three customers, pushes that worked and failed, a batch."""
    integrations = synced
    customers = {customer.name: customer
                 for customer in load_demo_customers(admin_user, sandbox.url)}
    storefront = customers["Demo Storefront Co."]
    products = list(Product.objects.filter(supplier__name="Demo Apparel Co.")
                    .order_by("supplier_sku"))
    for product in products[:3]:
        push_product(storefront.pk, product.pk)
    sandbox.fakes["ops"].set_faults(fail_mutation="setProductPrice")
    for product in products[3:5]:
        push_product(storefront.pk, product.pk)
    sandbox.fakes["ops"].set_faults(fail_mutation=None)
    # One item of the batch is refused by the OMS (its first request answers 403).
    sandbox.fakes["oms"].set_faults(forbid_next=1)
    batch = start_batch(customers["Demo Production Co."], [p.pk for p in products[:4]],
                        admin_user)
    batch.refresh_from_db()
    return {
        "integrations": integrations, "customers": customers, "products": products,
        "storefront_customer": storefront, "batch": batch,
        "poster_customer": Customer.objects.filter(name="Demo Poster Shop").first(),
    }

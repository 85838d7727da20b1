"""PrintOps as a source: its base products grouped into one print product per category.

Every test talks real HTTP to the PrintOps fake of the sandbox (40 base products in 7
categories); the request pages are kept small so that every list spans several pages.
"""

import time
from decimal import Decimal

import pytest
import requests

from catalog.models import PrintSize, Product
from integrations.models import ImportTask, PrintOpsIntegration, PrintOpsShippingMethod, SyncStatus
from integrations.printops import client as printops_client
from integrations.printops.client import BASE_PRODUCTS_PATH, PrintOpsClient, check_credentials
from integrations.printops.source import PrintOpsSource
from integrations.services import claim_sync, create_integration, run_import, run_sync
from sandbox.testing import RunningSandbox

pytestmark = pytest.mark.django_db

TOKEN = "demo-printops-token"
POSTERS = "printops-category-1"
ACRYLIC = "printops-category-7"


@pytest.fixture(autouse=True)
def small_pages(monkeypatch):
    monkeypatch.setattr(PrintOpsSource, "page_size", 7)


@pytest.fixture
def waits(monkeypatch):
    """The seconds the client waited, instead of waiting them."""
    waited = []
    monkeypatch.setattr(printops_client, "sleep", waited.append)
    return waited


@pytest.fixture
def printops(sandbox, user):
    return integration_for(sandbox, user)


def integration_for(sandbox, user, token=TOKEN):
    return create_integration(
        PrintOpsIntegration, name="PrintOps", base_url=sandbox.url_of("printops"),
        api_token=token, user=user,
    )


def sync(integration):
    run_id = claim_sync(integration.pk)
    assert run_id is not None
    result = run_sync(integration.pk, run_id)
    integration.refresh_from_db()
    return result


def control(sandbox, action, **body):
    response = requests.post(f"{sandbox.url_of('printops')}/_sandbox/{action}", json=body,
                             timeout=5)
    response.raise_for_status()
    return response.json()


def fake_state(sandbox):
    return requests.get(f"{sandbox.url_of('printops')}/_sandbox/state", timeout=5).json()


def base_product_requests(sandbox):
    log = requests.get(f"{sandbox.url_of('printops')}/_sandbox/requests", timeout=5).json()
    return [entry for entry in log if entry["path"] == "/api/base-products"]


def product(integration, sku):
    return Product.objects.get(supplier=integration.supplier, supplier_sku=sku)


def sizes_of(integration, sku):
    return {size.sku: size for size in product(integration, sku).sizes.all()}


def ids_in_category(category, sandbox):
    """The fake's present base product ids of one category, read through the API."""
    client = PrintOpsClient(sandbox.url_of("printops"), TOKEN)
    return [each["id"] for each in client.base_products(category_id=category)]


# -- reading every page ----------------------------------------------------------------


def test_a_sync_reads_every_page_of_base_products(printops, sandbox):
    sync(printops)

    pages = base_product_requests(sandbox)
    assert [entry["query"] for entry in pages] == [f"limit=7&page={n}" for n in range(1, 7)]
    assert {entry["status"] for entry in pages} == {200}
    assert PrintSize.objects.filter(product__supplier=printops.supplier).count() == 40


def test_a_sync_makes_one_print_product_per_printops_category(printops):
    result = sync(printops)

    assert printops.sync_status == SyncStatus.COMPLETED
    assert result.created == 7
    names = dict(Product.objects.filter(supplier=printops.supplier)
                 .values_list("supplier_sku", "product_name"))
    assert names == {
        "printops-category-1": "Poster Print",
        "printops-category-2": "Gallery Wrapped Canvas",
        "printops-category-3": "White Framed Poster Print",
        "printops-category-4": "Aluminum Metal Print",
        "printops-category-5": "Black Framed Poster Print",
        "printops-category-6": "Floating Frame Canvas",
        "printops-category-7": "Face Mounted Acrylic Print",
    }
    posters = product(printops, POSTERS)
    assert posters.product_type == "print"
    assert posters.category.path == "PrintOps / Poster Print"
    assert posters.sizes.count() == 16


def test_each_base_product_is_a_size_with_its_sku_price_weight_and_paper(printops):
    sync(printops)

    size = sizes_of(printops, POSTERS)["PP08"]
    assert (size.width, size.height, size.unit) == (Decimal(8), Decimal(10), "in")
    assert size.label == "8 x 10 Print"
    assert size.price == Decimal("2.25")
    assert size.weight == Decimal("0.037")
    assert size.attributes == {
        "base_product_id": 1, "type": "poster_sm", "ships_alone": False,
        "paper_type": "Sappi McCoy 80lb/216gsm Coated Cover", "ratio": "4:5",
        "thickness": 0.009,
    }
    large = sizes_of(printops, POSTERS)["PP24"]
    assert (large.width, large.height, large.price) == (Decimal(24), Decimal(36),
                                                        Decimal("15.00"))
    assert large.attributes["paper_type"] == "Canon Oce 46lb Bond"


def test_the_print_details_span_the_smallest_and_largest_size(printops):
    sync(printops)

    details = product(printops, POSTERS).print_details
    assert (details.min_width, details.max_width) == (Decimal(6), Decimal(24))
    assert (details.min_height, details.max_height) == (Decimal(8), Decimal(36))
    assert details.size_unit == "in"
    # Every size has its own price: the schema's documented `per_size`, not `formula`.
    assert (details.pricing_method, details.base_price_per_sq_unit) == ("per_size", None)


# -- later syncs -----------------------------------------------------------------------


def test_a_second_sync_finds_everything_unchanged_and_writes_nothing(printops):
    sync(printops)
    stamps = dict(Product.objects.values_list("supplier_sku", "updated_at"))

    result = sync(printops)

    assert (result.created, result.updated, result.unchanged) == (0, 0, 7)
    assert printops.sync_status == SyncStatus.COMPLETED
    assert dict(Product.objects.values_list("supplier_sku", "updated_at")) == stamps


def test_a_changed_price_updates_only_that_product(printops, sandbox):
    sync(printops)
    control(sandbox, "change-base-product", id=1, price="2.99")

    result = sync(printops)

    assert (result.updated, result.unchanged) == (1, 6)
    assert result.outcomes[POSTERS] == "updated"
    assert sizes_of(printops, POSTERS)["PP08"].price == Decimal("2.99")


def test_a_removed_base_product_takes_its_size_off_the_product(printops, sandbox):
    sync(printops)
    control(sandbox, "remove-base-products", ids=[1])

    sync(printops)

    sizes = sizes_of(printops, POSTERS)
    assert "PP08" not in sizes and len(sizes) == 15
    assert product(printops, POSTERS).archived_at is None


def test_a_category_whose_base_products_are_all_gone_is_archived_not_deleted(printops, sandbox):
    sync(printops)
    control(sandbox, "remove-base-products", ids=ids_in_category(7, sandbox))

    sync(printops)

    assert printops.sync_status == SyncStatus.COMPLETED
    acrylic = product(printops, ACRYLIC)
    assert acrylic.archived_at is not None
    assert acrylic.sizes.count() == 4
    assert Product.objects.filter(supplier=printops.supplier, archived_at=None).count() == 6


def test_nothing_is_archived_when_a_sync_fails_part_way_through_the_pages(
    printops, sandbox, monkeypatch
):
    sync(printops)
    control(sandbox, "remove-base-products", ids=ids_in_category(7, sandbox))
    # The first page is answered, every later one fails.
    send = PrintOpsClient._request

    def fail_after_the_first_page(self, path, params):
        response = send(self, path, params)
        if path == BASE_PRODUCTS_PATH:
            sandbox.fakes["printops"].set_faults(fail_path="/api/base-products")
        return response

    monkeypatch.setattr(PrintOpsClient, "_request", fail_after_the_first_page)

    sync(printops)

    assert printops.sync_status == SyncStatus.ERROR
    assert "500" in printops.last_error_message
    assert product(printops, ACRYLIC).archived_at is None

    monkeypatch.undo()
    sandbox.fakes["printops"].set_faults(fail_path=None)
    sync(printops)
    assert product(printops, ACRYLIC).archived_at is not None


def test_nothing_is_archived_when_the_shipping_methods_cannot_be_read(printops, sandbox):
    sync(printops)
    control(sandbox, "remove-base-products", ids=ids_in_category(7, sandbox))
    sandbox.fakes["printops"].set_faults(fail_path="/api/shipping-methods")

    sync(printops)

    assert printops.sync_status == SyncStatus.ERROR
    assert product(printops, ACRYLIC).archived_at is None


# -- shipping methods ------------------------------------------------------------------


def test_a_sync_stores_the_shipping_methods(printops):
    sync(printops)

    methods = PrintOpsShippingMethod.objects.filter(integration=printops)
    assert methods.count() == 41
    ground = methods.get(external_id="usps_ground_advantage")
    assert ground.name == "USPS Ground Advantage"
    assert ground.details == {"shipping_carrier": "USPS"}


def test_shipping_methods_printops_no_longer_lists_are_deleted_and_changes_kept(printops):
    PrintOpsShippingMethod.objects.create(integration=printops, external_id="pigeon",
                                          name="Carrier pigeon")
    PrintOpsShippingMethod.objects.create(integration=printops, external_id="ups_ground",
                                          name="Old name")

    sync(printops)

    methods = PrintOpsShippingMethod.objects.filter(integration=printops)
    assert not methods.filter(external_id="pigeon").exists()
    assert methods.get(external_id="ups_ground").name == "UPS® Ground"
    assert methods.count() == 41


# -- rate limit --------------------------------------------------------------------------


def test_429_answers_are_waited_out_and_nothing_is_lost(printops, sandbox, waits):
    sandbox.fakes["printops"].set_faults(rate_limit_next=3, retry_after=7)

    result = sync(printops)

    assert printops.sync_status == SyncStatus.COMPLETED
    assert waits == [7, 7, 7]
    assert result.created == 7
    assert PrintSize.objects.filter(product__supplier=printops.supplier).count() == 40


def test_a_printops_that_keeps_answering_429_ends_the_sync_in_error(printops, sandbox, waits):
    sandbox.fakes["printops"].set_faults(rate_limit_next=100)

    sync(printops)

    assert printops.sync_status == SyncStatus.ERROR
    assert "429" in printops.last_error_message
    assert len(waits) == printops_client.MAX_RATE_LIMIT_WAITS


class FakeClock:
    def __init__(self):
        self.current = 1000.0

    def now(self):
        return self.current

    def advance(self, seconds):
        self.current += seconds


def test_a_used_up_window_is_waited_for_before_the_next_request(user, monkeypatch):
    clock = FakeClock()
    monkeypatch.setattr(printops_client, "sleep", clock.advance)
    with RunningSandbox(catalog_size=40, rate_limit=4, rate_window=60, clock=clock.now) as box:
        integration = integration_for(box, user)

        sync(integration)

        statuses = [entry["status"] for entry in requests.get(
            f"{box.url_of('printops')}/_sandbox/requests", timeout=5).json()]
    assert integration.sync_status == SyncStatus.COMPLETED
    # 6 pages of base products and the shipping methods, none of them refused.
    assert statuses == [200] * 7
    assert clock.now() >= 1000 + 60


# -- credentials and imports -----------------------------------------------------------


def test_a_wrong_token_ends_the_sync_in_error_with_a_clear_message(sandbox, user):
    integration = integration_for(sandbox, user, token="not-the-token")

    sync(integration)

    assert integration.sync_status == SyncStatus.ERROR
    assert integration.last_error_message == "PrintOps refused the API token"
    assert not Product.objects.filter(supplier=integration.supplier).exists()


def test_check_credentials_accepts_the_right_token(sandbox):
    assert check_credentials(sandbox.url_of("printops"), TOKEN) is None


def test_check_credentials_refuses_a_wrong_token(sandbox):
    with pytest.raises(printops_client.SourceError, match="^PrintOps refused the API token$"):
        check_credentials(sandbox.url_of("printops"), "not-the-token")


def test_check_credentials_says_when_printops_cannot_be_reached(sandbox):
    closed = RunningSandbox().start()
    url = closed.url_of("printops")
    closed.stop()
    started = time.monotonic()

    with pytest.raises(printops_client.SourceError, match="^PrintOps could not be reached: "):
        check_credentials(url, TOKEN)
    assert time.monotonic() - started < 10


def test_an_import_by_category_code_brings_that_one_product(printops, user):
    task = ImportTask.objects.create(integration=printops, owner=user,
                                     product_codes=[POSTERS, "printops-category-99", "PP08"])

    outcomes = run_import(task.pk)

    assert outcomes[POSTERS] == {"status": "created"}
    assert outcomes["printops-category-99"]["status"] == "not_found"
    assert outcomes["PP08"]["status"] == "not_found"
    assert sizes_of(printops, POSTERS).keys() >= {"PP08", "PP24"}
    assert Product.objects.filter(supplier=printops.supplier).count() == 1


def test_a_product_the_database_cannot_hold_costs_only_itself(printops, sandbox):
    fake = sandbox.fakes["printops"]
    with fake.lock:
        fake.state["base_products"][21]["name"] += "\x00"  # a size of the acrylic prints

    result = sync(printops)

    assert printops.sync_status == SyncStatus.COMPLETED
    stored = Product.objects.filter(supplier=printops.supplier)
    assert result.failed == 1 and result.created == stored.count() > 1
    assert result.processed == printops.sync_total == stored.count() + 1
    [error] = result.errors
    assert error["supplier_sku"] == ACRYLIC
    assert error["errors"][0]["type"] == "string_nul"
    assert not stored.filter(supplier_sku=ACRYLIC).exists()

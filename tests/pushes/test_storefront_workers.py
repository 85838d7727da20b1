"""The OMS and PrintOps end to end on a real worker: API → Redis → worker → sandbox."""

import pytest
import requests

from catalog.ingest import ingest_products
from catalog.models import Product
from integrations.models import Integration, OMSIntegration, PrintOpsIntegration, SyncStatus
from pushes.models import Customer, MarkupRule, PushLog
from tests.factories import apparel_payload
from tests.worker import running_worker, wait_for

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.worker]


def oms_state(sandbox):
    return requests.get(f"{sandbox.url_of('oms')}/_sandbox/state", timeout=5).json()


def test_an_oms_product_is_created_updated_skipped_and_trimmed_on_a_worker(
    staff_api, staff_user, supplier, sandbox, settings
):
    settings.PUSH_WAIT_SECONDS = 60
    storefront = OMSIntegration.objects.create(
        name="Acme orders", user=staff_user, base_url=sandbox.url_of("oms"),
        api_token="demo-oms-token", store_id="7", team_id="5", country_id="44",
    )
    customer = Customer.objects.create(name="Acme", storefront=storefront)
    MarkupRule.objects.create(customer=customer, markup_pct=40)
    ingest_products(supplier, [apparel_payload("PC61")])
    product = Product.objects.get()
    url = f"/api/push/{customer.id}/{product.id}"

    with running_worker():
        created = staff_api.post(url)
        ingest_products(supplier, [apparel_payload("PC61", price="5.00", sizes=("S",))])
        updated = staff_api.post(url)
        unchanged = staff_api.post(url)

    assert [r.json()["status"] for r in (created, updated, unchanged)] == ["success"] * 3
    actions = list(PushLog.objects.order_by("pushed_at").values_list("action", flat=True))
    assert actions == ["created", "updated", "unchanged"]
    state = oms_state(sandbox)
    assert state["counts"]["products"] == 1
    # Two colours × one size left: the M variants were deleted in the OMS.
    assert state["counts"]["variants"] == 2
    assert all("price:7.00" in v["ecommerce_tags"] for v in state["variants"])


def test_a_printops_sync_runs_on_a_worker_and_groups_base_products(api, user, sandbox):
    from integrations.services import create_integration

    printops = create_integration(
        PrintOpsIntegration, name="PrintOps", base_url=sandbox.url_of("printops"),
        api_token="demo-printops-token", user=user,
    )
    base = f"/api/v1/external-integrations/printops/{printops.id}"

    with running_worker():
        assert api.post(f"{base}/sync").status_code == 202

        def finished():
            """the PrintOps sync to finish"""
            return Integration.objects.get(pk=printops.pk).sync_status != SyncStatus.RUNNING

        wait_for(finished)
        first = api.get(f"{base}/sync/status").json()
        gone = Product.objects.filter(supplier=printops.supplier).exclude(
            supplier_sku="printops-category-1").first()
        ids = [size.attributes["base_product_id"] for size in gone.sizes.all()]
        requests.post(f"{sandbox.url_of('printops')}/_sandbox/remove-base-products",
                      json={"ids": ids}, timeout=5)
        assert api.post(f"{base}/sync").status_code == 202
        wait_for(finished)
        second = api.get(f"{base}/sync/status").json()

    assert first["sync_status"] == second["sync_status"] == "completed"
    products = Product.objects.filter(supplier=printops.supplier)
    assert products.count() == first["last_sync_stats"]["created"] > 1
    assert second["last_sync_stats"]["unchanged"] == products.count() - 1
    gone.refresh_from_db()
    assert gone.archived_at is not None
    poster = products.get(supplier_sku="printops-category-1")
    assert poster.product_type == "print"
    assert poster.sizes.count() > 10
    assert all(size.price and size.attributes.get("base_product_id")
               for size in poster.sizes.all())

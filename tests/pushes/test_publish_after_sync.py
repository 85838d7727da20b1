"""OVS `push_products`: a sync re-pushes what changed and hosts the changed images."""

import pytest
import requests

from catalog.models import Product, ProductImage
from integrations.models import OPSIntegration, OVSIntegration
from integrations.services import claim_sync, create_integration, run_sync
from pushes.models import Customer, MarkupRule, PushLog
from pushes.services import push_product

pytestmark = pytest.mark.django_db


@pytest.fixture
def ovs(sandbox, user):
    return create_integration(
        OVSIntegration, name="Sandbox OVS", base_url=sandbox.url_of("ovs"), username="demo",
        password="demo-password", user=user, push_products=True,
        push_service_base_url=sandbox.url_of("push"), push_service_api_key="demo-push-key",
    )


@pytest.fixture
def customer(sandbox, user):
    storefront = OPSIntegration.objects.create(
        name="Acme storefront", user=user, base_url=sandbox.url_of("ops"),
        token_url=f"{sandbox.url_of('ops')}/oauth/token", client_id="demo-client",
        client_secret="demo-secret",
    )
    customer = Customer.objects.create(name="Acme", storefront=storefront)
    MarkupRule.objects.create(customer=customer, markup_pct=40)
    return customer


def sync(integration):
    run_sync(integration.pk, claim_sync(integration.pk))


def test_a_sync_repushes_changed_products_to_where_they_were_pushed(
    ovs, customer, sandbox, eager_tasks, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        sync(ovs)
    pushed = Product.objects.get(supplier_sku="OVS-00002")
    push_product(customer.pk, pushed.pk)
    never_pushed = Product.objects.get(supplier_sku="OVS-00003")
    requests.post(f"{sandbox.url_of('ovs')}/_sandbox/touch",
                  json={"codes": ["OVS-00002", "OVS-00003"]}, timeout=5)

    with django_capture_on_commit_callbacks(execute=True):
        sync(ovs)

    logs = PushLog.objects.filter(customer=customer).order_by("pushed_at")
    assert [(log.product_id, log.action) for log in logs] == [
        (pushed.pk, "created"), (pushed.pk, "updated"),
    ]
    assert not PushLog.objects.filter(product=never_pushed).exists()
    ops_product = next(iter(sandbox.fakes["ops"].state["products"].values()))
    assert ops_product["products_title"].endswith("(rev 2)")
    # The changed products' images now live on the push service; the originals are kept.
    for image in ProductImage.objects.filter(product__in=[pushed, never_pushed]):
        assert image.url.startswith(sandbox.url_of("push"))
        assert image.supplier_image_url == image.source_url


def test_nothing_is_republished_when_push_products_is_off(
    ovs, customer, sandbox, eager_tasks, django_capture_on_commit_callbacks
):
    OVSIntegration.objects.filter(pk=ovs.pk).update(push_products=False)
    ovs.refresh_from_db()
    with django_capture_on_commit_callbacks(execute=True):
        sync(ovs)
    product = Product.objects.get(supplier_sku="OVS-00002")
    push_product(customer.pk, product.pk)
    requests.post(f"{sandbox.url_of('ovs')}/_sandbox/touch", json={"codes": ["OVS-00002"]},
                  timeout=5)

    with django_capture_on_commit_callbacks(execute=True):
        sync(ovs)

    assert PushLog.objects.count() == 1
    assert not ProductImage.objects.filter(supplier_image_url__isnull=False).exists()

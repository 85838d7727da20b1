import pytest

from catalog.demo import load_demo_catalog
from integrations.demo import load_demo_integrations
from orders.demo import load_demo_orders
from orders.models import Order, OrderStatus
from pushes.demo import load_demo_customers

pytestmark = pytest.mark.django_db


def test_the_demo_places_orders_on_the_demo_storefronts_and_pulls_them(sandbox, owner):
    load_demo_catalog()
    load_demo_integrations(owner, sandbox.url)
    load_demo_customers(owner, sandbox.url)

    load_demo_orders(sandbox.url)

    by_source = {source: Order.objects.filter(source=source).count()
                 for source in ("ops", "printops", "api")}
    assert by_source["ops"] == 4 and by_source["api"] == 1 and by_source["printops"] >= 2
    assert Order.objects.filter(status=OrderStatus.NEEDS_ATTENTION).exists()
    assert Order.objects.filter(source="ops", status=OrderStatus.RECEIVED).count() == 4
    assert Order.objects.filter(status=OrderStatus.SHIPPED).exists()

    load_demo_orders(sandbox.url)  # once only
    assert Order.objects.count() == sum(by_source.values())

"""An order pull end to end: API → Redis → a real worker → the sandbox over HTTP."""

import pytest

from orders.models import Order, OrderPull
from tests.orders.conftest import place_ops_orders
from tests.worker import running_worker, wait_for

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.worker]


def test_pull_now_runs_on_a_worker_and_stores_the_orders(staff_api, sandbox, ops_shop):
    place_ops_orders(sandbox, count=3, lines_per_order=2)

    with running_worker():
        response = staff_api.post(f"/api/customers/{ops_shop.pk}/orders/sync")
        assert response.status_code == 202

        def finished():
            """the pull to finish"""
            return OrderPull.objects.get(customer=ops_shop).status in ("completed", "error")

        wait_for(finished)

    pull = OrderPull.objects.get(customer=ops_shop)
    assert pull.status == "completed", pull.last_error
    assert pull.last_stats["created"] == 3
    assert Order.objects.filter(customer=ops_shop).count() == 3
    assert pull.schedule is not None and pull.schedule.interval.every == 5

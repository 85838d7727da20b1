"""The fulfilment admin: routes, status maps (unmapped states said), storefront updates,
and the order desk's filter "storefront not updated" and its actions."""

import pytest

from catalog.models import Supplier
from orders.models import (
    FulfilmentRoute,
    Order,
    OrderSource,
    StatusMapping,
    StatusScope,
    StorefrontUpdate,
    UpdateChannel,
    UpdateKind,
    UpdateState,
)

pytestmark = pytest.mark.django_db


def an_order(customer, source_order_id):
    return Order.objects.create(customer=customer, source=OrderSource.API,
                                source_order_id=source_order_id)


def test_the_fulfilment_pages_open(admin_client, shop):
    FulfilmentRoute.objects.create(supplier=Supplier.objects.create(name="SanMar"))
    for page in ("fulfilmentroute", "remoteorder", "statusmapping", "storefrontupdate"):
        response = admin_client.get(f"/admin/orders/{page}/")
        assert response.status_code == 200, page
    assert "Manual (staff)" in admin_client.get("/admin/orders/fulfilmentroute/").content.decode()


def test_the_status_map_page_says_which_states_are_not_sent(admin_client, shop):
    StatusMapping.objects.create(customer=shop, scope=StatusScope.LINE, hub_status="ready",
                                 storefront_title="Ready")
    StatusMapping.objects.create(customer=shop, scope=StatusScope.LINE,
                                 hub_status="unmatched", storefront_title="")
    page = admin_client.get("/admin/orders/statusmapping/", follow=True).content.decode()
    assert "1 state has no storefront title: the storefront is not told of it." in page
    unmapped = admin_client.get("/admin/orders/statusmapping/?mapped=no").content.decode()
    assert "unmatched" in unmapped and ">Ready<" not in unmapped


def test_orders_whose_storefront_was_not_updated_are_one_filter_away(admin_client, shop):
    stuck, fine, waiting = (an_order(shop, name) for name in ("STUCK", "FINE", "WAITING"))
    StorefrontUpdate.objects.create(order=stuck, channel=UpdateChannel.OPS,
                                    kind=UpdateKind.ORDER_STATUS, title="Shipped",
                                    state=UpdateState.PENDING, attempts=2)
    StorefrontUpdate.objects.create(order=fine, channel=UpdateChannel.OPS,
                                    kind=UpdateKind.ORDER_STATUS, title="Shipped",
                                    state=UpdateState.SENT, attempts=1)
    StorefrontUpdate.objects.create(order=waiting, channel=UpdateChannel.OPS,
                                    kind=UpdateKind.ORDER_STATUS, title="Shipped")

    page = admin_client.get("/admin/orders/order/?storefront=not_updated").content.decode()

    assert "STUCK" in page and "FINE" not in page and "WAITING" not in page


def test_the_cancel_action_cancels_unrouted_lines(admin_client, shop):
    order = an_order(shop, "CANCEL-ME")
    order.lines.create(source_line_id="1", quantity=1)

    admin_client.post("/admin/orders/order/", {
        "action": "cancel_orders", "_selected_action": [str(order.pk)]})

    assert order.lines.get().status == "cancelled"

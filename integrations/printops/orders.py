"""A PrintOps store's orders and shipments, mapped to canonical orders (orders.payload).

`GET api/stores/{store}/orders` is read page by page on every pull: PrintOps offers no
filter by date, so every page is read and the hub's stored hash tells which orders
changed. A webhook delivery (`order_state_update`, `order_shipment`) is only a nudge: the
hub reads that order again through the API, shipments included, and trusts nothing in
the delivery itself.

PrintOps amounts are integer cents. An order's totals: `line_items_total` is the
subtotal, `shipping_total` + `fulfillment_total` + `handling` the shipping (so subtotal +
shipping + tax is `grand_total`), `tax_total` the tax. PrintOps orders carry no placing
date: the hub uses the moment it first read the order.
"""

from datetime import datetime

from hub.values import as_dict, is_whole
from integrations.printops.client import PrintOpsClient
from orders.models import OrderSource
from orders.payload import (
    CanonicalAddress,
    CanonicalLine,
    CanonicalOrder,
    CanonicalShipment,
    cents,
    text,
)
from orders.sources import NothingToPull, OrderPage

PAGE_SIZE = 100


class PrintOpsOrders:
    def __init__(self, integration, customer):
        self.client = PrintOpsClient.for_integration(integration)
        self.customer = customer
        self.store_id = (customer.storefront_options or {}).get("store_id")
        if self.store_id in (None, ""):
            raise NothingToPull(f"Customer {customer.name}'s storefront options name no "
                                "PrintOps store.")

    def statuses(self):
        return None

    def pages(self, since):
        for rows, total in self.client.order_pages(self.store_id, page_size=PAGE_SIZE):
            page = OrderPage(total=total)
            for row in rows:
                if not isinstance(row, dict) or not is_whole(row.get("id")):
                    page.failures.append("an order without a valid id")
                    continue
                page.orders.append(map_order(row))
            yield page

    def order(self, source_order_id):
        row = self.client.order(self.store_id, source_order_id)
        if not isinstance(row, dict) or not is_whole(row.get("id")):
            return None
        return map_order(row)


def map_order(row):
    problems = []
    address = as_dict(row.get("shipping_address"))
    name = " ".join(part for part in (text(address.get("first_name")),
                                      text(address.get("last_name"))) if part)
    totals = as_dict(row.get("order_total"))
    shipping_parts = [totals.get(key) for key in ("shipping_total", "fulfillment_total",
                                                  "handling")]
    shipping = [cents(part) for part in shipping_parts if part is not None]
    lines = []
    items = row.get("line_items")
    if not isinstance(items, list) or not items:
        problems.append("no line items")
        items = []
    for n, item in enumerate(items):
        line = map_line(item, n, problems)
        if line is not None:
            lines.append(line)
    return CanonicalOrder(
        source=OrderSource.PRINTOPS, source_order_id=str(row["id"]),
        order_number=text(row.get("external_order_id"), 128) or str(row["id"]),
        source_status=text(row.get("state"), 128),
        currency="USD",
        subtotal=money(totals.get("line_items_total"), problems, "line_items_total"),
        shipping=sum(shipping) if shipping and None not in shipping else None,
        tax=money(totals.get("tax_total"), problems, "tax_total"),
        total=money(totals.get("grand_total"), problems, "grand_total"),
        buyer_name=name, buyer_phone=text(address.get("phone"), 64),
        buyer_company=text(address.get("company")),
        shipping_address=CanonicalAddress(
            name=name, company=text(address.get("company")),
            address_1=text(address.get("address_1")), address_2=text(address.get("address_2")),
            city=text(address.get("city"), 128), state=text(address.get("state"), 128),
            postal_code=text(address.get("postal_code"), 32),
            country_code=text(address.get("country"), 8).upper(),
            phone=text(address.get("phone"), 64),
        ) if address else None,
        lines=lines,
        shipments=shipments_of(row, problems),
        problems=problems,
    )


def map_line(item, n, problems):
    if not isinstance(item, dict) or not is_whole(item.get("id")):
        problems.append(f"line item {n + 1} without a valid id (left out)")
        return None
    quantity = item.get("quantity")
    if not is_whole(quantity) or quantity < 1:
        problems.append(f"line item {item['id']} with quantity {quantity!r} (left out)")
        return None
    user_product = as_dict(item.get("user_product"))
    base_product = as_dict(user_product.get("base_product"))
    user_product_id = user_product.get("id", item.get("user_product_id"))
    return CanonicalLine(
        source_line_id=str(item["id"]), quantity=quantity,
        sku=text(user_product.get("user_sku")), name=text(user_product.get("name"), 500),
        size=text(base_product.get("name")),
        unit_price=money(item.get("unit_price"), problems, f"line item {item['id']} unit_price"),
        source_product_id=str(user_product_id) if is_whole(user_product_id) else "",
    )


def shipments_of(row, problems):
    """The order's shipments (voided ones left out), each with the line items of its
    fulfillment."""
    fulfillments = {
        fulfillment.get("id"): fulfillment
        for fulfillment in row.get("fulfillments") or [] if isinstance(fulfillment, dict)
    }
    found = []
    for shipment in as_dict(row.get("shipments")).get("shipments") or []:
        if not isinstance(shipment, dict) or not is_whole(shipment.get("id")):
            problems.append("a shipment without a valid id (left out)")
            continue
        if shipment.get("voided_on"):
            continue
        fulfillment = as_dict(fulfillments.get(shipment.get("fulfillment_id")))
        lines = [
            (str(item["id"]), item["quantity"])
            for item in fulfillment.get("line_items") or []
            if isinstance(item, dict) and is_whole(item.get("id"))
            and is_whole(item.get("quantity"))
        ]
        found.append(CanonicalShipment(
            source_shipment_id=str(shipment["id"]),
            carrier=text(shipment.get("shipping_carrier"), 128),
            tracking_number=text(shipment.get("tracking_number")),
            shipped_at=parse_timestamp(shipment.get("created_at")),
            lines=lines,
        ))
    return found


def money(value, problems, name):
    if value is None:
        return None
    amount = cents(value)
    if amount is None:
        problems.append(f"{name} {str(value)[:40]!r} is not a whole number of cents")
    return amount


def parse_timestamp(value):
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None

"""Demo orders for `make run`: buyers order on the demo storefronts, and the hub pulls.

Run once on a worker after the demo is loaded: two demo products are pushed to the
OnPrintShop demo customer, buyers place orders for them in the sandbox, a buyer orders in
the demo PrintOps store (its seeded user products, which the hub did not make: those lines
need attention) and one of those orders ships; then both customers' orders are pulled,
and one order comes in through the intake service as another system would post it.
"""

import logging

from catalog.demo import DEMO_SUPPLIER
from catalog.models import Product
from hub.outbound import guarded_session
from orders import pulls
from orders.models import Order, OrderSource
from orders.payload import CanonicalAddress, CanonicalLine, CanonicalOrder
from orders.services import take_in
from pushes.demo import DEMO_POSTER_STORE
from pushes.models import Customer
from pushes.services import push_product

logger = logging.getLogger(__name__)

DEMO_OPS_CUSTOMER = "Demo Storefront Co."
DEMO_POSTER_CUSTOMER = "Demo Poster Shop"
DEMO_PRODUCTS = ("DA100", "DA200")


def load_demo_orders(sandbox_url):
    """Place and pull the demo orders once (nothing happens when orders exist)."""
    if Order.objects.exists():
        return
    session = guarded_session()
    ops_customer = Customer.objects.filter(name=DEMO_OPS_CUSTOMER).first()
    if ops_customer is not None:
        for product in Product.objects.filter(supplier__name=DEMO_SUPPLIER,
                                              supplier_sku__in=DEMO_PRODUCTS):
            push_product(ops_customer.pk, product.pk)
        session.post(f"{sandbox_url}/ops/_sandbox/place-order",
                     json={"count": 4, "lines_per_order": 2}, timeout=30)
        pull_now(ops_customer)
        take_in_demo_order(ops_customer)
    poster_shop = Customer.objects.filter(name=DEMO_POSTER_CUSTOMER).first()
    if poster_shop is not None:
        placed = session.post(f"{sandbox_url}/printops/_sandbox/place-order",
                              json={"store_id": DEMO_POSTER_STORE, "count": 2}, timeout=30)
        order_ids = placed.json().get("order_ids", []) if placed.ok else []
        if order_ids:
            session.post(f"{sandbox_url}/printops/_sandbox/ship-order",
                         json={"store_id": DEMO_POSTER_STORE, "order_id": order_ids[0]},
                         timeout=30)
        pull_now(poster_shop)


def pull_now(customer):
    pulls.pull_of(customer)
    run_id = pulls.claim_pull(customer.pk)
    if run_id is not None:
        pulls.run_pull(customer.pk, str(run_id))


def take_in_demo_order(customer):
    """One order as another system would post it to POST /api/orders."""
    variant = Product.objects.filter(
        supplier__name=DEMO_SUPPLIER, supplier_sku=DEMO_PRODUCTS[0]
    ).values_list("variants__sku", flat=True).first()
    take_in(customer, CanonicalOrder(
        source=OrderSource.API, source_order_id="DEMO-API-1", order_number="API-1",
        currency="USD", buyer_name="Dee Park", buyer_email="dee@example.com",
        shipping_address=CanonicalAddress(name="Dee Park", address_1="9 Pine St",
                                          city="Denver", postal_code="80202",
                                          country_code="US"),
        lines=[CanonicalLine(source_line_id="1", quantity=24, sku=variant or "DA100"),
               CanonicalLine(source_line_id="2", quantity=5, sku="NOT-IN-CATALOG")],
    ))
    logger.info("Demo orders loaded")

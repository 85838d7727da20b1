"""The orders section of `manage.py bench`: an OnPrintShop order pull from the sandbox.

A bench customer's storefront is the sandbox OnPrintShop; a few bench products are pushed
to it, buyers place `--orders` orders of 3 lines there, and the hub pulls them: orders/s
and the queries per order and per page of 250. A second pull, with nothing changed, must
write no order row (it still writes the pull's own progress). The sandbox runs in a
process of its own, so the fake's GraphQL work is not counted as the hub's.
"""

import time
from contextlib import contextmanager

import requests
from django.contrib.auth import get_user_model
from django.db import connection

from catalog.bench import bench_payload, remove_bench_supplier
from catalog.ingest import ingest_products
from catalog.models import Supplier
from integrations.bench import outbound_refusal
from integrations.models import OPSIntegration
from integrations.ops.client import ORDERS_PAGE_SIZE
from orders import pulls
from orders.models import Order
from pushes.models import Customer, MarkupRule
from pushes.services import push_product
from sandbox.testing import sandbox_process

CUSTOMER = "Bench orders customer"
STOREFRONT = "Bench orders storefront"
PRODUCTS = 10
LINES = 3
# Requests per minute of the sandbox storefront and of the customer's budget: high, so
# neither is what is measured.
RAISED_RATE_LIMIT = 100_000
SANDBOX_ARGS = ("--catalog-size", "1", "--rate-limit", str(RAISED_RATE_LIMIT))
ORDER_TABLES = ('"orders_order"', '"orders_orderline"', '"orders_orderaddress"',
                '"orders_orderevent"', '"orders_shipment"', '"orders_shipmentline"')


def orders_section(run):
    orders = run.orders
    supplier_name = f"{run.supplier_name} orders"
    remove_orders_bench(supplier_name, run.say)
    with sandbox_process(*SANDBOX_ARGS) as sandbox_url:
        refused = outbound_refusal(f"{sandbox_url}/ops")
        if refused:
            return {"skipped": refused}
        try:
            customer = bench_customer(run, sandbox_url, supplier_name)
            run.say(f"placing {orders} orders of {LINES} lines in the sandbox storefront")
            place(sandbox_url, orders)
            run.say("first pull")
            first_seconds, first_queries, first_writes, result = timed_pull(customer)
            if result is None or result.created != orders:
                stored = Order.objects.filter(customer=customer).count()
                return {"error": f"the pull stored {stored} of {orders} orders"}
            run.say("second pull, nothing changed")
            again_seconds, again_queries, again_writes, again = timed_pull(customer)
        finally:
            if not run.keep:
                remove_orders_bench(supplier_name, run.say)
    pages = -(-orders // ORDERS_PAGE_SIZE)
    return {
        "orders": orders, "lines_per_order": LINES,
        "first_pull_seconds": first_seconds,
        "orders_per_second": orders / first_seconds,
        "queries_per_order": first_queries / orders,
        "queries_per_page": first_queries / pages,
        "unchanged_pull_seconds": again_seconds,
        "unchanged_pull_order_writes": again_writes,
        "unchanged_pull_queries_per_page": again_queries / pages,
        "unchanged_orders": again.unchanged if again else None,
    }


def bench_customer(run, sandbox_url, supplier_name):
    supplier = Supplier.objects.create(name=supplier_name)
    ingest_products(supplier, [bench_payload(index, 6, 1, 1) for index in range(PRODUCTS)])
    owner, _ = get_user_model().objects.get_or_create(username="bench")
    url = f"{sandbox_url}/ops"
    storefront = OPSIntegration.objects.create(
        name=STOREFRONT, base_url=url, token_url=f"{url}/oauth/token",
        client_id="demo-client", client_secret="demo-secret", user=owner,
        rate_limit_per_minute=RAISED_RATE_LIMIT,
    )
    customer = Customer.objects.create(name=CUSTOMER, storefront=storefront)
    MarkupRule.objects.create(customer=customer, markup_pct=40)
    run.say(f"pushing {PRODUCTS} products to the sandbox storefront")
    for product in supplier.products.all():
        push_product(customer.pk, product.pk)
    return customer


def place(sandbox_url, orders):
    response = requests.post(f"{sandbox_url}/ops/_sandbox/place-order",
                             json={"count": orders, "lines_per_order": LINES}, timeout=600)
    response.raise_for_status()


def timed_pull(customer):
    pulls.pull_of(customer)
    run_id = pulls.claim_pull(customer.pk)
    with counted() as counts:
        started = time.perf_counter()
        result = pulls.run_pull(customer.pk, str(run_id))
        seconds = time.perf_counter() - started
    return seconds, counts["queries"], counts["order_writes"], result


@contextmanager
def counted():
    counts = {"queries": 0, "order_writes": 0}

    def count(execute, sql, params, many, context):
        counts["queries"] += 1
        if sql.split(None, 1)[0] in ("INSERT", "UPDATE", "DELETE") and any(
            table in sql for table in ORDER_TABLES
        ):
            counts["order_writes"] += 1
        return execute(sql, params, many, context)

    with connection.execute_wrapper(count):
        yield counts


def remove_orders_bench(supplier_name, say):
    storefronts = OPSIntegration.objects.filter(
        name=STOREFRONT, base_url__startswith="http://127.0.0.1:")
    customers = Customer.objects.filter(name=CUSTOMER, storefront__in=storefronts)
    for customer in customers:
        say(f"removing the bench orders of {customer.name}")
        Order.objects.filter(customer=customer).delete()
    remove_bench_supplier(supplier_name, say)
    customers.delete()
    storefronts.delete()

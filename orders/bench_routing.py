"""The routing section of `manage.py bench`: orders of 3 lines routed to the sandbox OMS.

A bench supplier's products are pushed to the sandbox OMS first (so the pushes are not
what is measured) and a route sends that supplier to it. For 1 worker, then 2, `--orders`
new orders are stored (their routing tasks wait in the broker), the workers start, and the
clock runs until every line is `in_production` with its OMS item: orders/s, the speedup,
and how many OMS answers were 429 (the OMS documents no rate limit; none may come). The
sandbox runs in a process of its own, so its work is not counted as the hub's. The
broker's queue is emptied before each timing and after it: run the bench on a broker of
its own.
"""

import os
import time

import requests
from django.contrib.auth import get_user_model

from catalog.bench import SKU_PREFIX, BenchError, bench_payload, remove_bench_supplier
from catalog.ingest import ingest_products
from catalog.models import Supplier
from hub.celery import app
from integrations.bench import outbound_refusal
from integrations.models import OMSIntegration
from orders.bench import SANDBOX_ARGS
from orders.models import FulfilmentRoute, LineStatus, Order, OrderLine, OrderSource
from orders.payload import CanonicalAddress, CanonicalLine, CanonicalOrder
from orders.services import store_orders
from pushes.bench import running_workers, why_no_bench_workers
from pushes.models import Customer, MarkupRule
from pushes.services import push_product
from sandbox.testing import sandbox_process

PRODUCTS = 10
LINES = 3
INTEGRATION = "Bench routing OMS"
CATALOG_CUSTOMER = "Bench routing OMS catalog"
SHOP = "Bench routing shop"
STORE_BATCH = 100
STALL_SECONDS = 120
# Orders name their lines by SKU, and the bench catalog (there while the sections run) has
# bench_payload's SKUs too: the routing products' SKUs are their own, or no line resolves.
ROUTING_SKU_PREFIX = f"{SKU_PREFIX}ROUTE-"


def routing_section(run):
    unavailable = why_no_bench_workers()
    if unavailable:
        return {"skipped": unavailable}
    supplier_name = f"{run.supplier_name} routing"
    remove_routing_bench(supplier_name, run.say)
    with sandbox_process(*SANDBOX_ARGS) as sandbox_url:
        refused = outbound_refusal(f"{sandbox_url}/oms")
        if refused:
            return {"skipped": refused}
        try:
            shop, skus = bench_setup(run, sandbox_url, supplier_name)
            one = timed_routing(run, sandbox_url, shop, skus, 1)
            two = timed_routing(run, sandbox_url, shop, skus, 2)
        except BenchError as exc:
            # Reported in the section's numbers, as the orders section does: the other
            # sections' numbers still stand.
            return {"error": str(exc)[:500]}
        finally:
            if not run.keep:
                remove_routing_bench(supplier_name, run.say)
    return {
        "orders": run.orders, "lines_per_order": LINES, "cpus": os.cpu_count(),
        **{f"{name}_1_worker": value for name, value in one.items()},
        **{f"{name}_2_workers": value for name, value in two.items()},
        "speedup": one["seconds"] / two["seconds"],
    }


def bench_setup(run, sandbox_url, supplier_name):
    supplier = Supplier.objects.create(name=supplier_name)
    ingest_products(supplier, [routing_payload(index) for index in range(PRODUCTS)])
    owner, _ = get_user_model().objects.get_or_create(username="bench")
    integration = OMSIntegration.objects.create(
        name=INTEGRATION, base_url=f"{sandbox_url}/oms", api_token="demo-oms-token",
        store_id="bench", team_id="1", country_id="1", user=owner)
    catalog = Customer.objects.create(name=CATALOG_CUSTOMER, storefront=integration)
    MarkupRule.objects.create(customer=catalog, markup_pct=0)
    run.say(f"pushing {PRODUCTS} products to the sandbox OMS")
    for product in supplier.products.all():
        log, _ = push_product(catalog.pk, product.pk)
        if log is None or log.error:
            raise BenchError(f"Pushing to the sandbox OMS failed: {log and log.error}")
    FulfilmentRoute.objects.create(supplier=supplier, fulfiller_integration=integration)
    shop = Customer.objects.create(name=SHOP)
    skus = [sku for product in supplier.products.all()
            for sku in product.variants.values_list("sku", flat=True)]
    return shop, skus


def routing_payload(index):
    """bench_payload's product at `index`, its SKUs under ROUTING_SKU_PREFIX."""
    payload = bench_payload(index, 3, 1, 1)
    payload["supplier_sku"] = payload["supplier_sku"].replace(SKU_PREFIX, ROUTING_SKU_PREFIX, 1)
    for variant in payload["variants"]:
        variant["sku"] = variant["sku"].replace(SKU_PREFIX, ROUTING_SKU_PREFIX, 1)
    return payload


def timed_routing(run, sandbox_url, shop, skus, workers):
    prefix = f"w{workers}-{time.time_ns()}"
    # Tasks left in the broker by earlier sections (the orders section's routing of orders
    # it has since removed) would be worked through on the clock.
    app.control.purge()
    run.say(f"storing {run.orders} orders of {LINES} lines (routing queued)")
    address = CanonicalAddress(name="Ann Lee", address_1="1 Main St", city="Nashville",
                               postal_code="37207", country_code="US")
    for start in range(0, run.orders, STORE_BATCH):
        store_orders(shop, [
            CanonicalOrder(source=OrderSource.API, source_order_id=f"{prefix}-{n}",
                           order_number=str(n), shipping_address=address,
                           lines=[CanonicalLine(source_line_id=str(k), quantity=1,
                                                sku=skus[(n * LINES + k) % len(skus)])
                                  for k in range(LINES)])
            for n in range(start, min(start + STORE_BATCH, run.orders))
        ])
    lines = OrderLine.objects.filter(order__source_order_id__startswith=f"{prefix}-")
    total = lines.count()
    before = requests.get(f"{sandbox_url}/oms/_sandbox/requests", timeout=30).json()
    with running_workers(workers) as running:
        run.say(f"routing with {workers} worker(s)")
        started = time.monotonic()
        done, moved_at = 0, started
        while done < total:
            time.sleep(0.5)
            now_done = lines.filter(status=LineStatus.IN_PRODUCTION,
                                    remote_line_id__isnull=False).count()
            if now_done != done:
                done, moved_at = now_done, time.monotonic()
            if running.stopped() or time.monotonic() - moved_at > STALL_SECONDS:
                failed = lines.filter(
                    status__in=[LineStatus.FAILED, LineStatus.UNMATCHED]).first()
                raise BenchError(f"Routing stopped at {done}/{total} lines"
                                 + (f": {failed.error}" if failed else "")
                                 + f". The workers' log ends: {running.log()}")
        seconds = time.monotonic() - started
    app.control.purge()
    calls = requests.get(f"{sandbox_url}/oms/_sandbox/requests", timeout=30).json()[len(before):]
    orders = Order.objects.filter(source_order_id__startswith=f"{prefix}-").count()
    return {
        "seconds": seconds, "orders_per_second": orders / seconds,
        "lines_per_second": total / seconds,
        "oms_requests": len(calls),
        "oms_429": sum(call["status"] == 429 for call in calls),
        "oms_orders_created": sum(call["method"] == "POST" and call["path"] == "/api/v1/orders"
                                  for call in calls),
    }


def remove_routing_bench(supplier_name, say):
    shops = Customer.objects.filter(name=SHOP, storefront__isnull=True)
    for shop in shops:
        say("removing the bench routing orders")
        Order.objects.filter(customer=shop).delete()
    FulfilmentRoute.objects.filter(supplier__name=supplier_name).delete()
    remove_bench_supplier(supplier_name, say)
    shops.delete()
    integrations = OMSIntegration.objects.filter(name=INTEGRATION,
                                                 base_url__startswith="http://127.0.0.1:")
    Customer.objects.filter(name=CATALOG_CUSTOMER, storefront__in=integrations).delete()
    integrations.delete()

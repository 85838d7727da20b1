"""The push and image sections of `manage.py bench`.

push: bench products are queued as push batches, as the API queues them, and pushed by
real worker processes to the sandbox storefront: first by one worker, then by two.
images: the processed image endpoint, cold (downloaded and converted) and cached.
"""

import os
import socket
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.db.models import F, Sum

from catalog.bench import (
    BenchError,
    bench_payload,
    bench_payloads,
    child_env,
    database_url,
    percentile,
    prefixed,
    remove_bench_supplier,
)
from catalog.ingest import ingest_products
from catalog.models import ProductImage, Supplier
from hub.celery import app
from integrations.bench import outbound_refusal
from integrations.models import OPSIntegration
from pushes.images import cache_key
from pushes.models import (
    CategoryMapping,
    Customer,
    MarkupRule,
    MarkupScope,
    PushBatch,
    PushLog,
    StorefrontProduct,
)
from pushes.services import start_batch
from sandbox.testing import RunningSandbox

CUSTOMERS = 8
CUSTOMER_PREFIX = "Bench customer "
STOREFRONT_PREFIX = "Bench storefront "
MARKUP_PCT = 40
PUSH_VARIANTS = 6
PUSH_TIERS = 3
PUSH_IMAGES = 2
# Requests per minute of the sandbox storefront and of each customer's storefront budget:
# high, so neither is what is measured.
RAISED_RATE_LIMIT = 100_000
# The sandbox storefront accepts these.
OPS_CLIENT_ID = "demo-client"
OPS_CLIENT_SECRET = "demo-secret"
WORKER_START_SECONDS = 60
# The pushes have stopped when no batch moved for this long.
STALL_SECONDS = 60
# The sandbox OVS serves a PNG for each image of its products.
SANDBOX_IMAGE = "images/OVS-00001-0.png"


# -- pushes --------------------------------------------------------------------------------


def push_section(run):
    unavailable = why_no_bench_workers()
    if unavailable:
        return {"skipped": unavailable}
    supplier_name = f"{run.supplier_name} pushes"
    remove_push_bench(supplier_name, run.say)
    with RunningSandbox(rate_limit=RAISED_RATE_LIMIT) as sandbox:
        refused = outbound_refusal(sandbox.url_of("ops"))
        if refused:
            return {"skipped": refused}
        try:
            customers = bench_customers(run, sandbox)
            products = bench_push_products(run, supplier_name)
            one = timed_pushes(run, sandbox, customers, products, 1)
            two = timed_pushes(run, sandbox, customers, products, 2)
        finally:
            if not run.keep:
                remove_push_bench(supplier_name, run.say)
    return {
        "pushes": len(products),
        "customers": min(len(customers), len(products)),
        "variants_per_product": PUSH_VARIANTS,
        "storefront_rate_limit_per_minute": RAISED_RATE_LIMIT,
        "note": f"each storefront's rate_limit_per_minute is raised to {RAISED_RATE_LIMIT} "
                "for the measurement, so its request budget is not what is measured",
        # The sandbox storefront runs in this process and shares the machine's CPUs with
        # the workers and the database: with few CPUs it limits what a second worker adds.
        "cpus": os.cpu_count(),
        **{f"{name}_1_worker": value for name, value in one.items()},
        **{f"{name}_2_workers": value for name, value in two.items()},
        "pushes_per_second_1_worker": len(products) / one["seconds"],
        "pushes_per_second_2_workers": len(products) / two["seconds"],
        "speedup": one["seconds"] / two["seconds"],
    }


def why_no_bench_workers():
    """Why the bench cannot run workers of its own here, or None."""
    missing = missing_services()
    if missing:
        return f"needs {missing}"
    others = listening_workers()
    if others:
        return (f"other workers consume the broker ({', '.join(others)}); "
                "give the bench a broker of its own")
    return None


def missing_services():
    missing = []
    if connection.vendor != "postgresql":
        missing.append("PostgreSQL (DATABASE_URL)")
    if not (app.conf.broker_url or "").startswith("redis"):
        missing.append("a Redis broker (CELERY_BROKER_URL)")
    if app.conf.task_always_eager:
        missing.append("queued tasks (CELERY_TASK_ALWAYS_EAGER off)")
    return " and ".join(missing)


def listening_workers():
    return sorted(name for reply in app.control.ping(timeout=1) or [] for name in reply)


def bench_customers(run, sandbox):
    """CUSTOMERS customers, each with its own storefront on the sandbox and +40% on all."""
    ops = sandbox.url_of("ops")
    customers = []
    for n in range(1, CUSTOMERS + 1):
        storefront = OPSIntegration.objects.create(
            name=f"{STOREFRONT_PREFIX}{n}", user=run.user, base_url=ops,
            token_url=f"{ops}/oauth/token", client_id=OPS_CLIENT_ID,
            client_secret=OPS_CLIENT_SECRET, rate_limit_per_minute=RAISED_RATE_LIMIT,
        )
        customer = Customer.objects.create(name=f"{CUSTOMER_PREFIX}{n}", storefront=storefront)
        MarkupRule.objects.create(customer=customer, scope=MarkupScope.ALL,
                                  markup_pct=MARKUP_PCT)
        customers.append(customer)
    return customers


def bench_push_products(run, supplier_name):
    supplier = Supplier.objects.create(name=supplier_name)
    run.say(f"seeding {run.pushes} products to push")
    result = ingest_products(
        supplier, bench_payloads(run.pushes, PUSH_VARIANTS, PUSH_TIERS, PUSH_IMAGES)
    )
    if result.failed:
        raise BenchError(f"Seeding the products to push failed: {result.errors[0]}")
    return list(supplier.products.order_by("supplier_sku").values_list("id", flat=True))


def timed_pushes(run, sandbox, customers, products, workers):
    """Push every product once, spread over the customers; seconds and failures.

    `sandbox_cpu_seconds` is this process's CPU time meanwhile: the sandbox serving the
    storefront, and little else.
    """
    forget_pushes(sandbox, customers)
    with running_workers(workers) as running:
        run.say(f"pushing {len(products)} products with {workers} worker(s)")
        cpu_started = time.process_time()
        started = time.perf_counter()
        batches = [
            start_batch(customer, products[n :: len(customers)]).pk
            for n, customer in enumerate(customers[: len(products)])
        ]
        wait_for_batches(run, batches, len(products), running)
        seconds = time.perf_counter() - started
        cpu_seconds = time.process_time() - cpu_started
    failed = PushBatch.objects.filter(pk__in=batches).aggregate(failed=Sum("failed"))["failed"]
    if failed:
        error = PushLog.objects.filter(batch__in=batches, status=PushLog.Status.FAILED).first()
        run.say(f"{failed} pushes failed, first: {error.step}: {error.error}")
    return {"seconds": seconds, "failed": failed, "sandbox_cpu_seconds": cpu_seconds}


def wait_for_batches(run, batches, total, workers):
    """Poll the batches until every push is counted; fail when they stop moving."""
    step = max(total // 10, 1)
    next_report = step
    done, moved_at = 0, time.monotonic()
    while done < total:
        time.sleep(0.05)
        now_done = PushBatch.objects.filter(pk__in=batches).aggregate(
            done=Sum(F("succeeded") + F("failed"))
        )["done"] or 0
        if now_done > done:
            done, moved_at = now_done, time.monotonic()
        if done >= next_report and done < total:
            run.say(f"pushed {done}/{total}")
            next_report += step
        if workers.stopped() or time.monotonic() - moved_at > STALL_SECONDS:
            raise BenchError(
                f"The pushes stopped at {done}/{total}. The workers' log ends: {workers.log()}"
            )


def forget_pushes(sandbox, customers):
    """Empty the sandbox storefront and the hub's record of it: the next run creates again."""
    sandbox.fakes["ops"].reset()
    StorefrontProduct.objects.filter(customer__in=customers).delete()
    PushLog.objects.filter(customer__in=customers).delete()
    PushBatch.objects.filter(customer__in=customers).delete()
    CategoryMapping.objects.filter(customer__in=customers).delete()
    OPSIntegration.objects.filter(pk__in=[c.storefront_id for c in customers]).update(
        token=None, token_expires_at=None
    )


class Workers:
    """Worker processes of concurrency 1 on this database, their log in a temporary file."""

    def __init__(self, count):
        self.names = [
            f"bench{n}-{os.getpid()}@{socket.gethostname()}" for n in range(1, count + 1)
        ]
        self.processes = []
        self.output = tempfile.TemporaryFile()

    def start(self):
        env = child_env(database_url(), CELERY_BROKER_URL=app.conf.broker_url,
                        CELERY_TASK_ALWAYS_EAGER="0")
        for name in self.names:
            self.processes.append(subprocess.Popen(
                [sys.executable, "-m", "celery", "-A", "hub", "worker", "--loglevel",
                 "WARNING", "--concurrency", "1", "--hostname", name, "--without-gossip",
                 "--without-mingle"],
                cwd=settings.BASE_DIR, env=env, stdout=subprocess.DEVNULL, stderr=self.output,
            ))
        deadline = time.monotonic() + WORKER_START_SECONDS
        ready = set()
        while ready != set(self.names):
            if self.stopped() or time.monotonic() > deadline:
                raise BenchError(f"The bench workers did not start: {self.log()}")
            for reply in app.control.ping(destination=self.names, timeout=0.5) or []:
                ready.update(reply)

    def stopped(self):
        return any(process.poll() is not None for process in self.processes)

    def log(self):
        self.output.seek(0)
        return self.output.read().decode(errors="replace")[-2000:] or "(empty)"

    def stop(self):
        for process in self.processes:
            process.terminate()
        for process in self.processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        self.output.close()


@contextmanager
def running_workers(count):
    workers = Workers(count)
    try:
        workers.start()
        yield workers
    finally:
        workers.stop()


def remove_push_bench(supplier_name, say):
    storefronts = OPSIntegration.objects.filter(
        name__startswith=STOREFRONT_PREFIX, base_url__startswith="http://127.0.0.1:"
    )
    customers = Customer.objects.filter(
        name__startswith=CUSTOMER_PREFIX, storefront__in=storefronts
    )
    if customers.exists():
        say(f"removing {customers.count()} bench customers and their storefronts")
    # The products first: deleting a customer would cascade to every log of it at once.
    remove_bench_supplier(supplier_name, say)
    customers.delete()
    storefronts.delete()


# -- processed images ----------------------------------------------------------------------


def images_section(run):
    # A photo-sized source, so the cold answer does the work a real supplier image costs.
    with RunningSandbox(catalog_size=1, image_size=2400) as sandbox:
        source_url = f"{sandbox.url_of('ovs')}/{SANDBOX_IMAGE}"
        refused = outbound_refusal(source_url)
        if refused:
            return {"skipped": refused}
        image = bench_image(run, source_url)
        path = f"/api/push/image/{image.pk}/processed"
        cold = time_cold_gets(run, path, cache_key(image))
        cached = run.time_get(path)
    return {
        **prefixed("cold", cold),
        **prefixed("cached", cached),
        "cached_speedup": cold["p50_ms"] / cached["p50_ms"],
    }


def bench_image(run, source_url):
    """A bench product (past the catalog's) whose one image is `source_url`; its image."""
    payload = bench_payload(run.products, variants=1, tiers=1, images=1)
    payload["images"][0]["url"] = source_url
    result = ingest_products(run.supplier, [payload])
    if result.failed:
        raise BenchError(f"The image product could not be ingested: {result.errors[0]}")
    return ProductImage.objects.get(
        product__supplier=run.supplier, product__supplier_sku=payload["supplier_sku"]
    )


def time_cold_gets(run, path, key):
    """p50/p95 of GET `path` with the processed image dropped from the cache each time."""
    samples = []
    for _ in range(run.repeat):
        cache.delete(key)
        started = time.perf_counter()
        response = run.client.get(path)
        samples.append((time.perf_counter() - started) * 1000)
        if response.status_code != 200:
            raise BenchError(
                f"GET {path} answered {response.status_code}: {response.content[:300]!r}"
            )
    return {"p50_ms": percentile(samples, 0.5), "p95_ms": percentile(samples, 0.95),
            "bytes": len(response.content)}

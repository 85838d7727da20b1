"""What the admin's home page shows: what needs attention now, each number a link.

Every section is one query (or two), whatever the size of the catalog, the log or the
orders.
"""

from django.db.models import Count, Max, OuterRef, Q, Subquery
from django.urls import reverse
from django.utils.http import urlencode

from catalog.models import Product, Supplier
from integrations.admin import integration_url, progress_text
from integrations.models import ImportTask, Integration, SyncStatus
from integrations.schedules import next_run_at
from orders.models import Order, OrderPull, OrderStatus
from pushes.models import PushLog

RUNNING_IMPORT_STATUSES = [ImportTask.Status.PENDING, ImportTask.Status.STARTED]
# Orders on their way, shown by status (shipped and cancelled ones need nothing).
OPEN_ORDER_STATUSES = [OrderStatus.RECEIVED, OrderStatus.IN_PRODUCTION,
                       OrderStatus.PARTIALLY_SHIPPED]


def changelist(model, **filters):
    opts = model._meta
    url = reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")
    return f"{url}?{urlencode(filters)}" if filters else url


def products_by_supplier():
    suppliers = Supplier.objects.annotate(
        product_count=Count("products", filter=Q(products__archived_at__isnull=True))
    ).order_by("name")
    return [
        {"name": supplier.name, "count": supplier.product_count,
         "url": changelist(Product, supplier__id__exact=supplier.pk, archived="no")}
        for supplier in suppliers
    ]


def integration_health():
    """Each source's sync: state, last run, result, next scheduled run, progress."""
    integrations = Integration.objects.filter(supplier__isnull=False).select_related(
        "schedule__interval", "schedule__crontab"
    ).order_by("name")
    rows = []
    for integration in integrations:
        stats = integration.last_sync_stats or {}
        if integration.sync_status == SyncStatus.ERROR:
            result = integration.last_error_message or "Error"
        elif integration.sync_status == SyncStatus.COMPLETED:
            result = ", ".join(f"{stats.get(key, 0)} {key}"
                               for key in ("created", "updated", "unchanged", "failed"))
        else:
            result = ""
        rows.append({
            "name": integration.name,
            "type": integration.get_integration_type_display(),
            "url": integration_url(integration),
            "status": integration.sync_status,
            "state": progress_text(integration),
            "running": integration.sync_status == SyncStatus.RUNNING,
            "progress": integration.sync_progress,
            "last_sync_at": integration.last_sync_at,
            "result": result,
            "next_run_at": next_run_at(integration.schedule) if integration.schedule_id else None,
        })
    return rows


def failed_pushes(since):
    """Failed pushes since `since`, by customer: how many, the latest one's reason."""
    failed = PushLog.objects.filter(status=PushLog.Status.FAILED, pushed_at__gte=since)
    latest = failed.filter(customer=OuterRef("customer")).order_by("-pushed_at", "-id")
    rows = (
        failed.values("customer", "customer__name")
        .annotate(count=Count("pk"), latest_at=Max("pushed_at"),
                  reason=Subquery(latest.values("error")[:1]),
                  step=Subquery(latest.values("step")[:1]))
        .order_by("-count", "customer__name")
    )
    return [
        {"customer": row["customer__name"], "count": row["count"],
         "latest_at": row["latest_at"], "reason": row["reason"] or "", "step": row["step"],
         "url": changelist(PushLog, customer__id__exact=row["customer"],
                           status__exact=PushLog.Status.FAILED, within="24h")}
        for row in rows
    ]


def running_imports():
    tasks = ImportTask.objects.filter(status__in=RUNNING_IMPORT_STATUSES).select_related(
        "integration").defer("result_data").order_by("-created_at")
    return [
        {"integration": task.integration.name, "status": task.get_status_display(),
         "progress": task.progress, "codes": task.product_codes_count,
         "created_at": task.created_at,
         "url": reverse("admin:integrations_importtask_change", args=[task.pk])}
        for task in tasks
    ]


def orders_section():
    """Orders needing attention, open orders by status, failed order pulls."""
    counts = dict(
        Order.objects.filter(status__in=[OrderStatus.NEEDS_ATTENTION, *OPEN_ORDER_STATUSES])
        .values_list("status").annotate(count=Count("pk")).order_by()
    )
    pulls = OrderPull.objects.filter(status=SyncStatus.ERROR).select_related(
        "customer").order_by("customer__name")
    return {
        "needs_attention": counts.get(OrderStatus.NEEDS_ATTENTION, 0),
        "needs_attention_url": changelist(Order, attention="yes"),
        "by_status": [
            {"status": status, "label": status.label, "count": counts.get(status, 0),
             "url": changelist(Order, status__exact=status)}
            for status in OPEN_ORDER_STATUSES
        ],
        "storefront_not_updated": Order.objects.storefront_not_updated().count(),
        "storefront_not_updated_url": changelist(Order, storefront="not_updated"),
        "failed_pulls": [
            {"customer": pull.customer.name, "error": pull.last_error or "",
             "finished_at": pull.finished_at,
             "url": reverse("admin:orders_orderpull_change", args=[pull.pk])}
            for pull in pulls
        ],
    }


def dashboard(since):
    imports = running_imports()
    pushes = failed_pushes(since)
    return {
        "suppliers": products_by_supplier(),
        "integrations": integration_health(),
        "failed_pushes": pushes,
        "failed_push_total": sum(row["count"] for row in pushes),
        "failed_pushes_url": changelist(PushLog, status__exact=PushLog.Status.FAILED,
                                        within="24h"),
        "imports": imports,
        "imports_url": changelist(ImportTask, status__in=",".join(RUNNING_IMPORT_STATUSES)),
        "orders": orders_section(),
    }

"""Admin pages of the order desk: orders with their lines, addresses, shipments and
event trail, and each customer's order pull (state, schedule, pull now).

Orders are written by the hub (pulls, intake, routing): staff read them here and act
through the actions — pull now, retry unmatched lines. Buyer data is shown to staff
only, and never logged. The list reads its rows in a constant number of queries.
"""

import uuid

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.db.models import Exists, OuterRef
from django.http import HttpResponseNotAllowed, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.defaultfilters import pluralize
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.text import Truncator

from catalog.admin import count_of
from hub.admin import ReadOnlyAdmin, ReadOnlyInline
from integrations.admin import schedule_minutes
from orders import pulls, services
from orders.models import (
    UNROUTED_LINE_STATUSES,
    LineStatus,
    Order,
    OrderAddress,
    OrderLine,
    OrderPull,
    Shipment,
)
from pushes.admin import admin_link, money


def queue_pulls(modeladmin, request, customers):
    """Queue a pull of each customer's orders and say what happened."""
    queued, refused = 0, []
    for customer in customers:
        try:
            pulls.request_pull(customer)
            queued += 1
        except pulls.NothingToPull as exc:
            refused.append(str(exc).rstrip("."))
        except pulls.PullBusy:
            refused.append(f"a pull of {customer.name} is already running")
    message = f"Queued {queued} pull{pluralize(queued)}"
    if refused:
        message += "; not queued: " + "; ".join(dict.fromkeys(refused))
    level = messages.WARNING if refused or not queued else messages.SUCCESS
    modeladmin.message_user(request, f"{message}.", level)


def retry_lines(modeladmin, request, lines):
    resolved = services.retry_unmatched_lines(lines)
    still = lines.filter(status=LineStatus.UNMATCHED).count()
    message = f"{len(resolved)} line{pluralize(len(resolved))} resolved"
    if still:
        message += f"; {still} still unmatched (their errors say why)"
    modeladmin.message_user(request, f"{message}.",
                            messages.WARNING if still else messages.SUCCESS)


class AttentionFilter(admin.SimpleListFilter):
    """One click to what staff must act on."""

    title = "attention"
    parameter_name = "attention"

    def lookups(self, request, model_admin):
        return [("yes", "Needs attention"), ("unmatched", "Has unmatched lines")]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.needing_attention()
        if self.value() == "unmatched":
            lines = OrderLine.objects.filter(order=OuterRef("pk"), status=LineStatus.UNMATCHED)
            return queryset.filter(Exists(lines))
        return queryset


class AddressInline(ReadOnlyInline):
    model = OrderAddress
    fields = ["kind", "name", "company", "address_1", "address_2", "city", "state",
              "postal_code", "country_code", "phone"]
    readonly_fields = fields


class LineInline(ReadOnlyInline):
    model = OrderLine
    fields = ["source_line_id", "product_link", "sku", "size", "quantity", "price", "status",
              "fulfiller", "error"]
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).select_related(
            "product", "fulfiller_integration").order_by("created_at", "source_line_id")

    @admin.display(description="Product")
    def product_link(self, line):
        return admin_link(line.product, line.product.supplier_sku) if line.product else "—"

    @admin.display(description="Unit price")
    def price(self, line):
        return money(line.unit_price)

    @admin.display(description="Fulfiller")
    def fulfiller(self, line):
        if not line.fulfiller_type:
            return "—"
        where = f" ({line.fulfiller_integration.name})" if line.fulfiller_integration else ""
        remote = f", order {line.remote_order_id}" if line.remote_order_id else ""
        return f"{line.get_fulfiller_type_display()}{where}{remote}"


class ShipmentInline(ReadOnlyInline):
    model = Shipment
    fields = ["shipped_at", "source", "carrier", "tracking_number", "shipped_lines",
              "reported_to_storefront_at"]
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("lines__line")

    @admin.display(description="Lines")
    def shipped_lines(self, shipment):
        return ", ".join(f"{row.quantity} × {row.line.sku or row.line.source_line_id}"
                         for row in shipment.lines.all()) or "—"


@admin.register(Order)
class OrderAdmin(ReadOnlyAdmin):
    list_display = ["__str__", "status", "customer", "source", "placed_at", "order_total",
                    "line_count", "source_status"]
    list_filter = [AttentionFilter, "status", "source", "customer", "placed_at"]
    list_select_related = ["customer"]
    date_hierarchy = "placed_at"
    search_fields = ["order_number", "source_order_id", "buyer_name", "buyer_email",
                     "lines__sku"]
    show_full_result_count = False
    inlines = [LineInline, AddressInline, ShipmentInline]
    actions = ["pull_now", "retry_unmatched"]
    fieldsets = [
        (None, {"fields": ["customer", "source", "source_order_id", "order_number", "status",
                           "source_status", "placed_at", "received_at", "updated_at"]}),
        ("Totals", {"fields": ["currency", "subtotal", "shipping", "tax", "total"]}),
        ("Buyer", {"fields": ["buyer_name", "buyer_email", "buyer_phone", "buyer_company"]}),
        ("Events", {"fields": ["timeline"]}),
    ]
    change_form_template = "admin/orders/order/change_form.html"

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(line_count=count_of(OrderLine, "order"))

    def get_search_results(self, request, queryset, search_term):
        queryset, _ = super().get_search_results(request, queryset, search_term)
        # Searching lines__sku may repeat an order; the distinct is done here, once.
        return queryset, bool(search_term)

    def has_act_permission(self, request):
        return request.user.is_staff and request.user.has_perm("orders.view_order")

    @admin.display(description="Total", ordering="total")
    def order_total(self, order):
        return f"{money(order.total)} {order.currency}" if order.total is not None else "—"

    @admin.display(description="Lines", ordering="line_count")
    def line_count(self, order):
        return order.line_count

    @admin.display(description="Event trail")
    def timeline(self, order):
        events = order.events.order_by("at", "id")
        return format_html(
            '<ol class="order-timeline">{}</ol>',
            format_html_join("", "<li><strong>{}</strong> · {} — {}</li>", (
                (event.at.strftime("%Y-%m-%d %H:%M:%S UTC"), event.get_kind_display(),
                 event.message) for event in events)),
        )

    @admin.action(description="Pull now: the orders of these orders' customers",
                  permissions=["act"])
    def pull_now(self, request, queryset):
        from pushes.models import Customer

        customers = Customer.objects.select_related("storefront").filter(
            pk__in=queryset.values("customer_id"))
        queue_pulls(self, request, customers)

    @admin.action(description="Retry unmatched lines (after fixing the catalog)",
                  permissions=["act"])
    def retry_unmatched(self, request, queryset):
        retry_lines(self, request, OrderLine.objects.filter(order__in=queryset))

    # -- the buttons on an order's page -------------------------------------------------

    def get_urls(self):
        return [
            path("<path:object_id>/retry-unmatched/", self.admin_site.admin_view(
                self.retry_view), name="orders_order_retry"),
            path("<path:object_id>/pull/", self.admin_site.admin_view(self.pull_view),
                 name="orders_order_pull"),
            *super().get_urls(),
        ]

    def retry_view(self, request, object_id):
        return self.act(request, object_id, lambda order: retry_lines(
            self, request, OrderLine.objects.filter(order=order)))

    def pull_view(self, request, object_id):
        return self.act(request, object_id,
                        lambda order: queue_pulls(self, request, [order.customer]))

    def act(self, request, object_id, action):
        """Run a button's action on the order (POST only), then show the order again."""
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        if not self.has_act_permission(request):
            raise PermissionDenied
        order = get_object_or_404(Order.objects.select_related("customer__storefront"),
                                  pk=unquote(object_id))
        action(order)
        return HttpResponseRedirect(reverse("admin:orders_order_change", args=[order.pk]))

    def change_view(self, request, object_id, form_url="", extra_context=None):
        try:
            order_id = uuid.UUID(unquote(object_id))
        except ValueError:
            order_id = None
        extra_context = {
            **(extra_context or {}),
            "can_act": self.has_act_permission(request),
            "has_unrouted": order_id is not None and OrderLine.objects.filter(
                order_id=order_id, status__in=UNROUTED_LINE_STATUSES,
                fulfiller_type__isnull=True).exists(),
        }
        return super().change_view(request, object_id, form_url, extra_context)


class OrderPullForm(forms.ModelForm):
    schedule_enabled = forms.BooleanField(label="Pull on a schedule", required=False)
    schedule_every_minutes = forms.IntegerField(
        label="Every (minutes)", min_value=1, required=False,
        help_text="Pull this often. A crontab can be set on the scheduled task instead.")

    class Meta:
        model = OrderPull
        fields = []

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        schedule = self.instance.schedule if self.instance.schedule_id else None
        self.initial["schedule_enabled"] = schedule.enabled if schedule else True
        self.initial["schedule_every_minutes"] = (
            schedule_minutes(schedule.interval) if schedule and schedule.interval_id
            else None if schedule else settings.ORDER_PULL_INTERVAL_MINUTES)


@admin.register(OrderPull)
class OrderPullAdmin(admin.ModelAdmin):
    """Each customer's order pull: its state, its schedule, and "pull now"."""

    form = OrderPullForm
    list_display = ["customer", "status", "progress_percent", "started_at", "finished_at",
                    "short_error", "schedule"]
    list_filter = ["status"]
    list_select_related = ["customer", "schedule"]
    actions = ["pull_now"]
    fields = ["customer", "schedule_enabled", "schedule_every_minutes", "schedule", "status",
              "started_at", "finished_at", "heartbeat_at", "last_successful_pull_at",
              "resume_from", "processed", "total", "last_stats", "last_error",
              "storefront_statuses"]
    readonly_fields = ["customer", "schedule", "status", "started_at", "finished_at",
                       "heartbeat_at", "last_successful_pull_at", "resume_from", "processed",
                       "total", "last_stats", "last_error", "storefront_statuses"]

    def has_add_permission(self, request):
        return False

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        pulls.ensure_schedule(obj, every_minutes=data.get("schedule_every_minutes"),
                              enabled=data["schedule_enabled"])

    @admin.display(description="Progress")
    def progress_percent(self, pull):
        return f"{pull.progress}%"

    @admin.display(description="Last error")
    def short_error(self, pull):
        return Truncator(pull.last_error or "").chars(80) or "—"

    @admin.action(description="Pull now")
    def pull_now(self, request, queryset):
        queue_pulls(self, request, [pull.customer for pull in
                                    queryset.select_related("customer__storefront")])



from orders import fulfilment_admin  # noqa: E402, F401  (routes, status maps, actions)

"""Admin pages of the fulfilment side: fulfilment routes, remote (OMS) orders, each
OnPrintShop customer's status map, and what the storefronts were (or were not) told;
plus the order desk's actions route again, cancel and send to a batch, and its filter
"storefront not updated". Imported by orders/admin.py.
"""

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ActionForm
from django.template.defaultfilters import pluralize

from hub.admin import ReadOnlyAdmin
from integrations.models import IntegrationType
from orders import fulfilment, routing, storefront
from orders.admin import OrderAdmin
from orders.models import (
    FulfilmentRoute,
    OrderLine,
    RemoteOrder,
    StatusMapping,
    StorefrontUpdate,
)
from pushes.models import Customer


class FulfilmentRouteForm(forms.ModelForm):
    class Meta:
        model = FulfilmentRoute
        fields = ["supplier", "customer", "fulfiller_integration", "active"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields["fulfiller_integration"]
        field.queryset = field.queryset.filter(integration_type=IntegrationType.OMS)


@admin.register(FulfilmentRoute)
class FulfilmentRouteAdmin(admin.ModelAdmin):
    form = FulfilmentRouteForm
    list_display = ["supplier", "customer_or_everyone", "fulfiller", "active"]
    list_filter = ["active", "supplier"]
    list_select_related = ["supplier", "customer", "fulfiller_integration"]

    @admin.display(description="Customer")
    def customer_or_everyone(self, route):
        return route.customer or "Every customer"

    @admin.display(description="Fulfiller")
    def fulfiller(self, route):
        return route.fulfiller_integration or "Manual (staff)"


@admin.register(RemoteOrder)
class RemoteOrderAdmin(admin.ModelAdmin):
    """Where each order stands in each OMS. The uid is editable for one case only: the OMS
    holds the order but its answer never reached the hub (the lines say so)."""

    list_display = ["order", "integration", "remote_order_id", "create_sent_at", "deleted_at"]
    list_filter = ["integration"]
    list_select_related = ["order", "integration"]
    search_fields = ["remote_order_id", "order__order_number", "order__source_order_id"]
    fields = ["order", "integration", "remote_order_id", "create_sent_at", "sent_line_ids",
              "deleted_at"]
    readonly_fields = ["order", "integration", "create_sent_at", "sent_line_ids", "deleted_at"]

    def has_add_permission(self, request):
        return False


class UnmappedFilter(admin.SimpleListFilter):
    title = "mapping"
    parameter_name = "mapped"

    def lookups(self, request, model_admin):
        return [("no", "Not sent (no title)"), ("yes", "Sent")]

    def queryset(self, request, queryset):
        if self.value() == "no":
            return queryset.filter(storefront_title="")
        if self.value() == "yes":
            return queryset.exclude(storefront_title="")
        return queryset


@admin.register(StatusMapping)
class StatusMappingAdmin(admin.ModelAdmin):
    """Which storefront title each hub state shows as, per OnPrintShop customer."""

    list_display = ["customer", "scope", "hub_status", "storefront_title", "sent"]
    list_editable = ["storefront_title"]
    list_filter = [UnmappedFilter, "scope", "customer"]
    list_select_related = ["customer"]
    actions = ["fill_defaults"]

    @admin.display(description="Sent to the storefront", boolean=True)
    def sent(self, mapping):
        return bool(mapping.storefront_title)

    def changelist_view(self, request, extra_context=None):
        unmapped = StatusMapping.objects.filter(storefront_title="").count()
        if unmapped and request.method == "GET":
            self.message_user(
                request, f"{unmapped} state{pluralize(unmapped)} {pluralize(unmapped, 'has,have')}"
                " no storefront title: the storefront is not told of "
                f"{pluralize(unmapped, 'it,them')}.", messages.WARNING)
        return super().changelist_view(request, extra_context)

    @admin.action(description="Fill in the defaults again from the storefront's titles")
    def fill_defaults(self, request, queryset):
        customers = Customer.objects.filter(pk__in=queryset.values("customer_id"))
        for customer in customers:
            storefront.fill_default_map(customer, replace=True)
        self.message_user(request, f"Status maps of {customers.count()} customer"
                                   f"{pluralize(customers.count())} filled from their titles.")


@admin.register(StorefrontUpdate)
class StorefrontUpdateAdmin(ReadOnlyAdmin):
    list_display = ["order", "kind", "title", "channel", "state", "attempts", "last_error",
                    "created_at", "sent_at"]
    list_filter = ["state", "kind", "channel"]
    list_select_related = ["order"]
    actions = ["send_again", "mark_sent"]

    def has_act_permission(self, request):
        return request.user.is_staff and request.user.has_perm("orders.view_storefrontupdate")

    @admin.action(description="Send again (failed or uncertain)", permissions=["act"])
    def send_again(self, request, queryset):
        count = storefront.resend(queryset)
        self.message_user(request, f"{count} update{pluralize(count)} queued again.")

    @admin.action(description="Mark as sent (the storefront shows it already)",
                  permissions=["act"])
    def mark_sent(self, request, queryset):
        count = storefront.mark_sent(queryset)
        self.message_user(request, f"{count} update{pluralize(count)} marked as sent.")


# -- the order desk --------------------------------------------------------------------


class StorefrontNotUpdatedFilter(admin.SimpleListFilter):
    title = "storefront"
    parameter_name = "storefront"

    def lookups(self, request, model_admin):
        return [("not_updated", "Storefront not updated")]

    def queryset(self, request, queryset):
        if self.value() != "not_updated":
            return queryset
        return queryset.storefront_not_updated()


class OrderActionForm(ActionForm):
    print_templates = forms.CharField(
        required=False, label="Print templates",
        help_text="For “send to batch”: the OMS print template uids, comma-separated")


@admin.action(description="Route again (received, unmatched and failed lines)",
              permissions=["act"])
def route_again(modeladmin, request, queryset):
    for order in queryset:
        routing.route_lines_again(order)
    modeladmin.message_user(request, f"Routing of {queryset.count()} order"
                                     f"{pluralize(queryset.count())} queued.")


@admin.action(description="Cancel the open lines", permissions=["act"])
def cancel_orders(modeladmin, request, queryset):
    asked = sum(1 for order in queryset if fulfilment.request_cancel(order))
    modeladmin.message_user(request, f"Cancel asked for {asked} order{pluralize(asked)}; "
                                     "each order's events say what each fulfiller did.")


@admin.action(description="Send ready OMS lines to a batch order", permissions=["act"])
def send_to_batch(modeladmin, request, queryset):
    templates = [uid.strip() for uid in request.POST.get("print_templates", "").split(",")
                 if uid.strip()]
    if not templates:
        modeladmin.message_user(request, "Give the print template uids to batch with.",
                                messages.ERROR)
        return
    for message in fulfilment.send_to_batch(OrderLine.objects.filter(order__in=queryset),
                                            templates):
        modeladmin.message_user(request, message)


# The order desk is defined in orders/admin.py; its fulfilment actions and filter are
# added here, next to the rest of the fulfilment admin.
OrderAdmin.action_form = OrderActionForm
OrderAdmin.actions = [*OrderAdmin.actions, route_again, cancel_orders, send_to_batch]
OrderAdmin.list_filter = [StorefrontNotUpdatedFilter, *OrderAdmin.list_filter]

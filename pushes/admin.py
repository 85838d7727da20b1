from django.contrib import admin
from django.utils.text import Truncator

from pushes.models import Customer, PushLog


@admin.register(Customer)
class CustomerAdmin(admin.ModelAdmin):
    list_display = ["name", "is_active", "created_at"]
    list_filter = ["is_active"]
    search_fields = ["name"]
    readonly_fields = ["created_at", "updated_at"]


@admin.register(PushLog)
class PushLogAdmin(admin.ModelAdmin):
    """The record of pushes, as written by the pushes: it can be read, never edited."""

    list_display = [
        "pushed_at", "customer", "product", "status", "storefront_product_id", "short_error",
    ]
    list_filter = ["status", "customer"]
    list_select_related = ["customer", "product"]
    date_hierarchy = "pushed_at"
    search_fields = ["product__supplier_sku", "storefront_product_id"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description="Error")
    def short_error(self, log):
        return Truncator(log.error or "").chars(80)

"""Admin pages for the catalog.

Every list page reads its rows in a constant number of queries: counts are subqueries
annotated in get_queryset and the foreign keys shown are joined with list_select_related.
"""

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Count, IntegerField, OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.template.defaultfilters import pluralize
from django.template.response import TemplateResponse

from catalog.models import (
    CATEGORY_PATH_SEPARATOR,
    ApparelDetails,
    Category,
    OptionAttribute,
    PrintDetails,
    PrintSize,
    Product,
    ProductImage,
    ProductOption,
    ProductType,
    Supplier,
    Variant,
    VariantPrice,
)
from hub.queue import QueueUnavailable
from pushes.models import Customer
from pushes.services import PushRefused, start_batch

# A URL typed without a scheme is taken as https.
URL_FIELDS = {models.URLField: {"assume_scheme": "https"}}


def count_of(model, parent_field):
    """The number of `model` rows pointing at the outer row, as a subquery (0 when none)."""
    rows = (
        model.objects.filter(**{parent_field: OuterRef("pk")})
        .order_by()
        .values(parent_field)
        .annotate(count=Count("pk"))
        .values("count")
    )
    return Coalesce(Subquery(rows, output_field=IntegerField()), 0)


class ProductKeyForm(forms.ModelForm):
    """Refuses a row whose computed key another row of the same product already has.

    The key (variant_key, size_key, source_url) is set in the model's save() and is no
    form field, so the form alone would not check its unique constraint: the database
    would refuse the row with an error page instead.
    """

    key_field = ""
    key_name = ""
    key_inputs = ()

    def key(self, data):
        raise NotImplementedError

    def clean(self):
        data = super().clean()
        product = data.get("product") or getattr(self.instance, "product", None)
        is_new = self.instance._state.adding
        if product is None or product._state.adding:
            return data
        if not is_new and not set(self.key_inputs) & set(self.changed_data):
            return data
        key = self.key(data)
        clash = self._meta.model.objects.filter(product=product, **{self.key_field: key})
        if not is_new:
            clash = clash.exclude(pk=self.instance.pk)
        if clash.exists():
            raise ValidationError(f"This product already has a {self.key_name} {key!r}.")
        return data


class VariantForm(ProductKeyForm):
    key_field = "variant_key"
    key_name = "variant with key"
    key_inputs = ("sku", "color", "size")

    def key(self, data):
        return Variant.key_for(data.get("sku"), data.get("color"), data.get("size"))


class PrintSizeForm(ProductKeyForm):
    key_field = "size_key"
    key_name = "size with key"
    key_inputs = ("sku", "label", "width", "height", "unit")

    def key(self, data):
        return PrintSize.key_for(
            data.get("sku"), data.get("label"), data.get("width"), data.get("height"),
            data.get("unit"),
        )


class ProductImageForm(ProductKeyForm):
    key_field = "source_url"
    key_name = "image from"
    # An existing image keeps its source_url whatever is edited: only new ones can clash.
    key_inputs = ()

    def key(self, data):
        return data.get("supplier_image_url") or data.get("url")


# -- suppliers and categories ----------------------------------------------------------


@admin.register(Supplier)
class SupplierAdmin(admin.ModelAdmin):
    list_display = ["name", "has_decoration_overlay", "product_count"]
    search_fields = ["name"]
    readonly_fields = ["created_at", "updated_at"]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(product_count=count_of(Product, "supplier"))

    @admin.display(description="Products", ordering="product_count")
    def product_count(self, supplier):
        return supplier.product_count


class CategoryForm(forms.ModelForm):
    class Meta:
        model = Category
        fields = ["supplier", "parent", "name", "external_id", "sort_order"]

    def clean(self):
        data = super().clean()
        if self.instance.pk and not self.instance._state.adding:
            return data
        supplier, parent, name = data.get("supplier"), data.get("parent"), data.get("name")
        if supplier is None or name is None:
            return data
        if parent is not None and parent.supplier_id != supplier.pk:
            raise ValidationError({"parent": "The parent must be a category of the same supplier."})
        path = f"{parent.path}{CATEGORY_PATH_SEPARATOR}{name}" if parent else name
        if Category.objects.filter(supplier=supplier, path=path).exists():
            raise ValidationError(f"This supplier already has the category {path!r}.")
        return data


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    form = CategoryForm
    list_display = ["path", "supplier", "parent", "sort_order"]
    list_filter = ["supplier"]
    list_select_related = ["supplier", "parent"]
    search_fields = ["name", "path"]
    raw_id_fields = ["parent"]

    def get_readonly_fields(self, request, obj=None):
        # The path (supplier, names from the root) is what ingest matches categories by:
        # renaming or moving one would leave its children's paths behind and have the
        # next sync create the category again.
        if obj is None:
            return ["path", "created_at", "updated_at"]
        return ["supplier", "parent", "name", "path", "created_at", "updated_at"]


# -- products ----------------------------------------------------------------------------

# Products named on the page that asks which customer to push to.
PUSH_SAMPLE = 20


class PushToCustomerForm(forms.Form):
    customer = forms.ModelChoiceField(
        queryset=Customer.objects.filter(is_active=True, storefront__isnull=False),
        help_text="Active customers with a storefront.",
    )


class ArchivedFilter(admin.SimpleListFilter):
    title = "archived"
    parameter_name = "archived"

    def lookups(self, request, model_admin):
        return [("yes", "Yes"), ("no", "No")]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(archived_at__isnull=False)
        if self.value() == "no":
            return queryset.filter(archived_at__isnull=True)
        return queryset


class VariantInline(admin.TabularInline):
    model = Variant
    form = VariantForm
    fields = ["sku", "color", "size", "base_price", "inventory", "warehouse", "sort_order"]
    extra = 0
    show_change_link = True


class ProductImageInline(admin.TabularInline):
    model = ProductImage
    form = ProductImageForm
    fields = ["url", "color", "image_type", "sort_order"]
    extra = 0
    formfield_overrides = URL_FIELDS


class ProductOptionInline(admin.TabularInline):
    model = ProductOption
    fields = ["option_key", "title", "options_type", "required", "sort_order"]
    extra = 0
    show_change_link = True


class PrintSizeInline(admin.TabularInline):
    model = PrintSize
    form = PrintSizeForm
    fields = ["label", "sku", "width", "height", "unit", "price", "weight", "sort_order"]
    extra = 0


class ApparelDetailsInline(admin.StackedInline):
    model = ApparelDetails
    max_num = 1
    readonly_fields = ["raw_payload"]


class PrintDetailsInline(admin.StackedInline):
    model = PrintDetails
    max_num = 1
    readonly_fields = ["raw_payload"]


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin):
    list_display = [
        "supplier_sku", "product_name", "supplier", "brand", "product_type", "category_name",
        "variant_count", "archived", "last_synced",
    ]
    list_filter = ["supplier", "product_type", ArchivedFilter, "is_filler"]
    list_select_related = ["supplier"]
    search_fields = ["product_name", "supplier_sku", "brand"]
    raw_id_fields = ["category"]
    # ops_product_id is written by pushes to OnPrintShop storefronts, never by hand.
    readonly_fields = [
        "category_name", "ops_product_id", "content_hash", "last_synced", "created_at",
        "updated_at",
    ]
    actions = ["archive_products", "restore_products", "push_to_customer"]
    formfield_overrides = URL_FIELDS

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(variant_count=count_of(Variant, "product"))

    def get_inlines(self, request, obj):
        inlines = [VariantInline, ProductImageInline, ProductOptionInline]
        if obj is None or obj.product_type == ProductType.APPAREL:
            inlines.append(ApparelDetailsInline)
        if obj is None or obj.product_type == ProductType.PRINT:
            inlines += [PrintSizeInline, PrintDetailsInline]
        return inlines

    def save_model(self, request, obj, form, change):
        # category_name is the category's own name, kept on the row for listings.
        obj.category_name = obj.category.name if obj.category else None
        super().save_model(request, obj, form, change)

    @admin.display(description="Variants", ordering="variant_count")
    def variant_count(self, product):
        return product.variant_count

    @admin.display(description="Archived", boolean=True, ordering="archived_at")
    def archived(self, product):
        return product.archived_at is not None

    @admin.action(description="Archive selected products")
    def archive_products(self, request, queryset):
        selected = queryset.count()
        archived = queryset.archive()
        self.message_user(
            request,
            f"Archived {archived} product{pluralize(archived)} "
            f"({selected - archived} {pluralize(selected - archived, 'was,were')} "
            "already archived).",
        )

    @admin.action(description="Restore selected products")
    def restore_products(self, request, queryset):
        selected = queryset.count()
        restored = queryset.restore()
        self.message_user(
            request,
            f"Restored {restored} product{pluralize(restored)} "
            f"({selected - restored} {pluralize(selected - restored, 'was,were')} "
            "not archived).",
        )

    def has_push_permission(self, request):
        return request.user.has_perm("pushes.add_pushbatch")

    @admin.action(description="Push selected products to a customer…", permissions=["push"])
    def push_to_customer(self, request, queryset):
        """Ask for the customer, then queue a batch of the products (archived ones left out)."""
        form = PushToCustomerForm(request.POST if request.POST.get("post") == "yes" else None)
        pushable = queryset.filter(archived_at__isnull=True)
        archived = queryset.filter(archived_at__isnull=False).count()
        if form.is_bound and form.is_valid():
            customer = form.cleaned_data["customer"]
            product_ids = list(pushable.values_list("pk", flat=True))
            if not product_ids:
                self.message_user(
                    request, "Nothing was pushed: the selected products are archived.",
                    messages.WARNING,
                )
                return None
            try:
                batch = start_batch(customer, product_ids, request.user)
            except (PushRefused, QueueUnavailable) as exc:
                self.message_user(request, str(exc), messages.ERROR)
                return None
            message = (
                f"Queued {batch.total} product{pluralize(batch.total)} for {customer} "
                f"(batch {batch.pk})"
            )
            if archived:
                message += f"; {archived} archived left out"
            self.message_user(request, f"{message}.", messages.SUCCESS)
            return None

        opts = self.model._meta
        return TemplateResponse(request, "admin/pushes/push_to_customer.html", {
            **self.admin_site.each_context(request),
            "title": "Push products to a customer",
            "opts": opts,
            "media": self.media,
            "form": form,
            "count": pushable.count(),
            "archived": archived,
            "sample": pushable.order_by("supplier_sku")[:PUSH_SAMPLE],
            "selected": request.POST.getlist(helpers.ACTION_CHECKBOX_NAME),
            "select_across": request.POST.get("select_across") == "1",
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            "action": "push_to_customer",
        })


# -- variants, images, options -------------------------------------------------------------


class VariantPriceInline(admin.TabularInline):
    model = VariantPrice
    fields = ["price_type", "quantity_min", "quantity_max", "price"]
    extra = 0


@admin.register(Variant)
class VariantAdmin(admin.ModelAdmin):
    form = VariantForm
    list_display = ["sku", "product", "color", "size", "base_price", "inventory"]
    list_select_related = ["product"]
    search_fields = ["sku"]
    raw_id_fields = ["product"]
    readonly_fields = ["variant_key", "created_at", "updated_at"]
    inlines = [VariantPriceInline]


@admin.register(ProductImage)
class ProductImageAdmin(admin.ModelAdmin):
    form = ProductImageForm
    list_display = ["url", "product", "color", "image_type"]
    list_select_related = ["product"]
    search_fields = ["url", "product__supplier_sku"]
    raw_id_fields = ["product"]
    readonly_fields = ["source_url", "created_at", "updated_at"]
    formfield_overrides = URL_FIELDS


class OptionAttributeInline(admin.TabularInline):
    model = OptionAttribute
    fields = [
        "title", "attribute_key", "price", "setup_cost", "multiplier", "sort_order",
        "master_attribute_id", "ops_attribute_id",
    ]
    extra = 0


@admin.register(ProductOption)
class ProductOptionAdmin(admin.ModelAdmin):
    list_display = ["title", "option_key", "product", "options_type", "required"]
    list_select_related = ["product"]
    search_fields = ["title", "option_key", "product__supplier_sku"]
    raw_id_fields = ["product"]
    readonly_fields = ["created_at", "updated_at"]
    inlines = [OptionAttributeInline]

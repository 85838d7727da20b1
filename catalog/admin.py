"""Admin pages for the catalog.

Every list page reads its rows in a constant number of queries: counts are subqueries
annotated in get_queryset and the foreign keys shown are joined with list_select_related.
"""

import uuid
from pathlib import Path

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.storage import default_storage
from django.db import models
from django.db.models import Count, DecimalField, IntegerField, Max, Min, OuterRef, Q, Subquery, Sum
from django.db.models.functions import Coalesce
from django.shortcuts import get_object_or_404, redirect
from django.template.defaultfilters import pluralize
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.text import get_valid_filename

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
from hub.admin import wrapped_text
from hub.queue import QueueUnavailable
from pushes.models import Customer, PushLog, StorefrontProduct
from pushes.services import PushRefused, publication_state, request_push, start_batch

# A URL typed without a scheme is taken as https.
URL_FIELDS = {models.URLField: {"assume_scheme": "https"}}


def aggregate_of(model, parent_field, aggregate, output_field):
    """An aggregate of the `model` rows pointing at the outer row, as a subquery."""
    rows = (
        model.objects.filter(**{parent_field: OuterRef("pk")})
        .order_by()
        .values(parent_field)
        .annotate(value=aggregate)
        .values("value")
    )
    return Subquery(rows, output_field=output_field)


def count_of(model, parent_field):
    """The number of `model` rows pointing at the outer row, as a subquery (0 when none)."""
    return Coalesce(aggregate_of(model, parent_field, Count("pk"), IntegerField()), 0)


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
    """An image by its URL, or art uploaded here: stored under the media root and served
    at the hub's public URL, which becomes the image's URL (PrintOps fetches it there)."""

    key_field = "source_url"
    key_name = "image from"
    # An existing image keeps its source_url whatever is edited: only new ones can clash.
    key_inputs = ()

    art_file = forms.ImageField(
        label="Upload art", required=False,
        help_text="An image file; its URL is filled in for you.",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "url" in self.fields:
            self.fields["url"].required = False

    def key(self, data):
        return data.get("supplier_image_url") or data.get("url")

    def clean(self):
        upload = self.cleaned_data.get("art_file")
        if upload:
            # A name of its own: an upload never replaces another one.
            self.art_name = f"art/{uuid.uuid4().hex}/{get_valid_filename(Path(upload.name).name)}"
            self.cleaned_data["url"] = art_url(self.art_name)
        elif not self.cleaned_data.get("url") and "url" not in self.errors:
            self.add_error("url", "Give the image's URL, or upload a file.")
        return super().clean()

    def save(self, commit=True):
        upload = self.cleaned_data.get("art_file")
        if upload:
            default_storage.save(self.art_name, upload)
        return super().save(commit)


def art_url(name):
    """Where an uploaded file is fetched from, by the hub's public URL."""
    return f"{settings.HUB_PUBLIC_URL.rstrip('/')}/{settings.MEDIA_URL.strip('/')}/{name}"


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


class CategoryTreeFilter(admin.SimpleListFilter):
    """A category and everything below it, chosen from the tree (indented by depth)."""

    title = "category"
    parameter_name = "category"

    def lookups(self, request, model_admin):
        categories = Category.objects.select_related("supplier").order_by("supplier__name", "path")
        return [
            (str(category.pk), format_html(
                '<span style="padding-left:{}em">{}</span>',
                category.path.count(CATEGORY_PATH_SEPARATOR), category.name))
            for category in categories
        ]

    def queryset(self, request, queryset):
        if not self.value():
            return queryset
        category = Category.objects.filter(pk=self.value()).first()
        if category is None:
            return queryset.none()
        return queryset.in_category(category)


def tier_prices(variant):
    """A variant's quantity tiers as staff read them: "1–11: 3.20 · 12–143: 2.94 · 144+: 2.72"."""
    tiers = sorted(variant.prices.all(), key=lambda tier: tier.quantity_min)
    if not tiers:
        return "—"
    return " · ".join(
        f"{tier.quantity_min}{'+' if tier.quantity_max is None else f'–{tier.quantity_max}'}: "
        f"{tier.price:.2f}"
        for tier in tiers
    )


class VariantInline(admin.TabularInline):
    model = Variant
    form = VariantForm
    fields = ["sku", "color", "size", "base_price", "tiers", "inventory", "warehouse",
              "sort_order"]
    readonly_fields = ["tiers"]
    extra = 0
    show_change_link = True

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("prices")

    @admin.display(description="Tier prices")
    def tiers(self, variant):
        return tier_prices(variant) if variant.pk else "—"


class ProductImageInline(admin.TabularInline):
    model = ProductImage
    form = ProductImageForm
    fields = ["picture", "url", "art_file", "color", "image_type", "sort_order"]
    readonly_fields = ["picture"]
    extra = 0
    formfield_overrides = URL_FIELDS

    @admin.display(description="")
    def picture(self, image):
        if not image.url:
            return ""
        return format_html('<img class="thumbnail" src="{}" alt="" loading="lazy">', image.url)


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
        "thumbnail", "supplier_sku", "product_name", "supplier", "product_type",
        "category_name", "price_range", "stock", "variant_count", "archived", "last_synced",
    ]
    list_display_links = ["supplier_sku", "product_name"]
    list_filter = ["supplier", "product_type", CategoryTreeFilter, ArchivedFilter, "is_filler"]
    list_select_related = ["supplier"]
    search_fields = ["product_name", "supplier_sku", "brand"]
    raw_id_fields = ["category"]
    # What the hub and the storefronts own is shown, never edited here (ops_product_id is
    # written by pushes to OnPrintShop storefronts).
    readonly_fields = [
        "picture", "published_to", "category_name", "ops_product_id", "content_hash",
        "last_synced", "created_at", "updated_at",
    ]
    actions = ["archive_products", "restore_products", "push_to_customer"]
    formfield_overrides = URL_FIELDS

    def get_queryset(self, request):
        money = DecimalField(max_digits=12, decimal_places=4)
        first_image = ProductImage.objects.filter(product=OuterRef("pk")).order_by(
            "sort_order", "created_at").values("url")[:1]
        return super().get_queryset(request).annotate(
            variant_count=count_of(Variant, "product"),
            variant_min=aggregate_of(Variant, "product", Min("base_price"), money),
            variant_max=aggregate_of(Variant, "product", Max("base_price"), money),
            size_min=aggregate_of(PrintSize, "product", Min("price"), money),
            size_max=aggregate_of(PrintSize, "product", Max("price"), money),
            stock=aggregate_of(Variant, "product", Sum("inventory"), IntegerField()),
            first_image=Subquery(first_image),
        )

    def get_fieldsets(self, request, obj=None):
        hub_owned = [f for f in self.readonly_fields if f not in ("published_to", "picture")]
        fields = [f for f in super().get_fieldsets(request, obj)[0][1]["fields"]
                  if f not in self.readonly_fields]
        if obj is None:
            return [(None, {"fields": fields})]
        return [
            (None, {"fields": ["picture", *fields]}),
            ("Published to", {"fields": ["published_to"]}),
            ("Kept by the hub", {"fields": hub_owned}),
        ]

    def get_urls(self):
        return [
            path("<path:object_id>/push/<uuid:customer_id>/",
                 self.admin_site.admin_view(self.push_view), name="catalog_product_push"),
            *super().get_urls(),
        ]

    def push_view(self, request, object_id, customer_id):
        product = self.get_object(request, unquote(object_id))
        if product is None or request.method != "POST" or not self.has_push_permission(request):
            raise PermissionDenied
        customer = get_object_or_404(Customer, pk=customer_id)
        try:
            request_push(customer, product)
        except PushRefused as exc:
            self.message_user(request, str(exc), messages.ERROR)
        else:
            self.message_user(request, f"Queued a push of {product.supplier_sku} to {customer}.",
                              messages.SUCCESS)
        return redirect("admin:catalog_product_change", product.pk)

    @admin.display(description="Where this product is published")
    def published_to(self, product):
        """Per customer with a storefront: its id there, the last push, whether current."""
        entries = {entry.customer_id: entry
                   for entry in StorefrontProduct.objects.filter(product=product)}
        last_log = PushLog.objects.filter(product=product, customer=OuterRef("pk")).order_by(
            "-pushed_at", "-id").values("pk")[:1]
        customers = Customer.objects.filter(
            Q(pk__in=list(entries)) | Q(is_active=True, storefront__isnull=False)
            | Q(push_logs__product=product)
        ).distinct().annotate(last_log_id=Subquery(last_log)).order_by("name")
        customers = list(customers)
        latest = PushLog.objects.in_bulk([c.last_log_id for c in customers if c.last_log_id])
        rows = []
        for customer in customers:
            entry, log = entries.get(customer.pk), latest.get(customer.last_log_id)
            state = publication_state(customer, product, entry)
            push_url = reverse("admin:catalog_product_push", args=[product.pk, customer.pk])
            rows.append((
                reverse("admin:pushes_customer_change", args=[customer.pk]), customer.name,
                (entry.storefront_product_id if entry else None) or "—",
                format_html('<span class="badge badge-{}">{}</span> {}<br>{}', log.status,
                            log.get_action_display(), log.pushed_at.strftime("%Y-%m-%d %H:%M"),
                            wrapped_text(log.error or log.detail)) if log else "never pushed",
                state.replace(" ", "-"), state, push_url,
            ))
        if not rows:
            return "No customer with a storefront yet."
        body = format_html_join("", (
            '<tr><td><a href="{}">{}</a></td><td>{}</td><td>{}</td>'
            '<td><span class="badge badge-{}">{}</span></td>'
            '<td><button type="submit" class="button push-now" formmethod="post" '
            'formaction="{}">Push now</button></td></tr>'), rows)
        return format_html(
            '<table class="published-to"><thead><tr><th>Customer</th><th>Storefront id</th>'
            "<th>Last push</th><th>State</th><th></th></tr></thead><tbody>{}</tbody></table>",
            body)

    @admin.display(description="Picture")
    def picture(self, product):
        image = product.images.order_by("sort_order", "created_at").first()
        url = image.url if image else product.image_url
        if not url:
            return "None yet"
        return format_html('<img class="picture" src="{}" alt="">', url)

    @admin.display(description="")
    def thumbnail(self, product):
        url = product.first_image or product.image_url
        if not url:
            return ""
        return format_html('<img class="thumbnail" src="{}" alt="" loading="lazy">', url)

    @admin.display(description="Price", ordering="variant_min")
    def price_range(self, product):
        low = product.variant_min if product.variant_min is not None else product.size_min
        high = product.variant_max if product.variant_max is not None else product.size_max
        if low is None:
            return "—"
        return f"{low:.2f}" if low == high else f"{low:.2f}–{high:.2f}"

    @admin.display(description="Stock", ordering="stock")
    def stock(self, product):
        return product.stock if product.stock is not None else "—"

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
    readonly_fields = ["ops_attribute_id"]
    extra = 0


@admin.register(ProductOption)
class ProductOptionAdmin(admin.ModelAdmin):
    list_display = ["title", "option_key", "product", "options_type", "required"]
    list_select_related = ["product"]
    search_fields = ["title", "option_key", "product__supplier_sku"]
    raw_id_fields = ["product"]
    readonly_fields = ["created_at", "updated_at"]
    inlines = [OptionAttributeInline]

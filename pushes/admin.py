"""Admin pages for customers, their markup rules, and what was pushed to their storefronts.

What the pushes write (logs, batches, storefront ids, category mappings) can be read,
not edited. Every list page reads its rows in a constant number of queries: counts and
latest dates are subqueries annotated in get_queryset, the foreign keys shown are joined.
"""

from decimal import Decimal

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.contrib.admin.widgets import ForeignKeyRawIdWidget
from django.core.exceptions import ValidationError
from django.db.models import DateTimeField, Max, OuterRef, Subquery
from django.template.defaultfilters import pluralize
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.text import Truncator

from catalog.admin import count_of
from catalog.models import Product
from hub.admin import ReadOnlyAdmin
from hub.queue import QueueUnavailable
from integrations.admin import integration_url
from integrations.models import STOREFRONT_TYPES, Integration, IntegrationType
from integrations.printops.client import SCALE_OPTIONS, PrintOpsClient, PrintOpsError, is_whole
from integrations.printops.storefront import DEFAULT_SCALE_OPTION
from orders.models import OrderPull
from pushes.api.serializers import PrintOpsOptionsSerializer
from pushes.models import (
    CategoryMapping,
    Customer,
    MarkupRule,
    MarkupScope,
    PushBatch,
    PushLog,
    StorefrontProduct,
)
from pushes.pricing import CENT, NoMarkupRule, price_amount, price_product, select_rule
from pushes.services import PushRefused, request_push

# Scope → the one target field a rule of that scope has.
SCOPE_TARGETS = {
    MarkupScope.SUPPLIER: "supplier",
    MarkupScope.CATEGORY: "category",
    MarkupScope.PRODUCT: "product",
}


def latest_of(model, parent_field, field):
    """The latest `field` of the `model` rows pointing at the outer row, as a subquery."""
    rows = (
        model.objects.filter(**{parent_field: OuterRef("pk")})
        .order_by()
        .values(parent_field)
        .annotate(latest=Max(field))
        .values("latest")
    )
    return Subquery(rows, output_field=DateTimeField())


def admin_link(obj, text=None):
    opts = obj._meta
    url = reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[obj.pk])
    return format_html('<a href="{}">{}</a>', url, obj if text is None else text)


def money(amount):
    """An amount to the cent, or to the places it really has (a cost of 4.5825)."""
    if amount is None:
        return "—"
    amount = Decimal(amount)
    if amount == amount.quantize(CENT):
        return f"{amount.quantize(CENT):f}"
    return f"{amount.normalize():f}"


def quantities(tier):
    if tier.quantity_max is None:
        return f"{tier.quantity_min}+"
    return f"{tier.quantity_min}–{tier.quantity_max}"



# -- customers and markup rules --------------------------------------------------------------


class MarkupRuleForm(forms.ModelForm):
    """Says which target a scope needs, instead of a bare constraint error."""

    class Meta:
        model = MarkupRule
        fields = [
            "customer", "name", "scope", "supplier", "category", "product", "markup_pct",
            "markup_amount", "min_margin_pct", "rounding", "min_price", "max_price", "priority",
            "is_active", "effective_from", "effective_until",
        ]

    def clean(self):
        data = super().clean()
        scope = data.get("scope")
        if scope is None:
            return data
        needed = SCOPE_TARGETS.get(scope)
        errors = {}
        for name in SCOPE_TARGETS.values():
            if name not in self.fields or name in self.errors:
                continue
            if name == needed and data.get(name) is None:
                errors[name] = f"A {name} rule needs a {name}."
            elif name != needed and data.get(name) is not None:
                errors[name] = f"Only a {name} rule has a {name}; leave it empty."
        if errors:
            raise ValidationError(errors)
        return data


class MarkupRuleInline(admin.TabularInline):
    model = MarkupRule
    form = MarkupRuleForm
    fields = [
        "name", "scope", "supplier", "category", "product", "markup_pct", "markup_amount",
        "min_margin_pct", "rounding", "priority", "is_active",
    ]
    raw_id_fields = ["category", "product"]
    show_change_link = True
    extra = 0


# The fields a PrintOps storefront's options are edited with, in place of the JSON.
STORE_FIELDS = ["printops_store", "new_store_name", "scale_option"]
# The options form's fields → the form's fields that show their errors.
OPTION_FIELDS = {"store_id": "printops_store", "scale_option": "scale_option"}


def printops_storefront(data, customer):
    """The PrintOps integration a customer form is for, or None for any other storefront.

    The storefront posted in `data` when there is one, else the customer's saved one.
    """
    if data is not None and "storefront" in data:
        try:
            storefront = Integration.objects.filter(
                pk=data.get("storefront") or None, integration_type__in=STOREFRONT_TYPES
            ).first()
        except (ValidationError, ValueError):
            storefront = None
    else:
        storefront = customer.storefront if customer is not None else None
    if storefront is None or storefront.integration_type != IntegrationType.PRINTOPS:
        return None
    return storefront.typed()


def store_label(store):
    return f"{store.get('name') or 'Unnamed store'} ({store['id']})"


class CustomerForm(forms.ModelForm):
    """A customer; for a PrintOps storefront its store (listed, or made here) and scaling.

    The stores are listed from PrintOps when the form is built. When they cannot be, the
    reason is shown and the store is given by its id.
    """

    printops_store = forms.TypedChoiceField(
        coerce=int, empty_value=None, required=False, label="PrintOps store"
    )
    new_store_name = forms.CharField(
        max_length=255, required=False, label="New store name",
        help_text="When given, a store of this name is created in PrintOps and chosen.",
    )
    scale_option = forms.ChoiceField(
        choices=[(option, option) for option in SCALE_OPTIONS], initial=DEFAULT_SCALE_OPTION,
        help_text="How the art is scaled to the product.",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.printops = printops_storefront(self.data if self.is_bound else None, self.instance)
        if self.printops is None:
            for name in STORE_FIELDS:
                self.fields.pop(name)
            return
        options = self.saved_options()
        store_id = options.get("store_id")
        self.fields["scale_option"].initial = options.get("scale_option") or DEFAULT_SCALE_OPTION
        try:
            stores = PrintOpsClient.for_integration(self.printops).stores()
        except PrintOpsError as exc:
            self.fields["printops_store"] = forms.IntegerField(
                min_value=1, required=False, initial=store_id, label="PrintOps store id",
                help_text=f"The stores could not be listed: {exc}. Give the store's id.",
            )
            return
        choices = [(store["id"], store_label(store)) for store in stores
                   if isinstance(store, dict) and is_whole(store.get("id"))]
        if is_whole(store_id) and store_id not in dict(choices):
            choices.append((store_id, f"Store {store_id} (not among the stores listed)"))
        field = self.fields["printops_store"]
        field.choices = [("", "---------"), *choices]
        field.initial = store_id
        field.help_text = f"The store of {self.printops.name} the products are pushed to."

    def saved_options(self):
        """The saved options, when they are this storefront's."""
        if self.instance.storefront_id != self.printops.pk:
            return {}
        return self.instance.storefront_options or {}

    def clean(self):
        data = super().clean()
        if self.printops is None:
            return data
        store_id = data.get("printops_store")
        if data.get("new_store_name"):
            if self.errors:
                # A store is only made for a form that is otherwise saved.
                return data
            try:
                store = PrintOpsClient.for_integration(self.printops).create_store(
                    data["new_store_name"]
                )
            except PrintOpsError as exc:
                self.add_error("new_store_name", f"The store could not be created: {exc}")
                return data
            store_id = store["id"]
            self.choose_created(store)
        elif store_id is None:
            if "printops_store" not in self.errors:
                self.add_error("printops_store", "Choose the store, or name a new one.")
            return data
        options = PrintOpsOptionsSerializer(data={
            "store_id": store_id, "scale_option": data.get("scale_option") or DEFAULT_SCALE_OPTION,
        })
        if not options.is_valid():
            for name, errors in options.errors.items():
                self.add_error(OPTION_FIELDS.get(name), [str(error) for error in errors])
            return data
        self.instance.storefront_options = {**self.saved_options(), **options.validated_data}
        return data

    def choose_created(self, store):
        """Shows the store just made as the chosen one, should the page come back."""
        self.data = self.data.copy()
        self.data["printops_store"] = str(store["id"])
        self.data["new_store_name"] = ""
        field = self.fields["printops_store"]
        if isinstance(field, forms.ChoiceField):
            field.choices = [*field.choices, (store["id"], store_label(store))]


@admin.register(Customer)
class CustomerAdmin(admin.ModelAdmin):
    list_display = [
        "name", "is_active", "storefront_link", "storefront_type", "rule_count", "last_push",
    ]
    list_filter = ["is_active"]
    list_select_related = ["storefront"]
    search_fields = ["name"]
    fields = ["name", "is_active", "storefront", "storefront_options", "order_pull_state",
              "created_at", "updated_at"]
    readonly_fields = ["order_pull_state", "created_at", "updated_at"]
    inlines = [MarkupRuleInline]
    form = CustomerForm

    def get_fields(self, request, obj=None):
        # A PrintOps storefront's options are edited with STORE_FIELDS instead of the JSON.
        fields = super().get_fields(request, obj)
        data = request.POST if request.method == "POST" else None
        if printops_storefront(data, obj) is None:
            return fields
        at = fields.index("storefront_options")
        return [*fields[:at], *STORE_FIELDS, *fields[at + 1:]]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(
            rule_count=count_of(MarkupRule, "customer"),
            last_push=latest_of(PushLog, "customer", "pushed_at"),
        )

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "storefront":
            # Only storefronts can be pushed to (each named with its type); sources only
            # feed the catalog.
            kwargs["queryset"] = db_field.related_model.objects.filter(
                integration_type__in=STOREFRONT_TYPES
            )
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    @admin.display(description="Storefront", ordering="storefront__name")
    def storefront_link(self, customer):
        if customer.storefront is None:
            return "—"
        return format_html(
            '<a href="{}">{}</a>', integration_url(customer.storefront), customer.storefront.name
        )

    @admin.display(description="Storefront type", ordering="storefront__integration_type")
    def storefront_type(self, customer):
        if customer.storefront is None:
            return "—"
        return customer.storefront.get_integration_type_display()

    @admin.display(description="Order pull")
    def order_pull_state(self, customer):
        """The pull of the customer's storefront orders: state, progress, last error."""
        pull = OrderPull.objects.filter(customer=customer).first() if customer.pk else None
        if pull is None:
            return "Not pulled yet"
        state = f"{pull.get_status_display()}, {pull.progress}%"
        if pull.finished_at:
            state += f", last finished {pull.finished_at:%Y-%m-%d %H:%M} UTC"
        if pull.last_error:
            state += f". Last error: {pull.last_error}"
        return format_html("{} ({})", state, admin_link(pull, "schedule and pull now"))

    @admin.display(description="Rules", ordering="rule_count")
    def rule_count(self, customer):
        return customer.rule_count

    @admin.display(description="Last push", ordering="last_push")
    def last_push(self, customer):
        return customer.last_push


class PreviewForm(forms.Form):
    """The product to price on a markup rule's page (its id, or chosen with the lookup)."""

    preview_product = forms.ModelChoiceField(
        queryset=Product.objects.all(), required=False, label="Preview product",
        help_text="The product's id; its prices for this rule's customer are shown below.",
    )

    def __init__(self, *args, admin_site, **kwargs):
        super().__init__(*args, **kwargs)
        rel = MarkupRule._meta.get_field("product").remote_field
        self.fields["preview_product"].widget = ForeignKeyRawIdWidget(rel, admin_site)


def rule_preview(rule, product):
    """What `product` costs `rule`'s customer: the rule that applies and its priced tiers."""
    customer, at = rule.customer, timezone.now()
    preview = {"product": product, "customer": customer}
    chosen = select_rule(customer, product, at=at)
    if chosen is None:
        preview["no_rule"] = NoMarkupRule.for_product(customer, product).message
        return preview
    try:
        priced = price_product(customer, product, at=at)
    except NoMarkupRule as exc:
        preview["no_rule"] = exc.message
        return preview
    is_this_rule = chosen.pk == rule.pk
    preview.update(chosen=chosen, is_this_rule=is_this_rule, rows=[
        {
            "title": item.title,
            "sku": item.sku or "",
            "quantities": quantities(tier),
            "cost": money(tier.cost),
            "price": money(tier.price),
            "this_rule_price": None if is_this_rule else money(price_amount(rule, tier.cost)),
        }
        for item in priced.items
        for tier in item.tiers
    ])
    if not is_this_rule:
        now_in_effect = (rule.effective_from is None or rule.effective_from <= at) and (
            rule.effective_until is None or at < rule.effective_until
        )
        if not rule.is_active:
            preview["why_not"] = "This rule is inactive."
        elif not now_in_effect:
            preview["why_not"] = "This rule is not in effect now."
        else:
            preview["why_not"] = (
                "Either this rule does not cover the product, or the chosen one is more "
                "specific (product, then category, supplier, all), has a higher priority, "
                "or is newer."
            )
    return preview


@admin.register(MarkupRule)
class MarkupRuleAdmin(admin.ModelAdmin):
    form = MarkupRuleForm
    change_form_template = "admin/pushes/markuprule/change_form.html"
    list_display = [
        "__str__", "customer", "scope", "target", "markup_pct", "min_margin_pct", "rounding",
        "priority", "is_active", "effective_from", "effective_until",
    ]
    list_filter = ["customer", "scope", "is_active", "rounding"]
    list_select_related = ["customer", "supplier", "category", "product"]
    search_fields = ["name", "customer__name", "product__supplier_sku", "category__path"]
    raw_id_fields = ["product", "category"]
    fieldsets = [
        (None, {"fields": ["customer", "name", "is_active", "priority"]}),
        ("What it covers", {"fields": ["scope", "supplier", "category", "product"]}),
        ("The price", {"fields": [
            "markup_pct", "markup_amount", "min_margin_pct", "rounding", "min_price",
            "max_price",
        ]}),
        ("When", {"fields": ["effective_from", "effective_until"]}),
        ("Record", {"fields": ["created_at", "updated_at"]}),
    ]
    readonly_fields = ["created_at", "updated_at"]

    @admin.display(description="Target")
    def target(self, rule):
        if rule.scope == MarkupScope.PRODUCT and rule.product:
            return rule.product.supplier_sku
        if rule.scope == MarkupScope.CATEGORY and rule.category:
            return rule.category.path
        if rule.scope == MarkupScope.SUPPLIER and rule.supplier:
            return rule.supplier.name
        return "All products"

    def change_view(self, request, object_id, form_url="", extra_context=None):
        rule = self.get_object(request, unquote(object_id))
        if rule is not None:
            extra_context = {**(extra_context or {}), **self.preview_context(request, rule)}
        return super().change_view(request, object_id, form_url, extra_context)

    def preview_context(self, request, rule):
        data = request.GET if "preview_product" in request.GET else None
        form = PreviewForm(data, admin_site=self.admin_site)
        context = {"preview_form": form}
        if form.is_bound and form.is_valid() and form.cleaned_data["preview_product"]:
            context["preview"] = rule_preview(rule, form.cleaned_data["preview_product"])
        return context


# -- what was pushed -------------------------------------------------------------------------


@admin.register(PushLog)
class PushLogAdmin(ReadOnlyAdmin):
    """The record of pushes, as written by the pushes."""

    list_display = [
        "pushed_at", "customer", "product_sku", "status", "action", "step",
        "storefront_product_id", "short_error",
    ]
    list_filter = ["status", "action", "refused", "customer"]
    list_select_related = ["customer", "product"]
    date_hierarchy = "pushed_at"
    search_fields = ["product__supplier_sku", "storefront_product_id"]
    actions = ["retry_failed"]

    def has_push_permission(self, request):
        return request.user.has_perm("pushes.add_pushlog")

    @admin.display(description="Product", ordering="product__supplier_sku")
    def product_sku(self, log):
        return log.product.supplier_sku

    @admin.display(description="Error")
    def short_error(self, log):
        return Truncator(log.error or "").chars(80)

    @admin.action(description="Retry selected failed pushes", permissions=["push"])
    def retry_failed(self, request, queryset):
        failed = queryset.filter(status=PushLog.Status.FAILED).select_related(
            "customer", "product"
        )
        queued, refused, seen = 0, [], set()
        for log in failed:
            if (log.customer_id, log.product_id) in seen:
                continue
            seen.add((log.customer_id, log.product_id))
            try:
                request_push(log.customer, log.product)
            except PushRefused as exc:
                refused.append(str(exc).rstrip("."))
                continue
            except QueueUnavailable as exc:
                self.message_user(request, str(exc), messages.ERROR)
                break
            queued += 1
        message = f"Queued {queued} retr{pluralize(queued, 'y,ies')}"
        if refused:
            reasons = "; ".join(dict.fromkeys(refused))
            message += f"; {len(refused)} refused ({reasons})"
        level = messages.WARNING if refused or not queued else messages.SUCCESS
        self.message_user(request, f"{message}.", level)


@admin.register(PushBatch)
class PushBatchAdmin(ReadOnlyAdmin):
    list_display = [
        "created_at", "customer", "created_by", "total", "succeeded", "failed", "progress",
        "status", "completed_at", "logs",
    ]
    list_filter = ["customer"]
    list_select_related = ["customer", "created_by"]
    search_fields = ["customer__name"]
    date_hierarchy = "created_at"
    fields = [
        "customer", "created_by", "total", "succeeded", "failed", "progress", "status",
        "created_at", "completed_at", "logs",
    ]
    readonly_fields = fields

    @admin.display(description="Progress")
    def progress(self, batch):
        return f"{batch.progress}%"

    @admin.display(description="Status")
    def status(self, batch):
        return batch.status

    @admin.display(description="Logs")
    def logs(self, batch):
        url = reverse("admin:pushes_pushlog_changelist")
        return format_html('<a href="{}?batch__id__exact={}">Logs</a>', url, batch.pk)


@admin.register(StorefrontProduct)
class StorefrontProductAdmin(ReadOnlyAdmin):
    list_display = [
        "customer", "product_sku", "storefront_product_id", "last_pushed_at", "claimed_at",
    ]
    list_filter = ["customer"]
    list_select_related = ["customer", "product"]
    search_fields = ["product__supplier_sku", "storefront_product_id"]
    fields = [
        "customer", "product", "storefront_product_id", "refs", "pushed_hash",
        "last_pushed_at", "claimed_at",
    ]
    readonly_fields = fields

    @admin.display(description="Product", ordering="product__supplier_sku")
    def product_sku(self, entry):
        return entry.product.supplier_sku


@admin.register(CategoryMapping)
class CategoryMappingAdmin(ReadOnlyAdmin):
    """Written by the pushes. A mapping to a category removed from the storefront may be
    deleted: the next push of a product in that category makes it again."""

    list_display = ["customer", "category", "storefront_category_id", "created_at"]
    list_filter = ["customer"]
    list_select_related = ["customer", "category"]
    search_fields = ["category__path", "storefront_category_id"]
    fields = ["customer", "category", "storefront_category_id", "created_at"]
    readonly_fields = fields

    def has_delete_permission(self, request, obj=None):
        return admin.ModelAdmin.has_delete_permission(self, request, obj)

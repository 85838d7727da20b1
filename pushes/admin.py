"""Admin pages for customers, their markup rules, and what was pushed to their storefronts.

What the pushes write (logs, batches, storefront ids, category mappings) can be read,
not edited. Every list page reads its rows in a constant number of queries: counts and
latest dates are subqueries annotated in get_queryset, the foreign keys shown are joined.
"""

from datetime import timedelta
from decimal import Decimal

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.contrib.admin.widgets import ForeignKeyRawIdWidget
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import DateTimeField, Max, OuterRef, Subquery
from django.shortcuts import redirect
from django.template.defaultfilters import pluralize
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe

from catalog.admin import URL_FIELDS, count_of
from catalog.models import Product
from hub.admin import (
    ReadOnlyAdmin,
    ReadOnlyInline,
    WriteOnlySecretsForm,
    key_value_table,
    secret_field,
    wrapped_text,
)
from hub.queue import QueueUnavailable
from hub.values import is_whole
from integrations.admin import integration_url
from integrations.models import STOREFRONT_TYPES, Integration, IntegrationType
from integrations.printops.client import SCALE_OPTIONS, PrintOpsClient, PrintOpsError
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
from pushes.pricing import (
    CENT,
    NoMarkupRule,
    price_amount,
    price_product,
    sample_item,
    sample_product,
    select_rule,
)
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
    """The customer's rules, one compact row each; amounts, price limits and dates are on
    the rule's own page."""

    model = MarkupRule
    form = MarkupRuleForm
    fields = [
        "name", "scope", "supplier", "category", "product", "markup_pct", "min_margin_pct",
        "rounding", "priority", "is_active",
    ]
    raw_id_fields = ["category", "product"]
    show_change_link = True
    extra = 0
    classes = ["markup-rules"]

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        field = super().formfield_for_dbfield(db_field, request, **kwargs)
        if db_field.name == "supplier":
            # A compact row: suppliers are made elsewhere, not from a customer's rules.
            field.widget.can_add_related = field.widget.can_change_related = False
            field.widget.can_view_related = False
        return field


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


class CustomerForm(WriteOnlySecretsForm):
    """A customer; for a PrintOps storefront its store (listed, or made here) and scaling;
    its order webhook, the secret write-only.

    The stores are listed from PrintOps when the form is built. When they cannot be, the
    reason is shown and the store is given by its id.
    """

    secrets = {"order_webhook_secret": "secret"}
    removable_secrets = {"order_webhook_secret": "remove_order_webhook_secret"}
    order_webhook_secret = secret_field("Order webhook secret")
    remove_order_webhook_secret = forms.BooleanField(
        label="Remove the stored secret", required=False
    )

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
        url = self.fields["order_webhook_url"]
        url.label = "Order webhook URL"
        url.help_text = "Where the hub POSTs this customer's order changes, signed with the secret."
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


def margin_pct(cost, price):
    return None if not price else (price - cost) / price * 100


def rule_sample(rule):
    """What a rule makes of a real product's tiers: cost, price and margin per tier."""
    product = sample_product(rule)
    item = sample_item(rule, product) if product else None
    if item is None:
        return None
    tiers = [(quantities(tier), money(tier.cost), money(tier.price),
              f"{margin_pct(tier.cost, tier.price):.1f}%") for tier in item.tiers]
    prices = [tier.price for tier in item.tiers]
    return {"product": product, "item": item, "tiers": tiers,
            "same_price": len(set(prices)) < len(prices)}


# How many of the customer's products and pushes its page lists.
CUSTOMER_LATEST = 20


@admin.register(Customer)
class CustomerAdmin(admin.ModelAdmin):
    """A customer: storefront, markup rules with what they make of real tiers, what was
    pushed to it and how that went."""

    list_display = [
        "name", "is_active", "storefront_link", "storefront_type", "rule_count", "last_push",
    ]
    list_filter = ["is_active"]
    list_select_related = ["storefront"]
    search_fields = ["name"]
    readonly_fields = ["storefront_options_table", "rule_previews", "pushed_products",
                       "push_history", "order_pull_state", "created_at", "updated_at"]
    inlines = [MarkupRuleInline]
    form = CustomerForm
    formfield_overrides = URL_FIELDS
    change_form_template = "admin/pushes/customer/change_form.html"

    def get_fieldsets(self, request, obj=None):
        # A PrintOps storefront's options are edited with STORE_FIELDS; the others have
        # no options to edit and show what is stored as labelled rows.
        data = request.POST if request.method == "POST" else None
        if printops_storefront(data, obj) is not None:
            options = STORE_FIELDS
        else:
            options = ["storefront_options_table"] if obj is not None else []
        webhook = ["order_webhook_url", "order_webhook_secret"]
        if obj is not None and obj.order_webhook_secret:
            webhook.append("remove_order_webhook_secret")
        fieldsets = [
            (None, {"fields": ["name", "is_active", "storefront", "notify_buyer", *options]}),
            ("Order webhook", {"fields": webhook}),
        ]
        if obj is not None:
            fieldsets += [
                ("What the rules make of real tiers", {"fields": ["rule_previews"]}),
                ("Products pushed to this customer", {"fields": ["pushed_products"]}),
                ("Push history", {"fields": ["push_history"]}),
                ("Order pull", {"fields": ["order_pull_state"]}),
                ("Record", {"fields": ["created_at", "updated_at"]}),
            ]
        return fieldsets

    @admin.display(description="Storefront options")
    def storefront_options_table(self, customer):
        return key_value_table(customer.storefront_options, empty="None for this storefront.")

    @admin.display(description="Per rule, a product it reaches")
    def rule_previews(self, customer):
        rows = []
        for rule in customer.markup_rules.select_related("supplier", "category", "product"):
            sample = rule_sample(rule)
            if sample is None:
                rows.append(format_html(
                    "<tr><td>{}</td><td colspan=2 class='muted'>No product with a cost in "
                    "its scope yet.</td></tr>", admin_link(rule)))
                continue
            tiers = format_html_join("", "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                                     sample["tiers"])
            warning = mark_safe(
                '<p class="warning-text">Two tiers sell at one price: the larger quantity '
                "gets no discount.</p>") if sample["same_price"] else ""
            rows.append(format_html(
                "<tr><td>{}</td><td>{}<div class='muted'>{} {}</div></td><td>"
                "<table class='kv'><thead><tr><th>Quantity</th><th>Cost</th><th>Price</th>"
                "<th>Margin</th></tr></thead><tbody>{}</tbody></table>{}</td></tr>",
                admin_link(rule), admin_link(sample["product"], sample["product"].product_name),
                sample["product"].supplier_sku, sample["item"].title, tiers, warning))
        if not rows:
            return "No markup rule yet: nothing is pushed to this customer."
        return format_html(
            "<table class='rule-previews'><thead><tr><th>Rule</th><th>Sample product</th>"
            "<th>Tiers</th></tr></thead><tbody>{}</tbody></table>",
            format_html_join("", "{}", ((row,) for row in rows)))

    @admin.display(description="Latest pushed products")
    def pushed_products(self, customer):
        entries = list(customer.storefront_products.select_related("product").order_by(
            "-last_pushed_at")[:CUSTOMER_LATEST])
        if not entries:
            return "Nothing pushed yet."
        last_log = PushLog.objects.filter(customer=customer, product=OuterRef("product")).order_by(
            "-pushed_at", "-id").values("pk")[:1]
        log_ids = dict(customer.storefront_products.filter(
            pk__in=[entry.pk for entry in entries]).annotate(
            last_log=Subquery(last_log)).values_list("pk", "last_log"))
        logs = PushLog.objects.in_bulk([pk for pk in log_ids.values() if pk])
        rows = []
        for entry in entries:
            log = logs.get(log_ids.get(entry.pk))
            rows.append((
                admin_link(entry.product, entry.product.product_name), entry.product.supplier_sku,
                entry.storefront_product_id or "—",
                log.status if log else "", log.get_action_display() if log else "—",
                log.pushed_at.strftime("%Y-%m-%d %H:%M") if log else "",
                wrapped_text(log.error if log else ""),
            ))
        url = reverse("admin:pushes_storefrontproduct_changelist")
        return format_html(
            "<table class='pushed-products'><thead><tr><th>Product</th><th>SKU</th>"
            "<th>Storefront id</th><th>Last push</th><th>When</th><th>Error</th></tr></thead>"
            "<tbody>{}</tbody></table><p><a href='{}?customer__id__exact={}'>All of them</a></p>",
            format_html_join("", "<tr><td>{}</td><td>{}</td><td>{}</td><td><span class='badge "
                             "badge-{}'>{}</span></td><td>{}</td><td>{}</td></tr>", rows),
            url, customer.pk)

    @admin.display(description="Latest pushes")
    def push_history(self, customer):
        logs = list(customer.push_logs.select_related("product")[:CUSTOMER_LATEST])
        if not logs:
            return "No push yet."
        url = reverse("admin:pushes_pushlog_changelist")
        return format_html(
            "<table class='push-history'><thead><tr><th>When</th><th>Product</th><th>Result</th>"
            "<th>Step</th><th>Error or detail</th></tr></thead><tbody>{}</tbody></table>"
            "<p><a href='{}?customer__id__exact={}'>The whole history</a></p>",
            format_html_join("", "<tr><td>{}</td><td>{}</td><td><span class='badge badge-{}'>{}"
                             "</span></td><td>{}</td><td>{}</td></tr>", (
                (admin_link(log, log.pushed_at.strftime("%Y-%m-%d %H:%M")),
                 log.product.product_name, log.status, log.get_action_display(),
                 log.step or "", wrapped_text(log.error or log.detail))
                for log in logs)),
            url, customer.pk)

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


class PushedWithinFilter(admin.SimpleListFilter):
    title = "when"
    parameter_name = "within"
    PERIODS = {"24h": ("Last 24 hours", timedelta(hours=24)),
               "7d": ("Last 7 days", timedelta(days=7))}

    def lookups(self, request, model_admin):
        return [(key, label) for key, (label, _) in self.PERIODS.items()]

    def queryset(self, request, queryset):
        if self.value() in self.PERIODS:
            return queryset.filter(pushed_at__gte=timezone.now() - self.PERIODS[self.value()][1])
        return queryset


def retry_failed_pushes(logs):
    """Queue a new push of each (customer, product) among these failed logs, once each.

    Returns how many were queued and the reasons of those refused.
    """
    queued, refused, seen = 0, [], set()
    for log in logs.filter(status=PushLog.Status.FAILED).select_related("customer", "product"):
        if (log.customer_id, log.product_id) in seen:
            continue
        seen.add((log.customer_id, log.product_id))
        try:
            request_push(log.customer, log.product)
        except PushRefused as exc:
            refused.append(str(exc).rstrip("."))
            continue
        except QueueUnavailable as exc:
            return f"Queued {queued} before the queue failed: {exc}", messages.ERROR
        queued += 1
    message = f"Queued {queued} retr{pluralize(queued, 'y,ies')}"
    if refused:
        message += f"; {len(refused)} refused ({'; '.join(dict.fromkeys(refused))})"
    return f"{message}.", messages.WARNING if refused or not queued else messages.SUCCESS


class PushLogColumns:
    """How a push log entry reads, in the push log and on a batch's page."""

    @admin.display(description="Product", ordering="product__product_name")
    def product_link(self, log):
        return format_html('{}<div class="muted">{}</div>',
                           admin_link(log.product, log.product.product_name),
                           log.product.supplier_sku)

    @admin.display(description="Result", ordering="status")
    def status_badge(self, log):
        return format_html('<span class="badge badge-{}">{}</span>', log.status,
                           log.get_action_display())

    @admin.display(description="Error or detail")
    def outcome(self, log):
        return wrapped_text(log.error or log.detail)


@admin.register(PushLog)
class PushLogAdmin(PushLogColumns, ReadOnlyAdmin):
    """The record of pushes, as written by the pushes."""

    list_display = [
        "pushed_at", "customer", "product_link", "status_badge", "step", "batch_link",
        "outcome",
    ]
    list_filter = ["status", PushedWithinFilter, "step", "action", "refused", "customer"]
    list_select_related = ["customer", "product", "batch"]
    date_hierarchy = "pushed_at"
    search_fields = ["product__supplier_sku", "product__product_name", "storefront_product_id"]
    actions = ["retry_failed"]
    fields = [
        "pushed_at", "customer", "product_link", "status", "action", "refused", "step",
        "error", "detail", "batch_link", "storefront_product_id", "payload_hash",
    ]
    readonly_fields = fields

    def has_push_permission(self, request):
        return request.user.has_perm("pushes.add_pushlog")

    @admin.display(description="Batch")
    def batch_link(self, log):
        if log.batch_id is None:
            return "—"
        return admin_link(log.batch, f"{log.batch.created_at:%Y-%m-%d %H:%M}")

    @admin.action(description="Retry selected failed pushes", permissions=["push"])
    def retry_failed(self, request, queryset):
        self.message_user(request, *retry_failed_pushes(queryset))


class BatchItemInline(PushLogColumns, ReadOnlyInline):
    model = PushLog
    verbose_name = "item"
    verbose_name_plural = "Items and their outcome"
    fields = ["product_link", "status_badge", "step", "outcome", "pushed_at"]
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("product").order_by(
            "status", "product__product_name")


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
    inlines = [BatchItemInline]
    change_form_template = "admin/pushes/pushbatch/change_form.html"

    def get_urls(self):
        return [
            path("<path:object_id>/retry-failed/",
                 self.admin_site.admin_view(self.retry_failed_view),
                 name="pushes_pushbatch_retry_failed"),
            *super().get_urls(),
        ]

    def retry_failed_view(self, request, object_id):
        batch = self.get_object(request, unquote(object_id))
        if batch is None or not request.user.has_perm("pushes.add_pushlog"):
            raise PermissionDenied
        if request.method == "POST":
            self.message_user(request, *retry_failed_pushes(batch.logs.all()))
        return redirect("admin:pushes_pushbatch_change", batch.pk)

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

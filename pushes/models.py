"""Customers, their markup rules, and what the hub pushed to their storefronts."""

import uuid
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q

from hub.secrets import EncryptedTextField, SecretDestinations


class Customer(SecretDestinations, models.Model):
    """A print shop's customer: the owner of one storefront the hub pushes to."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(max_length=255)
    is_active = models.BooleanField(default=True)
    storefront = models.ForeignKey(
        "integrations.Integration", null=True, blank=True, on_delete=models.PROTECT,
        related_name="customers",
    )
    # Storefront settings that belong to the customer, not the storefront (e.g. the
    # store to use on a shared storefront account, how art is scaled).
    storefront_options = models.JSONField(default=dict, blank=True)
    # Where the hub POSTs the customer's order changes (hub-orders-api.md), and the secret
    # it signs them with (write-only).
    order_webhook_url = models.URLField(max_length=2000, null=True, blank=True)
    order_webhook_secret = EncryptedTextField(null=True, blank=True)
    # Whether the storefront emails the buyer on each status the hub sends it.
    notify_buyer = models.BooleanField(
        default=False, help_text="OnPrintShop: email the buyer on each status change")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    SECRET_DESTINATIONS = {"order_webhook_secret": ("order_webhook_url",)}

    class Meta:
        ordering = ["name", "id"]

    def __str__(self):
        return self.name


class Rounding(models.TextChoices):
    NONE = "none", "None (to the cent)"
    UP_99 = "up_99", "Up to .99"
    NEAREST_DOLLAR = "nearest_dollar", "Nearest dollar (half up)"


class MarkupScope(models.TextChoices):
    ALL = "all", "All products"
    SUPPLIER = "supplier", "A supplier"
    CATEGORY = "category", "A category and its descendants"
    PRODUCT = "product", "One product"


class MarkupRule(models.Model):
    """How a customer's price is made from the supplier's cost (see pushes/pricing.py)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="markup_rules")
    name = models.CharField(max_length=255, blank=True, default="")
    scope = models.CharField(max_length=16, choices=MarkupScope.choices, default=MarkupScope.ALL)
    supplier = models.ForeignKey(
        "catalog.Supplier", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    category = models.ForeignKey(
        "catalog.Category", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    product = models.ForeignKey(
        "catalog.Product", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    markup_pct = models.DecimalField(max_digits=8, decimal_places=3, default=0)
    markup_amount = models.DecimalField(max_digits=12, decimal_places=4, null=True, blank=True)
    # A true gross margin: price >= cost / (1 - min_margin_pct / 100).
    min_margin_pct = models.DecimalField(max_digits=6, decimal_places=3, null=True, blank=True)
    rounding = models.CharField(max_length=16, choices=Rounding.choices, default=Rounding.NONE)
    min_price = models.DecimalField(max_digits=12, decimal_places=4, null=True, blank=True)
    max_price = models.DecimalField(max_digits=12, decimal_places=4, null=True, blank=True)
    priority = models.IntegerField(default=0)
    is_active = models.BooleanField(default=True)
    effective_from = models.DateTimeField(null=True, blank=True)
    effective_until = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["customer", "-priority", "-created_at"]
        constraints = [
            models.CheckConstraint(
                name="markup_rule_scope_target",
                condition=(
                    Q(scope="all", supplier__isnull=True, category__isnull=True,
                      product__isnull=True)
                    | Q(scope="supplier", supplier__isnull=False, category__isnull=True,
                        product__isnull=True)
                    | Q(scope="category", supplier__isnull=True, category__isnull=False,
                        product__isnull=True)
                    | Q(scope="product", supplier__isnull=True, category__isnull=True,
                        product__isnull=False)
                ),
            ),
            models.CheckConstraint(
                name="markup_rule_margin_below_100",
                condition=Q(min_margin_pct__isnull=True)
                | Q(min_margin_pct__gte=0, min_margin_pct__lt=100),
            ),
        ]

    def __str__(self):
        return self.name or f"{self.get_scope_display()} +{self.markup_pct}%"

    def price_errors(self):
        """{field: why} for settings that would sell for nothing or make no sense together.

        The one check of a rule's amounts: the admin (through clean) and the API's
        serializer both use it.
        """
        errors = {}
        if self.markup_pct is not None and self.markup_pct <= -100:
            errors["markup_pct"] = (
                "Must be greater than -100: a markup of -100% or less gives the product away."
            )
        if self.max_price is not None and self.max_price < Decimal("0.01"):
            errors["max_price"] = "Must be at least 0.01: a product is never sold for nothing."
        elif (self.min_price is not None and self.max_price is not None
              and self.min_price > self.max_price):
            errors["max_price"] = "Must be at least min_price."
        if self.min_margin_pct is not None and not 0 <= self.min_margin_pct < 100:
            errors["min_margin_pct"] = "A margin is at least 0 and below 100 percent."
        return errors

    def clean(self):
        super().clean()
        errors = self.price_errors()
        if errors:
            raise ValidationError(errors)


class CategoryMapping(models.Model):
    """A hub category's id in one customer's storefront, kept so re-pushes reuse it."""

    customer = models.ForeignKey(
        Customer, on_delete=models.CASCADE, related_name="category_mappings"
    )
    category = models.ForeignKey("catalog.Category", on_delete=models.CASCADE, related_name="+")
    storefront_category_id = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["customer", "category"], name="category_mapping_once"),
        ]

    def __str__(self):
        return f"{self.category} → {self.storefront_category_id}"


class StorefrontProduct(models.Model):
    """A product as it stands in one customer's storefront: its ids and last payload."""

    customer = models.ForeignKey(
        Customer, on_delete=models.CASCADE, related_name="storefront_products"
    )
    product = models.ForeignKey(
        "catalog.Product", on_delete=models.CASCADE, related_name="storefront_products"
    )
    storefront_product_id = models.CharField(max_length=64, null=True, blank=True)
    # The storefront's ids of what hangs off the product (sizes, prices, ...), as the
    # storefront client keeps them; kept even after a failure so a retry reuses them.
    refs = models.JSONField(default=dict, blank=True)
    # Hash of the priced payload last pushed successfully: equal means nothing to send.
    pushed_hash = models.CharField(max_length=64, blank=True, default="")
    last_pushed_at = models.DateTimeField(null=True, blank=True)
    # Set while a push holds this product for this customer (one push at a time), and
    # refreshed by its heartbeat; claimed_by names the push (its task's id).
    claimed_at = models.DateTimeField(null=True, blank=True)
    claimed_by = models.CharField(max_length=64, null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["customer", "product"], name="storefront_product_once"),
        ]

    def __str__(self):
        return f"{self.product_id} in {self.customer}: {self.storefront_product_id}"


class PushBatch(models.Model):
    """Many products pushed to one customer, one task each; progress read by the API."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="push_batches")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+",
    )
    total = models.PositiveIntegerField(default=0)
    succeeded = models.PositiveIntegerField(default=0)
    failed = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name_plural = "push batches"

    def __str__(self):
        return f"Batch of {self.total} for {self.customer}"

    @property
    def processed(self):
        return self.succeeded + self.failed

    @property
    def status(self):
        return "completed" if self.processed >= self.total else "running"

    @property
    def progress(self):
        return 100 if not self.total else round(100 * self.processed / self.total)


class PushLog(models.Model):
    """One attempt to push one product to one customer's storefront."""

    class Status(models.TextChoices):
        PUSHED = "pushed", "Pushed"
        FAILED = "failed", "Failed"

    class Action(models.TextChoices):
        CREATED = "created", "Created in the storefront"
        UPDATED = "updated", "Updated in the storefront"
        UNCHANGED = "unchanged", "Unchanged: nothing sent"
        DEACTIVATED = "deactivated", "Made inactive (archived in the hub)"
        FAILED = "failed", "Failed"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="push_logs")
    product = models.ForeignKey(
        "catalog.Product", on_delete=models.CASCADE, related_name="push_logs"
    )
    batch = models.ForeignKey(
        PushBatch, null=True, blank=True, on_delete=models.SET_NULL, related_name="logs"
    )
    status = models.CharField(max_length=16, choices=Status.choices)
    action = models.CharField(max_length=16, choices=Action.choices)
    error = models.TextField(null=True, blank=True)
    # The push step that failed (category, product, sizes, prices, images, ...).
    step = models.CharField(max_length=32, null=True, blank=True)
    # A failure that retrying cannot heal: the push was refused (no markup rule, nothing to
    # sell, the storefront said no). Other failures (timeouts, 5xx, crashes) may heal.
    refused = models.BooleanField(default=False)
    # What the storefront did, in words, when it said more than created/updated.
    detail = models.TextField(blank=True, default="")
    pushed_at = models.DateTimeField(auto_now_add=True, db_index=True)
    # The product's id in the storefront, as the storefront returned it (any type).
    storefront_product_id = models.CharField(max_length=64, null=True, blank=True)
    # The OnPrintShop product id: only for a push to an OnPrintShop storefront that
    # succeeded (the push history's `ops_product_id`); null otherwise.
    ops_product_id = models.PositiveBigIntegerField(null=True, blank=True)
    payload_hash = models.CharField(max_length=64, blank=True, default="")
    # This entry is its batch item's final outcome, counted in the batch (once per item).
    counted = models.BooleanField(default=False)

    class Meta:
        ordering = ["-pushed_at", "-id"]
        indexes = [
            models.Index(fields=["customer", "product", "-pushed_at"], name="pushlog_history"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["batch", "product"], condition=Q(counted=True),
                name="push_log_counted_once_per_batch_item",
            ),
        ]

    def __str__(self):
        return f"{self.customer} / {self.product_id}: {self.status}"

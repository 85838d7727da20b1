"""The canonical catalog: every source maps into these rows, every storefront reads them.

Natural keys are NOT NULL columns (`path`, `variant_key`, `size_key`, `source_url`) so a
second ingest of a variant with no size still finds the same row on every database.
"""

import uuid
from decimal import Decimal

from django.db import connections, models
from django.db.models import Q, Value
from django.db.models.functions import Concat
from django.utils import timezone


class TimeStamped(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True


class Supplier(TimeStamped):
    name = models.CharField(max_length=255, unique=True)
    has_decoration_overlay = models.BooleanField(default=False)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name


CATEGORY_PATH_SEPARATOR = " / "


class CategoryQuerySet(models.QuerySet):
    def descendant_ids(self, category_id):
        """SQL for the ids of a category and every category below it (a recursive CTE)."""
        table = self.model._meta.db_table
        key = self.model._meta.pk.get_db_prep_value(category_id, connections[self.db])
        return models.expressions.RawSQL(
            f"""
            WITH RECURSIVE tree(id) AS (
                SELECT id FROM {table} WHERE id = %s
                UNION ALL
                SELECT child.id FROM {table} child JOIN tree ON child.parent_id = tree.id
            )
            SELECT id FROM tree
            """,
            (key,),
        )


class Category(TimeStamped):
    supplier = models.ForeignKey(Supplier, on_delete=models.CASCADE, related_name="categories")
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.CASCADE, related_name="children"
    )
    name = models.CharField(max_length=255)
    # The names from the root down, joined: the natural key within a supplier.
    path = models.CharField(max_length=1000, editable=False)
    external_id = models.CharField(max_length=255, null=True, blank=True)
    sort_order = models.IntegerField(default=0)

    objects = CategoryQuerySet.as_manager()

    class Meta:
        verbose_name_plural = "categories"
        ordering = ["supplier__name", "path"]
        constraints = [
            models.UniqueConstraint(fields=["supplier", "path"], name="category_unique_path"),
        ]

    def __str__(self):
        return self.path

    def save(self, *args, **kwargs):
        self.path = (
            f"{self.parent.path}{CATEGORY_PATH_SEPARATOR}{self.name}" if self.parent else self.name
        )
        super().save(*args, **kwargs)




class ProductType(models.TextChoices):
    APPAREL = "apparel", "Apparel"
    PRINT = "print", "Print"


class PrintPricingMethod(models.TextChoices):
    """How a print product's sizes are priced (print_details.pricing_method).

    The spec names `formula`; `per_size` is the hub's addition, documented as an enum in
    the schema, because a source such as PrintOps prices every preset size on its own:
    calling that `formula` would send a client to a per-square-unit price that is null.
    """

    FORMULA = "formula", "Width × height × the price per square unit"
    PER_SIZE = "per_size", "Each preset size has its own price"


# The product list's order.
NAME_ORDER = ("product_name", "id")


def found_by_trigram(term, vendor):
    """Whether the trigram indexes can find a search for `term`: three characters or more,
    on PostgreSQL (see ProductQuerySet.by_name)."""
    return len(term) >= 3 and vendor == "postgresql"


class ProductQuerySet(models.QuerySet):
    def active(self):
        return self.filter(archived_at__isnull=True)

    def archived(self):
        return self.filter(archived_at__isnull=False)

    def in_category(self, category):
        """Products in the category or in any category below it."""
        return self.filter(
            Q(category=category)
            | Q(category__supplier_id=category.supplier_id,
                category__path__startswith=category.path + CATEGORY_PATH_SEPARATOR)
        )

    def in_category_tree(self, category_id):
        return self.filter(category_id__in=Category.objects.descendant_ids(category_id))

    def search(self, term):
        return self.filter(
            Q(product_name__icontains=term) | Q(supplier_sku__icontains=term)
            | Q(brand__icontains=term)
        )

    def by_name(self, search_term=""):
        """In the product list's order: by name, then id.

        For a search of three characters or more (what the trigram indexes can find),
        PostgreSQL is given the name as an expression it has no index for. It then finds
        the matches through the trigram indexes and sorts them, a cost that follows the
        number of matches. Given the bare column it may walk the name index instead and
        test every product named before the page's matches: all of them for a rare word.
        """
        if found_by_trigram(search_term, connections[self.db].vendor):
            return self.order_by(Concat("product_name", Value("")), "id")
        return self.order_by(*NAME_ORDER)

    def archive(self):
        """Archive the active products among these; returns how many were archived.

        Storefronts hear of it through the products_archived signal.
        """
        from catalog.signals import products_archived

        ids = list(self.filter(archived_at__isnull=True).values_list("pk", flat=True))
        if ids:
            now = timezone.now()
            Product.objects.filter(pk__in=ids).update(archived_at=now, updated_at=now)
            products_archived.send(sender=Product, product_ids=ids)
        return len(ids)

    def restore(self):
        """Restore the archived products among these; returns how many were restored."""
        return self.filter(archived_at__isnull=False).update(
            archived_at=None, updated_at=timezone.now()
        )


class Product(TimeStamped):
    supplier = models.ForeignKey(Supplier, on_delete=models.CASCADE, related_name="products")
    supplier_sku = models.CharField(max_length=255)
    product_name = models.CharField(max_length=500)
    brand = models.CharField(max_length=255, null=True, blank=True)
    category = models.ForeignKey(
        Category, null=True, blank=True, on_delete=models.SET_NULL, related_name="products"
    )
    # The category's own name, kept on the row for listings (the spec's `category`).
    category_name = models.CharField(max_length=255, null=True, blank=True)
    description = models.TextField(null=True, blank=True)
    product_type = models.CharField(max_length=16, choices=ProductType.choices)
    image_url = models.URLField(max_length=2000, null=True, blank=True)
    # The OnPrintShop product id of the latest push to an OnPrintShop storefront; other
    # storefronts' ids are on their own records (pushes.StorefrontProduct).
    ops_product_id = models.CharField(max_length=64, null=True, blank=True)
    external_catalogue = models.CharField(max_length=255, null=True, blank=True)
    is_filler = models.BooleanField(default=False)
    last_synced = models.DateTimeField(null=True, blank=True)
    archived_at = models.DateTimeField(null=True, blank=True)
    # Hash of the canonical payload last ingested: an unchanged product is skipped.
    content_hash = models.CharField(max_length=64, blank=True, default="", editable=False)
    # Hash of the raw payload last stored: the same payload again is skipped before it is
    # even validated. The database default lets code that predates it insert products.
    source_hash = models.CharField(
        max_length=64, blank=True, default="", db_default="", editable=False
    )

    objects = ProductQuerySet.as_manager()

    class Meta:
        ordering = list(NAME_ORDER)
        constraints = [
            models.UniqueConstraint(
                fields=["supplier", "supplier_sku"], name="product_unique_supplier_sku"
            ),
        ]
        indexes = [
            models.Index(fields=["product_name", "id"], name="product_name_order"),
            models.Index(fields=["brand"], name="product_brand"),
            models.Index(fields=["archived_at"], name="product_archived_at"),
        ]

    def __str__(self):
        return f"{self.supplier_sku} {self.product_name}"

    def archive(self):
        if self.archived_at is None:
            Product.objects.filter(pk=self.pk).archive()
            self.refresh_from_db(fields=["archived_at", "updated_at"])

    def restore(self):
        if self.archived_at is not None:
            Product.objects.filter(pk=self.pk).restore()
            self.refresh_from_db(fields=["archived_at", "updated_at"])


class Variant(TimeStamped):
    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="variants")
    # sku when the source gives one, else "color|size": never NULL, so upserts match.
    variant_key = models.CharField(max_length=500, editable=False)
    sku = models.CharField(max_length=255, null=True, blank=True)
    color = models.CharField(max_length=255, null=True, blank=True)
    size = models.CharField(max_length=255, null=True, blank=True)
    base_price = models.DecimalField(max_digits=12, decimal_places=4, null=True, blank=True)
    inventory = models.IntegerField(default=0)
    warehouse = models.CharField(max_length=255, null=True, blank=True)
    sort_order = models.IntegerField(default=0)

    class Meta:
        ordering = ["sort_order", "id"]
        constraints = [
            models.UniqueConstraint(fields=["product", "variant_key"], name="variant_unique_key"),
        ]

    def __str__(self):
        return self.sku or self.variant_key

    def save(self, *args, **kwargs):
        self.variant_key = self.key_for(self.sku, self.color, self.size)
        super().save(*args, **kwargs)

    @staticmethod
    def key_for(sku, color, size):
        return sku or f"{color or ''}|{size or ''}"


class VariantPrice(models.Model):
    id = models.BigAutoField(primary_key=True)
    variant = models.ForeignKey(Variant, on_delete=models.CASCADE, related_name="prices")
    price_type = models.CharField(max_length=64, default="Net")
    quantity_min = models.PositiveIntegerField(default=1)
    quantity_max = models.PositiveIntegerField(null=True, blank=True)
    price = models.DecimalField(max_digits=12, decimal_places=4)

    class Meta:
        ordering = ["price_type", "quantity_min", "id"]

    def __str__(self):
        return f"{self.price_type} {self.quantity_min}+ {self.price}"


class ProductImage(TimeStamped):
    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="images")
    # The URL the source gave: the natural key, kept when `url` is replaced by a hosted copy.
    source_url = models.URLField(max_length=2000, editable=False)
    url = models.URLField(max_length=2000)
    supplier_image_url = models.URLField(max_length=2000, null=True, blank=True)
    image_type = models.CharField(max_length=64, null=True, blank=True)
    color = models.CharField(max_length=255, null=True, blank=True)
    sort_order = models.IntegerField(default=0)
    checksum = models.CharField(max_length=128, null=True, blank=True)

    class Meta:
        ordering = ["sort_order", "id"]
        constraints = [
            models.UniqueConstraint(fields=["product", "source_url"], name="image_unique_source"),
        ]

    def __str__(self):
        return self.url

    def save(self, *args, **kwargs):
        if not self.source_url:
            self.source_url = self.supplier_image_url or self.url
        super().save(*args, **kwargs)

    @property
    def color_key(self):
        return color_key(self.color)


def color_key(color):
    """The key of `images_by_color`: "Heather Grey" -> "heather_grey", no colour -> ""."""
    return (color or "").strip().lower().replace(" ", "_")


class ProductOption(TimeStamped):
    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="options")
    option_key = models.CharField(max_length=255)
    title = models.CharField(max_length=255)
    options_type = models.CharField(max_length=64, default="select")
    sort_order = models.IntegerField(default=0)
    master_option_id = models.CharField(max_length=64, null=True, blank=True)
    ops_option_id = models.CharField(max_length=64, null=True, blank=True)
    required = models.BooleanField(default=False)

    class Meta:
        ordering = ["sort_order", "id"]
        constraints = [
            models.UniqueConstraint(fields=["product", "option_key"], name="option_unique_key"),
        ]

    def __str__(self):
        return self.title


class OptionAttribute(TimeStamped):
    option = models.ForeignKey(ProductOption, on_delete=models.CASCADE, related_name="attributes")
    title = models.CharField(max_length=255)
    sort_order = models.IntegerField(default=0)
    ops_attribute_id = models.CharField(max_length=64, null=True, blank=True)
    master_attribute_id = models.CharField(max_length=64, null=True, blank=True)
    attribute_key = models.CharField(max_length=255, null=True, blank=True)
    price = models.DecimalField(max_digits=12, decimal_places=4, null=True, blank=True)
    setup_cost = models.DecimalField(max_digits=12, decimal_places=4, null=True, blank=True)
    multiplier = models.DecimalField(max_digits=12, decimal_places=4, null=True, blank=True)

    class Meta:
        ordering = ["sort_order", "id"]
        constraints = [
            models.UniqueConstraint(fields=["option", "title"], name="attribute_unique_title"),
        ]

    def __str__(self):
        return self.title


class ApparelDetails(models.Model):
    product = models.OneToOneField(
        Product, primary_key=True, on_delete=models.CASCADE, related_name="apparel_details"
    )
    pricing_method = models.CharField(max_length=64, default="tiered_variant")
    raw_payload = models.JSONField(null=True, blank=True)

    class Meta:
        verbose_name_plural = "apparel details"

    def __str__(self):
        return f"Apparel details of {self.product_id}"


class PrintDetails(models.Model):
    product = models.OneToOneField(
        Product, primary_key=True, on_delete=models.CASCADE, related_name="print_details"
    )
    pricing_method = models.CharField(max_length=64, default="formula")
    min_width = models.DecimalField(max_digits=10, decimal_places=3, null=True, blank=True)
    max_width = models.DecimalField(max_digits=10, decimal_places=3, null=True, blank=True)
    min_height = models.DecimalField(max_digits=10, decimal_places=3, null=True, blank=True)
    max_height = models.DecimalField(max_digits=10, decimal_places=3, null=True, blank=True)
    size_unit = models.CharField(max_length=16, null=True, blank=True)
    base_price_per_sq_unit = models.DecimalField(
        max_digits=12, decimal_places=4, null=True, blank=True
    )
    raw_payload = models.JSONField(null=True, blank=True)

    class Meta:
        verbose_name_plural = "print details"

    def __str__(self):
        return f"Print details of {self.product_id}"


class PrintSize(TimeStamped):
    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="sizes")
    # sku when given, else label, else "WxH unit": never NULL, so upserts match.
    size_key = models.CharField(max_length=255, editable=False)
    width = models.DecimalField(max_digits=10, decimal_places=3)
    height = models.DecimalField(max_digits=10, decimal_places=3)
    unit = models.CharField(max_length=16, default="in")
    label = models.CharField(max_length=255, null=True, blank=True)
    sku = models.CharField(max_length=255, null=True, blank=True)
    price = models.DecimalField(max_digits=12, decimal_places=4, null=True, blank=True)
    weight = models.DecimalField(max_digits=10, decimal_places=3, null=True, blank=True)
    # Source-specific facts worth keeping (paper type, source id, ...).
    attributes = models.JSONField(default=dict, blank=True)
    sort_order = models.IntegerField(default=0)

    class Meta:
        ordering = ["sort_order", "id"]
        constraints = [
            models.UniqueConstraint(fields=["product", "size_key"], name="printsize_unique_key"),
        ]

    def __str__(self):
        return self.label or self.size_key

    def save(self, *args, **kwargs):
        self.size_key = self.key_for(self.sku, self.label, self.width, self.height, self.unit)
        super().save(*args, **kwargs)

    @staticmethod
    def key_for(sku, label, width, height, unit):
        def plain(number):
            return format(Decimal(number).normalize(), "f")

        return sku or label or f"{plain(width)}x{plain(height)} {unit}"

"""A customer's prices: the supplier's cost marked up by the customer's markup rules.

`select_rule` finds the rule that covers a product, `price_amount` turns one cost into
one price, `price_product` builds the PricedProduct a storefront receives, and
`price_products` does the same for many products with the customer's rules read once.

Choosing the rule. A rule covers a product when it is active, in effect at the moment
asked about (effective_from <= at < effective_until, either end open when empty), and its
scope reaches the product: all products, the product's supplier, the product's category
or any category above it, or the product itself. The most specific rule wins: a product
rule, then a category rule (the deepest category first), then a supplier rule, then an
all-products rule. Among equally specific rules the higher priority wins, then the newest.

Making a price. See `price_amount`: markup, margin floor, rounding, min/max clamp.
"""

from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_UP, Decimal

from django.db.models import Q, prefetch_related_objects
from django.utils import timezone

from catalog.models import CATEGORY_PATH_SEPARATOR, Category, PrintDetails, ProductType
from pushes.models import MarkupRule, MarkupScope, Rounding
from pushes.priced import PricedImage, PricedItem, PricedProduct, PricedTier

CENT = Decimal("0.01")
DOLLAR = Decimal("1")
# Costs are kept to the precision of the catalog's price columns.
COST_PLACES = Decimal("0.0001")
HUNDRED = Decimal("100")

# The price type the supplier's cost tiers are listed under.
COST_PRICE_TYPE = "net"

# Millimetres per length unit, to price a print size given in one unit with a rate per
# square unit of another.
MILLIMETRES = {
    "mm": Decimal("1"),
    "cm": Decimal("10"),
    "m": Decimal("1000"),
    "in": Decimal("25.4"),
    "inch": Decimal("25.4"),
    "inches": Decimal("25.4"),
    '"': Decimal("25.4"),
    "ft": Decimal("304.8"),
    "foot": Decimal("304.8"),
    "feet": Decimal("304.8"),
    "yd": Decimal("914.4"),
}

# How specific each scope is; category rules add the depth of their category.
SCOPE_RANK = {
    MarkupScope.PRODUCT: 3,
    MarkupScope.CATEGORY: 2,
    MarkupScope.SUPPLIER: 1,
    MarkupScope.ALL: 0,
}


class NoMarkupRule(Exception):
    """No rule of the customer covers the product: it is not pushed (never at cost)."""

    def __init__(self, message, *, customer=None, product=None):
        super().__init__(message)
        self.message = message
        self.customer = customer
        self.product = product

    @classmethod
    def for_product(cls, customer, product):
        return cls(
            f"No markup rule of {customer} covers {product.supplier_sku} "
            f"({product.product_name}); it will not be pushed at cost.",
            customer=customer, product=product,
        )


# -- one amount ----------------------------------------------------------------------------


def price_amount(rule, cost):
    """The customer's price for one cost under `rule`, to the cent; None when no cost.

    1. Markup: cost × (1 + markup_pct/100) + markup_amount.
    2. Margin floor: at least cost / (1 − min_margin_pct/100), so the price keeps that
       share of itself as gross margin.
    3. Rounding: to the cent (half up), up to the next .99, or to the nearest dollar
       (half up). Rounding never goes below the floor: when it would, it takes the next
       cent or the next dollar instead.
    4. min_price and max_price clamp the result. The margin floor beats max_price: a cap
       below the floor gives the floor (rounded up to the cent), never a sale below the
       minimum margin.
    5. The price is at least one cent.

    A cost that is missing, zero or negative has nothing to mark up: the answer is None.
    """
    if cost is None:
        return None
    cost = Decimal(cost)
    if cost <= 0:
        return None

    price = cost * (1 + Decimal(rule.markup_pct or 0) / HUNDRED)
    price += Decimal(rule.markup_amount or 0)
    floor = None
    if rule.min_margin_pct is not None:
        floor = cost / (1 - Decimal(rule.min_margin_pct) / HUNDRED)
        price = max(price, floor)

    price = _rounded(price, rule.rounding, floor)

    if rule.min_price is not None:
        price = max(price, Decimal(rule.min_price).quantize(CENT, ROUND_CEILING))
    if rule.max_price is not None:
        cap = Decimal(rule.max_price).quantize(CENT, ROUND_FLOOR)
        if floor is not None:
            # Never sell below the minimum margin, even when the cap asks for it.
            cap = max(cap, floor.quantize(CENT, ROUND_CEILING))
        price = min(price, cap)
    # A tiny cost or a deep discount never rounds to a product given away.
    return max(price, CENT).quantize(CENT, ROUND_HALF_UP)


def _rounded(price, rounding, floor):
    if rounding == Rounding.UP_99:
        # The smallest amount ending in .99 that is at least the price: never below it,
        # so never below the floor.
        candidate = price.to_integral_value(ROUND_FLOOR) + Decimal("0.99")
        return candidate if candidate >= price else candidate + DOLLAR
    if rounding == Rounding.NEAREST_DOLLAR:
        rounded, step = price.quantize(DOLLAR, ROUND_HALF_UP), DOLLAR
    else:
        rounded, step = price.quantize(CENT, ROUND_HALF_UP), CENT
    if floor is not None and rounded < floor:
        rounded += step
    return rounded


# -- choosing the rule -----------------------------------------------------------------------


def rules_in_effect(customer, at=None):
    """The customer's active rules in effect at `at` (now by default), in one query."""
    at = at or timezone.now()
    return list(
        MarkupRule.objects.filter(customer=customer, is_active=True)
        .filter(Q(effective_from__isnull=True) | Q(effective_from__lte=at))
        .filter(Q(effective_until__isnull=True) | Q(effective_until__gt=at))
        .order_by()
    )


def select_rule(customer, product, *, at=None):
    """The customer's rule that prices `product`, or None when no rule covers it."""
    chains = _category_chains([product])
    return _best_rule(rules_in_effect(customer, at), product, chains[product.pk])


def _best_rule(rules, product, chain):
    """The most specific rule covering `product`; `chain` is its categories, root first."""
    depth_of = {category.pk: depth for depth, category in enumerate(chain, start=1)}
    best, best_key = None, None
    for rule in rules:
        if rule.scope == MarkupScope.PRODUCT:
            covers, depth = rule.product_id == product.pk, 0
        elif rule.scope == MarkupScope.CATEGORY:
            depth = depth_of.get(rule.category_id)
            covers = depth is not None
        elif rule.scope == MarkupScope.SUPPLIER:
            covers, depth = rule.supplier_id == product.supplier_id, 0
        elif rule.scope == MarkupScope.ALL:
            covers, depth = True, 0
        else:
            covers = False
        if not covers:
            continue
        key = (SCOPE_RANK[rule.scope], depth, rule.priority, rule.created_at, str(rule.pk))
        if best_key is None or key > best_key:
            best, best_key = rule, key
    return best


def _category_chains(products):
    """{product pk: [its category and every category above it, root first]}.

    Two queries whatever the depth: the products' categories, then every category whose
    path is a prefix of theirs (the ancestors, found by path, linked by parent).
    """
    prefetch_related_objects([p for p in products if p.category_id], "category")
    supplier_ids, prefixes = set(), set()
    for product in products:
        if product.category_id is None:
            continue
        names = product.category.path.split(CATEGORY_PATH_SEPARATOR)
        supplier_ids.add(product.category.supplier_id)
        prefixes.update(
            CATEGORY_PATH_SEPARATOR.join(names[:depth]) for depth in range(1, len(names))
        )
    by_id = {}
    if prefixes:
        by_id = {
            category.pk: category
            for category in Category.objects.filter(
                supplier_id__in=supplier_ids, path__in=prefixes
            ).order_by()
        }
    chains = {}
    for product in products:
        chain, seen = [], set()
        category = product.category if product.category_id else None
        while category is not None and category.pk not in seen:
            chain.append(category)
            seen.add(category.pk)
            if category.parent_id is None:
                break
            parent = by_id.get(category.parent_id)
            if parent is None:
                # Only when a path no longer matches its parents (a renamed category).
                parent = Category.objects.filter(pk=category.parent_id).first()
                by_id[category.parent_id] = parent
            category = parent
        chains[product.pk] = chain[::-1]
    return chains


# -- whole products --------------------------------------------------------------------------


def price_product(customer, product, *, at=None):
    """`product` priced for `customer`; raises NoMarkupRule when no rule covers it.

    A fixed number of queries whatever the number of variants, sizes or images.
    """
    result = price_products(customer, [product], at=at)[product.pk]
    if isinstance(result, NoMarkupRule):
        raise result
    return result


def price_products(customer, products, *, at=None):
    """Many products priced for one customer, the customer's rules read once.

    Returns {product pk: PricedProduct or NoMarkupRule}, in the order given: a product no
    rule covers is reported, not raised, so the others are still priced. A fixed number
    of queries whatever the number of products and variants.
    """
    products = list(products)
    rules = rules_in_effect(customer, at)
    chains = _category_chains(products)
    chosen = {product.pk: _best_rule(rules, product, chains[product.pk]) for product in products}

    covered = [product for product in products if chosen[product.pk] is not None]
    apparel = [p for p in covered if p.product_type == ProductType.APPAREL]
    printed = [p for p in covered if p.product_type == ProductType.PRINT]
    prefetch_related_objects(covered, "images")
    prefetch_related_objects(apparel, "variants__prices")
    prefetch_related_objects(printed, "sizes", "print_details")

    results = {}
    for product in products:
        rule = chosen[product.pk]
        if rule is None:
            results[product.pk] = NoMarkupRule.for_product(customer, product)
            continue
        if product.product_type == ProductType.APPAREL:
            items = [_variant_item(rule, variant) for variant in product.variants.all()]
        elif product.product_type == ProductType.PRINT:
            details = _print_details(product)
            items = [_size_item(rule, size, details) for size in product.sizes.all()]
        else:
            items = []
        results[product.pk] = PricedProduct(
            product_id=str(product.pk),
            supplier_id=str(product.supplier_id),
            supplier_sku=product.supplier_sku,
            name=product.product_name,
            description=product.description,
            brand=product.brand,
            product_type=product.product_type,
            category_path=[(str(c.pk), c.name) for c in chains[product.pk]],
            # An item without a cost cannot be sold at a made-up price: it is left out.
            items=[item for item in items if item is not None],
            images=[
                PricedImage(image_id=str(image.pk), url=image.url, color=image.color,
                            sort_order=image.sort_order)
                for image in product.images.all()
            ],
            rule_id=str(rule.pk),
        )
    return results


@dataclass
class _Cost:
    quantity_min: int
    quantity_max: int | None
    cost: Decimal


def variant_title(variant):
    """A variant's size title in a storefront: "Natural / S"."""
    parts = [part for part in (variant.color, variant.size) if part]
    return " / ".join(parts) or variant.sku or variant.variant_key


def size_title(size):
    """A print size's size title in a storefront: its label, else "24×36 in"."""
    return size.label or f"{_plain(size.width)}×{_plain(size.height)} {size.unit}"


def _variant_item(rule, variant):
    tiers = _cost_tiers(variant)
    cost = _positive(variant.base_price)
    if cost is None and tiers:
        # No base price: the smallest quantity's cost is the single-unit cost.
        cost = tiers[0].cost
    if cost is None:
        return None
    if not tiers:
        tiers = [_Cost(1, None, cost)]
    return PricedItem(
        key=variant.variant_key,
        title=variant_title(variant),
        sku=variant.sku,
        cost=cost,
        price=price_amount(rule, cost),
        tiers=[
            PricedTier(tier.quantity_min, tier.quantity_max, tier.cost,
                       price_amount(rule, tier.cost))
            for tier in tiers
        ],
        color=variant.color,
        size=variant.size,
        item_id=str(variant.pk),
    )


def _cost_tiers(variant):
    """The variant's cost tiers, by quantity: its Net prices, else its first price type's."""
    rows = list(variant.prices.all())
    chosen = [row for row in rows if row.price_type.strip().lower() == COST_PRICE_TYPE]
    if not chosen and rows:
        first_type = min(row.price_type for row in rows)
        chosen = [row for row in rows if row.price_type == first_type]
    tiers = [
        _Cost(row.quantity_min, row.quantity_max, cost)
        for row in chosen
        if (cost := _positive(row.price)) is not None
    ]
    return sorted(tiers, key=lambda tier: tier.quantity_min)


def _size_item(rule, size, details):
    cost = _positive(size.price)
    if cost is None:
        cost = _formula_cost(size, details)
    if cost is None:
        return None
    price = price_amount(rule, cost)
    return PricedItem(
        key=size.size_key,
        title=size_title(size),
        sku=size.sku,
        cost=cost,
        price=price,
        tiers=[PricedTier(1, None, cost, price)],
        width=size.width,
        height=size.height,
        unit=size.unit,
        weight=size.weight,
        attributes=size.attributes,
        item_id=str(size.pk),
    )


def _formula_cost(size, details):
    """width × height × the product's price per square unit, in the rate's unit."""
    if details is None or _positive(details.base_price_per_sq_unit) is None:
        return None
    area = Decimal(size.width) * Decimal(size.height)
    size_unit = _unit(size.unit)
    rate_unit = _unit(details.size_unit) if details.size_unit else size_unit
    if size_unit != rate_unit:
        if size_unit not in MILLIMETRES or rate_unit not in MILLIMETRES:
            return None  # Units that cannot be converted: no guessed price.
        area *= (MILLIMETRES[size_unit] / MILLIMETRES[rate_unit]) ** 2
    return _positive(area * details.base_price_per_sq_unit)


def _print_details(product):
    try:
        return product.print_details
    except PrintDetails.DoesNotExist:
        return None


def _positive(amount):
    """The amount to the catalog's precision, or None when missing, zero or negative."""
    if amount is None:
        return None
    amount = Decimal(amount).quantize(COST_PLACES, ROUND_HALF_UP)
    return amount if amount > 0 else None


def _unit(unit):
    return (unit or "").strip().lower().rstrip(".")


def _plain(number):
    return format(Decimal(number).normalize(), "f")


def sample_item(rule, product):
    """The product's first variant or print size priced by `rule` (None when it has no cost).

    For showing what a rule does to real tiers; whether the rule would win for the product
    is not asked.
    """
    if product.product_type == ProductType.APPAREL:
        variant = product.variants.prefetch_related("prices").order_by("sort_order", "pk").first()
        return _variant_item(rule, variant) if variant else None
    if product.product_type == ProductType.PRINT:
        size = product.sizes.order_by("sort_order", "pk").first()
        return _size_item(rule, size, _print_details(product)) if size else None
    return None


def sample_product(rule):
    """An active product the rule's scope reaches (the first by name), or None."""
    from catalog.models import Product

    products = Product.objects.active().order_by("product_name", "pk")
    if rule.scope == MarkupScope.PRODUCT:
        products = products.filter(pk=rule.product_id)
    elif rule.scope == MarkupScope.CATEGORY:
        products = products.in_category(rule.category)
    elif rule.scope == MarkupScope.SUPPLIER:
        products = products.filter(supplier_id=rule.supplier_id)
    return products.first()

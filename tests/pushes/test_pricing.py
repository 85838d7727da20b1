from datetime import timedelta
from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from catalog.ingest import ingest_products
from catalog.models import Category, Product, Supplier
from pushes.models import Customer, MarkupRule
from pushes.priced import PricedTier
from pushes.pricing import (
    NoMarkupRule,
    price_amount,
    price_product,
    price_products,
    select_rule,
)
from tests.factories import apparel_payload, print_payload

D = Decimal


# -- price_amount ----------------------------------------------------------------------------

AMOUNTS = [
    # markup_pct, markup_amount, min_margin_pct, rounding, min_price, max_price, cost, expected
    pytest.param(50, None, None, "none", None, None, "10.00", "15.00", id="plain percent"),
    pytest.param(0, "2.50", None, "none", None, None, "10.00", "12.50", id="fixed amount"),
    pytest.param(10, "1.00", None, "none", None, None, "10.00", "12.00",
                 id="percent then fixed amount"),
    pytest.param(50, None, 40, "none", None, None, "10.00", "16.67",
                 id="the margin floor binds: 10 / 0.6 = 16.67, not 15.00"),
    pytest.param(100, None, 40, "none", None, None, "10.00", "20.00",
                 id="the margin floor does not bind when the markup is higher"),
    pytest.param(15, None, None, "none", None, None, "8.70", "10.01",
                 id="half up to the cent: 10.005 is 10.01"),
    pytest.param(0, None, 70, "none", None, None, "1.00", "3.34",
                 id="the cent never rounds below the floor: 3.3333 is 3.34"),
    pytest.param(0, None, None, "up_99", None, None, "12.30", "12.99", id="up_99 of 12.30"),
    pytest.param(0, None, None, "up_99", None, None, "12.99", "12.99", id="up_99 of 12.99"),
    pytest.param(0, None, None, "up_99", None, None, "13.00", "13.99", id="up_99 of 13.00"),
    pytest.param(0, None, None, "up_99", None, None, "0.50", "0.99", id="up_99 of 0.50"),
    pytest.param(0, None, None, "up_99", None, None, "12.995", "13.99",
                 id="up_99 of 12.995 is above 12.99"),
    pytest.param(0, None, None, "nearest_dollar", None, None, "12.50", "13.00",
                 id="nearest dollar of 12.50 is 13"),
    pytest.param(0, None, None, "nearest_dollar", None, None, "12.49", "12.00",
                 id="nearest dollar of 12.49 is 12"),
    pytest.param(0, None, 50, "nearest_dollar", None, None, "6.30", "13.00",
                 id="nearest dollar above a floor of 12.60 is 13"),
    pytest.param(0, None, 50, "nearest_dollar", None, None, "6.20", "13.00",
                 id="nearest dollar of a floor of 12.40 is 13, not 12"),
    pytest.param(40, None, 35, "up_99", None, None, "4.58", "7.99",
                 id="the tee: floor 7.05 beats markup 6.41, then 7.99"),
    pytest.param(40, None, 35, "up_99", None, None, "4.18", "6.99",
                 id="the tee from 12: floor 6.43 beats markup 5.85, then 6.99"),
    pytest.param(10, None, None, "none", "15.00", None, "10.00", "15.00", id="min_price clamps"),
    pytest.param(100, None, None, "none", None, "15.00", "10.00", "15.00",
                 id="max_price clamps"),
    pytest.param(50, None, 40, "none", None, "15.00", "10.00", "16.67",
                 id="max_price below the floor gives the floor"),
    pytest.param(50, None, 40, "up_99", None, "15.00", "10.00", "16.67",
                 id="max_price below the floor gives the floor, not the rounded price"),
    pytest.param(50, None, 20, "up_99", None, "15.50", "10.00", "15.50",
                 id="max_price above the floor beats the rounding"),
    pytest.param(40, None, None, "none", None, None, "0.0001", "0.01",
                 id="a tiny cost is never given away: at least a cent"),
    pytest.param("-99.9", None, None, "none", None, None, "4.58", "0.01",
                 id="a deep discount never rounds to nothing"),
    pytest.param(50, None, None, "none", None, None, "0", None, id="no price for a zero cost"),
    pytest.param(50, None, None, "none", None, None, None, None, id="no price without a cost"),
]


@pytest.mark.parametrize(
    "markup_pct, markup_amount, min_margin_pct, rounding, min_price, max_price, cost, expected",
    AMOUNTS,
)
def test_price_amount_marks_up_floors_rounds_and_clamps(
    markup_pct, markup_amount, min_margin_pct, rounding, min_price, max_price, cost, expected
):
    rule = MarkupRule(
        markup_pct=D(markup_pct),
        markup_amount=None if markup_amount is None else D(markup_amount),
        min_margin_pct=None if min_margin_pct is None else D(min_margin_pct),
        rounding=rounding,
        min_price=None if min_price is None else D(min_price),
        max_price=None if max_price is None else D(max_price),
    )

    price = price_amount(rule, None if cost is None else D(cost))

    if expected is None:
        assert price is None
    else:
        assert price == D(expected)
        assert price.as_tuple().exponent == -2


# -- choosing the rule -------------------------------------------------------------------------


@pytest.fixture
def world(supplier):
    ingest_products(supplier, [
        apparel_payload("PC78H", category=("Apparel", "Fleece", "Hoodies")),
        print_payload("P1"),
    ])
    return SimpleNamespace(
        supplier=supplier,
        other_supplier=Supplier.objects.create(name="Other Mills"),
        customer=Customer.objects.create(name="Acme Prints"),
        other_customer=Customer.objects.create(name="Beacon Signs"),
        hoodie=Product.objects.get(supplier_sku="PC78H"),
        poster=Product.objects.get(supplier_sku="P1"),
        at=timezone.now(),
    )


def make_rule(world, name, target, *, other_customer=False, age_days=None, from_days=None,
              until_days=None, **fields):
    scope, _, argument = target.partition(":")
    if scope == "supplier":
        fields["supplier"] = world.other_supplier if argument == "other" else world.supplier
    elif scope == "category":
        fields["category"] = Category.objects.get(supplier=world.supplier, path=argument)
    elif scope == "product":
        fields["product"] = world.poster if argument == "other" else world.hoodie
    if from_days is not None:
        fields["effective_from"] = world.at + timedelta(days=from_days)
    if until_days is not None:
        fields["effective_until"] = world.at + timedelta(days=until_days)
    rule = MarkupRule.objects.create(
        customer=world.other_customer if other_customer else world.customer,
        name=name, scope=scope, markup_pct=10, **fields,
    )
    if age_days is not None:
        MarkupRule.objects.filter(pk=rule.pk).update(
            created_at=world.at - timedelta(days=age_days)
        )
    return rule


HOODIES = "category:Apparel / Fleece / Hoodies"

SELECTIONS = [
    pytest.param([("product", "product", {}), ("hoodies", HOODIES, {})], "product",
                 id="a product rule beats a category rule"),
    pytest.param([("apparel", "category:Apparel", {}), ("supplier", "supplier", {})], "apparel",
                 id="a category rule beats a supplier rule"),
    pytest.param([("all", "all", {}), ("supplier", "supplier", {})], "supplier",
                 id="a supplier rule beats an all-products rule"),
    pytest.param([("apparel", "category:Apparel", {"priority": 10}), ("hoodies", HOODIES, {})],
                 "hoodies", id="a deeper category beats a shallower one of higher priority"),
    pytest.param([("fleece", "category:Apparel / Fleece", {}), ("all", "all", {})], "fleece",
                 id="a category rule covers products in descendant categories"),
    pytest.param([("high", "all", {"priority": 5, "age_days": 3}),
                  ("low", "all", {"priority": 0, "age_days": 1})], "high",
                 id="higher priority wins among equally specific rules"),
    pytest.param([("new", "all", {"age_days": 1}), ("old", "all", {"age_days": 3})], "new",
                 id="the newest wins at equal priority"),
    pytest.param([("inactive", "product", {"is_active": False}), ("all", "all", {})], "all",
                 id="an inactive rule is ignored"),
    pytest.param([("future", "product", {"from_days": 1}), ("all", "all", {})], "all",
                 id="a rule not yet in effect is ignored"),
    pytest.param([("expired", "product", {"until_days": -1}), ("all", "all", {})], "all",
                 id="an expired rule is ignored"),
    pytest.param([("ends now", "product", {"until_days": 0}), ("all", "all", {})], "all",
                 id="a rule ends at its effective_until"),
    pytest.param([("current", "product", {"from_days": 0, "until_days": 1}),
                  ("all", "all", {})], "current", id="a rule applies from its effective_from"),
    pytest.param([("theirs", "product", {"other_customer": True}), ("all", "all", {})], "all",
                 id="a rule of another customer is ignored"),
    pytest.param([("poster", "product:other", {}), ("print", "category:Print", {}),
                  ("other supplier", "supplier:other", {})], None,
                 id="rules on other products, categories and suppliers do not cover it"),
    pytest.param([], None, id="no rules, no rule"),
]


@pytest.mark.parametrize("rules, expected", SELECTIONS)
def test_the_most_specific_rule_in_effect_is_selected(world, rules, expected):
    for name, target, fields in rules:
        make_rule(world, name, target, **fields)

    rule = select_rule(world.customer, world.hoodie, at=world.at)

    assert (rule.name if rule else None) == expected


def test_the_rule_id_breaks_a_tie_of_priority_and_age(world):
    first = make_rule(world, "a", "all")
    second = make_rule(world, "b", "all")
    MarkupRule.objects.update(created_at=world.at)

    rule = select_rule(world.customer, world.hoodie, at=world.at)

    assert rule.pk == max(first.pk, second.pk, key=str)


# -- whole products ------------------------------------------------------------------------


@pytest.fixture
def customer(db):
    return Customer.objects.create(name="Acme Prints")


@pytest.fixture
def tee_rule(customer):
    return MarkupRule.objects.create(
        customer=customer, scope="all", markup_pct=40, min_margin_pct=35, rounding="up_99"
    )


def ingest(supplier, *payloads):
    result = ingest_products(supplier, payloads)
    assert result.failed == 0, result.errors
    return [Product.objects.get(supplier_sku=p["supplier_sku"]) for p in payloads]


def tiers(item):
    return [(t.quantity_min, t.quantity_max, t.cost, t.price) for t in item.tiers]


def test_an_apparel_product_is_priced_per_variant_and_per_tier(supplier, customer, tee_rule):
    [tee] = ingest(supplier, apparel_payload("PC61"))

    priced = price_product(customer, tee)

    assert priced.rule_id == str(tee_rule.pk)
    assert (priced.product_id, priced.supplier_sku, priced.name) == (
        str(tee.pk), "PC61", "Tee PC61"
    )
    apparel = Category.objects.get(path="Apparel")
    assert priced.category_path == [
        (str(apparel.pk), "Apparel"), (str(tee.category_id), "T-Shirts")
    ]
    assert [item.key for item in priced.items] == [
        "PC61-NAT-S", "PC61-NAT-M", "PC61-BLA-S", "PC61-BLA-M"
    ]
    first = priced.items[0]
    assert (first.title, first.sku, first.color, first.size) == (
        "Natural / S", "PC61-NAT-S", "Natural", "S"
    )
    assert (first.cost, first.price) == (D("4.58"), D("7.99"))
    assert tiers(first) == [(1, 11, D("4.58"), D("7.99")), (12, None, D("4.18"), D("6.99"))]
    assert [(i.color, i.sort_order) for i in priced.images] == [("Natural", 0), ("Black", 1)]
    assert priced.images[0].url == "https://cdn.example.com/PC61/Natural.jpg"
    assert priced.content_hash() == price_product(customer, tee).content_hash()


def test_a_variant_without_price_rows_has_one_tier_at_its_base_price(
    supplier, customer, tee_rule
):
    payload = apparel_payload("PC61", colors=("Natural",), sizes=("S", "M"))
    payload["variants"][0]["prices"] = []
    [tee] = ingest(supplier, payload)

    items = price_product(customer, tee).items

    assert tiers(items[0]) == [(1, None, D("4.58"), D("7.99"))]
    assert len(items[1].tiers) == 2


def test_tiers_come_from_net_prices_else_the_first_price_type(supplier, customer, tee_rule):
    payload = apparel_payload("PC61", colors=("Natural",), sizes=("S", "M"))
    payload["variants"][0]["prices"] = [
        {"price_type": "List", "quantity_min": 1, "price": "9.00"},
        {"price_type": "NET", "quantity_min": 24, "price": "4.00"},
        {"price_type": "NET", "quantity_min": 1, "quantity_max": 23, "price": "4.58"},
    ]
    payload["variants"][1]["prices"] = [
        {"price_type": "List", "quantity_min": 1, "price": "9.00"},
        {"price_type": "Case", "quantity_min": 72, "price": "3.90"},
    ]
    [tee] = ingest(supplier, payload)

    items = price_product(customer, tee).items

    assert [t[:2] for t in tiers(items[0])] == [(1, 23), (24, None)]
    assert tiers(items[1]) == [(72, None, D("3.90"), D("6.99"))]


def test_a_variant_without_a_cost_is_left_out(supplier, customer, tee_rule):
    payload = apparel_payload("PC61", colors=("Natural",), sizes=("S", "M", "L"))
    payload["variants"][0]["base_price"] = None
    payload["variants"][0]["prices"] = []
    payload["variants"][1]["base_price"] = None  # its tiers still give a cost
    [tee] = ingest(supplier, payload)

    items = price_product(customer, tee).items

    assert [item.size for item in items] == ["M", "L"]
    assert (items[0].cost, items[0].price) == (D("4.58"), D("7.99"))


def test_a_print_product_is_priced_from_size_prices_and_the_area_formula(supplier, customer):
    MarkupRule.objects.create(customer=customer, scope="all", markup_pct=50)
    [poster] = ingest(supplier, print_payload("P1", sizes=[
        {"width": 12, "height": 18, "unit": "in", "label": "12x18", "price": "9.50",
         "sku": "P1-1218", "weight": "0.2"},
        {"width": 24, "height": 36, "unit": "in"},
        {"width": "30.48", "height": "30.48", "unit": "cm"},
    ]))

    items = price_product(customer, poster).items

    sized, formula, metric = items
    assert (sized.key, sized.title, sized.sku, sized.weight) == (
        "P1-1218", "12x18", "P1-1218", D("0.2")
    )
    assert (sized.width, sized.height, sized.unit) == (D("12"), D("18"), "in")
    assert (sized.cost, sized.price) == (D("9.50"), D("14.25"))
    assert sized.tiers == [PricedTier(1, None, D("9.50"), D("14.25"))]
    # 24 × 36 sq in at 0.12 a square inch.
    assert (formula.key, formula.title) == ("24x36 in", "24×36 in")
    assert (formula.cost, formula.price) == (D("103.68"), D("155.52"))
    assert tiers(formula) == [(1, None, D("103.68"), D("155.52"))]
    # 30.48 cm is 12 in: 144 sq in at 0.12 a square inch.
    assert (metric.cost, metric.price) == (D("17.28"), D("25.92"))


def test_a_print_size_without_a_price_or_a_rate_is_left_out(supplier, customer):
    MarkupRule.objects.create(customer=customer, scope="all", markup_pct=50)
    payload = print_payload("P1", sizes=[
        {"width": 12, "height": 18, "label": "12x18", "price": "9.50"},
        {"width": 24, "height": 36, "label": "24x36"},
    ])
    payload["print_details"]["base_price_per_sq_unit"] = None
    [poster] = ingest(supplier, payload)

    assert [item.title for item in price_product(customer, poster).items] == ["12x18"]


def test_a_product_no_rule_covers_is_refused_with_its_name(supplier, customer):
    [tee, _] = ingest(supplier, apparel_payload("PC61"), print_payload("P1"))
    MarkupRule.objects.create(
        customer=customer, scope="category", category=Category.objects.get(path="Print"),
        markup_pct=50,
    )

    with pytest.raises(NoMarkupRule) as raised:
        price_product(customer, tee)

    assert str(raised.value) == (
        "No markup rule of Acme Prints covers PC61 (Tee PC61); it will not be pushed at cost."
    )


def count_queries(call):
    with CaptureQueriesContext(connection) as queries:
        call()
    return len(queries)


def test_pricing_a_product_takes_the_same_queries_for_2_and_20_variants(
    supplier, customer, tee_rule
):
    ingest(
        supplier,
        apparel_payload("SMALL", colors=("Natural",), sizes=("S", "M")),
        apparel_payload("LARGE", colors=("Natural", "Black", "Red", "Navy"),
                        sizes=("S", "M", "L", "XL", "2XL")),
    )

    def priced(sku):
        product = Product.objects.get(supplier_sku=sku)
        result = []
        queries = count_queries(lambda: result.append(price_product(customer, product)))
        return queries, len(result[0].items)

    small_queries, small_items = priced("SMALL")
    large_queries, large_items = priced("LARGE")

    assert (small_items, large_items) == (2, 20)
    assert small_queries == large_queries <= 6


def test_many_products_are_priced_with_the_rules_read_once(supplier, customer):
    ingest(supplier, *[apparel_payload(f"T{n}") for n in range(6)], print_payload("P1"))
    apparel = Category.objects.get(path="Apparel")
    MarkupRule.objects.create(customer=customer, scope="category", category=apparel,
                              markup_pct=100)

    def priced(skus):
        products = list(Product.objects.filter(supplier_sku__in=skus).order_by("supplier_sku"))
        result = {}
        queries = count_queries(lambda: result.update(price_products(customer, products)))
        return queries, [result[p.pk] for p in products]

    few_queries, few = priced(["P1", "T0"])
    many_queries, many = priced(["P1", *[f"T{n}" for n in range(6)]])

    assert few_queries == many_queries
    assert isinstance(many[0], NoMarkupRule)
    assert [p.items[0].price for p in many[1:]] == [D("9.16")] * 6

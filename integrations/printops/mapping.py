"""PrintOps base products to canonical print products (see catalog/payload.py).

A base product is one size of one kind of print ("8 x 10 Print", product category 1).
The base products of one product category become ONE canonical print product, each of
them one entry of its `sizes`, so "Poster Print" is one product with its sizes and
prices. Its supplier_sku is "printops-category-<category id>": the id is the stable key.

Fields read from a base product: id, sku, name, description, price, type, ships_alone,
product_category (an id; an object with id and name is accepted too), and from its
properties: width, height, unit (absent in the spec: inches), weight, paperType, ratio,
thickness. The API names no category, so the product's name is the words every size's
description ends with once the leading size is removed ("8x10 Poster Print" and
"24x36 Poster Print" give "Poster Print").

Only the shape is checked here; values (sizes, prices) pass through as they are and the
ingest validator reports what is wrong with them.
"""

import re
from collections import Counter
from decimal import Decimal, InvalidOperation

from catalog.models import PrintPricingMethod
from integrations.sources import InvalidProduct

CATEGORY_SKU_PREFIX = "printops-category-"
ROOT_CATEGORY = "PrintOps"
DEFAULT_UNIT = "in"
# Each base product is a size with its own price: nothing is computed from a formula.
PRICING_METHOD = PrintPricingMethod.PER_SIZE.value

ID_FIELD = "id"
SKU_FIELD = "sku"
NAME_FIELD = "name"
DESCRIPTION_FIELD = "description"
PRICE_FIELD = "price"
TYPE_FIELD = "type"
SHIPS_ALONE_FIELD = "ships_alone"
CATEGORY_FIELD = "product_category"
PROPERTIES_FIELD = "properties"
WIDTH_PROPERTY = "width"
HEIGHT_PROPERTY = "height"
UNIT_PROPERTY = "unit"
WEIGHT_PROPERTY = "weight"
# Properties kept in a size's attributes, under the hub's names.
KEPT_PROPERTIES = {"paperType": "paper_type", "ratio": "ratio", "thickness": "thickness"}

# "8x10 ", "8.5 x 11 ", "18 × 27 " at the start of a description.
LEADING_SIZE = re.compile(r"^\s*\d+(?:\.\d+)?\s*[x×]\s*\d+(?:\.\d+)?\s*", re.IGNORECASE)


def category_sku(category_id) -> str:
    return f"{CATEGORY_SKU_PREFIX}{category_id}"


def category_id_of_sku(code):
    """The category id a product code names, or None when it names none."""
    if not isinstance(code, str) or not code.startswith(CATEGORY_SKU_PREFIX):
        return None
    rest = code.removeprefix(CATEGORY_SKU_PREFIX)
    return int(rest) if rest.isascii() and rest.isdigit() else None


def category_id_of(base_product):
    """The base product's category id; raises InvalidProduct when it has none."""
    category = base_product.get(CATEGORY_FIELD)
    if isinstance(category, dict):
        category = category.get(ID_FIELD)
    if isinstance(category, str) and category.isascii() and category.isdigit():
        category = int(category)
    if not isinstance(category, int) or isinstance(category, bool):
        raise InvalidProduct(f"{code_of(base_product)}: the base product has no product category")
    return category


def belongs_to(base_product, category_id) -> bool:
    try:
        return isinstance(base_product, dict) and category_id_of(base_product) == category_id
    except InvalidProduct:
        return False


def code_of(base_product) -> str:
    """How a base product is named in failures: its sku, else its id."""
    if not isinstance(base_product, dict):
        return "(base product)"
    sku = base_product.get(SKU_FIELD)
    if isinstance(sku, str) and sku.strip():
        return sku.strip()
    return f"base product {base_product.get(ID_FIELD, '(no id)')}"


def group_by_category(base_products):
    """({category id: [base products]}, failures) for base products read from PrintOps.

    A base product that is not an object or names no category is a failure
    ({"code", "reason"}), as the sources' SourcePage reports them.
    """
    groups, failures = {}, []
    for base_product in base_products:
        if not isinstance(base_product, dict):
            failures.append({"code": code_of(base_product),
                             "reason": "the base product is not an object"})
            continue
        try:
            groups.setdefault(category_id_of(base_product), []).append(base_product)
        except InvalidProduct as exc:
            failures.append({"code": code_of(base_product), "reason": str(exc)})
    return groups, failures


def to_canonical(category_id, base_products) -> dict:
    """One canonical print product of a category's base products, ordered by id."""
    base_products = sorted(base_products, key=sort_key)
    for base_product in base_products:
        properties = base_product.get(PROPERTIES_FIELD)
        if properties is not None and not isinstance(properties, dict):
            raise InvalidProduct(
                f"{category_sku(category_id)}: {code_of(base_product)} has properties"
                " that are not an object"
            )
    name = category_name(category_id, base_products)
    sizes = [canonical_size(each) for each in base_products]
    return {
        "supplier_sku": category_sku(category_id),
        "product_name": name,
        "category_path": [ROOT_CATEGORY, name],
        "description": f"{name}, printed on demand by PrintOps in {len(sizes)} sizes.",
        "product_type": "print",
        "print_details": print_details(sizes),
        "sizes": sizes,
    }


def sort_key(base_product):
    base_id = base_product.get(ID_FIELD)
    return (0, base_id, "") if isinstance(base_id, int) else (1, 0, str(base_id))


def category_name(category_id, base_products) -> str:
    """The category's own name when PrintOps gives one, else the words its sizes share."""
    for base_product in base_products:
        category = base_product.get(CATEGORY_FIELD)
        if isinstance(category, dict) and isinstance(category.get(NAME_FIELD), str):
            if category[NAME_FIELD].strip():
                return category[NAME_FIELD].strip()
    kinds = [
        LEADING_SIZE.sub("", text(each, DESCRIPTION_FIELD) or text(each, NAME_FIELD)).split()
        for each in base_products
    ]
    kinds = [words for words in kinds if words]
    shared = common_ending(kinds)
    if shared:
        return " ".join(shared)
    if kinds:
        return " ".join(Counter(" ".join(words) for words in kinds).most_common(1)[0][0].split())
    return f"PrintOps category {category_id}"


def common_ending(word_lists):
    """The longest run of words every list ends with (case as in the first list)."""
    if not word_lists:
        return []
    shortest = min(len(words) for words in word_lists)
    n = 0
    while n < shortest and len({words[-1 - n].lower() for words in word_lists}) == 1:
        n += 1
    return word_lists[0][len(word_lists[0]) - n:]


def text(data, key) -> str:
    value = data.get(key)
    return value.strip() if isinstance(value, str) else ""


def canonical_size(base_product) -> dict:
    properties = base_product.get(PROPERTIES_FIELD) or {}
    width, height = properties.get(WIDTH_PROPERTY), properties.get(HEIGHT_PROPERTY)
    unit = properties.get(UNIT_PROPERTY) or DEFAULT_UNIT
    attributes = {
        "base_product_id": base_product.get(ID_FIELD),
        "type": base_product.get(TYPE_FIELD),
        "ships_alone": base_product.get(SHIPS_ALONE_FIELD),
        **{ours: properties.get(theirs) for theirs, ours in KEPT_PROPERTIES.items()},
    }
    return {
        "width": width,
        "height": height,
        "unit": unit,
        "label": text(base_product, NAME_FIELD) or f"{width}×{height}",
        "sku": base_product.get(SKU_FIELD),
        "price": base_product.get(PRICE_FIELD),
        "weight": properties.get(WEIGHT_PROPERTY),
        "attributes": {key: value for key, value in attributes.items() if value is not None},
    }


def print_details(sizes) -> dict:
    """The smallest and largest width and height over the sizes, in their unit."""
    widths = [number for number in (as_number(s["width"]) for s in sizes) if number is not None]
    heights = [number for number in (as_number(s["height"]) for s in sizes) if number is not None]
    units = Counter(size["unit"] for size in sizes)
    return {
        "pricing_method": PRICING_METHOD,
        "min_width": str(min(widths)) if widths else None,
        "max_width": str(max(widths)) if widths else None,
        "min_height": str(min(heights)) if heights else None,
        "max_height": str(max(heights)) if heights else None,
        "size_unit": units.most_common(1)[0][0] if units else DEFAULT_UNIT,
    }


def as_number(value):
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return None
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        return None
    return number if number.is_finite() else None

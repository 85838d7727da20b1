"""The canonical product payload: what every source maps to and what ingest accepts.

It mirrors the catalog detail response (see README, "The canonical payload"). `parse_product`
validates one JSON object and returns a normalized dict (decimals as Decimal, strings
stripped, defaults filled) or raises PayloadError with every problem found, each with
its `loc` inside the item. Hand-written rather than a serializer because ingest parses
hundreds of thousands of variant rows per sync.
"""

import hashlib
import json
from collections import Counter
from decimal import Decimal, InvalidOperation
from functools import cache

from django.db.backends.base.operations import BaseDatabaseOperations

from catalog.models import (
    CATEGORY_PATH_SEPARATOR,
    ApparelDetails,
    Category,
    OptionAttribute,
    PrintDetails,
    PrintPricingMethod,
    PrintSize,
    Product,
    ProductImage,
    ProductOption,
    Variant,
    VariantPrice,
)

PRODUCT_TYPES = ("apparel", "print")


class PayloadError(Exception):
    def __init__(self, errors):
        super().__init__("; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in errors))
        self.errors = errors


class _Checker:
    """Collects errors while reading fields, so one pass reports every problem.

    Every value is checked against the column that will hold it (its length, digits or
    integer range), so what passes validation is never refused by the database.
    """

    def __init__(self):
        self.errors = []

    def error(self, loc, msg, type_="value_error"):
        self.errors.append({"loc": list(loc), "msg": msg, "type": type_})

    def storable(self, value, loc):
        """False (and an error) for text the database cannot hold: NUL, lone surrogates."""
        problem = _unstorable_text(value)
        if problem:
            self.error(loc, *problem)
        return not problem

    def string(self, data, key, loc, column, *, required=False):
        value = data.get(key)
        if isinstance(value, int | float) and not isinstance(value, bool):
            value = str(value)
        if value is not None and not isinstance(value, str):
            self.error((*loc, key), "Input should be a valid string", "string_type")
            return None
        value = value.strip() if value else None
        if not value:
            if required:
                self.error((*loc, key), "Field required", "missing")
            return None
        if not self.storable(value, (*loc, key)):
            return None
        if column.max_length and len(value) > column.max_length:
            self.error(
                (*loc, key), f"String should have at most {column.max_length} characters",
                "string_too_long",
            )
            return None
        return value

    def decimal(self, data, key, loc, column, *, required=False, minimum=Decimal(0)):
        value = data.get(key)
        if value is None or value == "":
            if required:
                self.error((*loc, key), "Field required", "missing")
            return None
        if isinstance(value, bool):
            self.error((*loc, key), "Input should be a valid decimal", "decimal_type")
            return None
        try:
            number = Decimal(str(value))
        except InvalidOperation:
            self.error((*loc, key), "Input should be a valid decimal", "decimal_parsing")
            return None
        scale, maximum = _decimal_column(column)
        try:
            # At the column's own scale, so the value is stored as it is (and hashed as
            # it will be read back).
            number = (number.quantize(scale)
                      if number.is_finite() and number >= minimum else None)
        except InvalidOperation:  # more digits than any column holds
            number = None
        if number is None or number >= maximum:
            self.error(
                (*loc, key), f"Input should be a finite number between {minimum} and {maximum}",
                "decimal_range",
            )
            return None
        return number

    def integer(self, data, key, loc, column, *, default=None):
        value = data.get(key)
        if value is None or value == "":
            return default
        if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
            self.error((*loc, key), "Input should be a valid integer", "int_type")
            return default
        try:
            number = int(value)
        except (TypeError, ValueError, OverflowError):
            self.error((*loc, key), "Input should be a valid integer", "int_parsing")
            return default
        minimum, maximum = BaseDatabaseOperations.integer_field_ranges[column.get_internal_type()]
        if number < minimum:
            self.error(
                (*loc, key), f"Input should be greater than or equal to {minimum}",
                "greater_than_equal",
            )
            return default
        if number > maximum:
            self.error(
                (*loc, key), f"Input should be less than or equal to {maximum}",
                "less_than_equal",
            )
            return default
        return number

    def boolean(self, data, key, loc, *, default=False):
        value = data.get(key)
        if value is None:
            return default
        if not isinstance(value, bool):
            self.error((*loc, key), "Input should be a valid boolean", "bool_type")
            return default
        return value

    def json(self, data, key, loc, *, default=None):
        """Any JSON value, as long as every string and key in it can be stored."""
        value = data.get(key)
        if value is None:
            return default
        for text in _texts(value):
            if not self.storable(text, (*loc, key)):
                return default
        return value

    def objects(self, data, key, loc):
        value = data.get(key)
        if value is None:
            return []
        if not isinstance(value, list):
            self.error((*loc, key), "Input should be a valid list", "list_type")
            return []
        good = []
        for index, item in enumerate(value):
            if isinstance(item, dict):
                good.append((index, item))
            else:
                self.error((*loc, key, index), "Input should be an object", "dict_type")
        return good

    def unique(self, items, key, loc, what):
        seen = set()
        for index, item in enumerate(items):
            if item[key] in seen:
                self.error((*loc, index), f"Duplicate {what} {item[key]!r}", "duplicate")
            seen.add(item[key])


def _unstorable_text(text):
    """(msg, type) when PostgreSQL cannot store `text`, else None."""
    if "\x00" in text:
        return "String should not contain NUL characters", "string_nul"
    if text.isascii():
        return None
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return "String should be valid Unicode", "string_unicode"
    return None


@cache
def _decimal_column(column):
    """A decimal column's (scale, exclusive maximum)."""
    return (Decimal(1).scaleb(-column.decimal_places),
            Decimal(10) ** (column.max_digits - column.decimal_places))


def _texts(value):
    """Every string (values and keys) inside a JSON value."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield str(key)
            yield from _texts(item)
    elif isinstance(value, list):
        for item in value:
            yield from _texts(item)


def _prices(check, data, loc):
    column = VariantPrice._meta.get_field
    return [
        {
            "price_type": check.string(price, "price_type", (*loc, i), column("price_type"))
            or "Net",
            "quantity_min": check.integer(
                price, "quantity_min", (*loc, i), column("quantity_min"), default=1
            ),
            "quantity_max": check.integer(price, "quantity_max", (*loc, i), column("quantity_max")),
            "price": check.decimal(price, "price", (*loc, i), column("price"), required=True),
        }
        for i, price in check.objects(data, "prices", loc[:-1])
    ]


def _variant(check, data, loc):
    column = Variant._meta.get_field
    sku = check.string(data, "sku", loc, column("sku"))
    color = check.string(data, "color", loc, column("color"))
    size = check.string(data, "size", loc, column("size"))
    variant_key = Variant.key_for(sku, color, size)
    if len(variant_key) > column("variant_key").max_length:
        check.error(loc, "A variant without a sku needs a shorter color and size", "too_long")
    return {
        "sku": sku,
        "color": color,
        "size": size,
        "variant_key": variant_key,
        "base_price": check.decimal(data, "base_price", loc, column("base_price")),
        "inventory": check.integer(data, "inventory", loc, column("inventory"), default=0),
        "warehouse": check.string(data, "warehouse", loc, column("warehouse")),
        "prices": _prices(check, data, (*loc, "prices")),
    }


def _image(check, data, loc):
    column = ProductImage._meta.get_field
    return {
        "url": check.string(data, "url", loc, column("source_url"), required=True),
        "image_type": check.string(data, "image_type", loc, column("image_type")),
        "color": check.string(data, "color", loc, column("color")),
        "sort_order": check.integer(data, "sort_order", loc, column("sort_order"), default=0),
        "checksum": check.string(data, "checksum", loc, column("checksum")),
    }


def _attribute(check, data, loc, index):
    column = OptionAttribute._meta.get_field
    return {
        "title": check.string(data, "title", loc, column("title"), required=True),
        "sort_order": check.integer(data, "sort_order", loc, column("sort_order"), default=index),
        "attribute_key": check.string(data, "attribute_key", loc, column("attribute_key")),
        "master_attribute_id": check.string(
            data, "master_attribute_id", loc, column("master_attribute_id")
        ),
        "price": check.decimal(data, "price", loc, column("price")),
        "setup_cost": check.decimal(data, "setup_cost", loc, column("setup_cost")),
        "multiplier": check.decimal(data, "multiplier", loc, column("multiplier")),
    }


def _option(check, data, loc):
    column = ProductOption._meta.get_field
    attributes = [
        _attribute(check, attr, (*loc, "attributes", i), i)
        for i, attr in check.objects(data, "attributes", loc)
    ]
    check.unique(attributes, "title", (*loc, "attributes"), "attribute title")
    return {
        "option_key": check.string(data, "option_key", loc, column("option_key"), required=True),
        "title": check.string(data, "title", loc, column("title"), required=True),
        "options_type": check.string(data, "options_type", loc, column("options_type"))
        or "select",
        "sort_order": check.integer(data, "sort_order", loc, column("sort_order"), default=0),
        "master_option_id": check.string(
            data, "master_option_id", loc, column("master_option_id")
        ),
        "required": check.boolean(data, "required", loc),
        "attributes": attributes,
    }


def _size(check, data, loc):
    column = PrintSize._meta.get_field
    width = check.decimal(data, "width", loc, column("width"), required=True)
    height = check.decimal(data, "height", loc, column("height"), required=True)
    unit = check.string(data, "unit", loc, column("unit")) or "in"
    label = check.string(data, "label", loc, column("label"))
    sku = check.string(data, "sku", loc, column("sku"))
    attributes = check.json(data, "attributes", loc) or {}
    if not isinstance(attributes, dict):
        check.error((*loc, "attributes"), "Input should be an object", "dict_type")
        attributes = {}
    return {
        "size_key": (
            PrintSize.key_for(sku, label, width, height, unit) if width and height else None
        ),
        "width": width,
        "height": height,
        "unit": unit,
        "label": label,
        "sku": sku,
        "price": check.decimal(data, "price", loc, column("price")),
        "weight": check.decimal(data, "weight", loc, column("weight")),
        "attributes": attributes,
    }


def _print_details(check, data, loc):
    if data is None:
        return None
    if not isinstance(data, dict):
        check.error(loc, "Input should be an object", "dict_type")
        return None
    column = PrintDetails._meta.get_field
    pricing_method = (check.string(data, "pricing_method", loc, column("pricing_method"))
                      or PrintPricingMethod.FORMULA)
    if pricing_method not in PrintPricingMethod.values:
        check.error((*loc, "pricing_method"),
                    "Input should be " + " or ".join(map(repr, PrintPricingMethod.values)),
                    "enum")
    return {
        "pricing_method": pricing_method,
        **{
            name: check.decimal(data, name, loc, column(name))
            for name in ("min_width", "max_width", "min_height", "max_height",
                         "base_price_per_sq_unit")
        },
        "size_unit": check.string(data, "size_unit", loc, column("size_unit")),
        "raw_payload": check.json(data, "raw_payload", loc),
    }


def _apparel_details(check, data, loc):
    if data is None:
        return None
    if not isinstance(data, dict):
        check.error(loc, "Input should be an object", "dict_type")
        return None
    column = ApparelDetails._meta.get_field
    return {
        "pricing_method": (
            check.string(data, "pricing_method", loc, column("pricing_method"))
            or "tiered_variant"
        ),
        "raw_payload": check.json(data, "raw_payload", loc),
    }


def _category_path(check, data):
    """The category names; each name is cut to fit its column, the whole path must fit."""
    path = data.get("category_path")
    if path is None:
        return []
    if not (isinstance(path, list) and all(isinstance(p, str) and p.strip() for p in path)):
        check.error(("category_path",), "Input should be a list of category names", "list_type")
        return []
    names = [p.strip()[: Category._meta.get_field("name").max_length] for p in path]
    if not all(check.storable(name, ("category_path",)) for name in names):
        return []
    max_length = Category._meta.get_field("path").max_length
    if len(CATEGORY_PATH_SEPARATOR.join(names)) > max_length:
        check.error(
            ("category_path",), f"The joined path should have at most {max_length} characters",
            "string_too_long",
        )
        return []
    return names


def _key_shared_skus(check, variants):
    """Variants that share a SKU (two paper stocks sold under one code) are all kept, keyed
    by SKU, colour and size, and by their place among equals when even those match; each
    later one is reported as a warning. Returns the warnings."""
    skus = Counter(variant["sku"] for variant in variants if variant["sku"])
    keys, earlier = Counter(), set()
    warnings = []
    for index, variant in enumerate(variants):
        sku = variant["sku"]
        if not sku or skus[sku] == 1:
            continue
        key = f"{sku}|{variant['color'] or ''}|{variant['size'] or ''}"
        keys[key] += 1
        variant["variant_key"] = key if keys[key] == 1 else f"{key}#{keys[key]}"
        if len(variant["variant_key"]) > Variant._meta.get_field("variant_key").max_length:
            check.error(("variants", index), "A shared sku needs a shorter color and size",
                        "too_long")
        if sku in earlier:
            warnings.append({
                "loc": ["variants", index, "sku"], "type": "duplicate_sku",
                "msg": f"Warning: SKU {sku!r} is used by more than one variant; each is kept, "
                       "keyed by SKU, colour and size",
            })
        earlier.add(sku)
    return warnings


def _each(check, data, key, parse):
    return [parse(check, item, (key, index)) for index, item in check.objects(data, key, ())]


def parse_product(data):
    """Validate one canonical product payload; return it normalized or raise PayloadError."""
    check = _Checker()
    if not isinstance(data, dict):
        raise PayloadError([{"loc": [], "msg": "Input should be an object", "type": "dict_type"}])
    product_type = data.get("product_type")
    if product_type not in PRODUCT_TYPES:
        check.error(
            ("product_type",), "Input should be 'apparel' or 'print'", "enum"
        )
    column = Product._meta.get_field
    product = {
        "supplier_sku": check.string(
            data, "supplier_sku", (), column("supplier_sku"), required=True
        ),
        "product_name": check.string(
            data, "product_name", (), column("product_name"), required=True
        ),
        "brand": check.string(data, "brand", (), column("brand")),
        "category_path": _category_path(check, data),
        "description": check.string(data, "description", (), column("description")),
        "product_type": product_type,
        "image_url": check.string(data, "image_url", (), column("image_url")),
        "external_catalogue": check.string(
            data, "external_catalogue", (), column("external_catalogue")
        ),
        # None: keep what the catalog has (a sync does not know which products are fillers).
        "is_filler": check.boolean(data, "is_filler", (), default=None),
        "variants": _each(check, data, "variants", _variant),
        # None (no "images" key): keep the stored images, e.g. art added in the hub to
        # products whose source has no pictures.
        "images": _each(check, data, "images", _image) if data.get("images") is not None
        else None,
        "options": _each(check, data, "options", _option),
        "sizes": _each(check, data, "sizes", _size),
        "apparel_details": _apparel_details(
            check, data.get("apparel_details"), ("apparel_details",)
        ),
        "print_details": _print_details(check, data.get("print_details"), ("print_details",)),
    }
    product["warnings"] = _key_shared_skus(check, product["variants"])
    check.unique(product["variants"], "variant_key", ("variants",), "variant sku/color/size")
    check.unique(product["options"], "option_key", ("options",), "option_key")
    check.unique(product["sizes"], "size_key", ("sizes",), "size")
    if check.errors:
        raise PayloadError(check.errors)
    # The same picture listed twice is one image.
    seen = set()
    if product["images"] is not None:
        product["images"] = [
            image for image in product["images"]
            if not (image["url"] in seen or seen.add(image["url"]))
        ]
    if not product["image_url"] and product["images"]:
        product["image_url"] = min(product["images"], key=lambda i: i["sort_order"])["url"]
    return product


def content_hash(product):
    """A stable hash of a normalized payload: equal content, equal hash."""
    encoded = json.dumps(product, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(encoded.encode()).hexdigest()

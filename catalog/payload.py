"""The canonical product payload: what every source maps to and what ingest accepts.

It mirrors the catalog detail response (see README, "The canonical payload"). `parse_product`
validates one JSON object and returns a normalized dict (decimals as Decimal, strings
stripped, defaults filled) or raises PayloadError with every problem found, each with
its `loc` inside the item. Hand-written rather than a serializer because ingest parses
hundreds of thousands of variant rows per sync.
"""

import hashlib
import json
from decimal import Decimal, InvalidOperation

from catalog.models import PrintPricingMethod, PrintSize, Variant

PRODUCT_TYPES = ("apparel", "print")
MAX_MONEY = Decimal("100000000")


class PayloadError(Exception):
    def __init__(self, errors):
        super().__init__("; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in errors))
        self.errors = errors


class _Checker:
    """Collects errors while reading fields, so one pass reports every problem."""

    def __init__(self):
        self.errors = []

    def error(self, loc, msg, type_="value_error"):
        self.errors.append({"loc": list(loc), "msg": msg, "type": type_})

    def string(self, data, key, loc, *, required=False, max_length=255):
        value = data.get(key)
        if value is None or (isinstance(value, str) and not value.strip()):
            if required:
                self.error((*loc, key), "Field required", "missing")
            return None
        if isinstance(value, int | float) and not isinstance(value, bool):
            value = str(value)
        if not isinstance(value, str):
            self.error((*loc, key), "Input should be a valid string", "string_type")
            return None
        value = value.strip()
        if max_length and len(value) > max_length:
            self.error(
                (*loc, key), f"String should have at most {max_length} characters",
                "string_too_long",
            )
            return None
        return value

    def decimal(self, data, key, loc, *, required=False, minimum=Decimal(0)):
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
        if not number.is_finite() or number < minimum or number >= MAX_MONEY:
            self.error(
                (*loc, key), f"Input should be a finite number between {minimum} and {MAX_MONEY}",
                "decimal_range",
            )
            return None
        return number.quantize(Decimal("0.0001"))

    def integer(self, data, key, loc, *, default=None, minimum=None):
        value = data.get(key)
        if value is None or value == "":
            return default
        if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
            self.error((*loc, key), "Input should be a valid integer", "int_type")
            return default
        try:
            number = int(value)
        except (TypeError, ValueError):
            self.error((*loc, key), "Input should be a valid integer", "int_parsing")
            return default
        if minimum is not None and number < minimum:
            self.error(
                (*loc, key), f"Input should be greater than or equal to {minimum}",
                "greater_than_equal",
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


def _prices(check, data, loc):
    return [
        {
            "price_type": check.string(price, "price_type", (*loc, i), max_length=64) or "Net",
            "quantity_min": check.integer(price, "quantity_min", (*loc, i), default=1, minimum=0),
            "quantity_max": check.integer(price, "quantity_max", (*loc, i), minimum=0),
            "price": check.decimal(price, "price", (*loc, i), required=True),
        }
        for i, price in check.objects(data, "prices", loc[:-1])
    ]


def _variant(check, data, loc):
    sku = check.string(data, "sku", loc)
    color = check.string(data, "color", loc)
    size = check.string(data, "size", loc)
    return {
        "sku": sku,
        "color": color,
        "size": size,
        "variant_key": Variant.key_for(sku, color, size),
        "base_price": check.decimal(data, "base_price", loc),
        "inventory": check.integer(data, "inventory", loc, default=0),
        "warehouse": check.string(data, "warehouse", loc),
        "prices": _prices(check, data, (*loc, "prices")),
    }


def _image(check, data, loc):
    return {
        "url": check.string(data, "url", loc, required=True, max_length=2000),
        "image_type": check.string(data, "image_type", loc, max_length=64),
        "color": check.string(data, "color", loc),
        "sort_order": check.integer(data, "sort_order", loc, default=0),
        "checksum": check.string(data, "checksum", loc, max_length=128),
    }


def _option(check, data, loc):
    attributes = [
        {
            "title": check.string(attr, "title", (*loc, "attributes", i), required=True),
            "sort_order": check.integer(attr, "sort_order", (*loc, "attributes", i), default=i),
            "attribute_key": check.string(attr, "attribute_key", (*loc, "attributes", i)),
            "master_attribute_id": check.string(
                attr, "master_attribute_id", (*loc, "attributes", i), max_length=64
            ),
            "price": check.decimal(attr, "price", (*loc, "attributes", i)),
            "setup_cost": check.decimal(attr, "setup_cost", (*loc, "attributes", i)),
            "multiplier": check.decimal(attr, "multiplier", (*loc, "attributes", i)),
        }
        for i, attr in check.objects(data, "attributes", loc)
    ]
    check.unique(attributes, "title", (*loc, "attributes"), "attribute title")
    return {
        "option_key": check.string(data, "option_key", loc, required=True),
        "title": check.string(data, "title", loc, required=True),
        "options_type": check.string(data, "options_type", loc, max_length=64) or "select",
        "sort_order": check.integer(data, "sort_order", loc, default=0),
        "master_option_id": check.string(data, "master_option_id", loc, max_length=64),
        "required": check.boolean(data, "required", loc),
        "attributes": attributes,
    }


def _size(check, data, loc):
    width = check.decimal(data, "width", loc, required=True)
    height = check.decimal(data, "height", loc, required=True)
    unit = check.string(data, "unit", loc, max_length=16) or "in"
    label = check.string(data, "label", loc)
    sku = check.string(data, "sku", loc)
    attributes = data.get("attributes") or {}
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
        "price": check.decimal(data, "price", loc),
        "weight": check.decimal(data, "weight", loc),
        "attributes": attributes,
    }


def _print_details(check, data, loc):
    if data is None:
        return None
    if not isinstance(data, dict):
        check.error(loc, "Input should be an object", "dict_type")
        return None
    pricing_method = (check.string(data, "pricing_method", loc, max_length=64)
                      or PrintPricingMethod.FORMULA)
    if pricing_method not in PrintPricingMethod.values:
        check.error((*loc, "pricing_method"),
                    "Input should be " + " or ".join(map(repr, PrintPricingMethod.values)),
                    "enum")
    return {
        "pricing_method": pricing_method,
        "min_width": check.decimal(data, "min_width", loc),
        "max_width": check.decimal(data, "max_width", loc),
        "min_height": check.decimal(data, "min_height", loc),
        "max_height": check.decimal(data, "max_height", loc),
        "size_unit": check.string(data, "size_unit", loc, max_length=16),
        "base_price_per_sq_unit": check.decimal(data, "base_price_per_sq_unit", loc),
        "raw_payload": data.get("raw_payload"),
    }


def _apparel_details(check, data, loc):
    if data is None:
        return None
    if not isinstance(data, dict):
        check.error(loc, "Input should be an object", "dict_type")
        return None
    return {
        "pricing_method": (
            check.string(data, "pricing_method", loc, max_length=64) or "tiered_variant"
        ),
        "raw_payload": data.get("raw_payload"),
    }


def _each(check, data, key, parse):
    return [parse(check, item, (key, index)) for index, item in check.objects(data, key, ())]


def parse_product(data):
    """Validate one canonical product payload; return it normalized or raise PayloadError."""
    check = _Checker()
    if not isinstance(data, dict):
        raise PayloadError([{"loc": [], "msg": "Input should be an object", "type": "dict_type"}])
    path = data.get("category_path")
    if path is None:
        category_path = []
    elif isinstance(path, list) and all(isinstance(p, str) and p.strip() for p in path):
        category_path = [p.strip()[:255] for p in path]
    else:
        check.error(("category_path",), "Input should be a list of category names", "list_type")
        category_path = []
    product_type = data.get("product_type")
    if product_type not in PRODUCT_TYPES:
        check.error(
            ("product_type",), "Input should be 'apparel' or 'print'", "enum"
        )
    product = {
        "supplier_sku": check.string(data, "supplier_sku", (), required=True),
        "product_name": check.string(data, "product_name", (), required=True, max_length=500),
        "brand": check.string(data, "brand", ()),
        "category_path": category_path,
        "description": check.string(data, "description", (), max_length=None),
        "product_type": product_type,
        "image_url": check.string(data, "image_url", (), max_length=2000),
        "external_catalogue": check.string(data, "external_catalogue", ()),
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

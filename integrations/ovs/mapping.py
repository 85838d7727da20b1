"""OVS products to canonical payloads (see catalog/payload.py).

Only the shape is checked here: a product that is not an object, has no code or name, or
whose lists are not lists of objects raises InvalidProduct. Values (prices, quantities)
pass through as they are, and the ingest validator reports what is wrong with them.
`updated_at` and the raw product stay out of the payload, so an untouched product hashes
the same on every sync.
"""

from integrations.sources import InvalidProduct


def to_canonical(ovs_product: dict) -> dict:
    if not isinstance(ovs_product, dict):
        raise InvalidProduct("(no code): the product is not an object")
    code = code_of(ovs_product)
    if code is None:
        raise InvalidProduct("(no code): the product has no code")
    problems = []
    if not isinstance(ovs_product.get("name"), str) or not ovs_product["name"].strip():
        problems.append("no name")
    variants = objects(ovs_product, "variants", problems)
    images = objects(ovs_product, "images", problems)
    print_spec = ovs_product.get("print")
    if print_spec is not None and not isinstance(print_spec, dict):
        problems.append("print is not an object")
        print_spec = None
    sizes = objects(print_spec, "sizes", problems, where="print.") if print_spec else []
    for n, variant in enumerate(variants):
        objects(variant, "price_tiers", problems, where=f"variants[{n}].")
    if problems:
        raise InvalidProduct(f"{code}: {'; '.join(problems)}")

    product_type = ovs_product.get("product_type")
    payload = {
        "supplier_sku": code,
        "product_name": ovs_product["name"],
        "brand": ovs_product.get("brand"),
        "category_path": ovs_product.get("category_path"),
        "description": ovs_product.get("description"),
        "product_type": product_type,
        "images": [canonical_image(each) for each in images],
        "variants": [canonical_variant(each) for each in variants],
    }
    if print_spec is not None:
        payload["print_details"] = canonical_print_details(print_spec)
        payload["sizes"] = [canonical_size(each) for each in sizes]
    if product_type == "apparel":
        payload["apparel_details"] = {"pricing_method": "tiered_variant"}
    return payload


def code_of(ovs_product):
    """The product's code, or None when it has none."""
    code = ovs_product.get("code") if isinstance(ovs_product, dict) else None
    return code if isinstance(code, str) and code.strip() else None


def objects(data, key, problems, where=""):
    """data[key] as a list of objects ([] when absent); a problem is noted when it is not."""
    value = data.get(key)
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
        problems.append(f"{where}{key} is not a list of objects")
        return []
    return value


def canonical_image(data):
    return {
        "url": data.get("url"),
        "color": data.get("color"),
        "image_type": data.get("type"),
        "sort_order": data.get("sort_order"),
    }


def canonical_variant(data):
    return {
        "sku": data.get("sku"),
        "color": data.get("color"),
        "size": data.get("size"),
        "base_price": data.get("price"),
        "inventory": data.get("inventory"),
        "warehouse": data.get("warehouse"),
        "prices": [canonical_price_tier(tier) for tier in data.get("price_tiers") or []],
    }


def canonical_price_tier(data):
    return {
        "price_type": data.get("type"),
        "quantity_min": data.get("min_qty"),
        "quantity_max": data.get("max_qty"),
        "price": data.get("price"),
    }


def canonical_print_details(data):
    return {
        "min_width": data.get("min_width"),
        "max_width": data.get("max_width"),
        "min_height": data.get("min_height"),
        "max_height": data.get("max_height"),
        "size_unit": data.get("size_unit"),
        "base_price_per_sq_unit": data.get("base_price_per_sq_unit"),
    }


def canonical_size(data):
    return {
        "width": data.get("width"),
        "height": data.get("height"),
        "unit": data.get("unit"),
        "label": data.get("label"),
    }

"""Canonical product payloads and orders for tests, built the way sources build them."""

from orders.payload import CanonicalAddress, CanonicalLine, CanonicalOrder, CanonicalShipment
from orders.services import store_orders


def apparel_payload(sku, *, name=None, brand="Port & Company", category=("Apparel", "T-Shirts"),
                    colors=("Natural", "Black"), sizes=("S", "M"), price="4.58", **extra):
    variants = [
        {
            "sku": f"{sku}-{color[:3].upper()}-{size}" if size else None,
            "color": color,
            "size": size,
            "base_price": price,
            "inventory": 100,
            "warehouse": "LAS",
            "prices": [
                {"price_type": "Net", "quantity_min": 1, "quantity_max": 11, "price": price},
                {"price_type": "Net", "quantity_min": 12, "quantity_max": None, "price": "4.18"},
            ],
        }
        for color in colors
        for size in sizes
    ]
    return {
        "supplier_sku": sku,
        "product_name": name or f"Tee {sku}",
        "brand": brand,
        "category_path": list(category),
        "description": "A soft tee.",
        "product_type": "apparel",
        "variants": variants,
        "images": [
            {"url": f"https://cdn.example.com/{sku}/{color}.jpg", "color": color,
             "image_type": "front", "sort_order": n}
            for n, color in enumerate(colors)
        ],
        "options": [
            {"option_key": "imprint_location", "title": "Imprint Location",
             "attributes": [{"title": "Left Chest"}, {"title": "Full Back", "price": "1.50"}]},
        ],
        "apparel_details": {"pricing_method": "tiered_variant"},
        **extra,
    }


def print_payload(sku, *, name=None, category=("Print", "Posters"), **extra):
    return {
        "supplier_sku": sku,
        "product_name": name or f"Poster {sku}",
        "brand": None,
        "category_path": list(category),
        "product_type": "print",
        "variants": [],
        "images": [{"url": f"https://cdn.example.com/{sku}.jpg"}],
        "print_details": {
            "min_width": 8, "max_width": 48, "min_height": 10, "max_height": 72,
            "size_unit": "in", "base_price_per_sq_unit": "0.12",
        },
        "sizes": [
            {"width": 12, "height": 18, "unit": "in", "label": "12x18"},
            {"width": 24, "height": 36, "unit": "in", "label": "24x36"},
        ],
        **extra,
    }


def make_order(customer, n, sku="PC61-NAT-S", shipped=False):
    """An order stored as the API intake stores it: one line of `sku`."""
    canonical = CanonicalOrder(
        source="api", source_order_id=f"A-{n}", order_number=f"10{n}", currency="USD",
        total="12.50", buyer_name="Ann Lee", buyer_email="ann@example.com",
        shipping_address=CanonicalAddress(name="Ann Lee", address_1="1 Main St",
                                          city="Nashville", postal_code="37207",
                                          country_code="US"),
        lines=[CanonicalLine(source_line_id="1", quantity=2, sku=sku, unit_price="6.25")],
        shipments=[CanonicalShipment(source_shipment_id="S1", carrier="UPS",
                                     tracking_number="1ZTRACK", lines=[("1", 2)])]
        if shipped else [],
    )
    return store_orders(customer, [canonical]).orders[("api", f"A-{n}")]

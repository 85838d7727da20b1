"""A small, realistic demo catalog, loaded through the same ingest as every source.

Its pictures are served by the sandbox (`/demo/images/...`), so the processed-image
endpoint works on the demo catalog.
"""

from catalog.ingest import ingest_products
from catalog.models import Supplier

DEMO_SUPPLIER = "Demo Apparel Co."
IMAGE_PATH = "/demo/images"

TEES = [
    ("DA100", "Essential Cotton Tee", "Northline", ["Apparel", "T-Shirts"], "3.20"),
    ("DA110", "Heavyweight Pocket Tee", "Northline", ["Apparel", "T-Shirts"], "5.10"),
    ("DA200", "Pullover Hooded Sweatshirt", "Harbor", ["Apparel", "Fleece", "Hoodies"], "11.40"),
    ("DA210", "Full-Zip Hooded Sweatshirt", "Harbor", ["Apparel", "Fleece", "Hoodies"], "14.90"),
    ("DA300", "Canvas Tote", "Carry & Co.", ["Accessories", "Bags"], "2.75"),
]
COLORS = ["Natural", "Black", "Navy Blue", "Heather Grey"]
SIZES = ["S", "M", "L", "XL", "2XL"]
PRINTS = [
    ("DP100", "Vinyl Banner", ["Print", "Banners"], "0.09"),
    ("DP200", "Matte Poster", ["Print", "Posters"], "0.12"),
]


def apparel(image_base, sku, name, brand, category, price):
    one_size = category[-1] == "Bags"
    sizes = [None] if one_size else SIZES
    return {
        "supplier_sku": sku,
        "product_name": name,
        "brand": brand,
        "category_path": category,
        "description": f"{name} by {brand}.",
        "product_type": "apparel",
        "variants": [
            {
                "sku": f"{sku}-{color.replace(' ', '')[:4].upper()}-{size or 'OS'}",
                "color": color,
                "size": size,
                "base_price": price,
                "inventory": 250 + 10 * n,
                "warehouse": "Main",
                "prices": [
                    {"price_type": "Net", "quantity_min": 1, "quantity_max": 11, "price": price},
                    {"price_type": "Net", "quantity_min": 12, "quantity_max": 143,
                     "price": f"{float(price) * 0.92:.2f}"},
                    {"price_type": "Net", "quantity_min": 144, "quantity_max": None,
                     "price": f"{float(price) * 0.85:.2f}"},
                ],
            }
            for n, (color, size) in enumerate((c, s) for c in COLORS for s in sizes)
        ],
        "images": [
            {"url": f"{image_base}/{sku.lower()}-{color.lower().replace(' ', '-')}.png",
             "color": color, "image_type": "front", "sort_order": n}
            for n, color in enumerate(COLORS)
        ],
        "options": [
            {"option_key": "imprint_location", "title": "Imprint Location", "required": True,
             "attributes": [{"title": "Left Chest"}, {"title": "Full Front"},
                            {"title": "Full Back", "price": "1.50"}]},
        ],
        "apparel_details": {"pricing_method": "tiered_variant"},
    }


def printed(image_base, sku, name, category, per_sq_in):
    return {
        "supplier_sku": sku,
        "product_name": name,
        "category_path": category,
        "description": f"{name}, printed to order.",
        "product_type": "print",
        "images": [{"url": f"{image_base}/{sku.lower()}.png"}],
        "print_details": {"min_width": 8, "max_width": 96, "min_height": 8, "max_height": 240,
                          "size_unit": "in", "base_price_per_sq_unit": per_sq_in},
        "sizes": [
            {"width": w, "height": h, "unit": "in", "label": f"{w}x{h}",
             "price": f"{w * h * float(per_sq_in):.2f}"}
            for w, h in ((18, 24), (24, 36), (36, 72))
        ],
    }


def load_demo_catalog(sandbox_url="http://127.0.0.1:8001"):
    supplier, _ = Supplier.objects.get_or_create(name=DEMO_SUPPLIER)
    image_base = f"{sandbox_url.rstrip('/')}{IMAGE_PATH}"
    payloads = [apparel(image_base, *row) for row in TEES]
    payloads += [printed(image_base, *row) for row in PRINTS]
    return supplier, ingest_products(supplier, payloads)

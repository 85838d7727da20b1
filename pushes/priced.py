"""A product priced for one customer: what a storefront receives.

Built by `pushes.pricing.price_product`; shown by the preview endpoint; hashed to tell
whether anything changed since the last successful push; handed to the customer's
storefront, which maps it to its own API.
"""

import hashlib
import json
from dataclasses import asdict, dataclass, field
from decimal import Decimal


@dataclass
class PricedTier:
    quantity_min: int
    quantity_max: int | None
    cost: Decimal
    price: Decimal


@dataclass
class PricedItem:
    """One sellable size of the product: a variant (apparel) or a print size."""

    key: str  # the variant's variant_key or the print size's size_key: stable across syncs
    title: str  # "Natural / S", "24x36"
    sku: str | None
    cost: Decimal | None
    price: Decimal | None
    tiers: list[PricedTier] = field(default_factory=list)
    color: str | None = None
    size: str | None = None
    width: Decimal | None = None
    height: Decimal | None = None
    unit: str | None = None
    weight: Decimal | None = None
    # What the source knows of a print size (e.g. the source's own product id).
    attributes: dict = field(default_factory=dict)
    # The hub's id of the variant or print size, for storefronts that keep it (the OMS's
    # variant uuid). Not part of the content hash: it names the item, it is not sold.
    item_id: str | None = None


@dataclass
class PricedImage:
    image_id: str
    url: str
    color: str | None
    sort_order: int


@dataclass
class PricedProduct:
    product_id: str
    supplier_id: str
    supplier_sku: str
    name: str
    description: str | None
    brand: str | None
    product_type: str
    # [(category id, name), ...] from the root down; empty when uncategorised.
    category_path: list[tuple[str, str]]
    items: list[PricedItem]
    images: list[PricedImage]
    rule_id: str | None = None

    def as_dict(self):
        return json.loads(json.dumps(asdict(self), default=_json_default))

    def content_hash(self):
        content = self.as_dict()
        for item in content["items"]:
            item.pop("item_id")
        encoded = json.dumps(content, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(encoded.encode()).hexdigest()


def _json_default(value):
    if isinstance(value, Decimal):
        return format(value, "f")
    raise TypeError(f"Cannot encode {type(value).__name__}")

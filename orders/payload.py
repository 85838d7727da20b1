"""The canonical order: what every source maps its orders to before the hub stores them.

OnPrintShop and PrintOps orders are mapped by their packages (integrations/ops/orders.py,
integrations/printops/orders.py); `POST /api/orders` bodies by the intake serializer.
`problems` lists what the source sent that was not sound (a junk date, a tax amount that
is not a number, a line without a quantity): the sound rest is stored, and the problems
become an event of the order.
"""

import hashlib
import json
from dataclasses import dataclass, field, is_dataclass
from datetime import datetime
from decimal import Decimal

from hub.values import is_whole


@dataclass
class CanonicalAddress:
    name: str = ""
    company: str = ""
    address_1: str = ""
    address_2: str = ""
    city: str = ""
    state: str = ""
    postal_code: str = ""
    country_code: str = ""
    phone: str = ""


@dataclass
class CanonicalLine:
    source_line_id: str
    quantity: int
    sku: str = ""
    name: str = ""
    size: str = ""
    unit_price: Decimal | None = None
    # The storefront's product id (OnPrintShop product_id, PrintOps user product id).
    source_product_id: str = ""
    # A catalog product id, when the sender knows it (intake).
    product_id: str = ""
    source_status: str = ""
    artwork: list = field(default_factory=list)


@dataclass
class CanonicalShipment:
    source_shipment_id: str
    carrier: str = ""
    tracking_number: str = ""
    tracking_url: str | None = None
    shipped_at: datetime | None = None
    # [(source_line_id, quantity)]
    lines: list = field(default_factory=list)


@dataclass
class CanonicalOrder:
    source: str
    source_order_id: str
    order_number: str = ""
    source_status: str = ""
    placed_at: datetime | None = None
    source_modified_at: datetime | None = None
    currency: str = "USD"
    subtotal: Decimal | None = None
    shipping: Decimal | None = None
    tax: Decimal | None = None
    total: Decimal | None = None
    buyer_name: str = ""
    buyer_email: str = ""
    buyer_phone: str = ""
    buyer_company: str = ""
    shipping_address: CanonicalAddress | None = None
    billing_address: CanonicalAddress | None = None
    lines: list[CanonicalLine] = field(default_factory=list)
    shipments: list[CanonicalShipment] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    def content_hash(self):
        """Equal for two reads of an unchanged order (source_modified_at aside)."""
        data = dict(vars(self))
        del data["source_modified_at"]
        # vars() of the nested dataclasses instead of asdict(): no deep copies (pulls hash
        # every order they read).
        encoded = json.dumps(data, sort_keys=True, separators=(",", ":"), default=_plain)
        return hashlib.sha256(encoded.encode()).hexdigest()


def _plain(value):
    return vars(value) if is_dataclass(value) else str(value)


def cents(value):
    """Integer cents (PrintOps) as Decimal money; None for anything else."""
    if is_whole(value):
        return Decimal(value) / 100
    return None


def text(value, max_length=255):
    """A value as stored text: '' for None, trimmed to the column's length."""
    if value is None:
        return ""
    return str(value).strip()[:max_length]

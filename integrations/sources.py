"""What a source integration provides to syncs and imports.

A source (OVS, PrintOps, ...) reads products from its external system and maps them
to canonical payloads. Nothing outside its package knows the wire format.

    changed_products(since) -> iterator of SourcePage (since=None: everything), each
                               saying how long its mapping took (map_seconds)
    product_by_code(code)   -> a canonical payload, or raises ProductNotFound
"""

from dataclasses import dataclass, field


@dataclass
class SourcePage:
    products: list = field(default_factory=list)  # canonical payloads
    failures: list = field(default_factory=list)  # {"code": ..., "reason": ...}
    total: int | None = None  # products the whole run will see, when the source knows
    # Seconds the source spent mapping this page's items to payloads; the sync counts the
    # rest of its wait for the page as fetching.
    map_seconds: float = 0.0


class SourceError(Exception):
    """The external system failed; the message is safe to show to the user."""


class ProductNotFound(SourceError):
    pass


class InvalidProduct(SourceError):
    """One product could not be mapped; the sync reports it and goes on."""

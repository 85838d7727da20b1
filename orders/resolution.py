"""Resolving order lines to the catalog: which product, and which variant or print size.

- OnPrintShop lines name the OPS product id the hub stored when it pushed the product to
  this customer (StorefrontProduct.storefront_product_id) and the size title or SKU.
- PrintOps lines name the user product the hub created for one print size (kept in the
  StorefrontProduct's refs, current or superseded).
- Intake lines (and any line whose storefront id is unknown) name a variant or print
  size SKU, or a catalog product id.

A line that cannot be resolved is `unmatched`, with an error that says what to fix.
The Resolver loads what it needs for a whole page of lines in a fixed number of queries.
"""

import uuid
from collections import defaultdict

from catalog.models import PrintSize, Product, Variant
from orders.models import LineStatus, OrderSource
from pushes.models import StorefrontProduct
from pushes.pricing import size_title, variant_title

SOURCE_NAMES = {OrderSource.OPS: "OnPrintShop", OrderSource.PRINTOPS: "PrintOps"}


class Resolver:
    """Resolves lines of one customer's orders; reuse it for every page of a pull."""

    def __init__(self, customer):
        self.customer = customer
        self._storefront_products = None  # {storefront product id: product id}
        self._user_products = None  # {PrintOps user product id: (product id, item key)}
        self._items = {}  # product id: [(variant or size, title)]
        self._products = {}  # product id: Product

    # -- what the customer's storefront holds ------------------------------------------

    def storefront_products(self):
        if self._storefront_products is None:
            self._load_storefront()
        return self._storefront_products

    def user_products(self):
        if self._user_products is None:
            self._load_storefront()
        return self._user_products

    def _load_storefront(self):
        self._storefront_products, self._user_products = {}, {}
        rows = StorefrontProduct.objects.filter(customer=self.customer).values_list(
            "product_id", "storefront_product_id", "refs"
        )
        for product_id, storefront_id, refs in rows:
            if storefront_id:
                self._storefront_products[str(storefront_id)] = product_id
            refs = refs if isinstance(refs, dict) else {}
            entries = [
                *((key, entry) for key, entry in (refs.get("user_products") or {}).items()),
                *((entry.get("key"), entry) for entry in refs.get("superseded") or []),
            ]
            for key, entry in entries:
                if isinstance(entry, dict) and entry.get("id") is not None and key:
                    self._user_products.setdefault(str(entry["id"]), (product_id, key))

    def _load_items(self, product_ids):
        missing = {pk for pk in product_ids if pk not in self._items}
        if not missing:
            return
        for pk in missing:
            self._items[pk] = []
        for product in Product.objects.filter(pk__in=missing).only(
            "id", "supplier_sku", "product_name"
        ):
            self._products[product.pk] = product
        for variant in Variant.objects.filter(product_id__in=missing).only(
            "id", "product_id", "variant_key", "sku", "color", "size"
        ):
            self._items[variant.product_id].append(variant)
        for size in PrintSize.objects.filter(product_id__in=missing).only(
            "id", "product_id", "size_key", "sku", "label", "width", "height", "unit"
        ):
            self._items[size.product_id].append(size)

    # -- resolving ---------------------------------------------------------------------

    def resolve(self, lines):
        """Set product, variant or size, status and error on each line (in memory).

        Only lines no fulfiller holds are considered; the others are left alone.
        """
        lines = [line for line in lines
                 if not line.fulfiller_type and line.status in (LineStatus.RECEIVED,
                                                                LineStatus.UNMATCHED)]
        if not lines:
            return
        candidates = {}
        for line in lines:
            candidates[id(line)] = self._product_of(line)
        by_sku = self._by_sku({line.sku for line in lines if line.sku})
        self._load_items({pk for pk in candidates.values() if pk}
                         | {item.product_id for items in by_sku.values() for item in items})
        for line in lines:
            self._resolve_one(line, candidates[id(line)], by_sku)

    def _product_of(self, line):
        """The catalog product the line's storefront id (or, from intake, catalog product
        id) names, or None."""
        if not line.source_product_id:
            return None
        source = line.order.source
        if source == OrderSource.OPS:
            return self.storefront_products().get(line.source_product_id)
        if source == OrderSource.PRINTOPS:
            found = self.user_products().get(line.source_product_id)
            return found[0] if found else None
        try:
            return uuid.UUID(line.source_product_id)
        except ValueError:
            return None

    def _by_sku(self, skus):
        """{sku: [variant or size, ...]} of the catalog; pushed products first."""
        if not skus:
            return {}
        found = defaultdict(list)
        for variant in Variant.objects.filter(sku__in=skus).only("id", "product_id", "sku"):
            found[variant.sku].append(variant)
        for size in PrintSize.objects.filter(sku__in=skus).only("id", "product_id", "sku"):
            found[size.sku].append(size)
        pushed = set(self.storefront_products().values())
        for sku, items in found.items():
            mine = [item for item in items if item.product_id in pushed]
            found[sku] = mine or items
        return found

    def _resolve_one(self, line, product_id, by_sku):
        if product_id is not None and product_id not in self._products:
            product_id = None  # gone from the catalog
        if product_id is not None:
            item = self._item_of(line, product_id)
            items = self._items[product_id]
            if item is None and items and (line.sku or line.size):
                return self._unmatched(line, self._no_size(line, product_id))
            if item is None and len(items) > 1:
                return self._unmatched(line, self._which_size(line, product_id))
            return self._matched(line, product_id, item)
        items = by_sku.get(line.sku) if line.sku else None
        if not items:
            if line.source_product_id or not line.sku:
                return self._unmatched(line, self._unknown_product(line))
            return self._unmatched(
                line, f"No variant or print size of the catalog has SKU {line.sku!r} "
                      f"(customer {self.customer.name}): add it to the catalog, or fix "
                      "the SKU, then retry the line.")
        if len({item.product_id for item in items}) > 1:
            return self._unmatched(
                line, f"SKU {line.sku!r} belongs to {len(items)} catalog products "
                      f"(customer {self.customer.name}): make it unique, then retry.")
        return self._matched(line, items[0].product_id, items[0])

    @staticmethod
    def _matched(line, product_id, item):
        line.product_id = product_id
        line.variant_id = item.pk if isinstance(item, Variant) else None
        line.print_size_id = item.pk if isinstance(item, PrintSize) else None
        line.status = LineStatus.RECEIVED
        line.error = None
        return None

    def _item_of(self, line, product_id):
        items = self._items[product_id]
        if line.order.source == OrderSource.PRINTOPS:
            found = self.user_products().get(line.source_product_id)
            key = found[1] if found else None
            for item in items:
                if getattr(item, "variant_key", None) == key or \
                        getattr(item, "size_key", None) == key:
                    return item
        if line.sku:
            for item in items:
                if item.sku == line.sku:
                    return item
        if line.size:
            wanted = line.size.strip().casefold()
            for item in items:
                if title_of(item).casefold() == wanted:
                    return item
        if len(items) == 1 and not line.sku and not line.size:
            return items[0]
        return None

    # -- errors staff can act on -------------------------------------------------------

    @staticmethod
    def _unmatched(line, error):
        line.product_id = line.variant_id = line.print_size_id = None
        line.status = LineStatus.UNMATCHED
        line.error = error
        return error

    def _unknown_product(self, line):
        source = line.order.source
        if source == OrderSource.API and line.source_product_id:
            return (f"Catalog product {line.source_product_id} does not exist "
                    f"(customer {self.customer.name}, SKU {line.sku or '-'}): fix the "
                    "line's product_id or SKU, then retry.")
        if source == OrderSource.PRINTOPS and line.source_product_id:
            return (f"PrintOps user product {line.source_product_id} (SKU {line.sku or '-'}) "
                    f"was not made by the hub for customer {self.customer.name}: push the "
                    "product to this customer's store, then retry the line.")
        if source == OrderSource.OPS and line.source_product_id:
            return (f"OnPrintShop product {line.source_product_id} (SKU {line.sku or '-'}, "
                    f"size {line.size or '-'}) is not a product the hub pushed to customer "
                    f"{self.customer.name}: push it, then retry the line.")
        return (f"The line names no SKU or product (customer {self.customer.name}): "
                "fix it at the source, then retry.")

    def _no_size(self, line, product_id):
        product = self._products.get(product_id)
        sizes = ", ".join(sorted(title_of(item) for item in self._items[product_id])[:10])
        return (f"Product {product.supplier_sku if product else product_id} has no size "
                f"{line.size or '-'} or SKU {line.sku or '-'} (customer {self.customer.name}; "
                f"its sizes: {sizes}): push the product again or fix the line, then retry.")

    def _which_size(self, line, product_id):
        product = self._products.get(product_id)
        return (f"The line names product {product.supplier_sku if product else product_id} "
                f"but not which of its {len(self._items[product_id])} sizes "
                f"(customer {self.customer.name}): give it a SKU, then retry.")


def title_of(item):
    return variant_title(item) if isinstance(item, Variant) else size_title(item)

"""Pushing a priced product to an OnPrintShop (OPS) storefront (see pushes/storefronts.py).

A push runs these steps, each named in PushFailed.step when it fails:
- "category": the product's category path, root first; levels without an id are created.
- "product": the product, updated when OPS still has the stored id, else created.
- "sizes": one size per priced item (variant or print size); removed items are deleted
  (their price rows hidden first).
- "prices": one price row per tier of each item. setProductPrice has no documented
  delete: the row of a removed tier is reused for a new tier of the item when there is
  one (updated), else hidden with `visible: 0`; either way it leaves the refs once hidden.
- "images": the product's image gallery, replaced.

refs: {"sizes": {item key: size id}, "prices": {item key: {quantity_min: price id}}},
every id a string like storefront_product_id. Every id is kept (`state.keep`) as soon as
OPS returns it, and a failure carries the refs as they stand, so the next attempt updates
them instead of duplicating.
"""

from dataclasses import dataclass

from integrations.ops import client as ops
from integrations.ops.client import OPSClient, OPSError
from pushes.storefronts import PushFailed, PushOutcome


class OPSStorefront:
    def __init__(self, integration):
        self.client = OPSClient(integration)

    def push(self, priced, state):
        return Push(self.client, priced, state).run()


@dataclass
class Change:
    """One input of a batch mutation, and the refs entry that keeps its id."""

    input: dict
    refs: dict
    key: str
    delete: bool = False


class Push:
    """One push of one product: what OPS holds so far, step by step."""

    def __init__(self, client, priced, state):
        self.client = client
        self.priced = priced
        self.state = state
        self.step = None
        self.products_id = state.storefront_product_id
        refs = state.refs or {}
        self.sizes = {key: str(size_id) for key, size_id in (refs.get("sizes") or {}).items()}
        self.prices = {
            key: {qty: str(price_id) for qty, price_id in rows.items()}
            for key, rows in (refs.get("prices") or {}).items()
        }
        self.new_category_ids = {}
        self.category_id = 0
        self.created = False

    def run(self):
        steps = [
            ("category", self.save_categories),
            ("product", self.save_product),
            ("sizes", self.save_sizes),
            ("prices", self.save_prices),
            ("images", self.save_images),
        ]
        try:
            for step, save in steps:
                self.step = step
                save()
        except OPSError as exc:
            raise PushFailed(
                self.step, exc.message, storefront_product_id=self.products_id,
                refs=self.refs(), new_category_ids=dict(self.new_category_ids),
                retryable=exc.retryable,
            ) from None
        return PushOutcome(
            storefront_product_id=self.products_id, refs=self.refs(), created=self.created,
            new_category_ids=dict(self.new_category_ids),
        )

    def refs(self):
        return {
            "sizes": dict(self.sizes),
            "prices": {key: dict(rows) for key, rows in self.prices.items() if rows},
        }

    def keep(self):
        """Store the ids OPS returned so far, before anything else is sent."""
        self.state.keep(self.products_id, self.refs(), dict(self.new_category_ids))

    # -- steps -------------------------------------------------------------------------

    def save_categories(self):
        parent_id = 0
        for category_id, name in self.priced.category_path:
            key = str(category_id)
            known = self.state.category_ids.get(key)
            if known:
                parent_id = int(known)
                continue
            # One level at a time: each needs its parent's id.
            [parent_id] = self.client.mutate(
                ops.SET_CATEGORY,
                [ops.category_input(name=name, parent_id=parent_id, external_ref=key)],
            )
            self.new_category_ids[key] = str(parent_id)
            self.keep()
        self.category_id = parent_id

    def save_product(self):
        if self.products_id:
            held = self.client.product_rows(int(self.products_id))
            if held is None:
                # Deleted in OPS, and its sizes and prices with it: create it anew.
                self.products_id = None
                self.sizes, self.prices = {}, {}
            else:
                self.forget_missing(held)
        priced = self.priced
        images = self.images()
        [products_id] = self.client.mutate(ops.SET_PRODUCT, [ops.product_input(
            int(self.products_id or 0), title=priced.name, sku=priced.supplier_sku,
            external_ref=priced.product_id, category_id=self.category_id,
            description=priced.description, image_url=images[0].url if images else None,
        )])
        if self.products_id is None:
            self.products_id = str(products_id)
            self.created = True
            self.keep()

    def forget_missing(self, held):
        """Drop the refs of sizes and prices OPS no longer has; they are created again."""
        self.sizes = {key: size_id for key, size_id in self.sizes.items()
                      if int(size_id) in held["sizes"]}
        self.prices = {
            key: {qty: price_id for qty, price_id in rows.items()
                  if int(price_id) in held["prices"]}
            for key, rows in self.prices.items()
        }

    def save_sizes(self):
        products_id = int(self.products_id)
        keys = {item.key for item in self.priced.items}
        # A removed item's prices are hidden before its size goes, so none is left on sale
        # whether or not OPS deletes a size's prices with it.
        self.send(ops.SET_PRICE, [
            Change(ops.price_hiding(int(price_id), products_id), rows, qty, delete=True)
            for key, rows in self.prices.items() if key not in keys
            for qty, price_id in rows.items()
        ])
        changes = [
            Change(ops.size_input(
                int(self.sizes.get(item.key, 0)), products_id, title=item.title,
                width=number(item.width), height=number(item.height), sort_order=order,
            ), self.sizes, item.key)
            for order, item in enumerate(self.priced.items)
        ]
        changes += [
            Change(ops.size_deletion(int(size_id), products_id), self.sizes, key, delete=True)
            for key, size_id in self.sizes.items() if key not in keys
        ]
        self.send(ops.SET_SIZE, changes)

    def save_prices(self):
        products_id = int(self.products_id)
        changes = []
        for item in self.priced.items:
            rows = self.prices.setdefault(item.key, {})
            bands = {str(tier.quantity_min) for tier in item.tiers}
            # Rows of bands that are gone: reused for new bands first, the rest hidden. A
            # row stays in the refs until OPS has hidden it, so a failure leaves none on sale.
            stale = [qty for qty in sorted(rows, key=int) if qty not in bands]
            for tier in item.tiers:
                qty = str(tier.quantity_min)
                if qty not in rows and stale:
                    rows[qty] = rows.pop(stale.pop(0))
                changes.append(Change(ops.price_input(
                    int(rows.get(qty, 0)), products_id, size_id=int(self.sizes[item.key]),
                    qty=tier.quantity_min,
                    qty_to=tier.quantity_max if tier.quantity_max is not None else 0,
                    price=number(tier.price), vendor_price=number(tier.cost),
                ), rows, qty))
            changes += [
                Change(ops.price_hiding(int(rows[qty]), products_id), rows, qty, delete=True)
                for qty in stale
            ]
        self.send(ops.SET_PRICE, changes)

    def save_images(self):
        self.client.replace_gallery(int(self.products_id), [
            ops.image_input(url=image.url, title=image.color or self.priced.name,
                            sort_order=image.sort_order)
            for image in self.images()
        ])

    # -- helpers -----------------------------------------------------------------------

    def images(self):
        return sorted(self.priced.images, key=lambda image: image.sort_order)

    def send(self, name, changes):
        """One batch mutation; the refs keep the id of every input OPS saved, even on failure."""
        if not changes:
            return
        try:
            saved = dict(enumerate(self.client.mutate(name, [change.input for change in changes])))
        except OPSError as exc:
            self.apply(changes, exc.saved)
            self.keep()
            raise
        self.apply(changes, saved)
        self.keep()

    @staticmethod
    def apply(changes, saved):
        for index, row_id in saved.items():
            change = changes[index]
            if change.delete:
                change.refs.pop(change.key, None)
            elif row_id is not None:
                change.refs[change.key] = str(row_id)


def number(value):
    return None if value is None else float(value)

"""Pushing a priced product to an order management system (OMS) (see pushes/storefronts.py).

A push runs these steps, each named in PushFailed.step when it fails:
- "category": the product's category path, root first; levels without an id are created.
- "product": the product, updated (PUT) when it has an id, else created; a product the
  OMS no longer has is created again.
- "variants": one variant per priced item (apparel variant or print size), updated when
  it has an id, else created with the hub's id of the variant or size as its `uuid` (an
  order names the variant by it); variants of removed items are deleted.
`deactivate` makes the product inactive (step "deactivate"); `refusal` turns away a
product without a category, as the OMS has no product without one.

The OMS has no price on a variant (its `price_id` refers to price rows the API does not
expose), so the price travels in the variant's `ecommerce_tags`: `price:<unit price>`,
and for an item priced in quantity bands one `tier:<min>-<max>:<price>` per band
(`tier:<min>+:<price>` for the open-ended one). The tags also carry `sku:`, `color:` and
`size:` when known. The store id is not sent: the spec asks for it on orders only.

refs: {"variants": {item key: variant id}}, every id a string like storefront_product_id.
Every id is kept (`state.keep`) as soon as the OMS returns it, and a failure carries the
refs as they stand, so the next attempt updates them instead of duplicating.
"""

from integrations.oms import client as oms
from integrations.oms.client import OMSClient, OMSError
from pushes.pricing import MILLIMETRES
from pushes.storefronts import PushFailed, PushOutcome

NOT_FOUND = 404


class OMSStorefront:
    def __init__(self, integration):
        self.integration = integration
        self.client = OMSClient(integration)

    def refusal(self, product):
        """Why the OMS cannot take this product at all: every OMS product has a category."""
        if product.category_id is None:
            return (f"Product {product.supplier_sku} has no category; the OMS needs one "
                    "for every product.")
        return None

    def push(self, priced, state):
        return Push(self.integration, self.client, priced, state).run()

    def deactivate(self, state):
        """Make the product inactive; one the OMS no longer has is already out of sight."""
        try:
            self.client.update_product(state.storefront_product_id, oms.deactivation_body())
        except OMSError as exc:
            if exc.status != NOT_FOUND:
                raise PushFailed("deactivate", exc.message, retryable=exc.retryable) from None


class Push:
    """One push of one product: what the OMS holds so far, step by step."""

    def __init__(self, integration, client, priced, state):
        self.integration = integration
        self.client = client
        self.priced = priced
        self.state = state
        self.step = None
        self.product_id = state.storefront_product_id
        refs = state.refs or {}
        self.variants = {key: str(row) for key, row in (refs.get("variants") or {}).items()}
        self.new_category_ids = {}
        self.category_id = None
        self.created = False

    def run(self):
        steps = [
            ("category", self.save_categories),
            ("product", self.save_product),
            ("variants", self.save_variants),
        ]
        try:
            for step, save in steps:
                self.step = step
                save()
        except OMSError as exc:
            self.fail(exc.message, retryable=exc.retryable)
        return PushOutcome(
            storefront_product_id=self.product_id, refs=self.refs(), created=self.created,
            new_category_ids=dict(self.new_category_ids),
        )

    def fail(self, message, retryable=False):
        raise PushFailed(
            self.step, message, storefront_product_id=self.product_id, refs=self.refs(),
            new_category_ids=dict(self.new_category_ids), retryable=retryable,
        ) from None

    def refs(self):
        return {"variants": dict(self.variants)}

    def keep(self):
        """Store the ids the OMS returned so far, before anything else is sent."""
        self.state.keep(self.product_id, self.refs(), dict(self.new_category_ids))

    # -- steps -------------------------------------------------------------------------

    def save_categories(self):
        """Create the levels without an id, root first. The hub keeps a category's id (a
        product names its category by id); a new child names its parent by UID, read
        from the OMS when the parent was made by an earlier push."""
        parent_id = parent_uid = None
        for category_id, name in self.priced.category_path:
            key = str(category_id)
            known = self.state.category_ids.get(key)
            if known:
                parent_id, parent_uid = str(known), None
                continue
            if parent_id and parent_uid is None:
                parent_uid = self.client.category_uid(parent_id)
            parent_id, parent_uid = self.client.create_category(oms.category_body(
                name=name, parent_uid=parent_uid, default_dpi=self.integration.default_dpi,
                default_location=self.integration.default_location,
            ))
            self.new_category_ids[key] = parent_id
            self.keep()
        self.category_id = parent_id

    def save_product(self):
        integration, priced = self.integration, self.priced
        if not integration.team_id:
            self.fail("The OMS storefront has no team id; set team_id on the integration.")
        body = oms.product_body(
            category_id=self.category_id, name=priced.name, code=priced.supplier_sku,
            description=priced.description, default_dpi=integration.default_dpi,
            team_id=integration.team_id, default_location=integration.default_location,
        )
        if self.product_id:
            try:
                self.client.update_product(self.product_id, body)
                return
            except OMSError as exc:
                if exc.status != NOT_FOUND:
                    raise
            # Deleted in the OMS, and its variants with it: create it anew.
            self.product_id = None
            self.variants = {}
        self.product_id = self.client.create_product(body)
        self.created = True
        self.keep()

    def save_variants(self):
        if not self.integration.country_id:
            self.fail("The OMS storefront has no country id; set country_id on the integration.")
        for item in self.priced.items:
            body = self.variant_body(item)
            variant_id = self.variants.get(item.key)
            if variant_id:
                try:
                    self.client.update_variant(variant_id, body)
                    continue
                except OMSError as exc:
                    if exc.status != NOT_FOUND:
                        raise
                del self.variants[item.key]  # deleted in the OMS: created again below
            self.variants[item.key] = self.client.create_variant(
                self.variant_body(item, uuid=item.item_id)
            )
            self.keep()
        keys = {item.key for item in self.priced.items}
        for key, variant_id in list(self.variants.items()):
            if key in keys:
                continue
            try:
                self.client.delete_variant(variant_id)
            except OMSError as exc:
                if exc.status != NOT_FOUND:
                    raise
            del self.variants[key]
            self.keep()

    # -- helpers -----------------------------------------------------------------------

    def variant_body(self, item, uuid=None):
        integration = self.integration
        return oms.variant_body(
            self.product_id, name=item.title, tags=tags(item), weight=item.weight,
            width_mm=millimetres(item.width, item.unit),
            height_mm=millimetres(item.height, item.unit),
            country_id=integration.country_id, default_dpi=integration.default_dpi,
            default_location=integration.default_location, uuid=uuid,
        )


def tags(item):
    """The variant's tags: what identifies it, and its price (see the module's notes)."""
    found = [("sku", item.sku), ("color", item.color), ("size", item.size)]
    result = [f"{name}:{value}" for name, value in found if value]
    if item.price is not None:
        result.append(f"price:{money(item.price)}")
    if len(item.tiers) > 1:
        for tier in item.tiers:
            if tier.price is None:
                continue
            band = (f"{tier.quantity_min}+" if tier.quantity_max is None
                    else f"{tier.quantity_min}-{tier.quantity_max}")
            result.append(f"tier:{band}:{money(tier.price)}")
    return result


def money(amount):
    return format(amount, "f")


def millimetres(length, unit):
    """A print size's length in millimetres; None when unknown or in a unit not known."""
    factor = MILLIMETRES.get((unit or "").strip().lower().rstrip("."))
    if length is None or factor is None:
        return None
    return length * factor

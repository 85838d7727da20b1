"""Pushing a priced product to a customer's PrintOps store (see pushes/storefronts.py).

PrintOps prints and ships only its own base products, so a store takes only the products
of this integration's supplier (`refusal`). The customer's storefront options name the
store and how the art is scaled: {"store_id": 786322, "scale_option": "fit"}, and
optionally "sku_prefix" (the start of every user_sku, "hub" by default).

A push runs these steps, each named in PushFailed.step when it fails:
- "store": the options must name a store and a scale option PrintOps knows.
- "images": the product's art (its first image) is imported once (POST api/images) and
  its image id kept; a new art URL is imported again.
- "user_products": one user product per priced item (per print size), made of the
  size's base product (attributes.base_product_id) and the art.

PrintOps cannot update or delete a user product. So each item's user product is kept with
a hash of what was sent for it (base product, name, description, scale option, art):
an item whose hash is unchanged sends nothing; a changed one gets a NEW user product, with
the next version in its user_sku ("hub-PP08-v2"), and the one it replaces is listed under
"superseded". Prices are not part of a user product, so a change of price alone sends
nothing. A size that is no longer sold keeps its user product (it cannot be deleted).

refs:
    {"store_id": 786322,
     "image": {"url": art URL, "id": PrintOps image id (None while PrintOps processes it)},
     "user_products": {item key: {"id", "user_sku", "version", "hash"}},
     "superseded": [{"key", "id", "user_sku", "store_id", "replaced_by", "replaced_at"}]}
What a push did, in words, goes to the push log (PushOutcome.summary).
Every id is kept as soon as PrintOps gives it, and a failure carries the refs as they
stand, so a retry creates only what is still missing.
"""

import hashlib
import json
import re
from urllib.parse import unquote, urlsplit

from django.utils import timezone

from integrations.printops import client as printops
from integrations.printops.client import PrintOpsClient, PrintOpsError
from pushes.storefronts import PushFailed, PushOutcome

DEFAULT_SCALE_OPTION = "fit"
DEFAULT_SKU_PREFIX = "hub"
MAX_TEXT = 255
# What PrintOps accepts as an image's file name.
FILENAME = re.compile(r"[\w,\s-]+\.(jpg|jpeg|png)", re.IGNORECASE)
NOT_FILENAME_CHARACTERS = re.compile(r"[^\w-]+")


class PrintOpsStorefront:
    def __init__(self, integration):
        self.integration = integration
        self.client = PrintOpsClient.for_integration(integration)

    def refusal(self, product):
        if product.supplier_id != self.integration.supplier_id:
            return (f"PrintOps can only fulfil its own products; {product.supplier_sku} "
                    f"comes from {product.supplier.name}.")
        if not product.images.exists():
            return no_art(product.supplier_sku) + "."
        return None

    def push(self, priced, state):
        return Push(self.client, priced, state).run()


class Push:
    """One push of one product to one store: what the store holds so far, step by step."""

    def __init__(self, client, priced, state):
        self.client = client
        self.priced = priced
        self.state = state
        self.options = getattr(state, "options", None) or {}
        refs = state.refs or {}
        self.step = None
        self.store_id = refs.get("store_id")
        self.image = dict(refs.get("image") or {})
        self.user_products = {
            key: dict(entry) for key, entry in (refs.get("user_products") or {}).items()
        }
        self.superseded = [dict(entry) for entry in refs.get("superseded") or []]
        # What this push did, for the push log and the failure messages.
        self.imported = None
        self.created, self.replaced, self.unchanged = [], [], []

    def run(self):
        steps = [
            ("store", self.choose_store),
            ("images", self.save_art),
            ("user_products", self.save_user_products),
        ]
        try:
            for step, save in steps:
                self.step = step
                save()
        except PrintOpsError as exc:
            self.fail(exc.message, retryable=exc.retryable)
        return PushOutcome(
            storefront_product_id=self.storefront_product_id(), refs=self.refs(),
            created=self.state.storefront_product_id is None, sent=bool(self.actions()),
            summary=self.summary(),
        )

    def fail(self, message, retryable=False):
        done = self.actions()
        raise PushFailed(
            self.step,
            f"{message}. Done before the failure: {'; '.join(done)}." if done
            else f"{message}. Nothing was created before the failure.",
            storefront_product_id=self.storefront_product_id(), refs=self.refs(),
            retryable=retryable,
        ) from None

    def refs(self):
        return {
            "store_id": self.store_id,
            "image": dict(self.image),
            "user_products": {key: dict(entry) for key, entry in self.user_products.items()},
            "superseded": [dict(entry) for entry in self.superseded],
        }

    def keep(self):
        """Store the ids PrintOps returned so far, before anything else is sent."""
        self.state.keep(self.storefront_product_id(), self.refs(), {})

    def storefront_product_id(self):
        """"<store id>:<user product id of the first size>", once that exists."""
        for item in self.priced.items:
            entry = self.user_products.get(item.key)
            if entry and entry.get("id"):
                return f"{self.store_id}:{entry['id']}"
        return self.state.storefront_product_id

    # -- steps -------------------------------------------------------------------------

    def choose_store(self):
        store_id = self.options.get("store_id")
        if store_id in (None, ""):
            self.fail("The customer's storefront options name no PrintOps store: set "
                      '{"store_id": <the store id>}')
        scale_option = self.options.get("scale_option") or DEFAULT_SCALE_OPTION
        if scale_option not in printops.SCALE_OPTIONS:
            self.fail(f"The scale option {scale_option!r} is not one PrintOps knows "
                      f"({', '.join(printops.SCALE_OPTIONS)})")
        if self.store_id is not None and str(self.store_id) != str(store_id):
            # The user products made so far are in the other store: all are made anew.
            for key, entry in self.user_products.items():
                self.supersede(key, entry, replaced_by=None)
            self.user_products = {}
        self.store_id = store_id
        self.scale_option = scale_option

    def save_art(self):
        images = sorted(self.priced.images, key=lambda image: image.sort_order)
        if not images:
            self.fail(no_art(self.priced.supplier_sku))
        url = images[0].url
        if self.image.get("url") == url:
            return
        imported = self.client.create_image(url, self.filename(url))
        image_id = imported.get(printops.IMAGE_ID_FIELD)
        self.image = {"url": url, "id": image_id}
        self.imported = (url, image_id)
        self.keep()

    def save_user_products(self):
        missing = [item.sku or item.key for item in self.priced.items
                   if not item.attributes.get("base_product_id")]
        if missing:
            self.fail(f"No PrintOps base product is known for {', '.join(missing)}; "
                      "sync the PrintOps integration again")
        for item in self.priced.items:
            fields = self.fields_of(item)
            digest = content_hash({**fields, "art": self.image["url"]})
            entry = self.user_products.get(item.key)
            if entry and entry.get("hash") == digest:
                self.unchanged.append(item.key)
                continue
            version = entry["version"] + 1 if entry else 1
            user_sku = self.user_sku(item, version)
            created = self.client.create_user_product(self.store_id, printops.user_product_body(
                **fields, user_sku=user_sku, image_id=self.image["id"],
                image_url=self.image["url"], filename=self.filename(self.image["url"]),
            ))
            new = {"id": created[printops.ID_FIELD], "user_sku": user_sku, "version": version,
                   "hash": digest}
            if entry:
                self.supersede(item.key, entry, replaced_by=new["id"])
                self.replaced.append((entry, new))
            else:
                self.created.append(new)
            self.user_products[item.key] = new
            self.keep()

    # -- helpers -----------------------------------------------------------------------

    def fields_of(self, item):
        """What is sent for an item, besides its user_sku and the image."""
        priced = self.priced
        return {
            "base_product_id": item.attributes["base_product_id"],
            "name": f"{priced.name} - {item.title}"[:MAX_TEXT],
            "description": priced.description or priced.name,
            "scale_option": self.scale_option,
        }

    def user_sku(self, item, version):
        prefix = self.options.get("sku_prefix") or DEFAULT_SKU_PREFIX
        sku = f"{prefix}-{item.sku or item.key}"
        return sku if version == 1 else f"{sku}-v{version}"

    def filename(self, url):
        """The art's file name as PrintOps accepts it: from the URL, else the product's."""
        name = unquote(urlsplit(url).path.rsplit("/", 1)[-1])
        if FILENAME.fullmatch(name) and len(name) <= MAX_TEXT:
            return name
        stem = NOT_FILENAME_CHARACTERS.sub("-", self.priced.supplier_sku).strip("-") or "art"
        return f"{stem[:MAX_TEXT - 4]}.jpg"

    def supersede(self, key, entry, *, replaced_by):
        self.superseded.append({
            "key": key, "id": entry.get("id"), "user_sku": entry.get("user_sku"),
            "store_id": self.store_id, "replaced_by": replaced_by,
            "replaced_at": timezone.now().isoformat(),
        })

    def summary(self):
        """What this push did, in words, e.g. for the push log."""
        done = self.actions()
        if done and self.unchanged:
            done.append(f"{len(self.unchanged)} size{plural(self.unchanged)} unchanged")
        keys = {item.key for item in self.priced.items}
        retired = [entry for key, entry in self.user_products.items() if key not in keys]
        if retired:
            done.append("no longer sold, left in the store as PrintOps cannot delete them: "
                        + ", ".join(f"{entry['id']} ({entry['user_sku']})" for entry in retired))
        return "; ".join(done) + "." if done else NOTHING_SENT

    def actions(self):
        """What this push changed in PrintOps so far."""
        done = []
        if self.imported:
            url, image_id = self.imported
            done.append(f"imported the art {url} as image {image_id}" if image_id
                        else f"sent the art {url} (PrintOps is still processing it)")
        if self.created:
            done.append(f"created user product{plural(self.created)} in store {self.store_id}: "
                        + ", ".join(f"{new['id']} ({new['user_sku']})" for new in self.created))
        for old, new in self.replaced:
            done.append(f"replaced user product {old['id']} ({old['user_sku']}) by "
                        f"{new['id']} ({new['user_sku']}): PrintOps cannot update one")
        return done


NOTHING_SENT = "Nothing sent: every size's user product is unchanged."


def no_art(supplier_sku):
    return (f"{supplier_sku} has no image: PrintOps prints the product's art, so give the "
            "product an image first")


def content_hash(fields):
    encoded = json.dumps(fields, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(encoded.encode()).hexdigest()


def plural(items):
    return "" if len(items) == 1 else "s"

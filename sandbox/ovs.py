"""A fake OVS (Order and Warehouse System), implementing the contract in ovs-api.md.

The catalog is generated on demand from a product's index (1..catalog_size), so a
catalog of any size costs nothing until it is read; only the products a test touched
or removed are kept in state. The same options always give the same catalog.

Options (all optional):
- `username`, `password`: the accepted credentials ("demo" / "demo-password").
- `token_ttl`: seconds an access token lives, reported as `expires_in` (3600).
- `catalog_size`: how many products the catalog holds (200).
- `variants_per_product`: variants of an apparel product, colors x sizes (12).
- `public_base`: the sandbox's own URL, which image URLs point at.

Fault switches, on top of the common ones (which also apply to `/auth/login`, but not
to images):
- `fail_page`: that page of `/products` answers 500 while it is set.
- `bad_product_codes`: those products are served malformed (no `name`, `variants` a
  string), in listings and on their own.
- `nul_name_codes`: those products' names carry a NUL character (well-formed JSON that
  no database column can hold).

Control paths, besides the common ones:
- `POST /_sandbox/touch` `{"codes": [...]}` or `{"count": N}`: those products are
  revised now (name suffix " (rev N)", prices up), so a delta sync sees them change.
- `POST /_sandbox/remove` `{"codes": [...]}`: those products are gone (404, unlisted).
- `POST /_sandbox/expire-tokens`: every issued token stops working.
"""

import functools
import io
import re
import secrets
import time
import zlib
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from random import Random

from PIL import Image
from werkzeug.routing import Rule
from werkzeug.wrappers import Response

from sandbox.base import Fake, json_response

CATALOG_EPOCH = datetime(2026, 1, 1, tzinfo=UTC)
# Generated products were last updated within this span after the epoch.
CATALOG_SPAN_MINUTES = 180 * 24 * 60

DEFAULT_PAGE_SIZE = 100
MAX_PAGE_SIZE = 500
CENT = Decimal("0.01")
REVISION_PRICE_STEP = Decimal("0.10")

# name -> (SKU abbreviation, RGB of its images)
COLORS = {
    "Natural": ("NAT", (233, 223, 199)),
    "Black": ("BLK", (20, 20, 20)),
    "Navy Blue": ("NVY", (31, 42, 86)),
    "White": ("WHT", (250, 250, 250)),
    "Heather Grey": ("HGR", (160, 160, 165)),
    "Red": ("RED", (190, 30, 45)),
    "Royal Blue": ("ROY", (40, 80, 170)),
    "Forest Green": ("FOR", (34, 85, 51)),
    "Maroon": ("MAR", (110, 25, 40)),
    "Gold": ("GLD", (240, 180, 30)),
    "Purple": ("PUR", (95, 45, 130)),
    "Orange": ("ORG", (240, 110, 30)),
    "Charcoal": ("CHR", (60, 62, 66)),
    "Sand": ("SND", (210, 190, 150)),
    "Kelly Green": ("KEL", (30, 150, 70)),
    "Light Pink": ("LPK", (245, 190, 200)),
}
SIZES = ["S", "M", "L", "XL", "2XL", "3XL"]
LARGE_SIZE_UPCHARGE = {"2XL": Decimal("2.00"), "3XL": Decimal("3.00")}
WAREHOUSES = ["LAS", "DAL", "ATL", "CHI"]
IMAGE_TYPES = ["front", "back", "side", "detail"]

APPAREL_LINES = [
    (["Apparel", "T-Shirts"], ["Essential Tee", "Heavyweight Tee", "Pocket Tee"]),
    (["Apparel", "Polos"], ["Pique Polo", "Performance Polo"]),
    (["Apparel", "Sweatshirts", "Hoodies"], ["Pullover Hoodie", "Full-Zip Hoodie"]),
    (["Apparel", "Outerwear", "Jackets"], ["Soft Shell Jacket", "Packable Jacket"]),
]
ONE_SIZE_LINES = [
    (["Apparel", "Bags"], ["Canvas Tote", "Drawstring Bag"]),
    (["Apparel", "Headwear"], ["Twill Cap", "Knit Beanie"]),
]
PRINT_LINES = [
    (["Print", "Banners"], ["Vinyl Banner", "Mesh Banner"], [(24, 72), (36, 96), (48, 120)]),
    (["Print", "Posters"], ["Matte Poster", "Gloss Poster"], [(12, 18), (18, 24), (24, 36)]),
    (["Print", "Posters", "Large Format"], ["Large Format Poster"], [(36, 48), (48, 72)]),
    (["Print", "Canvas"], ["Gallery Canvas"], [(8, 10), (16, 20), (24, 36)]),
]
APPAREL_BRANDS = ["Fieldline", "Harbor Basics", "Summit Thread", "Oakway"]
PRINT_BRANDS = ["Broadsheet Print", "Wideformat Works"]

IMAGE_NAME = re.compile(r"(?P<code>.+)-(?P<n>\d+)\.png")


def money(amount):
    return str(amount.quantize(CENT, rounding=ROUND_HALF_UP))


def timestamp(moment):
    return moment.isoformat().replace("+00:00", "Z")


class OVSFake(Fake):
    rules = [
        Rule("/auth/login", endpoint="login", methods=["POST"]),
        Rule("/products", endpoint="list_products", methods=["GET"]),
        Rule("/products/<code>", endpoint="get_product", methods=["GET"]),
        Rule("/images/<name>", endpoint="image", methods=["GET"]),
        Rule("/_sandbox/touch", endpoint="control_touch", methods=["POST"]),
        Rule("/_sandbox/remove", endpoint="control_remove", methods=["POST"]),
        Rule("/_sandbox/expire-tokens", endpoint="control_expire_tokens", methods=["POST"]),
    ]
    extra_faults = {"fail_page": None, "bad_product_codes": [], "nul_name_codes": []}

    def seed(self):
        self.username = self.options.get("username", "demo")
        self.password = self.options.get("password", "demo-password")
        self.token_ttl = self.options.get("token_ttl", 3600)
        self.catalog_size = self.options.get("catalog_size", 200)
        # Pixels per side of the served pictures: small for tests, photo-sized to measure.
        self.image_size = self.options.get("image_size", 64)
        self.variants_per_product = self.options.get("variants_per_product", 12)
        self.public_base = self.options.get("public_base", "http://127.0.0.1:8001").rstrip("/")
        self.code_width = max(5, len(str(self.catalog_size)))
        self.state = {
            "tokens": {},  # token -> expiry (epoch seconds)
            "revisions": {},  # code -> (revision, updated_at) of touched products
            "removed": set(),
        }

    def injected_fault(self, request):
        if request.path.startswith("/images/"):
            return None
        return super().injected_fault(request)

    # -- the catalog -------------------------------------------------------------------

    def code(self, index):
        return f"OVS-{index:0{self.code_width}d}"

    def index_of(self, code):
        """The index of a present product's code, else None."""
        match = re.fullmatch(r"OVS-(\d+)", code)
        if not match:
            return None
        index = int(match.group(1))
        if not 1 <= index <= self.catalog_size or self.code(index) != code:
            return None
        if code in self.state["removed"]:
            return None
        return index

    def updated_at(self, index):
        revision = self.state["revisions"].get(self.code(index))
        if revision:
            return revision[1]
        return CATALOG_EPOCH + timedelta(minutes=(index * 7919) % CATALOG_SPAN_MINUTES)

    def product(self, index):
        code = self.code(index)
        revision = self.state["revisions"].get(code, (0, None))[0]
        rng = Random(index)
        if index % 5 == 0:
            product = self.print_product(code, rng, revision)
        else:
            product = self.apparel_product(code, rng, revision, one_size=index % 7 == 0)
        if revision:
            product["name"] += f" (rev {revision + 1})"
        product["updated_at"] = timestamp(self.updated_at(index))
        if code in self.faults["nul_name_codes"]:
            product["name"] += "\x00"
        if code in self.faults["bad_product_codes"]:
            del product["name"]
            product["variants"] = "unavailable"
        return product

    def apparel_product(self, code, rng, revision, one_size):
        category_path, kinds = rng.choice(ONE_SIZE_LINES if one_size else APPAREL_LINES)
        brand = rng.choice(APPAREL_BRANDS)
        kind = rng.choice(kinds)
        name = f"{brand} {kind}"
        sizes = [None] if one_size else SIZES[: 3 + rng.randint(1, 3)]
        colors = rng.sample(list(COLORS), len(COLORS))
        base_price = Decimal(rng.randint(350, 2500)) / 100 + REVISION_PRICE_STEP * revision
        combinations = [(color, size) for color in colors for size in sizes]
        variants = []
        for color, size in combinations[: self.variants_per_product]:
            price = base_price + LARGE_SIZE_UPCHARGE.get(size, Decimal(0))
            abbreviation = COLORS[color][0]
            variants.append({
                "sku": f"{code}-{abbreviation}-{size}" if size else f"{code}-{abbreviation}",
                "color": color,
                "size": size,
                "price": money(price),
                "currency": "USD",
                "inventory": 0 if rng.random() < 0.1 else rng.randint(1, 5000),
                "warehouse": rng.choice(WAREHOUSES),
                "price_tiers": [
                    {"type": "Net", "min_qty": 1, "max_qty": 11, "price": money(price)},
                    {"type": "Net", "min_qty": 12, "max_qty": 143,
                     "price": money(price * Decimal("0.92"))},
                    {"type": "Net", "min_qty": 144, "max_qty": None,
                     "price": money(price * Decimal("0.85"))},
                ],
            })
        image_colors = list(dict.fromkeys(variant["color"] for variant in variants))
        return {
            "code": code,
            "name": name,
            "brand": brand,
            "category_path": category_path,
            "description": f"The {kind.lower()} from {brand}, in {len(image_colors)} colors.",
            "product_type": "apparel",
            "updated_at": None,
            "images": self.images(code, rng, image_colors),
            "variants": variants,
            "print": None,
        }

    def print_product(self, code, rng, revision):
        category_path, kinds, sizes = rng.choice(PRINT_LINES)
        brand = rng.choice(PRINT_BRANDS)
        kind = rng.choice(kinds)
        name = f"{brand} {kind}"
        price_per_sq_inch = Decimal(rng.randint(20, 90)) / 1000 + Decimal("0.001") * revision
        widths = [width for width, _ in sizes]
        heights = [height for _, height in sizes]
        return {
            "code": code,
            "name": name,
            "brand": brand,
            "category_path": category_path,
            "description": f"The {kind.lower()} from {brand}, printed to order.",
            "product_type": "print",
            "updated_at": None,
            "images": self.images(code, rng, [None]),
            "variants": [],
            "print": {
                "min_width": min(widths),
                "max_width": max(widths),
                "min_height": min(heights),
                "max_height": max(heights),
                "size_unit": "in",
                "base_price_per_sq_unit": str(price_per_sq_inch),
                "sizes": [
                    {"width": width, "height": height, "unit": "in",
                     "label": f"{width}x{height} in"}
                    for width, height in sizes
                ],
            },
        }

    def images(self, code, rng, colors):
        return [
            {
                "url": f"{self.public_base}/ovs/images/{code}-{n}.png",
                "color": colors[n % len(colors)],
                "type": IMAGE_TYPES[n],
                "sort_order": n,
            }
            for n in range(rng.randint(2, 4))
        ]

    # -- authentication ----------------------------------------------------------------

    def login(self, request):
        body = request.get_json(silent=True)
        if not isinstance(body, dict) or not {"username", "password"} <= set(body):
            return json_response({"detail": "username and password are required"}, 422)
        if body["username"] != self.username or body["password"] != self.password:
            return json_response({"detail": "Invalid credentials"}, 401)
        token = secrets.token_urlsafe(32)
        with self.lock:
            self.state["tokens"][token] = time.time() + self.token_ttl
        return json_response(
            {"access_token": token, "token_type": "bearer", "expires_in": self.token_ttl}
        )

    def not_authenticated(self, request):
        """A 401 unless the request carries a live token, else None."""
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        with self.lock:
            expiry = self.state["tokens"].get(token)
        if scheme.lower() == "bearer" and expiry is not None and time.time() < expiry:
            return None
        return json_response(
            {"detail": "Not authenticated"}, 401, headers={"WWW-Authenticate": "Bearer"}
        )

    # -- products ----------------------------------------------------------------------

    def list_products(self, request):
        denied = self.not_authenticated(request)
        if denied:
            return denied
        page = positive_int(request.args.get("page", "1"))
        if page is None:
            return json_response({"detail": "page must be an integer of at least 1"}, 422)
        page_size = positive_int(request.args.get("page_size", str(DEFAULT_PAGE_SIZE)))
        if page_size is None or page_size > MAX_PAGE_SIZE:
            return json_response(
                {"detail": f"page_size must be an integer from 1 to {MAX_PAGE_SIZE}"}, 422
            )
        since = None
        if "updated_since" in request.args:
            since = parse_timestamp(request.args["updated_since"])
            if since is None:
                return json_response(
                    {"detail": "updated_since must be an ISO 8601 date-time"}, 422
                )
        if page == self.faults["fail_page"]:
            return json_response({"detail": "Internal server error"}, 500)

        with self.lock:
            indexes = range(1, self.catalog_size + 1)
            if since is not None or self.state["removed"]:
                indexes = [
                    index for index in indexes
                    if self.code(index) not in self.state["removed"]
                    and (since is None or self.updated_at(index) > since)
                ]
            start = (page - 1) * page_size
            items = [self.product(index) for index in indexes[start:start + page_size]]
        total = len(indexes)
        return json_response({
            "items": items,
            "page": page,
            "page_size": page_size,
            "total": total,
            "next_page": page + 1 if start + page_size < total else None,
        })

    def get_product(self, request, code):
        denied = self.not_authenticated(request)
        if denied:
            return denied
        with self.lock:
            index = self.index_of(code)
            if index is None:
                return json_response({"detail": "Product not found"}, 404)
            return json_response(self.product(index))

    def image(self, request, name):
        match = IMAGE_NAME.fullmatch(name)
        with self.lock:
            index = self.index_of(match.group("code")) if match else None
            images = self.product(index)["images"] if index else []
        n = int(match.group("n")) if match else -1
        if not 0 <= n < len(images):
            return json_response({"detail": "Image not found"}, 404)
        color = images[n]["color"]
        if color:
            rgb = COLORS[color][1]
        else:
            checksum = zlib.crc32(name.encode())
            rgb = (checksum & 0xFF, checksum >> 8 & 0xFF, checksum >> 16 & 0xFF)
        return Response(picture(rgb, self.image_size), mimetype="image/png")

    # -- control paths -----------------------------------------------------------------

    def control_touch(self, request):
        body = request.get_json(silent=True)
        count = body.get("count") if isinstance(body, dict) else None
        codes = body.get("codes") if isinstance(body, dict) else None
        if not isinstance(count, int) and not isinstance(codes, list):
            return json_response({"detail": 'send {"codes": [...]} or {"count": N}'}, 422)
        with self.lock:
            if isinstance(count, int):
                present = [
                    self.code(index) for index in range(1, self.catalog_size + 1)
                    if self.code(index) not in self.state["removed"]
                ]
                codes = sorted(self.random.sample(present, max(0, min(count, len(present)))))
            else:
                unknown = [code for code in codes if self.index_of(code) is None]
                if unknown:
                    return json_response({"detail": f"unknown product codes: {unknown}"}, 422)
            now = datetime.now(UTC)
            for code in codes:
                revision = self.state["revisions"].get(code, (0, None))[0]
                self.state["revisions"][code] = (revision + 1, now)
        return json_response({"touched": codes, "updated_at": timestamp(now)})

    def control_remove(self, request):
        body = request.get_json(silent=True)
        codes = body.get("codes") if isinstance(body, dict) else None
        if not isinstance(codes, list):
            return json_response({"detail": 'send {"codes": [...]}'}, 422)
        with self.lock:
            unknown = [code for code in codes if self.index_of(code) is None]
            if unknown:
                return json_response({"detail": f"unknown product codes: {unknown}"}, 422)
            self.state["removed"].update(codes)
        return json_response({"removed": codes})

    def control_expire_tokens(self, request):
        with self.lock:
            expired = len(self.state["tokens"])
            self.state["tokens"].clear()
        return json_response({"expired": expired})


def positive_int(text):
    try:
        number = int(text)
    except ValueError:
        return None
    return number if number >= 1 else None


def parse_timestamp(text):
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    # A time without an offset is read as UTC.
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


@functools.lru_cache(maxsize=64)
def picture(rgb, size):
    """A deterministic PNG: a flat colour when small, shaded like a photo when large."""
    base = Image.new("RGB", (size, size), rgb)
    if size > 64:
        shade = Image.merge("RGB", [
            Image.linear_gradient("L").resize((size, size)),
            Image.radial_gradient("L").resize((size, size)),
            Image.linear_gradient("L").rotate(90).resize((size, size)),
        ])
        base = Image.blend(base, shade, 0.5)
    buffer = io.BytesIO()
    base.save(buffer, "PNG")
    return buffer.getvalue()

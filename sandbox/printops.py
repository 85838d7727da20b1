"""A fake PrintOps, the print-on-demand service described in printops-api.txt.

Every endpoint of the spec is served under `api/...`, behind `Authorization: Bearer
<token>`, and answers in the spec's envelope `{"data", "status", "code", "messages"}`;
lists add the spec's `links` and `meta`. Every API answer carries `x-ratelimit-limit`
and `x-ratelimit-remaining`; over the limit it is a 429 with `Retry-After`.

Where the spec is silent the fake chooses, and says so here:
- 401, 422, 429, 500 and 405 answers use the same envelope, `data.message` saying why;
  a 422 also lists every problem in `data.errors` (by field) and in `messages`.
- A webhook is created with the spec's `type` and `is_active` (a string: "true",
  "false", "1" or "0") and nothing else: any other field, or a field of another JSON
  type, is a 422. Webhooks have no URL: every delivery goes to the account's delivery
  URL, which the account's owner enters in PrintOps (here: the `webhook_url` option or
  `POST /_sandbox/delivery-url`); without one nothing is delivered.
- Webhook deliveries POST `{"type", "webhook_id", "store_id", "order_id", "state",
  "created_at", "order"}`, where `order` is the order as `GET .../orders/{id}` shows it;
  an `order_shipment` delivery adds `shipments`.
- Creating an image from a URL stores the URL and never fetches it: the image exists at
  once (its pixel size is made up from the URL) and `image_id` names it.
- Canceling a shipped or already canceled order answers 422; any other order becomes
  `canceled` at once.
- Thumbnails are served by the fake itself at `{public_base}/printops/thumbnails/...`.

Options (all optional; unknown ones are ignored):
- `api_token`: the accepted token ("demo-printops-token").
- `catalog_size`: base products in the catalog (40): the 17 the spec shows, then
  generated framed prints, canvases, metal and acrylic prints (88 at most).
- `page_size`: the default `limit` of every list (15).
- `rate_limit`, `rate_window`: requests per rolling window in seconds (60 per 60).
- `clock`: a callable returning seconds, for tests that move time.
- `webhook_url`: the account's delivery URL, where every webhook is delivered.
- `public_base`: the sandbox's own URL, which links and thumbnails point at.

Fault switches, on top of the common ones: `fail_path` (a path prefix such as
"/api/stores/786322/orders": those requests answer 500 while it is set).

Control paths, besides the common ones (no auth, never faulted):
- `POST /_sandbox/remove-base-products` `{"ids": [...]}`: unlisted and 404 from now on.
- `POST /_sandbox/change-base-product` `{"id", "price"}`: a new price.
- `POST /_sandbox/delivery-url` `{"url": ...}`: sets the account's delivery URL, as its
  owner would in PrintOps (`null` removes it).
- `POST /_sandbox/send-webhook` `{"event", "store_id", "order_id"}` (and optionally
  `"state"`, set on the order first): delivers the event to every active webhook of that
  type; answers `{"deliveries": [{"webhook_id", "url", "status", "error"}]}`.
- `POST /_sandbox/place-order` `{"store_id", "lines": [{"user_product_id", "quantity"}],
  "count"}` (lines and count optional: by default one line of each of the store's user
  products): a buyer's order in the store, `payment_pending`, one fulfillment holding
  every line item; answers `{"order_ids": [...]}`.
- `POST /_sandbox/ship-order` `{"store_id", "order_id", "carrier", "tracking_number"}`
  (carrier and tracking optional): records a shipment of the order's fulfillment, moves
  the order to `shipped` and delivers `order_shipment` as send-webhook does.
- `GET /_sandbox/state`: everything the fake holds.
"""

import copy
import io
import math
import re
import string
import time
import zlib
from collections import deque
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal
from math import gcd
from random import Random

import requests
from PIL import Image
from werkzeug.exceptions import HTTPException, NotFound
from werkzeug.http import HTTP_STATUS_CODES
from werkzeug.routing import Rule
from werkzeug.wrappers import Response

from sandbox.base import Fake, json_response

WEBHOOK_TYPES = ("order_state_update", "order_shipment")
# The fields of the spec's create-webhook body; nothing else is taken.
WEBHOOK_FIELDS = ("type", "is_active")
SCALE_OPTIONS = ("fit", "fill", "stretch", "noscale")
UNCANCELABLE_STATES = ("shipped", "canceled")
FILENAME = re.compile(r"[\w,\s-]+\.(jpg|jpeg|png)", re.IGNORECASE)
TOKEN_ALPHABET = string.ascii_letters + string.digits
CENT = Decimal("0.01")
# How many page numbers meta.links shows on each side of the current page.
ON_EACH_SIDE = 3

POSTER_PAPER = ("Sappi McCoy 80lb/216gsm Coated Cover", 0.009)
LARGE_POSTER_PAPER = ("Canon Oce 46lb Bond", 0.008)


def spec_product(id, sku, width, height, ratio, ratio_decimal, weight, price, *,
                 name=None, description=None, category=1, type="poster_sm",
                 paper=POSTER_PAPER):
    """A base product exactly as the spec shows it."""
    return {
        "id": id,
        "sku": sku,
        "name": name or f"{width} x {height} Print",
        "product_category": category,
        "type": type,
        "description": description or f"{width}x{height} Poster Print",
        "properties": {
            "ratio": ratio,
            "width": width,
            "height": height,
            "weight": weight,
            "paperType": paper[0],
            "thickness": paper[1],
            "ratio_decimal": ratio_decimal,
        },
        "price": price,
        "ships_alone": False,
    }


SPEC_BASE_PRODUCTS = [
    spec_product(1, "PP08", 8, 10, "4:5", 0.8, 0.037, "2.25"),
    # The spec gives this one's width and height the other way round; kept as shown.
    spec_product(2, "PP07", 11, 8.5, "17:22", 0.773, 0.044, "2.40",
                 name="8.5 x 11 Print", description="8.5x11 Poster Print"),
    spec_product(3, "PP09", 9, 12, "3:4", 0.75, 0.05, "2.63"),
    spec_product(4, "PP10", 11, 14, "11:14", 0.786, 0.071, "2.78"),
    spec_product(5, "PP11", 11, 17, "11:17", 0.647, 0.087, "3.00"),
    spec_product(6, "PP12", 12, 16, "3:4", 0.75, 0.089, "3.38"),
    spec_product(7, "PP13", 12, 18, "2:3", 0.666, 0.1, "3.75"),
    spec_product(8, "PP14", 14, 20, "7:10", 0.7, 0.13, "4.00"),
    spec_product(9, "PP16", 16, 20, "4:5", 0.8, 0.148, "4.50"),
    spec_product(10, "PP15", 16, 24, "2:3", 0.666, 0.178, "5.00"),
    spec_product(11, "PP17", 17, 22, "17:22", 0.773, 0.173, "5.25"),
    spec_product(12, "PP18", 18, 24, "3:4", 0.75, 0.2, "6.00"),
    spec_product(13, "PP19", 18, 27, "2:3", 0.666, 0.225, "6.75",
                 description="18 x 27 Poster Print"),
    spec_product(14, "PP20", 20, 30, "2:3", 0.666, 0.278, "11.00",
                 type="poster_lg", paper=LARGE_POSTER_PAPER),
    spec_product(15, "PP24", 24, 36, "2:3", 0.666, 0.4, "15.00",
                 type="poster_lg", paper=LARGE_POSTER_PAPER),
    spec_product(50, "FB12", 12, 16, "3:4", 0.75, 2.5, "29.00", category=5,
                 name="12 x 16 Black Framed Print",
                 description="12x16 Black Framed Poster Print"),
    spec_product(102, "PP06", 6, 8, "3:4", 0.75, 0.02, "2.25"),
]

# product_category -> (SKU prefix, name, description, (paper, thickness),
#                      price: (base, per square inch), weight: (base, per square inch))
GENERATED_CATEGORIES = {
    5: ("FB", "Black Framed Print", "Black Framed Poster Print", POSTER_PAPER,
        ("15.00", "0.0729"), (0.8, 0.0089)),
    3: ("FW", "White Framed Print", "White Framed Poster Print", POSTER_PAPER,
        ("15.00", "0.0729"), (0.8, 0.0089)),
    2: ("CV", "Canvas", "Gallery Wrapped Canvas", ("Poly-Cotton Blend Canvas 400gsm", 0.75),
        ("18.00", "0.06"), (0.5, 0.006)),
    4: ("MP", "Metal Print", "Aluminum Metal Print", ("Aluminum Sheet 0.045in", 0.045),
        ("20.00", "0.09"), (0.3, 0.008)),
    6: ("FC", "Framed Canvas", "Floating Frame Canvas", ("Poly-Cotton Blend Canvas 400gsm", 1.5),
        ("35.00", "0.08"), (1.2, 0.009)),
    7: ("AP", "Acrylic Print", "Face Mounted Acrylic Print", ("Acrylic 0.25in", 0.25),
        ("40.00", "0.11"), (0.9, 0.012)),
}
GENERATED_FIRST_ID = 16
GENERATED_SIZES = [
    (8, 10), (11, 14), (12, 16), (12, 18), (16, 20), (16, 24),
    (18, 24), (20, 24), (20, 30), (24, 30), (24, 36), (30, 40),
]

SHIPPING_METHODS = [
    ("UPS", "UPS Standard℠", "ups_standard"),
    ("UPS", "UPS® Ground", "ups_ground"),
    ("UPS", "UPS Saver®", "ups_saver"),
    ("UPS", "UPS Three-Day Select®", "ups_3_day_select"),
    ("UPS", "UPS Second Day Air®", "ups_second_day_air"),
    ("UPS", "UPS Second Day Air A.M.®", "ups_second_day_air_am"),
    ("UPS", "UPS Next Day Air®", "ups_next_day_air"),
    ("UPS", "UPS Next Day Air Saver®", "ups_next_day_air_saver"),
    ("UPS", "UPS Next Day Air Early A.M.®", "ups_next_day_air_early_am"),
    ("UPS", "UPS Mail Innovations (domestic)", "ups_mail_innovations_domestic"),
    ("UPS", "UPS Express®", "ups_express"),
    ("UPS", "UPS Express Plus®", "ups_express_plus"),
    ("UPS", "UPS Expedited®", "ups_expedited"),
    ("USPS", "USPS Priority Mail", "usps_priority"),
    ("USPS", "USPS Priority Mail Express", "usps_priority_express"),
    ("USPS", "USPS First Class", "usps_first"),
    ("USPS", "USPS Parcel Select", "usps_parcel_select"),
    ("USPS", "USPS Media Mail", "usps_media_mail"),
    ("USPS", "USPS International Priority", "usps_priority_mail_international"),
    ("USPS", "USPS International Express", "usps_priority_mail_express_international"),
    ("USPS", "USPS International First", "usps_first_class_package_international_service"),
    ("FedEx", "Ground", "fedex_ground"),
    ("FedEx", "Home Delivery", "fedex_home_delivery"),
    ("FedEx", "Smartpost", "fedex_smart_post"),
    ("FedEx", "2 Day", "fedex_2_day"),
    ("FedEx", "2 Day A.M.", "fedex_2_day_am"),
    ("FedEx", "Express Saver", "fedex_express_saver"),
    ("FedEx", "Standard Overnight", "fedex_standard_overnight"),
    ("FedEx", "Priority Overnight", "fedex_priority_overnight"),
    ("FedEx", "First Overnight", "fedex_first_overnight"),
    ("FedEx", "International Economy", "fedex_international_economy"),
    ("FedEx", "International Priority", "fedex_international_priority"),
    ("FedEx", "International First", "fedex_international_first"),
    ("FedEx", "Europe First International Priority",
     "fedex_europe_first_international_priority"),
    ("Flat", "Flat Rate", "flat_rate"),
    ("USPS", "USPS Ground Advantage", "usps_ground_advantage"),
    ("USPS", "GlobalPost Economy Intl", "globalpost_economy_international"),
    ("USPS", "GlobalPost Standard Intl", "globalpost_standard_international"),
    ("USPS", "GlobalPost Plus", "globalpost_plus"),
    ("generic", "Generic", "generic"),
    ("generic", "Local Pickup", "local_pickup"),
]

SEED_STORES = [
    {"id": 786321, "name": "My First Store", "type": "generic", "is_live": True,
     "dropbox_name": None},
    {"id": 786322, "name": "Best Posters LLC", "type": "generic", "is_live": True,
     "dropbox_name": None},
]


def spec_image(id, original_name, pixel_width, pixel_height, native_width, native_height,
               aspect_ratio, resolution, image_token, created_at, updated_at):
    return {
        "id": id, "original_name": original_name,
        "pixel_width": pixel_width, "pixel_height": pixel_height,
        "native_width": native_width, "native_height": native_height,
        "aspect_ratio": aspect_ratio, "resolution": resolution,
        "extension": original_name.rsplit(".", 1)[-1], "image_token": image_token,
        "created_at": created_at, "updated_at": updated_at,
    }


SEED_IMAGES = [
    spec_image(1, "_VC_3717.JPG", 1920, 2880, "26.67", "40.00", "0.66675", "72.00",
               "zTeRYWVWFSULPghhT2gaJsoiBJRnQAtN",
               "2025-02-16T20:27:29.000000Z", "2025-02-16T20:27:44.000000Z"),
    spec_image(2, "18x24_blue_poster.jpeg", 3307, 3306, "11.02", "11.02", "1", "300.00",
               "wNS5PKUQeHhr988Kh9XTBJz7npvZC1UZ",
               "2025-02-16T21:15:53.000000Z", "2025-02-16T21:16:26.000000Z"),
    spec_image(20, "ARSH-IceSkaters-18x24-WhtFrame_wBorder.jpg", 9000, 12000, "30.00",
               "40.00", "0.75", "300.00", "NuAKklZrtqoHilz5mtpf8IuikqHiB6bXR",
               "2025-07-23T19:58:04.000000Z", "2025-07-23T19:58:07.000000Z"),
    spec_image(210, "IMG_9711.jpeg", 3848, 3024, "53.44", "42.00", "1.272380952381", "72.00",
               "8z3dV3QqLeejvYF3X9qhAU8QR3cmkEqD",
               "2025-10-23T21:31:25.000000Z", "2025-10-23T21:32:31.000000Z"),
    spec_image(211, "IMG_9711.jpeg", 3848, 3024, "53.44", "42.00", "1.272380952381", "72.00",
               "Pb7QUsswMeWON7hJLRdhMCoKM2fI7cD4",
               "2025-10-23T21:32:48.000000Z", "2025-10-23T21:33:41.000000Z"),
]

# Stored user products name their base product and image by id.
SEED_USER_PRODUCTS = [
    {"id": 47230, "store_id": 786322, "base_product_id": 102, "image_id": 1,
     "user_sku": "134", "name": "134", "scale_option": "fit", "description": "134"},
    {"id": 47231, "store_id": 786322, "base_product_id": 9, "image_id": 2,
     "user_sku": "poster_16x20", "name": "poster", "scale_option": "fill",
     "description": "poster"},
    {"id": 48604, "store_id": 786321, "base_product_id": 6, "image_id": 210,
     "user_sku": "pacific_sunset_12x16", "name": "Pacific Sunset 12x16",
     "scale_option": "fill", "description": "Beautiful sunset on Cannon Beach in Oregon"},
    {"id": 48605, "store_id": 786321, "base_product_id": 12, "image_id": 211,
     "user_sku": "pacific_sunset_18x24", "name": "Pacific Sunset 18x24",
     "scale_option": "fill", "description": "Beautiful sunset on Cannon Beach in Oregon"},
]

OAK_VALLEY = {
    "order_id": None, "company": "PrintOps, LLC.", "first_name": "John",
    "last_name": "Von Colln", "address_1": "111 Oak Valley Drive", "address_2": None,
    "city": "Nashville", "state": "Tennessee", "postal_code": "37207", "country": "US",
    "phone": "6153208900",
}
SAUNDERS_AVENUE = {
    "order_id": None, "company": "Cumberland Graphics, Inc.", "first_name": "John",
    "last_name": "Von Colln", "address_1": "3840 Saunders Avenue", "address_2": None,
    "city": "Nashville", "state": "TN", "postal_code": "37216", "country": "US",
    "phone": "6155541886",
}


def seed_order(id, store_id, state, external_order_id, line_item, fulfillment_id, carton_id,
               total, address):
    """A stored order; line items name their user product by id."""
    line_item_id, user_product_id, quantity, unit_price = line_item
    return {
        "id": id, "store_id": store_id, "type": "standard", "state": state,
        "is_live": None, "requested_shipping": "usps_ground_advantage",
        "estimated_ship_date": "2025-02-19", "external_order_id": external_order_id,
        "packing_slip_url": None, "shipping_label_url": None, "canceled_at": None,
        "closed_at": None, "cancel_reason": None, "remote_ip": None,
        "total_item_count": None, "gift_message": None,
        "line_items": [{
            "id": line_item_id, "quantity": quantity, "unit_price": unit_price,
            "total_price": quantity * unit_price, "scale_option": None,
            "user_product_id": user_product_id,
        }],
        "shipping_address": dict(address),
        "fulfillments": [{
            "id": fulfillment_id, "carton_id": carton_id, "total_quantity": quantity,
            "line_item_ids": [line_item_id],
        }],
        "order_total": total,
        "order_notes": [],
        "order_events": [],
    }


def order_total(id, line_items_total, shipping_total, tax_total):
    fulfillment_total = 300
    return {
        "id": id, "line_items_total": line_items_total, "fulfillment_total": fulfillment_total,
        "handling": None, "shipping_total": shipping_total, "subtotal": None,
        "tax_total": tax_total,
        "grand_total": line_items_total + fulfillment_total + shipping_total + tax_total,
    }


SEED_ORDERS = [
    seed_order(320100, 786322, "payment_pending", "MAN37660_WML", (1, 47230, 1, 225),
               621500, 1, order_total(2, 225, 430, 88), OAK_VALLEY),
    seed_order(320101, 786322, "shipped", "MAN81955_GVH", (2, 47231, 1, 450),
               621501, 3, order_total(7, 450, 550, 120), SAUNDERS_AVENUE),
    seed_order(320102, 786321, "payment_pending", "MAN40112_PSS", (3, 48604, 2, 338),
               621502, 4, order_total(9, 676, 430, 112), OAK_VALLEY),
    seed_order(320103, 786321, "shipped", "MAN40187_PSL", (4, 48605, 1, 600),
               621503, 5, order_total(11, 600, 550, 129), SAUNDERS_AVENUE),
]

SEED_SHIPMENTS = [
    {"id": 3, "order_id": 320101, "fulfillment_id": 621501, "shipping_carrier": "USPS",
     "shipping_carrier_identifier": "usps", "shipping_method": "USPS Ground Advantage",
     "shipping_method_identifier": "usps_ground_advantage", "price": 1100,
     "tracking_number": "9434611206219544571716", "weight": "16.00", "voided_on": None,
     "created_at": "2025-02-17T17:51:08.000000Z"},
    {"id": 4, "order_id": 320103, "fulfillment_id": 621503, "shipping_carrier": "UPS",
     "shipping_carrier_identifier": "ups", "shipping_method": "UPS® Ground",
     "shipping_method_identifier": "ups_ground", "price": 1350,
     "tracking_number": "1Z999AA10123456784", "weight": "24.00", "voided_on": None,
     "created_at": "2025-02-18T15:02:44.000000Z"},
]


def generated_products(count, seeded):
    """`count` deterministic base products: each size in every generated category.

    Their ids follow the spec's 1..15, skipping ids and (category, size) pairs that the
    seeded products already have.
    """
    taken_ids = {product["id"] for product in seeded}
    taken_sizes = {
        (product["product_category"], product["properties"]["width"],
         product["properties"]["height"])
        for product in seeded
    }
    products = []
    next_id = GENERATED_FIRST_ID
    for width, height in GENERATED_SIZES:
        for category, (prefix, kind, description, paper, price, weight) in (
            GENERATED_CATEGORIES.items()
        ):
            if len(products) == count:
                return products
            if (category, width, height) in taken_sizes:
                continue
            while next_id in taken_ids:
                next_id += 1
            area = width * height
            divisor = gcd(width, height)
            products.append({
                "id": next_id,
                "sku": f"{prefix}{width:02d}{height:02d}",
                "name": f"{width} x {height} {kind}",
                "product_category": category,
                "type": "poster_lg" if max(width, height) >= 30 else "poster_sm",
                "description": f"{width}x{height} {description}",
                "properties": {
                    "ratio": f"{width // divisor}:{height // divisor}",
                    "width": width,
                    "height": height,
                    "weight": round(weight[0] + weight[1] * area, 3),
                    "paperType": paper[0],
                    "thickness": paper[1],
                    "ratio_decimal": round(width / height, 3),
                },
                "price": money(Decimal(price[0]) + Decimal(price[1]) * area),
                "ships_alone": max(width, height) >= 30,
            })
            next_id += 1
    return products


def money(amount):
    return str(Decimal(str(amount)).quantize(CENT, rounding=ROUND_HALF_UP))


def timestamp(moment):
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def now():
    return datetime.now(UTC).replace(microsecond=0)


def positive_int(value):
    """The value as an integer of at least 1, else None (numeric strings count)."""
    if isinstance(value, bool):
        return None
    try:
        number = int(value)
    except (TypeError, ValueError):
        return None
    if isinstance(value, float) and value != number:
        return None
    return number if number >= 1 else None


def as_boolean(value):
    """True or False for the spellings of a boolean the spec accepts, else None."""
    # True == 1 and False == 0, so the keys True and False also cover 1 and 0.
    spellings = {True: True, False: False, "1": True, "0": False, "true": True, "false": False}
    if isinstance(value, str):
        value = value.lower()
    if not isinstance(value, str | bool | int):
        return None
    return spellings.get(value)


def is_url(value):
    return isinstance(value, str) and re.fullmatch(r"https?://[^\s/]+\S*", value) is not None


def envelope(data, code=200, status=None, messages=(), headers=None, **extra):
    """An answer in the spec's envelope; `extra` (links, meta) goes between data and status."""
    body = {"data": data, **extra, "status": status or HTTP_STATUS_CODES.get(code, "Error"),
            "code": code, "messages": list(messages)}
    return json_response(body, code, headers=headers)


def error(code, message, headers=None):
    return envelope({"message": message}, code, headers=headers)


def not_found(resource):
    return error(404, f"The {resource} record was not found.")


def invalid(errors):
    messages = [message for field_messages in errors.values() for message in field_messages]
    return envelope({"message": "The given data was invalid.", "errors": errors}, 422,
                    messages=messages)


def page_numbers(current, last):
    """The page numbers, and "..." gaps, that meta.links lists (windowed as the spec shows)."""
    if last < ON_EACH_SIDE * 2 + 8:
        return list(range(1, last + 1))
    window = ON_EACH_SIDE + 4
    start, finish = [1, 2], [last - 1, last]
    if current <= window:
        return [*range(1, window + ON_EACH_SIDE + 1), "...", *finish]
    if current > last - window:
        return [*start, "...", *range(last - (window + ON_EACH_SIDE - 1), last + 1)]
    adjacent = range(current - ON_EACH_SIDE, current + ON_EACH_SIDE + 1)
    return [*start, "...", *adjacent, "...", *finish]


class PrintOpsFake(Fake):
    rules = [
        Rule("/api/base-products", endpoint="list_base_products", methods=["GET"]),
        Rule("/api/base-products/<int:product_id>", endpoint="get_base_product",
             methods=["GET"]),
        Rule("/api/authentication-test", endpoint="authentication_test", methods=["GET"]),
        Rule("/api/shipping-methods", endpoint="list_shipping_methods", methods=["GET"]),
        Rule("/api/stores", endpoint="list_stores", methods=["GET"]),
        Rule("/api/stores", endpoint="create_store", methods=["POST"]),
        Rule("/api/stores/<int:store_id>", endpoint="get_store", methods=["GET"]),
        Rule("/api/images", endpoint="list_images", methods=["GET"]),
        Rule("/api/images", endpoint="create_image", methods=["POST"]),
        Rule("/api/images/<int:image_id>", endpoint="get_image", methods=["GET"]),
        Rule("/api/stores/<int:store_id>/user-products", endpoint="list_user_products",
             methods=["GET"]),
        Rule("/api/stores/<int:store_id>/user-products", endpoint="create_user_product",
             methods=["POST"]),
        Rule("/api/stores/<int:store_id>/user-products/<int:user_product_id>",
             endpoint="get_user_product", methods=["GET"]),
        Rule("/api/stores/<int:store_id>/orders", endpoint="list_orders", methods=["GET"]),
        Rule("/api/stores/<int:store_id>/orders/<int:order_id>", endpoint="get_order",
             methods=["GET"]),
        Rule("/api/stores/<int:store_id>/orders/<int:order_id>/cancel",
             endpoint="cancel_order", methods=["POST"]),
        Rule("/api/stores/<int:store_id>/shipments", endpoint="list_shipments",
             methods=["GET"]),
        Rule("/api/stores/<int:store_id>/shipments/<int:shipment_id>",
             endpoint="get_shipment", methods=["GET"]),
        Rule("/api/webhooks", endpoint="list_webhooks", methods=["GET"]),
        Rule("/api/webhooks", endpoint="create_webhook", methods=["POST"]),
        Rule("/api/webhooks/<int:webhook_id>", endpoint="get_webhook", methods=["GET"]),
        Rule("/api/webhooks/<int:webhook_id>", endpoint="delete_webhook",
             methods=["DELETE"]),
        Rule("/thumbnails/<name>", endpoint="thumbnail", methods=["GET"]),
        Rule("/_sandbox/remove-base-products", endpoint="control_remove_base_products",
             methods=["POST"]),
        Rule("/_sandbox/change-base-product", endpoint="control_change_base_product",
             methods=["POST"]),
        Rule("/_sandbox/send-webhook", endpoint="control_send_webhook", methods=["POST"]),
        Rule("/_sandbox/place-order", endpoint="control_place_order", methods=["POST"]),
        Rule("/_sandbox/ship-order", endpoint="control_ship_order", methods=["POST"]),
        Rule("/_sandbox/delivery-url", endpoint="control_delivery_url", methods=["POST"]),
        Rule("/_sandbox/state", endpoint="control_state", methods=["GET"]),
    ]
    extra_faults = {"fail_path": None}

    def __init__(self, **options):
        self.clock = options.get("clock", time.monotonic)
        super().__init__(**options)

    def seed(self):
        options = self.options
        self.api_token = options.get("api_token", "demo-printops-token")
        self.page_size = options.get("page_size", 15)
        self.rate_limit = options.get("rate_limit", 60)
        self.rate_window = options.get("rate_window", 60)
        self.public_base = (options.get("public_base") or "").rstrip("/")
        catalog_size = options.get("catalog_size", 40)
        base_products = copy.deepcopy(SPEC_BASE_PRODUCTS)
        base_products += generated_products(
            max(0, catalog_size - len(base_products)), base_products
        )
        self.api_calls = deque()
        # Apart from self.random, so that tokens do not shift the error_rate draws.
        self.token_random = Random(5678)
        self.state = {
            "base_products": {product["id"]: product for product in base_products},
            "removed_base_products": set(),
            "stores": {store["id"]: store for store in copy.deepcopy(SEED_STORES)},
            "store_addresses": {},
            "images": {image["id"]: image for image in copy.deepcopy(SEED_IMAGES)},
            "image_imports": [],
            "user_products": {row["id"]: row for row in copy.deepcopy(SEED_USER_PRODUCTS)},
            "orders": {order["id"]: order for order in copy.deepcopy(SEED_ORDERS)},
            "shipments": {
                shipment["id"]: shipment for shipment in copy.deepcopy(SEED_SHIPMENTS)
            },
            "webhooks": {},
            "delivery_url": options.get("webhook_url"),
            "deliveries": [],
            "next_ids": {"stores": 786323, "images": 212, "user_products": 48606,
                         "webhooks": 1, "orders": 320104, "line_items": 5,
                         "fulfillments": 621504, "shipments": 5, "order_totals": 12},
        }

    def new_id(self, table):
        row_id = self.state["next_ids"][table]
        self.state["next_ids"][table] += 1
        return row_id

    def new_token(self, length=32):
        return "".join(self.token_random.choice(TOKEN_ALPHABET) for _ in range(length))

    # -- dispatching: faults, rate limit, auth -----------------------------------------

    def dispatch(self, request):
        adapter = self.url_map.bind_to_environ(request.environ)
        try:
            endpoint, values = adapter.match()
        except NotFound:
            return error(404, "Not Found")
        except HTTPException as exc:
            allow = getattr(exc, "valid_methods", None)
            return error(exc.code, exc.description,
                         headers={"Allow": ", ".join(allow)} if allow else None)
        handler = getattr(self, endpoint)
        if endpoint.startswith("control_") or endpoint == "thumbnail":
            return handler(request, **values)
        fault = self.injected_fault(request)
        if fault is not None:
            return fault
        wait, remaining = self.count_call()
        limit_headers = {"x-ratelimit-limit": str(self.rate_limit),
                         "x-ratelimit-remaining": str(remaining)}
        if wait is not None:
            return error(429, "Too Many Attempts.",
                         headers={**limit_headers, "Retry-After": str(wait)})
        if not self.authenticated(request):
            response = error(401, "Unauthenticated.")
        else:
            response = handler(request, **values)
        response.headers.update(limit_headers)
        return response

    def injected_fault(self, request):
        fault = super().injected_fault(request)
        if fault is not None and fault.status_code == 429:
            return error(429, "Too Many Attempts.", headers={
                "Retry-After": fault.headers["Retry-After"],
                "x-ratelimit-limit": str(self.rate_limit), "x-ratelimit-remaining": "0",
            })
        if fault is not None and fault.status_code == 500:
            return error(500, "Server Error")
        if fault is not None:
            return fault  # a malformed body stays malformed
        prefix = self.faults["fail_path"]
        if prefix and request.path.startswith("/" + prefix.lstrip("/")):
            return error(500, "Server Error")
        return None

    def count_call(self):
        """Count this call against the rolling window: (seconds to wait or None, remaining)."""
        with self.lock:
            moment = self.clock()
            while self.api_calls and self.api_calls[0] <= moment - self.rate_window:
                self.api_calls.popleft()
            if len(self.api_calls) >= self.rate_limit:
                wait = max(1, math.ceil(self.api_calls[0] + self.rate_window - moment))
                return wait, 0
            self.api_calls.append(moment)
            return None, self.rate_limit - len(self.api_calls)

    def authenticated(self, request):
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        return scheme.lower() == "bearer" and token.strip() == self.api_token

    # -- shapes ------------------------------------------------------------------------

    def root(self, request):
        """The URL this fake is reached at, which links and thumbnails start with."""
        return (self.public_base or request.host_url.rstrip("/")) + request.script_root

    def paged(self, request, key, rows):
        """One page of rows in the spec's list envelope, sized by `limit`, at `page`."""
        per_page = positive_int(request.args.get("limit")) or self.page_size
        page = positive_int(request.args.get("page")) or 1
        total = len(rows)
        last_page = max(1, math.ceil(total / per_page))
        start = (page - 1) * per_page
        items = rows[start:start + per_page]
        path = self.root(request) + request.path

        # As in the spec, the links carry only the page: not `limit`, not filters.
        def url(number):
            return f"{path}?page={number}"

        previous_url = url(page - 1) if page > 1 else None
        next_url = url(page + 1) if page < last_page else None
        meta_links = [{"url": previous_url, "label": "« Previous", "active": False}]
        for number in page_numbers(page, last_page):
            if number == "...":
                meta_links.append({"url": None, "label": "...", "active": False})
            else:
                meta_links.append(
                    {"url": url(number), "label": str(number), "active": number == page}
                )
        meta_links.append({"url": next_url, "label": "Next »", "active": False})
        return envelope(
            {key: items},
            links={"first": url(1), "last": url(last_page), "prev": previous_url,
                   "next": next_url},
            meta={"current_page": page, "from": start + 1 if items else None,
                  "last_page": last_page, "links": meta_links, "path": path,
                  "per_page": per_page, "to": start + len(items) if items else None,
                  "total": total},
        )

    def present_base_product(self, product_id):
        if product_id in self.state["removed_base_products"]:
            return None
        return self.state["base_products"].get(product_id)

    def thumbnail_url(self, request, image):
        return f"{self.root(request)}/thumbnails/{image['image_token']}.jpg"

    def user_product_json(self, request, row):
        image = self.state["images"].get(row["image_id"])
        return {
            "id": row["id"], "store_id": row["store_id"],
            "base_product_id": row["base_product_id"], "type": None,
            "external_product_id": None, "user_sku": row["user_sku"], "name": row["name"],
            "scale_option": row["scale_option"], "description": row["description"],
            # Removed base products still show inside the user products made from them.
            "base_product": dict(self.state["base_products"][row["base_product_id"]]),
            "image": dict(image) if image else None,
            "thumbnail": self.thumbnail_url(request, image) if image else None,
        }

    def order_shipments(self, order_id):
        return [dict(shipment) for shipment in self.state["shipments"].values()
                if shipment["order_id"] == order_id]

    def order_json(self, request, order):
        line_items = {
            item["id"]: {
                **{key: value for key, value in item.items() if key != "user_product_id"},
                "user_product": self.user_product_json(
                    request, self.state["user_products"][item["user_product_id"]]
                ),
            }
            for item in order["line_items"]
        }
        nested = ("line_items", "shipping_address", "fulfillments", "order_total",
                  "order_notes", "order_events")
        return {
            **{key: value for key, value in order.items() if key not in nested},
            "line_items": list(line_items.values()),
            "shipping_address": dict(order["shipping_address"]),
            "fulfillments": [
                {
                    "id": fulfillment["id"], "carton_id": fulfillment["carton_id"],
                    "total_quantity": fulfillment["total_quantity"],
                    "line_items": [
                        {key: value for key, value in line_items[item_id].items()
                         if key != "scale_option"}
                        for item_id in fulfillment["line_item_ids"]
                    ],
                }
                for fulfillment in order["fulfillments"]
            ],
            "shipments": {"shipments": self.order_shipments(order["id"])},
            "order_total": dict(order["order_total"]),
            "order_notes": list(order["order_notes"]),
            "order_events": list(order["order_events"]),
        }

    def webhook_json(self, webhook, is_active_as_boolean=False):
        # The spec lists is_active as 1/0 but echoes a created webhook's as true/false.
        is_active = webhook["is_active"] if is_active_as_boolean else int(webhook["is_active"])
        return {"id": webhook["id"], "is_active": is_active, "type": webhook["type"],
                "created_at": webhook["created_at"], "updated_at": webhook["updated_at"]}

    def import_image(self, image_url, filename):
        """The image record of an image imported from a URL, which is stored, not fetched."""
        checksum = zlib.crc32(image_url.encode())
        pixel_width, pixel_height = [(3600, 4800), (5400, 3600), (4800, 4800),
                                     (6000, 9000)][checksum % 4]
        created = timestamp(now())
        image = {
            "id": self.new_id("images"), "original_name": filename,
            "pixel_width": pixel_width, "pixel_height": pixel_height,
            "native_width": money(pixel_width / 300), "native_height": money(pixel_height / 300),
            "aspect_ratio": f"{pixel_width / pixel_height:.12g}", "resolution": "300.00",
            "extension": filename.rsplit(".", 1)[-1] if "." in filename else None,
            "image_token": self.new_token(), "created_at": created, "updated_at": created,
        }
        self.state["images"][image["id"]] = image
        return image

    def store_or_none(self, store_id):
        return self.state["stores"].get(store_id)

    # -- base products, authentication, shipping ---------------------------------------

    def list_base_products(self, request):
        category = request.args.get("product_category_id")
        with self.lock:
            rows = [
                dict(product)
                for product_id, product in sorted(self.state["base_products"].items())
                if product_id not in self.state["removed_base_products"]
                and (not category or str(product["product_category"]) == category)
            ]
        return self.paged(request, "base_products", rows)

    def get_base_product(self, request, product_id):
        with self.lock:
            product = self.present_base_product(product_id)
        if product is None:
            return not_found("base product")
        return envelope({"base_product": dict(product)})

    def authentication_test(self, request):
        return envelope({"message": ["Success - you are authenticated."]})

    def list_shipping_methods(self, request):
        return envelope({"shipping_methods": [
            {"shipping_carrier": carrier, "name": name, "identifier": identifier}
            for carrier, name, identifier in SHIPPING_METHODS
        ]})

    # -- stores ------------------------------------------------------------------------

    def list_stores(self, request):
        with self.lock:
            rows = [dict(store) for _, store in sorted(self.state["stores"].items())]
        return self.paged(request, "stores", rows)

    def get_store(self, request, store_id):
        with self.lock:
            store = self.store_or_none(store_id)
        if store is None:
            return not_found("store")
        return envelope({"store": dict(store)})

    def create_store(self, request):
        body = request_body(request)
        errors = {}
        for field in ("name", "type"):
            require_string(body, field, errors)
        address = body.get("shipping_address")
        if address is not None and not isinstance(address, dict):
            errors["shipping_address"] = ["The shipping address field must be an object."]
        elif address is not None and not isinstance(address.get("state"), str):
            errors["shipping_address.state"] = ["The shipping address.state field is required."]
        if errors:
            return invalid(errors)
        with self.lock:
            store = {"id": self.new_id("stores"), "name": body["name"], "type": body["type"],
                     "is_live": True, "dropbox_name": None}
            self.state["stores"][store["id"]] = store
            if address is not None:
                self.state["store_addresses"][store["id"]] = dict(address)
        return envelope({"store": dict(store)}, 201, status="created")

    # -- images ------------------------------------------------------------------------

    def list_images(self, request):
        with self.lock:
            rows = [dict(image) for _, image in sorted(self.state["images"].items())]
        return self.paged(request, "images", rows)

    def get_image(self, request, image_id):
        with self.lock:
            image = self.state["images"].get(image_id)
        if image is None:
            return not_found("image")
        return envelope({"image": dict(image)})

    def create_image(self, request):
        body = request_body(request)
        errors = {}
        if not is_url(body.get("image_url")):
            errors["image_url"] = ["The image url field must be a valid URL."]
        require_string(body, "filename", errors, max_length=255)
        if errors:
            return invalid(errors)
        with self.lock:
            image = self.import_image(body["image_url"], body["filename"])
            moment = now()
            image_import = {
                "image_url": body["image_url"], "filename": body["filename"],
                "image_token": image["image_token"],
                "downloaded_at": moment.strftime("%Y-%m-%d %H:%M:%S"),
                "processed_at": moment.strftime("%Y-%m-%d %H:%M:%S"),
                "errors": None, "image_id": image["id"],
                "created_at": timestamp(moment), "updated_at": timestamp(moment),
            }
            self.state["image_imports"].append(image_import)
        return envelope(dict(image_import), 201, status="created")

    # -- user products -----------------------------------------------------------------

    def list_user_products(self, request, store_id):
        category = request.args.get("product_category_id")
        with self.lock:
            if self.store_or_none(store_id) is None:
                return not_found("store")
            rows = [
                self.user_product_json(request, row)
                for _, row in sorted(self.state["user_products"].items())
                if row["store_id"] == store_id and (
                    not category or str(self.state["base_products"][row["base_product_id"]]
                                        ["product_category"]) == category
                )
            ]
        return self.paged(request, "user_products", rows)

    def get_user_product(self, request, store_id, user_product_id):
        with self.lock:
            if self.store_or_none(store_id) is None:
                return not_found("store")
            row = self.state["user_products"].get(user_product_id)
            if row is None or row["store_id"] != store_id:
                return not_found("user product")
            return envelope({"userProduct": self.user_product_json(request, row)})

    def create_user_product(self, request, store_id):
        body = request_body(request)
        with self.lock:
            if self.store_or_none(store_id) is None:
                return not_found("store")
            errors = self.user_product_errors(body)
            if errors:
                return invalid(errors)
            image_id = positive_int(body.get("image_id"))
            image = body.get("image")
            if image_id is None and isinstance(image, dict) and image.get("image_url"):
                image_id = self.import_image(image["image_url"], image["filename"])["id"]
            row = {
                "id": self.new_id("user_products"), "store_id": store_id,
                "base_product_id": positive_int(body["base_product_id"]),
                "image_id": image_id, "user_sku": body["user_sku"], "name": body["name"],
                "scale_option": body["scale_option"], "description": body["description"],
            }
            self.state["user_products"][row["id"]] = row
            data = {"userProduct": self.user_product_json(request, row)}
        # The spec's answer to a create has a list for `status` and for `code`.
        return json_response(
            {"data": data, "status": ["OK", "created"], "code": [201], "messages": []}, 201
        )

    def user_product_errors(self, body):
        errors = {}
        base_product_id = body.get("base_product_id")
        if base_product_id is None:
            errors["base_product_id"] = ["The base product id field is required."]
        elif positive_int(base_product_id) is None:
            errors["base_product_id"] = ["The base product id field must be an integer."]
        elif self.present_base_product(positive_int(base_product_id)) is None:
            errors["base_product_id"] = ["The selected base product id is invalid."]
        for field in ("name", "user_sku", "description"):
            require_string(body, field, errors, max_length=255 if field != "description" else None)
        if body.get("scale_option") not in SCALE_OPTIONS:
            errors["scale_option"] = [
                "The scale option field must be one of: " + ", ".join(SCALE_OPTIONS) + "."
            ]
        image_id = body.get("image_id")
        if image_id is not None and (
            positive_int(image_id) is None or positive_int(image_id) not in self.state["images"]
        ):
            errors["image_id"] = ["The selected image id is invalid."]
        image = body.get("image")
        if image is not None and not isinstance(image, dict):
            errors["image"] = ["The image field must be an object."]
        elif image is not None and image.get("image_url") is not None:
            if not is_url(image["image_url"]):
                errors["image.image_url"] = ["The image.image url field must be a valid URL."]
            filename = image.get("filename")
            if not isinstance(filename, str) or not filename:
                errors["image.filename"] = [
                    "The image.filename field is required when image.image url is present."
                ]
            elif len(filename) > 255 or not FILENAME.fullmatch(filename):
                errors["image.filename"] = ["The image.filename field format is invalid."]
        return errors

    # -- orders and shipments ----------------------------------------------------------

    def store_order(self, store_id, order_id):
        order = self.state["orders"].get(order_id)
        return order if order is not None and order["store_id"] == store_id else None

    def list_orders(self, request, store_id):
        with self.lock:
            if self.store_or_none(store_id) is None:
                return not_found("store")
            rows = [self.order_json(request, order)
                    for _, order in sorted(self.state["orders"].items())
                    if order["store_id"] == store_id]
        return self.paged(request, "orders", rows)

    def get_order(self, request, store_id, order_id):
        with self.lock:
            if self.store_or_none(store_id) is None:
                return not_found("store")
            order = self.store_order(store_id, order_id)
            if order is None:
                return not_found("order")
            return envelope({"order": self.order_json(request, order)})

    def cancel_order(self, request, store_id, order_id):
        with self.lock:
            if self.store_or_none(store_id) is None:
                return not_found("store")
            order = self.store_order(store_id, order_id)
            if order is None:
                return not_found("order")
            if order["state"] in UNCANCELABLE_STATES:
                return invalid({"order": [
                    f"The order cannot be canceled in its current state ({order['state']})."
                ]})
            order["state"] = "canceled"
            order["canceled_at"] = timestamp(now())
            order["cancel_reason"] = "Cancellation requested through the API."
        # The spec answers 201 with a body whose code says 200; both kept as shown.
        return json_response(
            {"data": {"message": "Cancellation request received."}, "status": "OK",
             "code": 200, "messages": []}, 201,
        )

    def list_shipments(self, request, store_id):
        with self.lock:
            if self.store_or_none(store_id) is None:
                return not_found("store")
            rows = [dict(shipment) for _, shipment in sorted(self.state["shipments"].items())
                    if self.state["orders"][shipment["order_id"]]["store_id"] == store_id]
        return self.paged(request, "shipments", rows)

    def get_shipment(self, request, store_id, shipment_id):
        with self.lock:
            if self.store_or_none(store_id) is None:
                return not_found("store")
            shipment = self.state["shipments"].get(shipment_id)
            if shipment is None or self.store_order(store_id, shipment["order_id"]) is None:
                return not_found("shipment")
            return envelope({"shipment": dict(shipment)})

    # -- webhooks ----------------------------------------------------------------------

    def list_webhooks(self, request):
        with self.lock:
            rows = [self.webhook_json(webhook)
                    for _, webhook in sorted(self.state["webhooks"].items())]
        return self.paged(request, "webhooks", rows)

    def get_webhook(self, request, webhook_id):
        with self.lock:
            webhook = self.state["webhooks"].get(webhook_id)
        if webhook is None:
            return not_found("webhook")
        return envelope({"webhook": self.webhook_json(webhook)})

    def create_webhook(self, request):
        body = request_body(request)
        errors = {
            name: [f"The {name.replace('_', ' ')} field is prohibited."]
            for name in body if name not in WEBHOOK_FIELDS
        }
        if not isinstance(body.get("type"), str):
            errors["type"] = ["The type field must be a string."]
        elif body["type"] not in WEBHOOK_TYPES:
            errors["type"] = ["The type field must be one of: " + ", ".join(WEBHOOK_TYPES) + "."]
        is_active = body.get("is_active", "true")
        if not isinstance(is_active, str):
            errors["is_active"] = ["The is active field must be a string."]
        elif as_boolean(is_active) is None:
            errors["is_active"] = ["The is active field must be true or false."]
        if errors:
            return invalid(errors)
        created = timestamp(now())
        with self.lock:
            webhook = {"id": self.new_id("webhooks"), "is_active": as_boolean(is_active),
                       "type": body["type"], "created_at": created, "updated_at": created}
            self.state["webhooks"][webhook["id"]] = webhook
        return envelope(self.webhook_json(webhook, is_active_as_boolean=True), 201,
                        status="created")

    def delete_webhook(self, request, webhook_id):
        with self.lock:
            if self.state["webhooks"].pop(webhook_id, None) is None:
                return not_found("webhook")
        return envelope({"message": "Webhook deleted"}, status="Success")

    # -- thumbnails --------------------------------------------------------------------

    def thumbnail(self, request, name):
        token = name.removesuffix(".jpg")
        with self.lock:
            known = name.endswith(".jpg") and any(
                image["image_token"] == token for image in self.state["images"].values()
            )
        if not known:
            return error(404, "Not Found")
        checksum = zlib.crc32(token.encode())
        rgb = (checksum & 0xFF, checksum >> 8 & 0xFF, checksum >> 16 & 0xFF)
        buffer = io.BytesIO()
        Image.new("RGB", (64, 64), rgb).save(buffer, "JPEG")
        return Response(buffer.getvalue(), mimetype="image/jpeg")

    # -- control paths -----------------------------------------------------------------

    def control_remove_base_products(self, request):
        body = request.get_json(silent=True)
        ids = body.get("ids") if isinstance(body, dict) else None
        if not isinstance(ids, list):
            return json_response({"detail": 'send {"ids": [...]}'}, 422)
        with self.lock:
            unknown = [product_id for product_id in ids
                       if self.present_base_product(product_id) is None]
            if unknown:
                return json_response({"detail": f"unknown base product ids: {unknown}"}, 422)
            self.state["removed_base_products"].update(ids)
        return json_response({"removed": ids})

    def control_change_base_product(self, request):
        body = request.get_json(silent=True)
        if not isinstance(body, dict) or "id" not in body or "price" not in body:
            return json_response({"detail": 'send {"id": ..., "price": ...}'}, 422)
        try:
            price = money(body["price"])
        except ArithmeticError:
            return json_response({"detail": "price must be a number"}, 422)
        with self.lock:
            product = self.present_base_product(body["id"])
            if product is None:
                return json_response({"detail": f"unknown base product id: {body['id']}"}, 422)
            product["price"] = price
            return json_response({"base_product": dict(product)})

    def control_send_webhook(self, request):
        body = request.get_json(silent=True)
        if not isinstance(body, dict) or body.get("event") not in WEBHOOK_TYPES:
            return json_response(
                {"detail": f'send {{"event": one of {list(WEBHOOK_TYPES)}, '
                           f'"store_id": ..., "order_id": ...}}'}, 422,
            )
        with self.lock:
            order = self.store_order(positive_int(body.get("store_id")),
                                     positive_int(body.get("order_id")))
            if order is None:
                return json_response({"detail": "no such order in that store"}, 404)
            if body.get("state"):
                order["state"] = body["state"]
        return json_response({"deliveries": self.deliver(request, body["event"], order)})

    def deliver(self, request, event, order):
        """Deliver one event about the order to every active webhook of its type."""
        with self.lock:
            order_json = self.order_json(request, order)
            webhooks = [dict(webhook) for _, webhook in sorted(self.state["webhooks"].items())
                        if webhook["type"] == event and webhook["is_active"]]
        deliveries = []
        # Delivered outside the lock: the receiver may well call this fake back.
        with self.lock:
            url = self.state["delivery_url"]
        for webhook in webhooks:
            payload = {
                "type": event, "webhook_id": webhook["id"],
                "store_id": order["store_id"], "order_id": order["id"],
                "state": order_json["state"], "created_at": timestamp(now()),
                "order": order_json,
            }
            if event == "order_shipment":
                payload["shipments"] = order_json["shipments"]["shipments"]
            delivery = {"webhook_id": webhook["id"], "url": url, "status": None, "error": None}
            if url is None:
                delivery["error"] = "the account has no delivery URL"
            else:
                try:
                    delivery["status"] = requests.post(url, json=payload, timeout=5).status_code
                except requests.RequestException as exc:
                    delivery["error"] = str(exc)
            deliveries.append(delivery)
        with self.lock:
            self.state["deliveries"].extend(deliveries)
        return deliveries

    def control_place_order(self, request):
        body = request.get_json(silent=True)
        if not isinstance(body, dict):
            return json_response({"detail": 'send {"store_id", "lines"?, "count"?}'}, 422)
        count = body.get("count", 1)
        if not (isinstance(count, int) and 1 <= count <= 100_000):
            return json_response({"detail": "count must be 1-100000"}, 422)
        with self.lock:
            store_id = positive_int(body.get("store_id"))
            if self.store_or_none(store_id) is None:
                return json_response({"detail": "no such store"}, 404)
            products = {row["id"]: row for row in self.state["user_products"].values()
                        if row["store_id"] == store_id}
            wanted = body.get("lines")
            if wanted is None:
                wanted = [{"user_product_id": pk, "quantity": 1} for pk in sorted(products)]
            try:
                lines = [(products[line["user_product_id"]], int(line.get("quantity", 1)))
                         for line in wanted]
            except (KeyError, TypeError, ValueError):
                return json_response(
                    {"detail": "lines: [{user_product_id of this store, quantity}]"}, 422)
            if not lines or any(quantity < 1 for _, quantity in lines):
                return json_response({"detail": "an order needs lines of quantity >= 1"}, 422)
            ids = [self.place_order(store_id, lines) for _ in range(count)]
        return json_response({"order_ids": ids})

    def place_order(self, store_id, lines):
        order_id = self.new_id("orders")
        items = []
        for user_product, quantity in lines:
            price = self.state["base_products"][user_product["base_product_id"]]["price"]
            unit_price = int((Decimal(price) * 100).to_integral_value(ROUND_HALF_UP))
            items.append({"id": self.new_id("line_items"), "quantity": quantity,
                          "unit_price": unit_price, "total_price": quantity * unit_price,
                          "scale_option": None, "user_product_id": user_product["id"]})
        items_total = sum(item["total_price"] for item in items)
        order = seed_order(order_id, store_id, "payment_pending", f"HUB{order_id}",
                           (0, 0, 0, 0), self.new_id("fulfillments"), 1,
                           order_total(self.new_id("order_totals"), items_total, 430,
                                       round(items_total * 0.08)), OAK_VALLEY)
        order["line_items"] = items
        order["fulfillments"][0]["total_quantity"] = sum(item["quantity"] for item in items)
        order["fulfillments"][0]["line_item_ids"] = [item["id"] for item in items]
        self.state["orders"][order_id] = order
        return order_id

    def control_ship_order(self, request):
        body = request.get_json(silent=True)
        if not isinstance(body, dict):
            return json_response({"detail": 'send {"store_id", "order_id"}'}, 422)
        with self.lock:
            order = self.store_order(positive_int(body.get("store_id")),
                                     positive_int(body.get("order_id")))
            if order is None:
                return json_response({"detail": "no such order in that store"}, 404)
            if order["state"] in UNCANCELABLE_STATES:
                return json_response({"detail": f"the order is {order['state']}"}, 422)
            carrier = body.get("carrier") or "UPS"
            shipment = {
                "id": self.new_id("shipments"), "order_id": order["id"],
                "fulfillment_id": order["fulfillments"][0]["id"],
                "shipping_carrier": carrier, "shipping_carrier_identifier": carrier.lower(),
                "shipping_method": f"{carrier} Ground",
                "shipping_method_identifier": f"{carrier.lower()}_ground", "price": 1100,
                "tracking_number": body.get("tracking_number") or f"1Z{order['id']:016d}",
                "weight": "16.00", "voided_on": None, "created_at": timestamp(now()),
            }
            self.state["shipments"][shipment["id"]] = shipment
            order["state"] = "shipped"
        deliveries = self.deliver(request, "order_shipment", order)
        return json_response({"shipment": shipment, "deliveries": deliveries})

    def control_delivery_url(self, request):
        body = request.get_json(silent=True)
        url = body.get("url") if isinstance(body, dict) else None
        if not isinstance(body, dict) or "url" not in body or (url is not None
                                                             and not is_url(url)):
            return json_response({"detail": 'send {"url": "http(s)://..."} or {"url": null}'},
                                 422)
        with self.lock:
            self.state["delivery_url"] = url
        return json_response({"url": url})

    def control_state(self, request):
        with self.lock:
            state = self.state
            return json_response({
                "base_products": {
                    "count": len(state["base_products"]) - len(state["removed_base_products"]),
                    "removed": sorted(state["removed_base_products"]),
                    "prices": {product_id: product["price"]
                               for product_id, product in state["base_products"].items()},
                },
                "stores": list(state["stores"].values()),
                "store_addresses": state["store_addresses"],
                "images": list(state["images"].values()),
                "image_imports": list(state["image_imports"]),
                "user_products": list(state["user_products"].values()),
                "orders": [{key: order[key] for key in ("id", "store_id", "state")}
                           for order in state["orders"].values()],
                "shipments": list(state["shipments"].values()),
                "webhooks": list(state["webhooks"].values()),
                "delivery_url": state["delivery_url"],
                "deliveries": list(state["deliveries"]),
                "rate_limit": {"limit": self.rate_limit, "window": self.rate_window,
                               "used": len(self.api_calls)},
            })


def request_body(request):
    """The request's fields: a JSON object, else the form."""
    body = request.get_json(silent=True)
    return body if isinstance(body, dict) else request.form.to_dict()


def require_string(body, field, errors, max_length=None):
    label = field.replace("_", " ")
    value = body.get(field)
    if value is None or value == "":
        errors[field] = [f"The {label} field is required."]
    elif not isinstance(value, str):
        errors[field] = [f"The {label} field must be a string."]
    elif max_length and len(value) > max_length:
        errors[field] = [f"The {label} field must not be greater than {max_length} characters."]

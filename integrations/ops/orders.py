"""An OnPrintShop storefront's orders, mapped to canonical orders (orders.payload).

OPS has no webhooks: orders are found by polling `orders` by date windows (`from_date` /
`to_date` are whole days), paged at 250 and de-duplicated on `orders_id` (a window's
days overlap the next one's, and the pull's first window overlaps the last pull's).
A change shows in `order_last_modified_date` and each line's
`orders_products_last_modified_date`: the latest of them is the order's
`source_modified_at`, which the hub compares with what it stored.

OPS data is not always sound (dates like "Invalid date", `tax_amount` as JSON, lines
without a quantity): what is sound is mapped, and the rest is named in the order's
`problems`. An order without an `orders_id` cannot be stored and is a page failure.
"""

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation

from django.utils import timezone

from hub.values import as_dict, is_whole
from integrations.ops.client import ORDERS_PAGE_SIZE, OPSClient
from orders.models import OrderSource
from orders.payload import CanonicalAddress, CanonicalLine, CanonicalOrder, text
from orders.sources import OrderPage

# Days of one date window; consecutive windows share a day.
WINDOW_DAYS = 7
DATE_FORMATS = ("%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d")
ADDRESS_FIELDS = {
    "name": "name", "company": "company", "address_1": "street_address",
    "address_2": "suburb", "city": "city", "state": "state_code", "postal_code": "postcode",
    "country_code": "country_code", "phone": "telephone",
}


class OPSOrders:
    def __init__(self, integration, customer):
        self.client = OPSClient(integration)
        self.customer = customer

    def statuses(self):
        return [
            {"id": row.get("process_status_id"), "title": row.get("process_status_title"),
             "type": row.get("status_type")}
            for row in self.client.order_statuses()
        ]

    def pages(self, since):
        """Every order placed from `since`'s day to today, window by window, page by page."""
        seen = set()
        # A day past today (UTC): a storefront ahead of UTC may already date orders so.
        today = timezone.now().astimezone(UTC).date() + timedelta(days=1)
        start = since.astimezone(UTC).date()
        while start <= today:
            end = min(start + timedelta(days=WINDOW_DAYS), today)
            window_start = datetime(start.year, start.month, start.day, tzinfo=UTC)
            offset = 0
            while True:
                rows, total = self.client.orders(from_date=start, to_date=end, offset=offset)
                page = OrderPage(total=total, window_start=window_start)
                for row in rows:
                    orders_id = row.get("orders_id") if isinstance(row, dict) else None
                    if not is_whole(orders_id):
                        page.failures.append("an order without a valid orders_id")
                        continue
                    if orders_id in seen:
                        continue
                    seen.add(orders_id)
                    page.orders.append(map_order(row))
                yield page
                offset += len(rows)
                if len(rows) < ORDERS_PAGE_SIZE or (total is not None and offset >= total):
                    break
            # The next window starts on this one's last day: an order placed that day
            # but after this window was read is not missed.
            if end >= today:
                break
            start = end

    def order(self, source_order_id):
        try:
            orders_id = int(source_order_id)
        except (TypeError, ValueError):
            return None
        rows, _ = self.client.orders(orders_id=orders_id, limit=1)
        row = next((row for row in rows
                    if isinstance(row, dict) and row.get("orders_id") == orders_id), None)
        return map_order(row) if row else None


def map_order(row):
    problems = []
    customer = as_dict(row.get("customer"))
    buyer_name = text(customer.get("customers_name")) or " ".join(
        part for part in (text(customer.get("customers_first_name")),
                          text(customer.get("customers_last_name"))) if part)
    lines, modified = [], [parse_date(row.get("order_last_modified_date"), None)]
    products = row.get("product")
    if not isinstance(products, list) or not products:
        problems.append("no lines")
        products = []
    for n, product in enumerate(products):
        line = map_line(product, n, problems)
        if line is not None:
            lines.append(line)
            modified.append(parse_date(product.get("orders_products_last_modified_date"), None))
    currency = text(row.get("currency_code"), 8).upper()
    if not (len(currency) == 3 and currency.isalpha()):
        if currency:
            problems.append(f"currency_code {currency!r}")
        currency = "USD"
    placed_at = parse_date(row.get("orders_date_finished"), problems, "orders_date_finished")
    return CanonicalOrder(
        source=OrderSource.OPS, source_order_id=str(row["orders_id"]),
        order_number=text(row.get("order_number"), 128) or str(row["orders_id"]),
        source_status=text(row.get("order_status"), 128),
        placed_at=placed_at,
        source_modified_at=max((moment for moment in modified if moment), default=None),
        currency=currency,
        subtotal=amount(row.get("order_amount"), problems, "order_amount"),
        shipping=amount(row.get("shipping_amount"), problems, "shipping_amount"),
        tax=amount(row.get("tax_amount"), problems, "tax_amount"),
        total=amount(row.get("total_amount"), problems, "total_amount"),
        buyer_name=buyer_name,
        buyer_email=text(customer.get("customers_email_address")),
        buyer_phone=text(customer.get("customers_telephone"), 64),
        buyer_company=text(customer.get("customers_company")),
        shipping_address=address(row.get("delivery_detail"), "delivery"),
        billing_address=address(row.get("billing_detail"), "billing"),
        lines=lines, problems=problems,
    )


def map_line(product, n, problems):
    if not isinstance(product, dict) or not is_whole(product.get("orders_products_id")):
        problems.append(f"line {n + 1} without a valid orders_products_id (left out)")
        return None
    line_id = product["orders_products_id"]
    quantity = product.get("products_quantity")
    if isinstance(quantity, str) and quantity.strip().isdigit():
        quantity = int(quantity)
    if not is_whole(quantity) or quantity < 1:
        problems.append(f"line {line_id} with quantity {quantity!r} (left out)")
        return None
    unit_price = amount(product.get("products_unit_price"), problems, f"line {line_id} price",
                        report=False)
    if unit_price is None:
        total = amount(product.get("products_price"), problems, f"line {line_id} price")
        unit_price = (total / quantity).quantize(Decimal("0.01")) if total is not None else None
    product_id = product.get("product_id")
    return CanonicalLine(
        source_line_id=str(line_id), quantity=quantity,
        sku=text(product.get("products_sku")), name=text(product.get("products_name"), 500),
        size=text(product.get("productsize")), unit_price=unit_price,
        source_product_id=str(product_id) if is_whole(product_id) or (
            isinstance(product_id, str) and product_id.strip()) else "",
        source_status=text(product.get("product_status"), 128),
        artwork=file_urls(product.get("print_ready_files")) or
        file_urls(product.get("proof_files")),
    )


def address(detail, prefix):
    detail = as_dict(detail)
    if not detail:
        return None
    fields = {name: text(detail.get(f"{prefix}_{suffix}"))
              for name, suffix in ADDRESS_FIELDS.items()}
    fields["state"] = fields["state"] or text(detail.get(f"{prefix}_state"))
    fields["country_code"] = fields["country_code"][:8].upper()
    fields["postal_code"] = fields["postal_code"][:32]
    fields["phone"] = fields["phone"][:64]
    return CanonicalAddress(**fields)


def parse_date(value, problems, name=None):
    """An OPS date ("YYYY-MM-DD HH:MM:SS", taken as UTC); None for junk, reported."""
    if isinstance(value, str) and value.strip():
        for pattern in DATE_FORMATS:
            try:
                return datetime.strptime(value.strip(), pattern).replace(tzinfo=UTC)
            except ValueError:
                continue
    if problems is not None and value not in (None, ""):
        problems.append(f"{name} {value!r} is not a date")
    return None


def amount(value, problems, name, report=True):
    """Money from a number, a numeric string, or JSON holding amounts (tax_amount)."""
    if value is None or value == "":
        return None
    found = _amount(value)
    if found is None and report:
        problems.append(f"{name} {str(value)[:80]!r} is not an amount")
    return found


def _amount(value):
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return Decimal(str(value)).quantize(Decimal("0.01"))
    if isinstance(value, str):
        try:
            number = Decimal(value.strip())
            return number.quantize(Decimal("0.01")) if number.is_finite() else None
        except InvalidOperation:
            try:
                return _amount(json.loads(value))
            except ValueError:
                return None
    if isinstance(value, dict):
        # {"total": 1.2} or {"GST": 0.5, "PST": 0.7}: the total, else the sum.
        for key in ("total", "amount", "tax_amount"):
            if key in value:
                return _amount(value[key])
        parts = [_amount(part) for part in value.values()]
        return sum(parts, Decimal("0.00")) if parts and None not in parts else None
    if isinstance(value, list):
        parts = [_amount(part) for part in value]
        return sum(parts, Decimal("0.00")) if parts and None not in parts else None
    return None


def file_urls(value):
    """The http(s) URLs in an OPS files field (JSON: a string, list or object of them)."""
    if isinstance(value, str):
        stripped = value.strip()
        if stripped.startswith(("[", "{")):
            try:
                return file_urls(json.loads(stripped))
            except ValueError:
                return []
        return [stripped] if stripped.startswith(("http://", "https://")) else []
    if isinstance(value, list):
        return [url for item in value for url in file_urls(item)][:50]
    if isinstance(value, dict):
        return [url for item in value.values() for url in file_urls(item)][:50]
    return []


"""What a storefront provides to order pulls (OnPrintShop, PrintOps stores).

Each storefront type's package maps its orders to canonical orders (orders.payload):

    statuses() -> the storefront's own status list, or None when it has none
    pages(since) -> iterator of OrderPage; since=None: the first pull
    order(source_order_id) -> one CanonicalOrder, read again (webhook nudges)

The pull service finds the class by the storefront's integration type.
"""

from dataclasses import dataclass, field

from django.utils.module_loading import import_string

from integrations.models import IntegrationType

ORDER_SOURCES = {
    IntegrationType.OPS: "integrations.ops.orders.OPSOrders",
    IntegrationType.PRINTOPS: "integrations.printops.orders.PrintOpsOrders",
}


@dataclass
class OrderPage:
    orders: list = field(default_factory=list)  # CanonicalOrder
    # Orders the source sent that could not be stored at all (no id): their reasons.
    failures: list = field(default_factory=list)
    total: int | None = None  # orders the whole pull will see, when known
    # Where the window this page belongs to starts: a failed pull resumes there.
    window_start: object = None


class NothingToPull(Exception):
    """The customer's storefront has no orders the hub can pull."""


def order_source(customer):
    """The object that reads the customer's storefront orders; NothingToPull otherwise."""
    storefront = customer.storefront
    if storefront is None:
        raise NothingToPull(f"Customer {customer.name} has no storefront to pull orders from.")
    path = ORDER_SOURCES.get(storefront.integration_type)
    if path is None:
        raise NothingToPull(
            f"Customer {customer.name}'s storefront ({storefront.get_integration_type_display()})"
            " has no orders to pull."
        )
    return import_string(path)(storefront.typed(), customer)


def pulls_orders(customer):
    storefront = customer.storefront
    return storefront is not None and storefront.integration_type in ORDER_SOURCES

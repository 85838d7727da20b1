"""What a complete PrintOps sync does besides ingesting its products.

PrintOps has no "changed since": every sync reads the whole list of base products, so
after a complete read the hub knows exactly which products PrintOps still offers.

- A product whose category no longer appears (all its base products are gone) is
  archived, never deleted. A size that is gone vanishes by itself: the ingest keeps
  only the sizes a product's payload lists.
- The shipping methods are stored in PrintOpsShippingMethod (by identifier; the ones
  PrintOps no longer lists are deleted).

PrintOpsSource.changed_products calls `finish_sync` itself, after its last page has been
ingested: never after a failed or interrupted sync.
"""

import logging

from django.db import transaction

from catalog.models import Product
from integrations.models import PrintOpsShippingMethod
from integrations.printops.client import PrintOpsClient
from integrations.printops.mapping import CATEGORY_SKU_PREFIX

logger = logging.getLogger(__name__)

SHIPPING_ID_FIELD = "identifier"
SHIPPING_NAME_FIELD = "name"


def finish_sync(integration, seen_skus, *, client=None):
    """Archive the products PrintOps no longer offers, store its shipping methods.

    `seen_skus`: every product code a complete read of PrintOps produced; None when the
    read was not complete enough to tell what disappeared (nothing is archived then).
    """
    # Read first: when PrintOps fails here the sync fails with nothing archived.
    client = client or PrintOpsClient.for_integration(integration)
    methods = client.shipping_methods()
    with transaction.atomic():
        archived = 0 if seen_skus is None else archive_missing(integration, seen_skus)
        store_shipping_methods(integration, methods)
    return archived


def archive_missing(integration, seen_skus) -> int:
    """Archive this integration's PrintOps products whose code is not in seen_skus.

    An empty seen_skus archives nothing: PrintOps listing no base products at all is
    taken as a fault on its side, not as a catalog that emptied.
    """
    if integration.supplier_id is None or not seen_skus:
        return 0
    archived = (
        Product.objects.filter(
            supplier_id=integration.supplier_id, supplier_sku__startswith=CATEGORY_SKU_PREFIX
        )
        .exclude(supplier_sku__in=list(seen_skus))
        .archive()
    )
    if archived:
        logger.info("Archived %s products PrintOps no longer offers (integration %s)",
                    archived, integration.pk)
    return archived


def store_shipping_methods(integration, methods):
    """Upsert the shipping methods by identifier and delete the gone ones.

    Returns (written, deleted); a method that is unchanged is not written.
    """
    wanted = {}
    for method in methods:
        external_id = method.get(SHIPPING_ID_FIELD) if isinstance(method, dict) else None
        if external_id is None or not str(external_id).strip():
            logger.warning("PrintOps listed a shipping method without an identifier")
            continue
        name = method.get(SHIPPING_NAME_FIELD)
        wanted[str(external_id).strip()] = {
            "name": (str(name).strip() if name else "")[:255] or str(external_id),
            "details": {k: v for k, v in method.items()
                        if k not in (SHIPPING_ID_FIELD, SHIPPING_NAME_FIELD)},
        }
    written = 0
    with transaction.atomic():
        stored = {m.external_id: m for m in
                  PrintOpsShippingMethod.objects.filter(integration=integration)}
        for external_id, fields in wanted.items():
            method = stored.get(external_id)
            if method is None:
                PrintOpsShippingMethod.objects.create(
                    integration=integration, external_id=external_id, **fields
                )
                written += 1
            elif (method.name, method.details) != (fields["name"], fields["details"]):
                method.name, method.details = fields["name"], fields["details"]
                method.save(update_fields=["name", "details", "updated_at"])
                written += 1
        deleted, _ = PrintOpsShippingMethod.objects.filter(integration=integration).exclude(
            external_id__in=list(wanted)
        ).delete()
    return written, deleted

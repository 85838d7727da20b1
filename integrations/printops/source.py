"""PrintOps as a source of print products for syncs and imports (see integrations/sources.py).

PrintOps cannot list what changed since a moment, so every sync reads all base products
(every page), groups them into one product per category and hands over all of them; the
ingest's content hash makes the unchanged ones cost nothing.
"""

import logging
import time

from integrations.printops.client import PrintOpsClient
from integrations.printops.mapping import (
    belongs_to,
    category_id_of_sku,
    category_sku,
    group_by_category,
    to_canonical,
)
from integrations.printops.sync import finish_sync
from integrations.sources import InvalidProduct, ProductNotFound, SourcePage

logger = logging.getLogger(__name__)


class PrintOpsSource:
    page_size = 100  # base products per request
    products_per_page = 200  # grouped products per SourcePage

    def __init__(self, integration):
        self.integration = integration
        self.client = PrintOpsClient.for_integration(integration)
        # The product codes the last complete read produced (mapped or not).
        self.seen_skus = set()

    def changed_products(self, since):
        """Every product, whatever `since` is; the sync's wrap-up after the last page.

        The code after the last `yield` runs only when the sync asks for more after
        ingesting the last page, so a sync that fails or loses its claim part-way never
        archives anything.
        """
        base_products = list(self.client.base_products(page_size=self.page_size))
        started = time.perf_counter()
        products, failures, every_one_placed = self.by_category(base_products)
        map_seconds = time.perf_counter() - started
        total = len(products) + len(failures)
        for start in range(0, max(len(products), 1), self.products_per_page):
            yield SourcePage(
                products=products[start : start + self.products_per_page],
                failures=failures if start == 0 else [],
                total=total,
                # All of it was mapped before the first page.
                map_seconds=map_seconds if start == 0 else 0.0,
            )
        # A base product that could not be placed in a category may belong to one that
        # looks gone: archiving waits for a read where every base product was placed.
        if not every_one_placed:
            logger.warning("Some PrintOps base products had no category; nothing archived")
        finish_sync(self.integration, self.seen_skus if every_one_placed else None,
                    client=self.client)

    def product_by_code(self, code):
        category_id = category_id_of_sku(code)
        if category_id is None:
            raise ProductNotFound(f"PrintOps has no product {code}")
        base_products = [
            each for each in self.client.base_products(
                page_size=self.page_size, category_id=category_id
            )
            # PrintOps filters by category; one of another category would still be left out.
            if belongs_to(each, category_id)
        ]
        if not base_products:
            raise ProductNotFound(f"PrintOps has no product {code}")
        return to_canonical(category_id, base_products)

    def by_category(self, base_products):
        """(canonical products, failures, whether every base product had a category) of
        every base product PrintOps lists.

        One product per category, by category id.
        """
        self.seen_skus = set()
        groups, failures = group_by_category(base_products)
        every_one_placed = not failures
        products = []
        for category_id in sorted(groups):
            sku = category_sku(category_id)
            self.seen_skus.add(sku)
            try:
                products.append(to_canonical(category_id, groups[category_id]))
            except InvalidProduct as exc:
                failures.append({"code": sku, "reason": str(exc)})
        return products, failures, every_one_placed

"""OVS as a source of products for syncs and imports (see integrations/sources.py)."""

import time

from integrations.ovs.client import PAGE_ITEMS_FIELD, PAGE_TOTAL_FIELD, OVSClient
from integrations.ovs.mapping import code_of, to_canonical
from integrations.sources import InvalidProduct, ProductNotFound, SourcePage


class OVSSource:
    page_size = 100

    def __init__(self, integration):
        self.client = OVSClient(integration)

    def changed_products(self, since):
        """One SourcePage per OVS page of products updated after `since` (all when None)."""
        for page in self.client.iter_pages(since, page_size=self.page_size):
            started = time.perf_counter()
            result = SourcePage(total=page.get(PAGE_TOTAL_FIELD))
            for item in page[PAGE_ITEMS_FIELD]:
                try:
                    result.products.append(to_canonical(item))
                except InvalidProduct as exc:
                    result.failures.append({"code": code_of(item), "reason": str(exc)})
            result.map_seconds = time.perf_counter() - started
            yield result

    def product_by_code(self, code):
        product = self.client.get_product(code)
        if product is None:
            raise ProductNotFound(f"OVS has no product {code}")
        return to_canonical(product)

from django.dispatch import Signal

# Sent with `product_ids` after products are archived (one product or an admin's bulk).
products_archived = Signal()

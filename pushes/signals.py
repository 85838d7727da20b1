from django.dispatch import receiver

from catalog.models import Product
from catalog.signals import products_archived
from hub.queue import enqueue


@receiver(products_archived, sender=Product)
def deactivate_archived_products_in_storefronts(sender, product_ids, **kwargs):
    from pushes.tasks import deactivate_products_task

    enqueue(deactivate_products_task, [str(pk) for pk in product_ids])

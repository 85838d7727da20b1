from django.db import transaction
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver
from django_celery_beat.models import PeriodicTask

from integrations.printops.webhooks import event_received
from orders.models import OrderPull
from pushes.models import Customer


@receiver(post_save, sender=Customer)
def keep_the_order_pull_schedule_with_the_storefront(sender, instance, raw=False, **kwargs):
    if raw:
        return
    from orders.pulls import customer_storefront_changed

    transaction.on_commit(lambda: customer_storefront_changed(instance))


@receiver(post_delete, sender=OrderPull)
def delete_the_schedule_with_its_pull(sender, instance, **kwargs):
    if instance.schedule_id:
        PeriodicTask.objects.filter(pk=instance.schedule_id).delete()


# PrintOps says an order changed: read it again (a delivery is a nudge, not data).
ORDER_EVENTS = ("order_state_update", "order_shipment")


@receiver(event_received)
def read_the_order_a_webhook_names_again(sender, event, event_type, **kwargs):
    if event_type not in ORDER_EVENTS:
        return
    from orders.pulls import nudge

    nudge(event)

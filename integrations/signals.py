from django.db.models.signals import post_delete
from django.dispatch import receiver

from integrations.models import Integration
from integrations.schedules import delete_schedule


@receiver(post_delete, sender=Integration)
def delete_the_schedule_with_its_integration(sender, instance, **kwargs):
    delete_schedule(instance)

"""Each integration's scheduled sync: a periodic task that beat runs from the database.

The schedule is created with the integration (every DEFAULT_SYNC_INTERVAL_MINUTES),
edited in the integration's admin page (interval or crontab, on or off) and deleted
with it.
"""

import json
from datetime import timedelta

from django.conf import settings
from django.utils import timezone
from django_celery_beat.models import CrontabSchedule, IntervalSchedule, PeriodicTask

SYNC_TASK = "integrations.tasks.sync_integration"
NAME_LENGTH = PeriodicTask._meta.get_field("name").max_length


def schedule_name(integration):
    """"Sync <name> (<id>)", the name shortened so the whole fits the periodic task's name
    column (an integration's name may be longer); the id keeps it unique."""
    suffix = f" ({integration.id})"
    return f"Sync {integration.name}"[: NAME_LENGTH - len(suffix)] + suffix


def ensure_schedule(integration, *, every_minutes=None, crontab=None, enabled=None):
    """Create or change the integration's periodic sync.

    `crontab` is "minute hour day_of_month month_of_year day_of_week"; when given it
    replaces the interval.
    """
    task = integration.schedule or PeriodicTask(task=SYNC_TASK)
    task.name = schedule_name(integration)
    task.kwargs = json.dumps({"integration_id": str(integration.id)})
    if crontab:
        minute, hour, day_of_month, month_of_year, day_of_week = crontab.split()
        task.crontab, _ = CrontabSchedule.objects.get_or_create(
            minute=minute, hour=hour, day_of_month=day_of_month,
            month_of_year=month_of_year, day_of_week=day_of_week, timezone="UTC",
        )
        task.interval = None
    elif every_minutes or not (task.interval_id or task.crontab_id):
        task.interval, _ = IntervalSchedule.objects.get_or_create(
            every=every_minutes or settings.DEFAULT_SYNC_INTERVAL_MINUTES,
            period=IntervalSchedule.MINUTES,
        )
        task.crontab = None
    if enabled is not None:
        task.enabled = enabled
    task.save()
    if integration.schedule_id != task.id:
        integration.schedule = task
        type(integration).objects.filter(pk=integration.pk).update(schedule=task)
    return task


def delete_schedule(integration):
    if integration.schedule_id:
        PeriodicTask.objects.filter(pk=integration.schedule_id).delete()


def next_run_at(task):
    """When beat runs the periodic task next (None when it is off or missing)."""
    if task is None or not task.enabled:
        return None
    now = timezone.now()
    last = task.last_run_at or task.date_changed or now
    return now + max(task.schedule.remaining_estimate(last), timedelta(0))

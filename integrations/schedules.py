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
    """"Sync <name> (<id>)": see fitted_name."""
    return fitted_name(f"Sync {integration.name}", integration.id)


def fitted_name(text, object_id):
    """"<text> (<id>)", the text shortened so the whole fits the periodic task's name
    column (a name may be longer); the id keeps it unique."""
    suffix = f" ({object_id})"
    return text[: NAME_LENGTH - len(suffix)] + suffix


def ensure_schedule(integration, *, every_minutes=None, crontab=None, enabled=None):
    """Create or change the integration's periodic sync.

    `crontab` is "minute hour day_of_month month_of_year day_of_week"; when given it
    replaces the interval.
    """
    task = save_periodic_task(
        integration.schedule, SYNC_TASK, schedule_name(integration),
        {"integration_id": str(integration.id)},
        default_minutes=settings.DEFAULT_SYNC_INTERVAL_MINUTES,
        every_minutes=every_minutes, crontab=crontab, enabled=enabled,
    )
    if integration.schedule_id != task.id:
        integration.schedule = task
        type(integration).objects.filter(pk=integration.pk).update(schedule=task)
    return task


def save_periodic_task(task, task_name, name, kwargs, *, default_minutes, every_minutes=None,
                       crontab=None, enabled=None):
    """Create (task None) or change a periodic task beat runs from the database."""
    task = task or PeriodicTask(task=task_name)
    task.name = name
    task.kwargs = json.dumps(kwargs)
    if crontab:
        minute, hour, day_of_month, month_of_year, day_of_week = crontab.split()
        task.crontab, _ = CrontabSchedule.objects.get_or_create(
            minute=minute, hour=hour, day_of_month=day_of_month,
            month_of_year=month_of_year, day_of_week=day_of_week, timezone="UTC",
        )
        task.interval = None
    elif every_minutes or not (task.interval_id or task.crontab_id):
        task.interval, _ = IntervalSchedule.objects.get_or_create(
            every=every_minutes or default_minutes, period=IntervalSchedule.MINUTES,
        )
        task.crontab = None
    if enabled is not None:
        task.enabled = enabled
    task.save()
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

"""The one way work is handed to the workers."""

import logging

from django.db import transaction
from kombu.exceptions import OperationalError

logger = logging.getLogger(__name__)


class QueueUnavailable(Exception):
    """The broker did not take the task; the API answers 503 with this message."""

    def __init__(self):
        super().__init__("The task queue is unavailable; nothing was started. Try again later.")


def enqueue(task, *args, **kwargs):
    """Send a task: at once outside a transaction, else once the transaction commits.

    A worker must never pick up a task before the rows it names are visible to it.
    Sent at once, a task the broker does not take raises QueueUnavailable, so the caller
    can undo what it claimed for it (triggers enqueue outside transactions for that).
    """
    if transaction.get_connection().in_atomic_block:
        transaction.on_commit(lambda: send(task, args, kwargs))
    else:
        send(task, args, kwargs)


def send(task, args=(), kwargs=None, **options):
    """Send a task now (`options` as for apply_async); QueueUnavailable when refused."""
    if task.app.conf.task_always_eager:
        # Run here: the task's own errors are not the queue's.
        task.apply_async(args=args, kwargs=kwargs, **options)
        return
    try:
        task.apply_async(args=args, kwargs=kwargs, **options)
    except (OperationalError, OSError) as exc:
        logger.error("Could not queue %s: %s", task.name, exc)
        raise QueueUnavailable() from None

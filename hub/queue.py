from django.db import transaction


def enqueue(task, *args, **kwargs):
    """Send a task once the current transaction commits (at once outside one).

    A worker must never pick up a task before the rows it names are visible to it.
    """
    transaction.on_commit(lambda: task.apply_async(args=args, kwargs=kwargs))

"""Orders: the writes and business rules (intake, resolution, events). Views and tasks
call these; nothing else writes orders.
"""

import logging

from orders.models import OrderEvent

logger = logging.getLogger(__name__)


def record_event(order, kind, message=""):
    """Append one event to the order's trail."""
    return OrderEvent.objects.create(order=order, kind=kind, message=message)


def line_resolved(line):
    """Called for each line once it is resolved to a catalog product (status `received`).

    Routing plugs in here: it chooses the line's fulfiller and sends the line on. Until it
    does, a resolved line stays `received`.
    """
    return None

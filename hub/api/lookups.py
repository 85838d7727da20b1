import uuid

from rest_framework.exceptions import NotFound


def get_by_uuid_or_404(queryset, value, message):
    """The row with this id, or 404 with `message` (a malformed id is simply not found)."""
    try:
        key = uuid.UUID(str(value))
    except ValueError:
        raise NotFound(message) from None
    obj = queryset.filter(pk=key).first()
    if obj is None:
        raise NotFound(message)
    return obj

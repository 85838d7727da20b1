"""One error shape for the whole API.

`{"detail": "..."}` for every error, and for invalid input 422 with
`{"detail": [{"loc": [...], "msg": "...", "type": "..."}]}`. Unexpected errors are
logged and answered with a plain 500: never a stack trace, never a secret.
"""

import logging

from django.core.exceptions import PermissionDenied, RequestDataTooBig, SuspiciousOperation
from django.http import Http404, JsonResponse
from rest_framework import exceptions, status
from rest_framework.response import Response

from hub.queue import QueueUnavailable

logger = logging.getLogger(__name__)


class ServiceUnavailable(exceptions.APIException):
    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_detail = "Service unavailable"


class InvalidInput(exceptions.ValidationError):
    """A validation error whose `loc` starts at `location` (body, query or path)."""

    def __init__(self, detail, location="body"):
        super().__init__(detail)
        self.location = location


class BodyTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE

    def __init__(self, limit=None):
        from django.conf import settings

        limit = limit or settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        super().__init__(f"The request body is larger than the {limit} bytes this hub takes")


class BodyTooDeep(exceptions.APIException):
    """JSON nested deeper than the parser allows: 400, not a field's 422."""

    status_code = status.HTTP_400_BAD_REQUEST

    def __init__(self, depth):
        super().__init__(f"JSON nested deeper than {depth} levels")


class BadRequest(exceptions.APIException):
    status_code = status.HTTP_400_BAD_REQUEST
    default_detail = "Bad request"


def invalid(location, field, msg, type_="value_error"):
    """An InvalidInput for one field, for checks that are not a serializer's."""
    exc = InvalidInput({field: [msg]}, location)
    exc.error_type = type_
    return exc


def _flatten(detail, loc):
    """Turn DRF's nested error detail into a flat list of {loc, msg, type}."""
    if isinstance(detail, dict):
        for key, value in detail.items():
            yield from _flatten(value, loc if key == "non_field_errors" else [*loc, key])
    elif isinstance(detail, list):
        if all(isinstance(item, exceptions.ErrorDetail | str) for item in detail):
            for item in detail:
                yield from _flatten(item, loc)
        else:
            for index, item in enumerate(detail):
                if item:
                    yield from _flatten(item, [*loc, index])
    else:
        code = getattr(detail, "code", None) or "invalid"
        yield {"loc": loc, "msg": str(detail), "type": code}


def validation_errors(exc):
    location = getattr(exc, "location", "body")
    errors = list(_flatten(exc.detail, [location]))
    error_type = getattr(exc, "error_type", None)
    if error_type:
        for error in errors:
            error["type"] = error_type
    return errors


def exception_handler(exc, context):
    # Imported here: rest_framework.views loads the parser settings, and the parsers
    # use this module's exceptions.
    from rest_framework.views import set_rollback

    if isinstance(exc, Http404):
        exc = exceptions.NotFound(str(exc) if str(exc) else "Not found")
    elif isinstance(exc, QueueUnavailable):
        exc = ServiceUnavailable(str(exc))
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()
    elif isinstance(exc, RequestDataTooBig):
        exc = BodyTooLarge()
    elif isinstance(exc, SuspiciousOperation):
        # Too many form fields or files, a malformed multipart body, ...
        exc = BadRequest(str(exc) or BadRequest.default_detail)

    if isinstance(exc, exceptions.ParseError):
        set_rollback()
        return Response(
            {"detail": [{"loc": ["body"], "msg": str(exc.detail), "type": "json_invalid"}]},
            status=status.HTTP_422_UNPROCESSABLE_ENTITY,
        )
    if isinstance(exc, exceptions.ValidationError):
        set_rollback()
        return Response(
            {"detail": validation_errors(exc)}, status=status.HTTP_422_UNPROCESSABLE_ENTITY
        )
    if isinstance(exc, exceptions.APIException):
        headers = {}
        if getattr(exc, "auth_header", None):
            headers["WWW-Authenticate"] = exc.auth_header
        if getattr(exc, "wait", None):
            headers["Retry-After"] = str(int(exc.wait))
        set_rollback()
        detail = exc.detail if isinstance(exc.detail, str | list | dict) else str(exc.detail)
        return Response({"detail": detail}, status=exc.status_code, headers=headers)

    logger.exception("Unhandled error in %s", context.get("view").__class__.__name__)
    set_rollback()
    return Response({"detail": "Internal server error"}, status=500)


def api_not_found(request, exception=None):
    """JSON 404 for URLs that match no route (the API never answers with HTML)."""
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": "Not found"}, status=404)
    from django.views.defaults import page_not_found

    return page_not_found(request, exception)


def api_server_error(request):
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": "Internal server error"}, status=500)
    from django.views.defaults import server_error

    return server_error(request)

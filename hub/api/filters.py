from django import forms
from django_filters import rest_framework as filters
from rest_framework import exceptions

from hub.api.errors import InvalidInput


class QueryFilterBackend(filters.DjangoFilterBackend):
    """django-filter, with bad query values reported as 422 at `["query", name]`."""

    def filter_queryset(self, request, queryset, view):
        try:
            return super().filter_queryset(request, queryset, view)
        except exceptions.ValidationError as exc:
            raise InvalidInput(exc.detail, "query") from None


class StrictBooleanField(forms.Field):
    TRUE = {"true", "1", "yes"}
    FALSE = {"false", "0", "no"}

    def to_python(self, value):
        if value in (None, ""):
            return None
        lowered = str(value).lower()
        if lowered in self.TRUE:
            return True
        if lowered in self.FALSE:
            return False
        raise forms.ValidationError("Input should be a valid boolean", code="bool_parsing")


class StrictBooleanFilter(filters.Filter):
    """A boolean query parameter that rejects anything but true/false/1/0/yes/no."""

    field_class = StrictBooleanField

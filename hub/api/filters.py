import copy

from django import forms
from django.http import QueryDict
from django_filters import rest_framework as filters
from django_filters.constants import EMPTY_VALUES
from django_filters.utils import translate_validation
from rest_framework import exceptions

from hub.api.errors import InvalidInput


class QueryFilterBackend(filters.DjangoFilterBackend):
    """django-filter, with bad query values reported as 422 at `["query", name]`."""

    def filter_queryset(self, request, queryset, view):
        try:
            return super().filter_queryset(request, queryset, view)
        except exceptions.ValidationError as exc:
            raise InvalidInput(exc.detail, "query") from None

    def given_values(self, request, queryset, view):
        """The values of the filters the request gives, validated as by filter_queryset:
        for a view that builds its query from them."""
        filterset = self.get_filterset(request, queryset, view)
        if not filterset.is_valid():
            raise InvalidInput(translate_validation(filterset.errors).detail, "query")
        return {
            name: value for name, value in filterset.form.cleaned_data.items()
            if value not in EMPTY_VALUES
        }


class FilterSet(filters.FilterSet):
    """django-filter's FilterSet, made cheaply for each request.

    django-filter deep-copies every filter and builds a new form class for each request,
    about half a millisecond. Here a request gets shallow copies of the filters, bound to
    it, and the form class is built once per FilterSet class: a filter holds no state of a
    request but its parent. The form is still made per request.
    """

    def __init__(self, data=None, queryset=None, *, request=None, prefix=None):
        if queryset is None:
            queryset = self._meta.model._default_manager.all()
        self.is_bound = data is not None
        self.data = data or QueryDict()
        self.queryset = queryset
        self.request = request
        self.form_prefix = prefix
        self.filters = {
            name: self.bound(filter_, queryset.model) for name, filter_ in self.base_filters.items()
        }

    def bound(self, filter_, model):
        filter_ = copy.copy(filter_)
        filter_.model = model
        filter_.parent = self
        if filter_.method is not None:
            # A method filter calls its parent's method: this request's FilterSet.
            filter_.method = filter_.method
        return filter_

    def get_form_class(self):
        form_class = type(self).__dict__.get("_form_class")
        if form_class is None:
            form_class = super().get_form_class()
            type(self)._form_class = form_class
        return form_class


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

from django_filters import rest_framework as filters

from catalog.models import Category, Product
from hub.api.filters import FilterSet, StrictBooleanFilter


class ProductFilter(FilterSet):
    supplier_id = filters.UUIDFilter(field_name="supplier_id")
    category_id = filters.UUIDFilter(method="filter_category")
    customer_id = filters.UUIDFilter(method="filter_customer")
    brand = filters.CharFilter(field_name="brand")
    search = filters.CharFilter(method="filter_search")
    archived = StrictBooleanFilter(method="filter_archived")

    class Meta:
        model = Product
        fields = []

    @property
    def qs(self):
        queryset = super().qs
        # Active products unless asked otherwise: the default of `archived` is false.
        if self.form.cleaned_data.get("archived") is None:
            queryset = queryset.active()
        return queryset

    def filter_category(self, queryset, name, value):
        return queryset.in_category_tree(value)

    def filter_customer(self, queryset, name, value):
        from pushes.models import PushLog

        return queryset.filter(
            id__in=PushLog.objects.filter(customer_id=value).values("product_id")
        )

    def filter_search(self, queryset, name, value):
        term = value.strip()
        return queryset.search(term).by_name(term) if term else queryset

    def filter_archived(self, queryset, name, value):
        return queryset.archived() if value else queryset.active()


class CategoryFilter(FilterSet):
    supplier_id = filters.UUIDFilter(field_name="supplier_id")

    class Meta:
        model = Category
        fields = []

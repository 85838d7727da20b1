from datetime import UTC, datetime, time, timedelta

from django.db.models import Exists, OuterRef, Q
from django_filters import rest_framework as filters

from hub.api.filters import FilterSet
from orders.models import Order, OrderLine, OrderSource, OrderStatus


def start_of_day(day):
    return datetime.combine(day, time.min, tzinfo=UTC)


class OrderFilter(FilterSet):
    customer_id = filters.UUIDFilter(field_name="customer_id")
    status = filters.ChoiceFilter(choices=OrderStatus.choices)
    source = filters.ChoiceFilter(choices=OrderSource.choices)
    search = filters.CharFilter(method="filter_search")
    placed_after = filters.DateFilter(method="filter_placed_after")
    placed_before = filters.DateFilter(method="filter_placed_before")

    class Meta:
        model = Order
        fields = []

    def filter_search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        skus = OrderLine.objects.filter(order=OuterRef("pk"), sku__icontains=value)
        return queryset.filter(
            Q(order_number__icontains=value) | Q(source_order_id__icontains=value)
            | Q(buyer_name__icontains=value) | Q(buyer_email__icontains=value)
            | Exists(skus)
        )

    # Dates are whole UTC days, both ends inclusive.
    def filter_placed_after(self, queryset, name, value):
        return queryset.filter(placed_at__gte=start_of_day(value))

    def filter_placed_before(self, queryset, name, value):
        return queryset.filter(placed_at__lt=start_of_day(value + timedelta(days=1)))

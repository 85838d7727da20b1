from decimal import Decimal

from rest_framework import serializers


def money_str(value):
    """A stored amount as the spec writes it: at least two decimals, no trailing zeros."""
    if value is None:
        return None
    text = format(Decimal(value).normalize(), "f")
    whole, _, fraction = text.partition(".")
    return f"{whole}.{fraction.ljust(2, '0')}"


class MoneyStringField(serializers.DecimalField):
    """Money as a string ("4.58"), the spec's shape for tier prices."""

    def __init__(self, **kwargs):
        kwargs.setdefault("max_digits", 12)
        kwargs.setdefault("decimal_places", 4)
        super().__init__(**kwargs)

    def to_representation(self, value):
        return money_str(value)


class NumberField(serializers.DecimalField):
    """A Decimal rendered as a JSON number (base_price, price_min, ...)."""

    def __init__(self, **kwargs):
        kwargs.setdefault("max_digits", 12)
        kwargs.setdefault("decimal_places", 4)
        kwargs.setdefault("coerce_to_string", False)
        super().__init__(**kwargs)

    def to_representation(self, value):
        return None if value is None else float(value)

"""The hub's JSON renderer writes exactly the bytes DRF's renderer writes."""

import datetime
import decimal
import math
import random
import struct
import uuid

import orjson
import pytest
from django.utils.translation import gettext_lazy
from rest_framework import renderers
from rest_framework.exceptions import ErrorDetail

from hub.api.renderers import JSONRenderer


def assert_same(data, media_type=None):
    ours = JSONRenderer().render(data, media_type)
    drf = renderers.JSONRenderer().render(data, media_type)
    assert ours == drf, (data, ours, drf)
    return ours


def random_floats(count, seed):
    rng = random.Random(seed)
    floats = []
    while len(floats) < count:
        floats.append(float(f"{rng.random() * 10:.{rng.randint(1, 17)}f}e{rng.randint(-330, 310)}"))
        floats.append(struct.unpack("d", struct.pack("Q", rng.getrandbits(64)))[0])
    return [x for x in floats if math.isfinite(x)]


def test_every_float_is_written_as_drf_writes_it():
    floats = random_floats(20000, seed=13)
    floats += [0.0, -0.0, 1e-4, 9.9e-5, 1e-5, 1e-7, 1e-10, 1e16, 1e15, 123.45, 0.1, 5e-324,
               1.7976931348623157e308]
    for x in floats:
        assert_same([x, -x])
    # One answer with many floats, some small: the whole answer falls back, unchanged.
    assert_same({"prices": floats[:500]})


def test_strings_keys_and_nesting_are_written_as_drf_writes_them():
    every_character = "".join(
        chr(code) for code in range(0, 0x3000) if not 0xD800 <= code <= 0xDFFF
    )
    body = assert_same({"text": every_character, "line": "a\u2028b\u2029c", "ünï": ["\x00"]})
    assert b"\\u2028" in body and b"\\u2029" in body
    assert_same({"a": [1, 2.5, None, True, False, {"b": []}], "c": {}, "d": (1, "x")})
    assert_same([2**63 - 1, -(2**63), 2**64 - 1])


@pytest.mark.parametrize("value", [
    2**64,                      # beyond 64 bits: orjson refuses it
    {1: "a", None: "b"},        # keys that are not strings
    "lone \ud800 surrogate",    # not valid Unicode
    datetime.datetime(2026, 12, 1, 10, 30, 5, 123456, tzinfo=datetime.UTC),
    datetime.date(2026, 12, 1),
    decimal.Decimal("12.50"),
    uuid.UUID("12345678-1234-5678-1234-567812345678"),
    gettext_lazy("Not found"),
    ErrorDetail("This field is required.", code="required"),
])
def test_values_orjson_cannot_write_alike_are_written_as_drf_writes_them(value):
    try:
        expected = renderers.JSONRenderer().render({"value": value})
    except (UnicodeEncodeError, ValueError) as exc:
        with pytest.raises(type(exc)):
            JSONRenderer().render({"value": value})
    else:
        assert JSONRenderer().render({"value": value}) == expected


def test_indented_and_empty_answers_are_drfs():
    assert_same({"a": [1, {"b": 2}]}, "application/json; indent=4")
    assert JSONRenderer().render(None) == b""


def test_an_ordinary_answer_is_not_mistaken_for_one_with_a_small_float():
    from hub.api.renderers import has_small_float

    ordinary = orjson.dumps([{"id": "c048d4d4-8280-4218-aa0e-6bf2e3352d39", "sku": "A1e-2",
                              "price": 0.0001, "rate": 12.5, "count": 10}])
    assert not has_small_float(ordinary)
    for small in (1e-5, -3.2e-7, 0.00005, [1e-20], {"a": 9.9e-5}, [5e-324, 1]):
        assert has_small_float(orjson.dumps(small))

"""The API's JSON parser: bodies within the size limit, a sane depth and no NUL characters.

A body larger than DATA_UPLOAD_MAX_MEMORY_SIZE is 413, JSON nested deeper than
MAX_JSON_DEPTH is 400 (both before anything is validated), and a NUL character in any key
or string is 422 at the field that holds it: PostgreSQL cannot store one, so it must never
reach a query.
"""

import codecs

from django.conf import settings
from rest_framework import parsers
from rest_framework.exceptions import ParseError
from rest_framework.utils import json

from hub.api.errors import BodyTooDeep, BodyTooLarge, InvalidInput

# No request the hub takes is nested this deep (a canonical product is 6 levels).
MAX_JSON_DEPTH = 64
NUL = "\x00"


def read_body(stream):
    """The body's bytes; BodyTooLarge beyond DATA_UPLOAD_MAX_MEMORY_SIZE."""
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    if limit is None:
        return stream.read()
    body = stream.read(limit + 1)
    if len(body) > limit:
        raise BodyTooLarge(limit)
    return body


def nul_error(path):
    """A 422 at `path` (the keys from the body's root down to the string with the NUL)."""
    detail = ["String should not contain NUL characters (\\u0000)"]
    for key in reversed(path):
        detail = {key: detail}
    exc = InvalidInput(detail if path else {"non_field_errors": detail}, "body")
    exc.error_type = "string_nul_character"
    return exc


def check_json(data, *, reject_nul=True):
    """Walk the parsed body without recursion: its depth, and NUL characters."""
    # (value, depth, path) where path is a linked (parent path, key) pair: cheap to keep
    # for every value, unrolled only for the error.
    stack = [(data, 1, None)]
    while stack:
        value, depth, path = stack.pop()
        if isinstance(value, dict | list):
            if depth > MAX_JSON_DEPTH:
                raise BodyTooDeep(MAX_JSON_DEPTH)
            items = value.items() if isinstance(value, dict) else enumerate(value)
            for key, item in items:
                if reject_nul and isinstance(key, str) and NUL in key:
                    raise nul_error(unrolled(path))
                stack.append((item, depth + 1, (path, key)))
        elif reject_nul and isinstance(value, str) and NUL in value:
            raise nul_error(unrolled(path))


def unrolled(path):
    keys = []
    while path is not None:
        path, key = path
        keys.append(key)
    return keys[::-1]


class JSONParser(parsers.JSONParser):
    reject_nul = True

    def parse(self, stream, media_type=None, parser_context=None):
        encoding = parsers.get_encoding(parser_context or {})
        body = read_body(stream)
        try:
            parse_constant = json.strict_constant if self.strict else None
            data = json.loads(codecs.decode(body, encoding), parse_constant=parse_constant)
        except RecursionError:
            raise BodyTooDeep(MAX_JSON_DEPTH) from None
        except ValueError as exc:
            raise ParseError(f"JSON parse error - {exc}") from None
        check_json(data, reject_nul=self.reject_nul)
        return data


class ItemsJSONParser(JSONParser):
    """For a list of items validated one by one: a NUL is that item's error, not the body's."""

    reject_nul = False

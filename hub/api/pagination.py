from rest_framework.pagination import BasePagination
from rest_framework.response import Response

from hub.api.errors import invalid

# The largest OFFSET or LIMIT the database takes (a signed 64-bit integer): a larger
# number is bad input, not a database error.
DATABASE_INT_MAX = 2**63 - 1


def query_int(request, name, default, *, minimum, cap=None, maximum=DATABASE_INT_MAX):
    """Read an integer query parameter; outside minimum..maximum → 422, above `cap` → capped."""
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise invalid(
            "query", name, "Input should be a valid integer", "int_parsing"
        ) from None
    if value < minimum:
        raise invalid(
            "query", name, f"Input should be greater than or equal to {minimum}",
            "greater_than_equal",
        )
    if value > maximum:
        raise invalid(
            "query", name, f"Input should be less than or equal to {maximum}",
            "less_than_equal",
        )
    return min(value, cap) if cap is not None else value


class SkipLimitPagination(BasePagination):
    """`skip`/`limit` paging that answers the bare array the catalog spec shows."""

    default_limit = 50
    max_limit = 1000

    def paginate_queryset(self, queryset, request, view=None):
        skip, limit = self.bounds(request)
        return list(queryset[skip : skip + limit])

    def bounds(self, request):
        """(skip, limit) of the page `request` asks for."""
        self.skip = query_int(request, "skip", 0, minimum=0)
        self.limit = query_int(
            request, "limit", self.default_limit, minimum=1, cap=self.max_limit
        )
        return self.skip, self.limit

    def get_paginated_response(self, data):
        return Response(data)

    def get_paginated_response_schema(self, schema):
        return schema

    def get_schema_operation_parameters(self, view):
        return [
            {"name": "skip", "in": "query", "required": False,
             "schema": {"type": "integer", "default": 0, "minimum": 0,
                        "maximum": DATABASE_INT_MAX}},
            {"name": "limit", "in": "query", "required": False,
             "description": f"At most {self.max_limit} rows are answered; a larger limit is "
                            "capped",
             "schema": {"type": "integer", "default": self.default_limit, "minimum": 1,
                        "maximum": DATABASE_INT_MAX}},
        ]


class DataCountPagination(SkipLimitPagination):
    """`skip`/`limit` paging that answers `{"data": [...], "count": N}` (the /api/v1 shape)."""

    default_limit = 100
    max_limit = 1000

    def paginate_queryset(self, queryset, request, view=None):
        self.count = queryset.count()
        return super().paginate_queryset(queryset, request, view)

    def get_paginated_response(self, data):
        return Response({"data": data, "count": self.count})

    def get_paginated_response_schema(self, schema):
        return {
            "type": "object",
            "required": ["data", "count"],
            "properties": {"data": schema, "count": {"type": "integer"}},
        }

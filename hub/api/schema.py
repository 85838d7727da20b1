"""The error answers in the OpenAPI schema, for every operation at once.

`document_errors` is a drf-spectacular postprocessing hook. It adds to each operation the
answers the API's shared layers give whatever the view (hub/api/errors.py and parsers.py):
401 and 403 where a sign-in is needed, 404 where a path names a row, 400, 413 and 422
where a body is taken, 422 where query parameters are. Statuses only some views answer are
declared on those views with the responses below (409, 503). Every error answer without a
body shape gets `Error` (`{"detail": "..."}`), and every 422 also `ValidationError`.
"""

from drf_spectacular.utils import OpenApiResponse

ERROR = "Error"
VALIDATION_ERROR = "ValidationError"
SCHEMAS = {
    ERROR: {
        "type": "object",
        "required": ["detail"],
        "properties": {"detail": {"type": "string"}},
    },
    VALIDATION_ERROR: {
        "type": "object",
        "required": ["detail"],
        "properties": {"detail": {"type": "array", "items": {
            "type": "object",
            "required": ["loc", "msg", "type"],
            "properties": {
                "loc": {"type": "array",
                        "items": {"oneOf": [{"type": "string"}, {"type": "integer"}]}},
                "msg": {"type": "string"},
                "type": {"type": "string"},
            },
        }}},
    },
}

SIGN_IN = {
    "401": "Not signed in, or the token is invalid or expired",
    "403": "Signed in, but not allowed to do this",
}
BODY = {
    "400": "The body is nested too deeply, or is otherwise malformed",
    "413": "The body is larger than the hub takes",
}
NOT_FOUND = {"404": "Not found"}
INVALID = {"422": "Invalid input: each error names its field in `loc`"}

# Responses for the views that answer them.
NOT_QUEUED = {503: OpenApiResponse(
    description="The work could not be queued (the task broker is unavailable)"
)}


def conflict(description):
    return {409: OpenApiResponse(description=description)}


def ref(name):
    return {"$ref": f"#/components/schemas/{name}"}


def document_errors(result, generator, request, public):
    result.setdefault("components", {}).setdefault("schemas", {}).update(SCHEMAS)
    for operation in operations(result):
        parameters = operation.get("parameters", [])
        has_body = "requestBody" in operation
        extra = {}
        if operation.get("security"):
            extra.update(SIGN_IN)
        if any(parameter["in"] == "path" for parameter in parameters):
            extra.update(NOT_FOUND)
        if has_body:
            extra.update(BODY)
        if has_body or any(parameter["in"] == "query" for parameter in parameters):
            extra.update(INVALID)
        responses = operation.setdefault("responses", {})
        for code, description in extra.items():
            responses.setdefault(code, {"description": description})
        for code, response in responses.items():
            if code.startswith(("4", "5")):
                give_body(code, response)
    return result


def operations(result):
    for path_item in result.get("paths", {}).values():
        for method, operation in path_item.items():
            if method in {"get", "put", "post", "patch", "delete"}:
                yield operation


def give_body(code, response):
    """An error answer's JSON body: Error, and for 422 also ValidationError."""
    content = response.setdefault("content", {})
    schema = content.get("application/json", {}).get("schema")
    if code == "422":
        if schema is None or schema == ref(VALIDATION_ERROR):
            schema = ref(VALIDATION_ERROR)
        else:
            schema = {"oneOf": [schema, ref(VALIDATION_ERROR)]}
    elif schema is None:
        schema = ref(ERROR)
    content["application/json"] = {"schema": schema}

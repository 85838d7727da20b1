"""The OpenAPI schema documents every answer an operation can give."""

import pytest
from drf_spectacular.generators import SchemaGenerator

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def openapi():
    return SchemaGenerator().get_schema(request=None, public=True)


def operations(openapi):
    for path, item in openapi["paths"].items():
        for method, operation in item.items():
            yield method.upper(), path, operation


def test_every_operation_documents_the_errors_the_shared_layers_answer(openapi):
    missing = []
    for method, path, operation in operations(openapi):
        expected = set()
        parameters = operation.get("parameters", [])
        if operation.get("security"):
            expected |= {"401", "403"}
        if any(parameter["in"] == "path" for parameter in parameters):
            expected.add("404")
        if "requestBody" in operation:
            expected |= {"400", "413", "422"}
        if any(parameter["in"] == "query" for parameter in parameters):
            expected.add("422")
        absent = expected - set(operation["responses"])
        if absent:
            missing.append((method, path, sorted(absent)))

    assert missing == []


def test_every_error_answer_has_a_json_body(openapi):
    for method, path, operation in operations(openapi):
        for code, response in operation["responses"].items():
            if code[0] in "45":
                schema = response["content"]["application/json"]["schema"]
                assert schema, (method, path, code)
                if code == "422":
                    assert "ValidationError" in str(schema), (method, path)


@pytest.mark.parametrize("method, path, codes", [
    ("delete", "/api/suppliers/{id}", {"409"}),
    ("delete", "/api/customers/{customer_id}", {"409"}),
    ("post", "/api/v1/external-integrations/ovs/{integration_id}/sync", {"409", "503"}),
    ("post", "/api/push/{customer_id}/{product_id}", {"422", "500", "503"}),
    ("post", "/api/v1/login/access-token", {"400", "429"}),
    ("post", "/api/ingest/{supplier_id}/products", {"401", "503"}),
])
def test_statuses_only_some_views_answer_are_documented_on_them(openapi, method, path, codes):
    assert codes <= set(openapi["paths"][path][method]["responses"])


def test_a_customer_storefront_is_documented_in_each_storefront_shape(openapi):
    schemas = openapi["components"]["schemas"]
    storefront = schemas["Customer"]["properties"]["storefront"]
    assert storefront["allOf"] == [{"$ref": "#/components/schemas/AnyStorefront"}]
    assert storefront["nullable"] is True

    shapes = schemas["AnyStorefront"]
    assert shapes["discriminator"]["propertyName"] == "type"
    mapping = shapes["discriminator"]["mapping"]
    assert set(mapping) == {"ops", "oms", "printops"}
    oms = schemas[mapping["oms"].rsplit("/", 1)[1]]
    assert {"store_id", "team_id", "country_id", "default_dpi"} <= set(oms["properties"])
    printops = schemas[mapping["printops"].rsplit("/", 1)[1]]
    assert "webhook_url" not in printops["properties"]
    assert "client_secret" not in str(shapes)

"""The OpenAPI schema describes the fields the specs define as the specs define them, and
documents what the hub adds (push history's action/step/detail, sync progress, the
per_size print pricing method)."""

import pytest
from drf_spectacular.generators import SchemaGenerator


@pytest.fixture(scope="module")
def schema():
    return SchemaGenerator().get_schema(request=None, public=True)


def component(schema, ref_or_name):
    name = ref_or_name.rsplit("/", 1)[-1]
    return schema["components"]["schemas"][name]


def enum_of(schema, prop):
    """The enum of a property, inline or behind a $ref (allOf when read-only)."""
    ref = prop.get("$ref") or (prop.get("allOf") or [{}])[0].get("$ref")
    return component(schema, ref)["enum"] if ref else prop["enum"]


def response_schema(schema, path, method="get", status="200"):
    content = schema["paths"][path][method]["responses"][status]["content"]
    found = content["application/json"]["schema"]
    if found.get("type") == "array":
        found = found["items"]
    return component(schema, found["$ref"])


def test_push_history_entries_have_the_spec_fields_and_action_step_detail(schema):
    entry = response_schema(schema, "/api/push/history/{customer_id}/{product_id}")

    assert list(entry["properties"]) == [
        "id", "status", "error", "pushed_at", "ops_product_id", "action", "step", "detail",
    ]
    assert entry["properties"]["ops_product_id"]["type"] == "integer"
    assert entry["properties"]["ops_product_id"]["nullable"] is True
    assert enum_of(schema, entry["properties"]["action"]) == [
        "created", "updated", "unchanged", "deactivated", "failed"
    ]
    assert entry["properties"]["step"]["nullable"] is True


def test_the_sync_status_has_exactly_the_spec_keys_and_progress_its_own_path(schema):
    status = response_schema(
        schema, "/api/v1/external-integrations/ovs/{integration_id}/sync/status"
    )
    progress = response_schema(
        schema, "/api/v1/external-integrations/{integration_id}/sync/progress"
    )

    assert set(status["properties"]) == {
        "integration_id", "sync_status", "last_sync_at", "last_successful_sync_at",
        "total_products_synced", "total_products_updated", "total_products_skipped",
        "last_sync_stats", "last_error_message",
    }
    assert set(progress["properties"]) == {
        "integration_id", "run_id", "sync_status", "processed", "total", "progress",
        "started_at", "heartbeat_at",
    }
    assert set(progress["required"]) == set(progress["properties"])


def test_print_pricing_method_is_a_documented_enum(schema):
    details = component(schema, "PrintDetails")

    assert enum_of(schema, details["properties"]["pricing_method"]) == ["formula", "per_size"]

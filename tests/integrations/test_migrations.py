"""The data migrations of stored secrets, events and ids, run forward and back on rows
written as the earlier schema held them."""

import uuid

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from hub.secrets import decrypt

BEFORE = [("integrations", "0003_printops_oms"),
          ("pushes", "0005_push_claimant_and_counted_log")]
AFTER = [("integrations", "0004_webhook_secret_encrypted_events_once"),
         ("pushes", "0006_ops_product_id")]


def migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


@pytest.fixture
def old_apps(transactional_db):
    try:
        yield migrate(BEFORE)
    finally:
        migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())


def seed(apps):
    User = apps.get_model("hub", "User")
    owner = User.objects.create(username="owner")
    printops = apps.get_model("integrations", "PrintOpsIntegration").objects.create(
        id=uuid.uuid4(), name="PrintOps", integration_type="printops", user=owner,
        base_url="https://printops.example.com", api_token="", webhook_secret="plain-secret",
    )
    events = apps.get_model("integrations", "WebhookEvent").objects
    for state in ("shipped", "shipped", "delivered"):
        events.create(integration_id=printops.pk, event_type="order_state_update",
                      payload={"order_id": 1, "state": state})
    ops = apps.get_model("integrations", "OPSIntegration").objects.create(
        id=uuid.uuid4(), name="Shop", integration_type="ops", user=owner,
        base_url="https://shop.example.com", token_url="https://shop.example.com/oauth/token",
        client_id="c", client_secret="",
    )
    Customer = apps.get_model("pushes", "Customer")
    to_ops = Customer.objects.create(id=uuid.uuid4(), name="A", storefront_id=ops.pk)
    to_printops = Customer.objects.create(id=uuid.uuid4(), name="B",
                                          storefront_id=printops.pk)
    supplier = apps.get_model("catalog", "Supplier").objects.create(id=uuid.uuid4(), name="S")
    Product = apps.get_model("catalog", "Product")
    # The catalog held whichever storefront's id was pushed last.
    tee = Product.objects.create(id=uuid.uuid4(), supplier=supplier, supplier_sku="TEE",
                                 product_name="Tee", product_type="apparel",
                                 ops_product_id="786322:48606")
    poster = Product.objects.create(id=uuid.uuid4(), supplier=supplier, supplier_sku="POSTER",
                                    product_name="Poster", product_type="print",
                                    ops_product_id="786322:48607")
    entries = apps.get_model("pushes", "StorefrontProduct").objects
    entries.create(customer=to_ops, product=tee, storefront_product_id="4821")
    entries.create(customer=to_printops, product=tee, storefront_product_id="786322:48606")
    entries.create(customer=to_printops, product=poster, storefront_product_id="786322:48607")
    logs = apps.get_model("pushes", "PushLog").objects
    for customer, product, status, stored in [
        (to_ops, tee, "pushed", "4821"), (to_ops, tee, "failed", "4821"),
        (to_printops, tee, "pushed", "786322:48606"),
    ]:
        logs.create(id=uuid.uuid4(), customer=customer, product=product, status=status,
                    action="created" if status == "pushed" else "failed",
                    storefront_product_id=stored)
    return printops.pk


def test_secrets_are_encrypted_events_kept_once_and_ops_ids_sorted_out_then_reversed(
    old_apps,
):
    printops_id = seed(old_apps)

    new_apps = migrate(AFTER)

    with connection.cursor() as cursor:
        cursor.execute("SELECT webhook_secret FROM integrations_printopsintegration")
        (stored,) = cursor.fetchone()
    assert stored != "plain-secret" and decrypt(stored) == "plain-secret"
    from integrations.models import PrintOpsIntegration

    assert PrintOpsIntegration.by_webhook_secret("plain-secret").pk == printops_id
    events = new_apps.get_model("integrations", "WebhookEvent").objects
    assert sorted(events.values_list("payload__state", flat=True)) == ["delivered", "shipped"]
    Product = new_apps.get_model("catalog", "Product")
    assert dict(Product.objects.values_list("supplier_sku", "ops_product_id")) == {
        "TEE": "4821", "POSTER": None,
    }
    PushLog = new_apps.get_model("pushes", "PushLog")
    assert sorted(PushLog.objects.values_list("status", "storefront_product_id",
                                              "ops_product_id"), key=str) == sorted([
        ("pushed", "4821", 4821), ("failed", "4821", None),
        ("pushed", "786322:48606", None),
    ], key=str)

    migrate(BEFORE)

    with connection.cursor() as cursor:
        cursor.execute("SELECT webhook_secret FROM integrations_printopsintegration")
        assert cursor.fetchone() == ("plain-secret",)

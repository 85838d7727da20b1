"""`ops_product_id` is the OnPrintShop product id only.

The push log gets its own `ops_product_id`, filled for the successful pushes to customers
whose storefront is an OnPrintShop one. A product's `ops_product_id` took the id of
whichever storefront was pushed last (an OMS or PrintOps id too): it is set again from
its latest OnPrintShop push, or cleared when it never went to OnPrintShop. Reversing
drops the log column and leaves the products' ids as they are (the OnPrintShop ones).
"""

from django.db import migrations, models
from django.db.models import F, OuterRef, Subquery

OPS = "ops"
PUSHED = "pushed"


def is_ops_id(value):
    return bool(value) and value.isascii() and value.isdigit()


def fill_ops_ids(apps, schema_editor):
    PushLog = apps.get_model("pushes", "PushLog")
    StorefrontProduct = apps.get_model("pushes", "StorefrontProduct")
    Product = apps.get_model("catalog", "Product")

    logs = PushLog.objects.filter(
        status=PUSHED, customer__storefront__integration_type=OPS,
        storefront_product_id__isnull=False,
    ).only("pk", "storefront_product_id")
    changed = []
    for log in logs.iterator():
        if is_ops_id(log.storefront_product_id):
            log.ops_product_id = int(log.storefront_product_id)
            changed.append(log)
    PushLog.objects.bulk_update(changed, ["ops_product_id"], batch_size=500)

    latest_ops = StorefrontProduct.objects.filter(
        product=OuterRef("pk"), customer__storefront__integration_type=OPS,
        storefront_product_id__regex=r"^[0-9]+$",
    ).order_by(F("last_pushed_at").desc(nulls_last=True), "-pk").values("storefront_product_id")[:1]
    Product.objects.filter(ops_product_id__isnull=False).update(
        ops_product_id=Subquery(latest_ops)
    )


class Migration(migrations.Migration):

    dependencies = [
        ("pushes", "0005_push_claimant_and_counted_log"),
        ("catalog", "0002_product_search_trigram"),
        ("integrations", "0003_printops_oms"),
    ]

    operations = [
        migrations.AddField(
            model_name="pushlog",
            name="ops_product_id",
            field=models.PositiveBigIntegerField(blank=True, null=True),
        ),
        migrations.RunPython(fill_ops_ids, migrations.RunPython.noop),
    ]

import json

import pytest

from catalog.ingest import ingest_products
from catalog.models import Category, Product, Supplier
from tests.factories import apparel_payload

pytestmark = pytest.mark.django_db

SECRET = "test-ingest-secret"


def post_ingest(client, supplier_id, items, secret=SECRET):
    headers = {"HTTP_X_INGEST_SECRET": secret} if secret is not None else {}
    return client.post(
        f"/api/ingest/{supplier_id}/products", data=json.dumps(items),
        content_type="application/json", **headers,
    )


def test_ingest_endpoint_upserts_and_reports_counts(anonymous_api, supplier):
    items = [apparel_payload("PC61"), apparel_payload("PC90"), {"supplier_sku": "BAD"}]

    first = post_ingest(anonymous_api, supplier.id, items)
    second = post_ingest(anonymous_api, supplier.id, items)

    assert first.status_code == 200
    body = first.json()
    assert {k: body[k] for k in ("created", "updated", "unchanged", "failed")} == {
        "created": 2, "updated": 0, "unchanged": 0, "failed": 1,
    }
    assert body["errors"][0]["index"] == 2
    assert {"loc": ["product_name"], "msg": "Field required", "type": "missing"} in (
        body["errors"][0]["errors"]
    )
    assert second.json()["unchanged"] == 2
    assert Product.objects.count() == 2


@pytest.mark.parametrize("secret", [None, "", "wrong", SECRET + "x"])
def test_ingest_refuses_a_missing_or_wrong_secret(anonymous_api, supplier, secret):
    response = post_ingest(anonymous_api, supplier.id, [apparel_payload("PC61")], secret=secret)

    assert response.status_code == 401
    assert "detail" in response.json()
    assert not Product.objects.exists()


def test_ingest_is_503_when_the_hub_has_no_secret(anonymous_api, supplier, settings):
    settings.INGEST_SECRET = ""

    response = post_ingest(anonymous_api, supplier.id, [apparel_payload("PC61")])

    assert response.status_code == 503
    assert "INGEST_SECRET" in response.json()["detail"]


def test_ingest_into_an_unknown_supplier_is_404(anonymous_api):
    response = post_ingest(anonymous_api, "not-a-uuid", [])

    assert response.status_code == 404
    assert response.json() == {"detail": "Supplier not found"}


@pytest.mark.parametrize("body", [{"supplier_sku": "x"}, "text", 12])
def test_ingest_needs_a_list(anonymous_api, supplier, body):
    response = post_ingest(anonymous_api, supplier.id, body)

    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "items"]


def test_ingest_command_loads_a_file(tmp_path, supplier):
    from io import StringIO

    from django.core.management import call_command

    path = tmp_path / "products.json"
    path.write_text(json.dumps([apparel_payload("F1"), apparel_payload("F2")]))
    out = StringIO()

    call_command("ingest_products", str(supplier.id), str(path), stdout=out, stderr=StringIO())
    call_command("ingest_products", "SanMar", str(path), stdout=out, stderr=StringIO())

    assert Product.objects.filter(supplier=supplier).count() == 2
    assert "created 2" in out.getvalue()
    assert "unchanged 2" in out.getvalue()


def test_ingest_command_loads_json_lines(tmp_path, supplier):
    from io import StringIO

    from django.core.management import call_command

    path = tmp_path / "products.jsonl"
    path.write_text("\n".join(json.dumps(apparel_payload(f"L{n}")) for n in range(3)) + "\n\n")
    out = StringIO()

    call_command("ingest_products", "SanMar", str(path), stdout=out, stderr=StringIO())

    assert sorted(Product.objects.values_list("supplier_sku", flat=True)) == ["L0", "L1", "L2"]
    assert "created 3" in out.getvalue()


def test_ingest_command_reads_the_file_as_it_goes(tmp_path, supplier):
    from io import StringIO

    from django.core.management import CommandError, call_command

    # A file cut short after 25 products: the batches read before the fault are stored,
    # which a reader that loads the whole file first could not do.
    whole = json.dumps([apparel_payload(f"S{n:02}") for n in range(30)])
    cut = whole[: whole.index('{"supplier_sku": "S25"')] + '{"supplier_sku": "S25", "prod'
    path = tmp_path / "products.json"
    path.write_text(cut)

    with pytest.raises(CommandError, match="Cannot read"):
        call_command("ingest_products", "SanMar", str(path), "--batch-size", "10",
                     stdout=StringIO(), stderr=StringIO())

    assert Product.objects.filter(supplier=supplier).count() == 20


def test_staff_manage_suppliers(staff_api):
    created = staff_api.post("/api/suppliers", {"name": "Alpha", "has_decoration_overlay": True},
                             format="json")
    assert created.status_code == 201
    supplier_id = created.json()["id"]
    assert created.json()["has_decoration_overlay"] is True

    patched = staff_api.patch(f"/api/suppliers/{supplier_id}", {"name": "Alpha Broder"},
                              format="json")
    assert patched.json()["name"] == "Alpha Broder"
    assert staff_api.get(f"/api/suppliers/{supplier_id}").json()["name"] == "Alpha Broder"
    assert [s["name"] for s in staff_api.get("/api/suppliers").json()] == ["Alpha Broder"]

    assert staff_api.delete(f"/api/suppliers/{supplier_id}").status_code == 204
    assert not Supplier.objects.exists()


def test_a_supplier_name_is_required_and_unique(staff_api, supplier):
    missing = staff_api.post("/api/suppliers", {}, format="json")
    duplicate = staff_api.post("/api/suppliers", {"name": "SanMar"}, format="json")

    assert missing.status_code == 422
    assert missing.json()["detail"][0]["loc"] == ["body", "name"]
    assert duplicate.status_code == 422


def test_a_supplier_with_products_is_not_deleted(staff_api, supplier):
    ingest_products(supplier, [apparel_payload("PC61")])

    response = staff_api.delete(f"/api/suppliers/{supplier.id}")

    assert response.status_code == 409
    assert "1 products" in response.json()["detail"]
    assert Product.objects.count() == 1


def test_regular_users_read_suppliers_but_do_not_write(api, supplier):
    assert api.get(f"/api/suppliers/{supplier.id}").json()["name"] == "SanMar"
    assert api.post("/api/suppliers", {"name": "X"}, format="json").status_code == 403
    assert api.patch(f"/api/suppliers/{supplier.id}", {"name": "X"},
                     format="json").status_code == 403
    assert api.delete(f"/api/suppliers/{supplier.id}").status_code == 403
    assert api.get("/api/suppliers/nope").json() == {"detail": "Supplier not found"}


def test_categories_are_listed_flat_with_their_parent(api, supplier):
    other = Supplier.objects.create(name="Other")
    ingest_products(supplier, [apparel_payload("A", category=("Apparel", "Fleece", "Hoodies"))])
    ingest_products(other, [apparel_payload("B", category=("Bags",))])

    body = api.get(f"/api/categories?supplier_id={supplier.id}").json()

    assert [c["name"] for c in body] == ["Apparel", "Fleece", "Hoodies"]
    by_name = {c["name"]: c for c in body}
    assert by_name["Apparel"]["parent_id"] is None
    assert by_name["Hoodies"]["parent_id"] == by_name["Fleece"]["id"]
    assert by_name["Hoodies"]["path"] == "Apparel / Fleece / Hoodies"
    assert set(body[0]) == {"id", "supplier_id", "parent_id", "name", "path", "external_id",
                            "sort_order"}
    assert len(api.get("/api/categories").json()) == Category.objects.count() == 4
    assert api.get("/api/categories?supplier_id=bad").status_code == 422

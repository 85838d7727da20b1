"""The fake push service, driven in-process over WSGI."""

import io

import pytest
from werkzeug.test import Client

from sandbox.push_service import MAX_FILE_BYTES, PushServiceFake
from sandbox.server import build_app

KEY = {"x-api-key": "demo-push-key"}
WEBP = b"RIFF\x1a\x00\x00\x00WEBPVP8L fake image bytes"


@pytest.fixture
def fake():
    return PushServiceFake(public_base="http://sandbox.test")


@pytest.fixture
def client(fake):
    return Client(fake)


def upload(client, data=WEBP, headers=KEY, **fields):
    form = {"product_code": "OVS-00001", "color": "Navy Blue", "sort_order": "2", **fields}
    if data is not None:
        form["file"] = (io.BytesIO(data), "front.webp", "image/webp")
    return client.post("/images", data=form, headers=headers)


def test_an_upload_is_hosted_at_the_url_it_answers(client, fake):
    response = upload(client)

    assert response.status_code == 201
    body = response.get_json()
    assert body["url"] == f"http://sandbox.test/push/files/{body['id']}.webp"
    stored = fake.state["files"][body["id"]]
    assert stored["data"] == WEBP
    assert (stored["product_code"], stored["color"], stored["sort_order"]) == (
        "OVS-00001", "Navy Blue", "2"
    )

    served = client.get(f"/files/{body['id']}.webp")
    assert served.status_code == 200
    assert served.mimetype == "image/webp"
    assert served.data == WEBP


def test_every_upload_gets_its_own_id(client):
    first = upload(client).get_json()
    second = upload(client).get_json()

    assert first["id"] != second["id"]
    assert first["url"] != second["url"]


@pytest.mark.parametrize("headers", [{}, {"x-api-key": "wrong"}])
def test_a_wrong_or_missing_key_is_refused(client, fake, headers):
    response = upload(client, headers=headers)

    assert response.status_code == 401
    assert response.get_json() == {"detail": "Invalid API key"}
    assert fake.state["files"] == {}


def test_the_accepted_key_is_an_option():
    client = Client(PushServiceFake(api_key="other-key"))

    assert upload(client).status_code == 401
    assert upload(client, headers={"x-api-key": "other-key"}).status_code == 201


def test_a_file_over_10_mb_is_refused(client, fake):
    response = upload(client, data=b"x" * (MAX_FILE_BYTES + 1))

    assert response.status_code == 413
    assert fake.state["files"] == {}
    assert upload(client, data=b"x" * MAX_FILE_BYTES).status_code == 201


def test_an_upload_without_a_file_is_refused(client):
    response = upload(client, data=None)

    assert response.status_code == 422
    assert "detail" in response.get_json()


def test_an_unknown_file_is_not_found(client):
    assert client.get("/files/img-999999.webp").status_code == 404
    assert client.get("/files/nothing").status_code == 404


def test_reset_forgets_the_uploads(client, fake):
    file_id = upload(client).get_json()["id"]

    client.post("/_sandbox/reset")

    assert client.get("/_sandbox/requests").get_json() == []
    assert client.get(f"/files/{file_id}.webp").status_code == 404


def test_faults_apply_to_uploads(client, fake):
    fake.set_faults(fail_next=1)

    assert upload(client).status_code == 500
    assert upload(client).status_code == 201


def test_the_sandbox_serves_the_fake_under_push():
    app, fakes = build_app("http://sandbox.test")
    client = Client(app)

    response = client.post(
        "/push/images", headers=KEY,
        data={"file": (io.BytesIO(WEBP), "a.webp", "image/webp"),
              "product_code": "P", "color": "", "sort_order": "0"},
    )
    body = response.get_json()

    assert response.status_code == 201
    assert body["url"].startswith("http://sandbox.test/push/files/")
    path = body["url"].removeprefix("http://sandbox.test")
    assert client.get(path).data == WEBP
    assert isinstance(fakes["push"], PushServiceFake)

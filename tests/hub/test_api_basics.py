import json
import time

import pytest
import time_machine
from django.contrib.auth import get_user_model
from django.core.exceptions import ImproperlyConfigured
from django.db import connection
from django.test.utils import CaptureQueriesContext
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.validation import validate_schema

from hub.api.tokens import issue_access_token

pytestmark = pytest.mark.django_db


def test_login_with_a_form_returns_a_bearer_token(anonymous_api, user):
    response = anonymous_api.post(
        "/api/v1/login/access-token",
        {"username": "reader", "password": "reader-password-1", "grant_type": "password"},
        format="multipart",
    )

    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"access_token", "token_type", "expires_in"}
    assert body["token_type"] == "bearer" and body["expires_in"] > 0
    anonymous_api.credentials(HTTP_AUTHORIZATION=f"Bearer {body['access_token']}")
    assert anonymous_api.get("/api/products").status_code == 200


def test_login_with_json_works_too(anonymous_api, user):
    response = anonymous_api.post(
        "/api/v1/login/access-token",
        {"username": "reader", "password": "reader-password-1"}, format="json",
    )
    assert response.status_code == 200


def test_wrong_credentials_are_refused_with_a_detail(anonymous_api, user):
    response = anonymous_api.post(
        "/api/v1/login/access-token", {"username": "reader", "password": "nope"}, format="json"
    )

    assert response.status_code == 400
    assert response.json() == {"detail": "Incorrect username or password"}


def test_login_without_a_password_is_422(anonymous_api):
    response = anonymous_api.post(
        "/api/v1/login/access-token", {"username": "reader"}, format="json"
    )

    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "password"]


def test_a_tampered_or_stale_token_is_401(anonymous_api, user):
    token = issue_access_token(user)["access_token"]
    anonymous_api.credentials(HTTP_AUTHORIZATION=f"Bearer {token}x")
    assert anonymous_api.get("/api/products").status_code == 401

    user.set_password("a-new-password-2")
    user.save()
    anonymous_api.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    response = anonymous_api.get("/api/products")
    assert response.status_code == 401
    assert response.json() == {"detail": "Could not validate credentials"}


def user_queries(queries):
    table = get_user_model()._meta.db_table
    return [query["sql"] for query in queries if table in query["sql"]]


def test_a_valid_token_costs_no_user_query(anonymous_api, user):
    token = issue_access_token(user)["access_token"]
    anonymous_api.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    assert anonymous_api.get("/api/suppliers").status_code == 200

    with CaptureQueriesContext(connection) as ctx:
        response = anonymous_api.get("/api/suppliers")

    assert response.status_code == 200
    assert user_queries(ctx.captured_queries) == []


@pytest.mark.parametrize("change", ["password", "deactivate", "delete"])
def test_a_cached_token_dies_at_once_when_its_user_changes(anonymous_api, user, change):
    token = issue_access_token(user)["access_token"]
    anonymous_api.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    assert anonymous_api.get("/api/suppliers").status_code == 200

    if change == "password":
        user.set_password("a-new-password-2")
        user.save()
    elif change == "deactivate":
        user.is_active = False
        user.save()
    else:
        user.delete()

    assert anonymous_api.get("/api/suppliers").status_code == 401


def test_the_cached_user_holds_no_password_hash(anonymous_api, user):
    from django.core.cache import cache

    from hub.api.tokens import cache_key_for

    token = issue_access_token(user)["access_token"]
    anonymous_api.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    assert anonymous_api.get("/api/suppliers").status_code == 200

    cached = cache.get(cache_key_for(user.pk))
    assert cached is not None
    assert user.password not in repr(cached) and "password" not in cached["user"].__dict__


def test_an_expired_token_is_401(anonymous_api, user, settings):
    settings.ACCESS_TOKEN_TTL = 60
    token = issue_access_token(user)["access_token"]
    anonymous_api.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    assert anonymous_api.get("/api/products").status_code == 200

    with time_machine.travel(time.time() + 120):
        assert anonymous_api.get("/api/products").status_code == 401


def test_the_auth_token_cookie_is_accepted(anonymous_api, user):
    anonymous_api.cookies["auth_token"] = issue_access_token(user)["access_token"]

    assert anonymous_api.get("/api/products").status_code == 200


def test_an_admin_session_is_accepted(client, staff_user):
    client.force_login(staff_user)

    assert client.get("/api/products").status_code == 200


def test_health_reports_database_and_broker(anonymous_api):
    response = anonymous_api.get("/api/health")

    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "broker": "ok"}


def test_health_is_503_when_the_broker_is_down(anonymous_api, monkeypatch):
    from hub.celery import app

    # Nothing listens on port 1: the broker is down.
    monkeypatch.setattr(app.conf, "broker_url", "redis://127.0.0.1:1/0")
    monkeypatch.setattr(app.conf, "broker_write_url", "redis://127.0.0.1:1/0")
    response = anonymous_api.get("/api/health")

    assert response.status_code == 503
    assert response.json()["broker"].startswith("error")
    assert response.json()["database"] == "ok"


def test_unknown_api_urls_answer_json_404(anonymous_api):
    response = anonymous_api.get("/api/no-such-thing")

    assert response.status_code == 404
    assert response.json() == {"detail": "Not found"}


def test_malformed_json_is_422_not_500(staff_api):
    response = staff_api.generic(
        "POST", "/api/suppliers", "{not json", content_type="application/json"
    )

    assert response.status_code == 422
    assert response.json()["detail"][0]["type"] == "json_invalid"


def test_the_schema_and_docs_are_served_without_a_token(anonymous_api):
    schema = anonymous_api.get("/api/schema/?format=json")
    docs = anonymous_api.get("/api/docs/")

    assert schema.status_code == 200
    assert "/api/products" in json.loads(schema.content)["paths"]
    assert docs.status_code == 200
    assert b"cdn" not in docs.content.lower()


def test_the_openapi_schema_is_valid():
    schema = SchemaGenerator().get_schema(request=None, public=True)

    validate_schema(schema)
    for path in ("/api/products", "/api/products/{product_id}", "/api/suppliers",
                 "/api/ingest/{supplier_id}/products", "/api/v1/login/access-token"):
        assert path in schema["paths"]


def test_the_schema_names_every_status_of_the_orders_api():
    paths = SchemaGenerator().get_schema(request=None, public=True)["paths"]

    def statuses(path, method):
        return set(paths[path][method]["responses"])

    assert statuses("/api/orders", "get") >= {"200", "403", "422"}
    assert statuses("/api/orders", "post") >= {"200", "201", "403", "422"}
    assert statuses("/api/orders/{order_id}", "get") >= {"200", "403", "404"}
    assert statuses("/api/orders/{order_id}/route", "post") >= {"202", "403", "404"}
    assert statuses("/api/customers/{customer_id}/orders/sync", "post") >= {
        "202", "403", "404", "409", "422"}


@pytest.mark.parametrize("name, value, message", [
    ("DEBUG", "maybe", "DEBUG must be true or false"),
    ("ACCESS_TOKEN_TTL", "soon", "ACCESS_TOKEN_TTL must be a whole number"),
    ("DATABASE_URL", "nonsense", "DATABASE_URL must be a database URL"),
    ("CELERY_BROKER_URL", "http://x", "CELERY_BROKER_URL must be a URL starting with"),
    ("OUTBOUND_ALLOWED_HOSTS", "127.0.0.1:sandbox", "OUTBOUND_ALLOWED_HOSTS: 127.0.0.1:sandbox"),
])
def test_settings_refuse_a_malformed_value_with_a_clear_message(monkeypatch, name, value,
                                                                message):
    import importlib

    import hub.settings

    monkeypatch.setenv(name, value)
    with pytest.raises(ImproperlyConfigured, match=message):
        importlib.reload(hub.settings)
    monkeypatch.delenv(name)
    importlib.reload(hub.settings)


def test_settings_require_a_secret_key_when_debug_is_off(monkeypatch):
    import importlib

    import hub.settings

    monkeypatch.setenv("SECRET_KEY", "")
    monkeypatch.setenv("DEBUG", "0")
    monkeypatch.setenv("HUB_ENV_FILE", "/nonexistent")
    with pytest.raises(ImproperlyConfigured, match="SECRET_KEY must be set"):
        importlib.reload(hub.settings)
    monkeypatch.undo()
    importlib.reload(hub.settings)


def test_a_staff_user_is_not_needed_to_read(api):
    assert get_user_model().objects.filter(is_staff=True).count() == 0
    assert api.get("/api/suppliers").status_code == 200


def test_the_redis_cache_keeps_one_client_and_reads_what_it_wrote(settings):
    from django.core.cache import caches

    if not settings.CACHES["default"]["BACKEND"].startswith("hub.cache"):
        pytest.skip("the cache is not Redis (REDIS_URL is not set)")
    cache = caches["default"]
    cache.set("hub.test-cache", {"a": 1}, 30)

    assert cache.get("hub.test-cache") == {"a": 1}
    assert cache._cache.get_client() is cache._cache.get_client()
    cache.delete("hub.test-cache")
    assert cache.get("hub.test-cache") is None

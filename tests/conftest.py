import pytest
from django.contrib.auth import get_user_model
from rest_framework.test import APIClient

from catalog.models import Supplier
from hub.api.tokens import issue_access_token
from sandbox.testing import RunningSandbox


def client_for(user):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {issue_access_token(user)['access_token']}")
    return client


@pytest.fixture
def user(db):
    return get_user_model().objects.create_user("reader", password="reader-password-1")


@pytest.fixture
def staff_user(db):
    return get_user_model().objects.create_user(
        "staff", password="staff-password-1", is_staff=True
    )


@pytest.fixture
def api(user):
    """An API client signed in as a regular user."""
    return client_for(user)


@pytest.fixture
def staff_api(staff_user):
    return client_for(staff_user)


@pytest.fixture
def anonymous_api():
    return APIClient()


@pytest.fixture
def supplier(db):
    return Supplier.objects.create(name="SanMar")


@pytest.fixture
def sandbox():
    """The sandbox fakes served over real HTTP on a free loopback port."""
    with RunningSandbox(catalog_size=40) as running:
        yield running


@pytest.fixture
def elsewhere():
    """A second sandbox: a server nobody gave a secret to, where a changed URL may point."""
    with RunningSandbox(catalog_size=4) as running:
        yield running


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    # Real hashing costs half a second per user; tests are not about its strength.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def eager_tasks(monkeypatch):
    """Tasks run in the test's own process as they are sent (no worker)."""
    from hub.celery import app

    monkeypatch.setitem(app.conf, "task_always_eager", True)


@pytest.fixture
def broker_down():
    """The task queue's broker cannot be reached (nothing listens at its address)."""
    from hub.celery import app

    saved = app.conf.broker_url, app.conf.broker_write_url

    def reconnect(url):
        app.conf.broker_url = app.conf.broker_write_url = url
        app._pool = None
        app.amqp._producer_pool = None

    reconnect("redis://127.0.0.1:1/0")
    yield
    reconnect(saved[0])
    app.conf.broker_write_url = saved[1]

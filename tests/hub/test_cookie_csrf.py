"""The `auth_token` cookie goes with every request a browser sends, a cross-site form's too:
an unsafe request it authenticates needs Django's CSRF token as well. A Bearer header is
never sent by a browser on its own, so it needs none."""

import pytest
from django.test import Client

from catalog.ingest import ingest_products
from catalog.models import Product
from hub.api.tokens import issue_access_token
from tests.factories import apparel_payload

pytestmark = pytest.mark.django_db

EVIL = "https://evil.example.com"


@pytest.fixture
def product(supplier):
    ingest_products(supplier, [apparel_payload("PC61")])
    return Product.objects.get()


@pytest.fixture
def browser(staff_user):
    """A browser that holds the staff user's token in its cookie and checks CSRF as Django
    does for real requests."""
    client = Client(enforce_csrf_checks=True)
    client.cookies["auth_token"] = issue_access_token(staff_user)["access_token"]
    return client


def archived(product):
    product.refresh_from_db()
    return product.archived_at is not None


def test_a_cross_site_form_post_with_the_cookie_and_no_csrf_token_is_403(browser, product):
    response = browser.post(f"/api/products/{product.pk}/archive", {}, HTTP_ORIGIN=EVIL)

    assert response.status_code == 403
    assert response.json()["detail"].startswith("CSRF Failed")
    assert not archived(product)


def test_a_cookie_request_with_the_csrf_token_works(browser, product):
    # The login answer sets the CSRF cookie a browser client sends back in X-CSRFToken.
    login = browser.post("/api/v1/login/access-token",
                         {"username": "staff", "password": "staff-password-1"})
    assert login.status_code == 200
    csrf_token = browser.cookies["csrftoken"].value

    response = browser.post(f"/api/products/{product.pk}/archive",
                            HTTP_X_CSRFTOKEN=csrf_token, HTTP_ORIGIN="http://testserver")

    assert response.status_code == 200, response.content
    assert archived(product)


def test_reads_with_the_cookie_need_no_csrf_token(browser, product):
    assert browser.get(f"/api/products/{product.pk}").status_code == 200


def test_a_bearer_token_needs_no_csrf_token(staff_user, product):
    client = Client(enforce_csrf_checks=True)
    token = issue_access_token(staff_user)["access_token"]

    response = client.post(f"/api/products/{product.pk}/archive", HTTP_ORIGIN=EVIL,
                           HTTP_AUTHORIZATION=f"Bearer {token}")

    assert response.status_code == 200, response.content
    assert archived(product)

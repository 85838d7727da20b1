"""Login throttle: after 10 failed logins for one username from one address within 15
minutes, that pair is answered 429 with Retry-After, the right password too, until the
15 minutes have passed. Other usernames and other addresses are not held up."""

from datetime import timedelta

import pytest
import time_machine
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

pytestmark = pytest.mark.django_db

LOGIN = "/api/v1/login/access-token"
RIGHT = "staff-password-1"
WINDOW = 15 * 60


def login(client, password, username="staff", address="10.1.1.1"):
    return client.post(LOGIN, {"username": username, "password": password},
                       REMOTE_ADDR=address)


def fail(client, times, **kwargs):
    return [login(client, f"wrong-{n}", **kwargs).status_code for n in range(times)]


@pytest.fixture
def clock():
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        yield traveller


def test_ten_failures_lock_the_pair_out_until_the_window_passes(
    anonymous_api, staff_user, clock
):
    assert fail(anonymous_api, 9) == [400] * 9
    clock.shift(timedelta(minutes=5))
    tenth = login(anonymous_api, "wrong-10")
    right = login(anonymous_api, RIGHT)

    for response in (tenth, right):
        assert response.status_code == 429
        assert response.json() == {"detail": (
            "Too many failed logins for this username from this address; "
            f"try again in {WINDOW} seconds."
        )}
        assert response["Retry-After"] == str(WINDOW)
        assert "access_token" not in response.content.decode()

    clock.shift(timedelta(minutes=10))
    still = login(anonymous_api, RIGHT)
    assert still.status_code == 429
    assert still["Retry-After"] == str(5 * 60)

    clock.shift(timedelta(minutes=5, seconds=1))
    after = login(anonymous_api, RIGHT)
    assert after.status_code == 200, after.content
    assert after.json()["token_type"] == "bearer"


def test_failures_older_than_the_window_do_not_count(anonymous_api, staff_user, clock):
    fail(anonymous_api, 9)
    clock.shift(timedelta(minutes=16))

    assert fail(anonymous_api, 9) == [400] * 9
    assert login(anonymous_api, RIGHT).status_code == 200


def test_the_lock_holds_one_username_from_one_address(
    anonymous_api, staff_user, user, clock
):
    fail(anonymous_api, 10)

    assert login(anonymous_api, RIGHT).status_code == 429
    assert login(anonymous_api, RIGHT, address="10.2.2.2").status_code == 200
    assert login(anonymous_api, "reader-password-1", username="reader").status_code == 200


def test_staff_unlock_a_pair_with_the_reset_command(anonymous_api, staff_user, clock):
    fail(anonymous_api, 10)

    call_command("axes_reset_username", "staff")

    assert login(anonymous_api, RIGHT).status_code == 200


def test_the_admin_login_is_throttled_too(client, staff_user, clock):
    url = reverse("admin:login")
    for n in range(10):
        client.post(url, {"username": "staff", "password": f"wrong-{n}"}, REMOTE_ADDR="10.1.1.1")

    response = client.post(url, {"username": "staff", "password": RIGHT}, REMOTE_ADDR="10.1.1.1")

    assert response.status_code == 429
    assert response["Retry-After"] == str(WINDOW)
    assert "_auth_user_id" not in client.session

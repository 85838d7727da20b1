import pytest

from integrations.models import Organization
from tests.conftest import client_for


@pytest.fixture
def people(django_user_model):
    make = django_user_model.objects.create_user
    return {
        "owner": make("owner"),
        "member": make("member"),
        "other": make("other"),
        "superuser": django_user_model.objects.create_superuser("root", password=None),
    }


@pytest.fixture
def organization(people):
    organization = Organization.objects.create(name="Acme Print")
    organization.members.add(people["owner"], people["member"])
    return organization


@pytest.fixture
def as_role(people):
    """An API client signed in as one of `people`."""
    return lambda role: client_for(people[role])

import uuid

from django.contrib.auth.models import AbstractUser
from django.db import models


class User(AbstractUser):
    """A person who signs in: staff in the admin, or an API consumer with a token."""

    # The API speaks of users by UUID (user_id, owner_id).
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)

"""Encryption of secrets at rest.

`settings.HUB_ENCRYPTION_KEYS` lists Fernet keys: the first encrypts, all decrypt. To rotate,
put a new key first, run `rotate_secrets()`, then drop the old key.
"""

from functools import lru_cache

from cryptography.fernet import Fernet, MultiFernet
from django.apps import apps
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.db.models import ExpressionWrapper, F, Value

from hub.env import fernet_keys


@lru_cache(maxsize=4)
def _build_fernet(keys: tuple[str, ...]) -> MultiFernet:
    return MultiFernet([Fernet(key) for key in fernet_keys("HUB_ENCRYPTION_KEYS", keys)])


def _fernet() -> MultiFernet:
    keys = getattr(settings, "HUB_ENCRYPTION_KEYS", None) or []
    if isinstance(keys, str):
        keys = keys.split(",")
    return _build_fernet(tuple(key.strip() for key in keys if key.strip()))


def encrypt(plaintext: str) -> str:
    return _fernet().encrypt(plaintext.encode()).decode("ascii")


def decrypt(token: str) -> str:
    """Raises cryptography.fernet.InvalidToken when no configured key fits."""
    return _fernet().decrypt(token.encode("ascii")).decode()


class EncryptedTextField(models.TextField):
    """A text column that holds a Fernet token; in Python the value is always plaintext.

    None and "" are stored as they are and mean "no secret". Lookups other than `exact`
    and `isnull` are refused, and `exact` only makes sense against "" (tokens are random).
    """

    def from_db_value(self, value, expression, connection):
        if not value:
            return value
        return decrypt(value)

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        if not value:
            return value
        return encrypt(value)

    def get_lookup(self, lookup_name):
        if lookup_name not in ("exact", "isnull"):
            return None
        return super().get_lookup(lookup_name)


class SecretDestinations:
    """A model whose secrets are each bound to the URL fields they are sent to.

    `SECRET_DESTINATIONS` maps each secret field to the URL fields it (or a token got
    with it) is sent to.
    """

    SECRET_DESTINATIONS: dict[str, tuple[str, ...]] = {}

    def check_secret_destinations(self, changes):
        """Refuse a change that would send a stored secret somewhere new.

        `changes` maps the fields a change gives to their new values, against this row as
        stored; a secret in `changes` is given anew (or removed). Whoever may edit the row
        need not know its secrets, so a secret only follows its URL when it is given
        again in the same change. Raises ValidationError naming each secret.
        """
        errors = {}
        for secret, destinations in self.SECRET_DESTINATIONS.items():
            if secret in changes or not getattr(self, secret):
                continue
            moved = [name for name in destinations
                     if changes.get(name) and changes[name] != getattr(self, name)]
            if moved:
                errors[secret] = ValidationError(
                    f"Give the {secret} again to change {' and '.join(moved)}: a stored "
                    "secret is only sent where it was given for.",
                    code="secret_required",
                )
        if errors:
            raise ValidationError(errors)


def rotate_secrets(batch_size: int = 500) -> int:
    """Re-encrypt every stored secret with the first key; return how many values changed."""
    fernet = _fernet()
    rotated = 0
    with transaction.atomic():
        for model in apps.get_models():
            if model._meta.proxy:
                continue
            names = [
                field.name
                for field in model._meta.local_concrete_fields
                if isinstance(field, EncryptedTextField)
            ]
            if names:
                rotated += _rotate_model(model, names, fernet, batch_size)
    return rotated


def _rotate_model(model, names: list[str], fernet: MultiFernet, batch_size: int) -> int:
    # The raw tokens, read past from_db_value so they are rotated, not decrypted.
    raw_columns = [ExpressionWrapper(F(name), output_field=models.TextField()) for name in names]
    rows = model._base_manager.order_by("pk").values_list("pk", *raw_columns)
    rotated = 0
    last_pk = None
    while True:
        batch = rows if last_pk is None else rows.filter(pk__gt=last_pk)
        batch = list(batch[:batch_size])
        if not batch:
            return rotated
        last_pk = batch[-1][0]
        objs = []
        for pk, *tokens in batch:
            if not any(tokens):
                continue
            obj = model(pk=pk)
            for name, token in zip(names, tokens, strict=True):
                if token:
                    token = fernet.rotate(token.encode("ascii")).decode("ascii")
                    rotated += 1
                # An expression, so bulk_update writes the token as is instead of encrypting.
                setattr(obj, name, Value(token, output_field=models.TextField()))
            objs.append(obj)
        model._base_manager.bulk_update(objs, names)

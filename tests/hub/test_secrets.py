import pytest
from cryptography.fernet import Fernet, InvalidToken
from django.core.exceptions import ImproperlyConfigured
from django.db import connection, models
from django.test.utils import isolate_apps

from hub import secrets
from hub.secrets import EncryptedTextField, decrypt, encrypt, rotate_secrets

OLD_KEY = Fernet.generate_key().decode()
NEW_KEY = Fernet.generate_key().decode()


@pytest.fixture
def old_key(settings):
    settings.HUB_ENCRYPTION_KEYS = [OLD_KEY]
    return settings


def test_a_secret_survives_encryption_and_decryption(old_key):
    token = encrypt("api-key-123")

    assert "api-key-123" not in token
    assert decrypt(token) == "api-key-123"


def test_encrypting_the_same_secret_twice_gives_different_tokens(old_key):
    assert encrypt("same") != encrypt("same")


def test_after_adding_a_new_first_key_old_tokens_still_decrypt(old_key):
    token = encrypt("secret")
    old_key.HUB_ENCRYPTION_KEYS = [NEW_KEY, OLD_KEY]

    assert decrypt(token) == "secret"
    assert Fernet(NEW_KEY).decrypt(encrypt("fresh").encode()) == b"fresh"


def test_a_token_does_not_decrypt_once_its_key_is_gone(old_key):
    token = encrypt("secret")
    old_key.HUB_ENCRYPTION_KEYS = [NEW_KEY]

    with pytest.raises(InvalidToken):
        decrypt(token)


def test_no_keys_is_a_configuration_error(settings):
    settings.HUB_ENCRYPTION_KEYS = []

    with pytest.raises(ImproperlyConfigured, match="HUB_ENCRYPTION_KEYS is empty"):
        encrypt("secret")


def test_a_malformed_key_is_a_configuration_error_that_does_not_show_the_key(settings):
    settings.HUB_ENCRYPTION_KEYS = [NEW_KEY, "not-a-real-key"]

    with pytest.raises(ImproperlyConfigured, match=r"HUB_ENCRYPTION_KEYS\[1\]") as caught:
        encrypt("secret")

    assert "not-a-real-key" not in str(caught.value)
    assert NEW_KEY not in str(caught.value)


def test_the_field_stores_a_token_and_loads_the_plaintext(old_key):
    field = EncryptedTextField()

    stored = field.get_prep_value("api-key-123")

    assert stored != "api-key-123"
    assert Fernet(OLD_KEY).decrypt(stored.encode()) == b"api-key-123"
    assert field.from_db_value(stored, None, connection) == "api-key-123"


@pytest.mark.parametrize("empty", [None, ""])
def test_the_field_keeps_an_empty_secret_empty(old_key, empty):
    field = EncryptedTextField()

    assert field.get_prep_value(empty) == empty
    assert field.from_db_value(empty, None, connection) == empty


def test_the_field_deconstructs_for_migrations():
    name, path, args, kwargs = EncryptedTextField(blank=True).deconstruct()

    assert path == "hub.secrets.EncryptedTextField"
    assert kwargs == {"blank": True}


def test_the_field_only_offers_lookups_that_can_match():
    field = EncryptedTextField()

    assert field.get_lookup("exact") is not None
    assert field.get_lookup("isnull") is not None
    assert field.get_lookup("icontains") is None


@pytest.mark.django_db(transaction=True)
def test_rotation_re_encrypts_every_stored_secret_with_the_first_key(old_key, monkeypatch):
    with isolate_apps("hub") as registry:

        class Vault(models.Model):
            token = EncryptedTextField(blank=True, null=True)
            password = EncryptedTextField(blank=True)

            class Meta:
                app_label = "hub"

            def __str__(self):
                return f"vault {self.pk}"

        monkeypatch.setattr(secrets, "apps", registry)
        with connection.schema_editor() as editor:
            editor.create_model(Vault)
        try:
            for number in range(5):
                Vault.objects.create(token=f"token-{number}", password=f"pw-{number}")
            Vault.objects.create(token=None, password="")
            Vault.objects.create(token="", password="only-password")

            old_key.HUB_ENCRYPTION_KEYS = [NEW_KEY, OLD_KEY]
            assert rotate_secrets(batch_size=2) == 11

            with connection.cursor() as cursor:
                cursor.execute(f"SELECT token, password FROM {Vault._meta.db_table} ORDER BY id")
                rows = cursor.fetchall()
            only_new_key = Fernet(NEW_KEY)
            assert [only_new_key.decrypt(token.encode()) for token, _ in rows[:5]] == [
                f"token-{number}".encode() for number in range(5)
            ]
            assert only_new_key.decrypt(rows[6][1].encode()) == b"only-password"
            assert rows[5] == (None, "")
            assert rows[6][0] == ""

            old_key.HUB_ENCRYPTION_KEYS = [NEW_KEY]
            assert Vault.objects.get(password="").token is None
            passwords = Vault.objects.order_by("id").values_list("password", flat=True)
            assert list(passwords) == [f"pw-{n}" for n in range(5)] + ["", "only-password"]
        finally:
            with connection.schema_editor() as editor:
                editor.delete_model(Vault)


@pytest.mark.django_db
def test_rotation_without_encrypted_fields_changes_nothing(old_key):
    assert rotate_secrets() == 0


def start_the_hub(**environment):
    """Run `manage.py check` as a fresh process with this environment; (exit code, stderr)."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    env = {key: value for key, value in os.environ.items() if key != "HUB_ENCRYPTION_KEYS"}
    env.update(HUB_ENV_FILE="/dev/null", SECRET_KEY="test-secret", **environment)
    done = subprocess.run(
        [sys.executable, "manage.py", "check"], cwd=Path(__file__).resolve().parents[2],
        env=env, capture_output=True, text=True, timeout=120,
    )
    return done.returncode, done.stderr


@pytest.mark.parametrize("keys, named", [
    (None, "HUB_ENCRYPTION_KEYS"),
    ("", "HUB_ENCRYPTION_KEYS"),
    (f"{NEW_KEY},not-a-real-key", "HUB_ENCRYPTION_KEYS[1]"),
], ids=["unset", "empty", "malformed"])
def test_the_hub_refuses_to_start_without_valid_encryption_keys(keys, named):
    code, stderr = start_the_hub(**({} if keys is None else {"HUB_ENCRYPTION_KEYS": keys}))

    assert code != 0
    assert f"ImproperlyConfigured: {named}" in stderr
    assert "not-a-real-key" not in stderr and NEW_KEY not in stderr


def test_the_hub_starts_with_a_key():
    code, stderr = start_the_hub(HUB_ENCRYPTION_KEYS=NEW_KEY)

    assert code == 0, stderr

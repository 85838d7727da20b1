"""Strict readers of settings from the environment.

A malformed value stops the hub at start with a message that names the variable and
what it expected, instead of silently falling back to a default.
"""

import os
import warnings

import environ
from cryptography.fernet import Fernet
from django.core.exceptions import ImproperlyConfigured

TRUE = {"1", "true", "yes", "on"}
FALSE = {"0", "false", "no", "off", ""}


def _raw(name):
    value = os.environ.get(name)
    return None if value is None else value.strip()


def env_str(name, default=None, *, required=False):
    value = _raw(name)
    if value is None or value == "":
        if required:
            raise ImproperlyConfigured(f"{name} must be set.")
        return default
    return value


def env_bool(name, default=False):
    value = _raw(name)
    if value is None:
        return default
    if value.lower() in TRUE:
        return True
    if value.lower() in FALSE:
        return False
    raise ImproperlyConfigured(f"{name} must be true or false (1/0, yes/no), got {value!r}.")


def env_int(name, default, *, minimum=None):
    value = _raw(name)
    if value is None or value == "":
        return default
    try:
        number = int(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a whole number, got {value!r}.") from None
    if minimum is not None and number < minimum:
        raise ImproperlyConfigured(f"{name} must be at least {minimum}, got {number}.")
    return number


def env_floats(name, default):
    value = _raw(name)
    if value is None or value == "":
        return default
    try:
        return tuple(float(part) for part in value.split(","))
    except ValueError:
        raise ImproperlyConfigured(
            f"{name} must be numbers separated by commas, got {value!r}."
        ) from None


def env_list(name, default=()):
    value = _raw(name)
    if value is None:
        return list(default)
    return [part.strip() for part in value.split(",") if part.strip()]


def env_database(name, default):
    value = env_str(name, default)
    try:
        with warnings.catch_warnings():
            # The library's warning would print the URL, password included.
            warnings.simplefilter("ignore")
            config = environ.Env.db_url_config(value)
    except Exception:
        config = {}
    if not config.get("ENGINE") or not config.get("NAME"):
        raise ImproperlyConfigured(
            f"{name} must be a database URL such as postgres://user@host:5432/dbname "
            "or sqlite:////absolute/path.sqlite3."
        )
    return config


def env_url(name, default, *, schemes):
    value = env_str(name, default)
    scheme = value.split("://", 1)[0] if "://" in value else ""
    if scheme not in schemes:
        raise ImproperlyConfigured(
            f"{name} must be a URL starting with one of {', '.join(s + '://' for s in schemes)}."
        )
    return value


def fernet_keys(name, keys):
    """`keys` if it holds at least one key and every one is a Fernet key.

    The message names the variable and the key's position, never the key.
    """
    if not keys:
        raise ImproperlyConfigured(
            f"{name} is empty: set at least one Fernet key (python -c \"from "
            "cryptography.fernet import Fernet; print(Fernet.generate_key().decode())\")."
        )
    for index, key in enumerate(keys):
        try:
            Fernet(key)
        except ValueError:
            raise ImproperlyConfigured(
                f"{name}[{index}] is not a valid Fernet key (32 url-safe base64-encoded bytes)."
            ) from None
    return list(keys)


def env_fernet_keys(name):
    return fernet_keys(name, env_list(name))

"""Access tokens: signed, expiring, and void once the user's password changes.

A token is `signing.dumps` of the user id and the user's session hash (an HMAC of the
password hash), so a stolen token dies with a password change and no token table is
needed. The user a token names is kept in the shared cache for `TOKEN_USER_CACHE_SECONDS`,
so a valid token costs no query: the entry holds the user without the password hash
(deferred) and the session hash to compare with, and it is dropped the moment the user is
saved or deleted (a new password, deactivation), so such a change still voids the token at
once on every process. A change that bypasses save() (a queryset update) takes effect
when the entry expires.
"""

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core import signing
from django.core.cache import cache
from django.db.models.signals import post_delete, post_save
from django.utils.crypto import constant_time_compare

SALT = "hub.access-token"
TOKEN_USER_CACHE_SECONDS = 60


def issue_access_token(user):
    remember_user(user)
    token = signing.dumps({"uid": str(user.pk), "h": user.get_session_auth_hash()}, salt=SALT)
    return {"access_token": token, "token_type": "bearer", "expires_in": settings.ACCESS_TOKEN_TTL}


def user_for_access_token(token):
    """The active user the token belongs to, or None when it is invalid or expired."""
    try:
        claims = signing.loads(token, salt=SALT, max_age=settings.ACCESS_TOKEN_TTL)
    except signing.BadSignature:
        return None
    known = cached_user(claims.get("uid"))
    if known is None or not constant_time_compare(claims.get("h", ""), known["session_hash"]):
        return None
    return known["user"]


def cache_key_for(user_id):
    return f"hub.token-user:{user_id}"


def cached_user(user_id):
    """{"user", "session_hash"} of the active user with this id, from the cache or the
    database; None when there is no such active user."""
    key = cache_key_for(user_id)
    known = cache.get(key)
    if known is None:
        user = get_user_model().objects.filter(pk=user_id, is_active=True).first()
        if user is None:
            return None
        known = remember_user(user)
    return known


def remember_user(user):
    """Cache the user for its tokens; the password hash stays in the database (the cached
    copy defers it: reading it reloads it, saving skips it)."""
    copy = user.__class__.from_db(user._state.db, *_without_password(user))
    known = {"user": copy, "session_hash": user.get_session_auth_hash()}
    cache.set(cache_key_for(user.pk), known, TOKEN_USER_CACHE_SECONDS)
    return known


def _without_password(user):
    names = [
        field.attname for field in user._meta.concrete_fields
        if field.attname != "password" and field.attname in user.__dict__
    ]
    return names, [getattr(user, name) for name in names]


def forget_cached_user(sender, instance, **kwargs):
    cache.delete(cache_key_for(instance.pk))


def connect_signals():
    user_model = get_user_model()
    post_save.connect(forget_cached_user, sender=user_model, dispatch_uid="hub.token-user.save")
    post_delete.connect(
        forget_cached_user, sender=user_model, dispatch_uid="hub.token-user.delete"
    )

"""Access tokens: signed, expiring, and void once the user's password changes.

A token is `signing.dumps` of the user id and the user's session hash, so a stolen
token dies with a password change and no token table is needed.
"""

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core import signing
from django.utils.crypto import constant_time_compare

SALT = "hub.access-token"


def issue_access_token(user):
    token = signing.dumps({"uid": str(user.pk), "h": user.get_session_auth_hash()}, salt=SALT)
    return {"access_token": token, "token_type": "bearer", "expires_in": settings.ACCESS_TOKEN_TTL}


def user_for_access_token(token):
    """The active user the token belongs to, or None when it is invalid or expired."""
    try:
        claims = signing.loads(token, salt=SALT, max_age=settings.ACCESS_TOKEN_TTL)
    except signing.BadSignature:
        return None
    user = get_user_model().objects.filter(pk=claims.get("uid"), is_active=True).first()
    if user is None or not constant_time_compare(claims.get("h", ""), user.get_session_auth_hash()):
        return None
    return user

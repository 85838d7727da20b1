from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions

from hub.api.tokens import user_for_access_token


class BearerTokenAuthentication(authentication.BaseAuthentication):
    """`Authorization: Bearer <token>` from the login endpoint."""

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).decode("latin-1")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer":
            return None
        if not token.strip():
            raise exceptions.AuthenticationFailed("Invalid authentication credentials")
        return self.user_for(token.strip())

    def user_for(self, token):
        user = user_for_access_token(token)
        if user is None:
            raise exceptions.AuthenticationFailed("Could not validate credentials")
        return user, token

    def authenticate_header(self, request):
        return "Bearer"


class CookieTokenAuthentication(BearerTokenAuthentication):
    """The same token carried in an `auth_token` cookie.

    A browser sends the cookie with every request to the hub, a cross-site form's too, so
    unsafe methods also need Django's CSRF token (the `csrftoken` cookie's value in
    `X-CSRFToken`), exactly as for an admin session.
    """

    def authenticate(self, request):
        token = request.COOKIES.get("auth_token")
        if not token:
            return None
        user, token = self.user_for(token)
        authentication.SessionAuthentication().enforce_csrf(request)
        return user, token


class BearerTokenScheme(OpenApiAuthenticationExtension):
    target_class = BearerTokenAuthentication
    name = "OAuth2PasswordBearer"

    def get_security_definition(self, auto_schema):
        return {
            "type": "oauth2",
            "flows": {"password": {"tokenUrl": "/api/v1/login/access-token", "scopes": {}}},
        }


class CookieTokenScheme(OpenApiAuthenticationExtension):
    target_class = CookieTokenAuthentication
    name = "AuthTokenCookie"

    def get_security_definition(self, auto_schema):
        return {"type": "apiKey", "in": "cookie", "name": "auth_token"}

import math

from axes.helpers import get_client_username
from axes.models import AccessAttempt
from django.conf import settings
from django.contrib.auth import authenticate
from django.db import connection
from django.db.models import Max
from django.http import JsonResponse
from django.middleware.csrf import get_token
from django.utils import timezone
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.decorators import api_view, authentication_classes, permission_classes
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from hub.api.parsers import JSONParser
from hub.api.tokens import issue_access_token
from hub.celery import app as celery_app


class LoginSerializer(serializers.Serializer):
    username = serializers.CharField(max_length=150)
    password = serializers.CharField(max_length=4096, trim_whitespace=False)
    grant_type = serializers.CharField(required=False, allow_blank=True)


class AccessTokenSerializer(serializers.Serializer):
    access_token = serializers.CharField()
    token_type = serializers.CharField()
    expires_in = serializers.IntegerField()


class LoginView(APIView):
    """OAuth2 password flow: a form or JSON body with username and password."""

    authentication_classes = []
    permission_classes = []
    parser_classes = [FormParser, MultiPartParser, JSONParser]

    @extend_schema(
        request=LoginSerializer, operation_id="login_access_token",
        responses={
            200: AccessTokenSerializer,
            400: OpenApiResponse(description="Incorrect username or password"),
            429: OpenApiResponse(description="Too many failed logins for this username from "
                                             "this address; see Retry-After"),
        },
    )
    def post(self, request):
        form = LoginSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        # The Django request: the login throttle marks it when the pair is locked out.
        user = authenticate(
            request._request, username=form.validated_data["username"],
            password=form.validated_data["password"],
        )
        if user is None or not user.is_active:
            return Response(
                {"detail": "Incorrect username or password"}, status=status.HTTP_400_BAD_REQUEST
            )
        # A browser client that keeps the token in the auth_token cookie needs the CSRF
        # cookie too: its value goes in X-CSRFToken on unsafe requests.
        get_token(request)
        return Response(issue_access_token(user))


def login_locked_out(request, original_response=None, credentials=None):
    """The answer to a login of a locked-out username and address (API and admin alike)."""
    username = get_client_username(request, credentials)
    # Tries during the lock are not recorded (settings), so the lock ends one cool-off
    # after the last failure the database handler kept.
    last_failure = AccessAttempt.objects.filter(
        username=username, ip_address=request.axes_ip_address
    ).aggregate(last=Max("attempt_time"))["last"] or timezone.now()
    ends = last_failure + settings.AXES_COOLOFF_TIME
    seconds = max(1, math.ceil((ends - timezone.now()).total_seconds()))
    response = JsonResponse(
        {"detail": "Too many failed logins for this username from this address; "
                   f"try again in {seconds} seconds."},
        status=status.HTTP_429_TOO_MANY_REQUESTS,
    )
    response["Retry-After"] = str(seconds)
    return response


def database_status():
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        return "ok"
    except Exception as exc:
        return f"error: {exc.__class__.__name__}"


def broker_status():
    try:
        with celery_app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, interval_start=0, timeout=2)
        return "ok"
    except Exception as exc:
        return f"error: {exc.__class__.__name__}"


@extend_schema(
    responses={200: inline_serializer("Health", {
        "status": serializers.CharField(), "database": serializers.CharField(),
        "broker": serializers.CharField(),
    }), 503: OpenApiResponse(description="The database or the broker is unreachable")},
)
@api_view(["GET"])
@authentication_classes([])
@permission_classes([])
def health(request):
    checks = {"database": database_status(), "broker": broker_status()}
    healthy = all(value == "ok" for value in checks.values())
    return Response(
        {"status": "ok" if healthy else "error", **checks},
        status=status.HTTP_200_OK if healthy else status.HTTP_503_SERVICE_UNAVAILABLE,
    )

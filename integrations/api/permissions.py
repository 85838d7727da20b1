"""Who may act on which integrations: organization membership and superuser-only changes."""

import uuid

from rest_framework.exceptions import PermissionDenied

from hub.api.errors import invalid
from hub.api.lookups import get_by_uuid_or_404
from integrations.models import INTEGRATION_MODELS, Integration, Organization

NOT_A_MEMBER = "Not a member of this organization"
# The child tables `typed()` reads, joined up front so it costs no extra query.
TYPED_RELATIONS = [model._meta.model_name for model in INTEGRATION_MODELS.values()]


def organization_for(user, organization_id, location):
    """The organization `user` acts in: unknown → 422, not a member → 403."""
    organization = Organization.objects.filter(pk=organization_id).first()
    if organization is None:
        raise invalid(location, "organization_id", "Organization not found", "not_found")
    require_member(user, organization)
    return organization


def require_member(user, organization):
    if user.is_superuser or organization.members.filter(pk=user.pk).exists():
        return
    raise PermissionDenied(NOT_A_MEMBER)


def require_access(user, integration, message):
    """PermissionDenied with `message` unless `user` may open the integration."""
    if not Integration.objects.accessible_to(user).filter(pk=integration.pk).exists():
        raise PermissionDenied(message)


def require_superuser(user, action):
    if not user.is_superuser:
        raise PermissionDenied(f"Only superusers may {action}")


def query_organization(request):
    """The organization named by the `organization_id` query parameter, or None."""
    raw = request.query_params.get("organization_id")
    if not raw:
        return None
    try:
        organization_id = uuid.UUID(raw)
    except ValueError:
        raise invalid(
            "query", "organization_id", "Input should be a valid UUID", "uuid_parsing"
        ) from None
    return organization_for(request.user, organization_id, "query")


def visible_integrations(request, queryset):
    """What a list shows: the organization's when one is named, else personal ones.

    Superusers see every integration, or the named organization's.
    """
    organization = query_organization(request)
    if organization is not None:
        return queryset.filter(organization=organization)
    if request.user.is_superuser:
        return queryset
    return queryset.filter(user=request.user, organization__isnull=True)


def accessible_integration(request, integration_id, model=Integration):
    """The integration the user may open, as `model`; 404 for anything else."""
    query_organization(request)
    queryset = model.objects.accessible_to(request.user)
    if model is Integration:
        queryset = queryset.select_related(*TYPED_RELATIONS)
    return get_by_uuid_or_404(queryset, integration_id, "Integration not found")


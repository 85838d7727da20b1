"""GET /api/push/image/{image_id}/processed: a product image as WebP, for storefront pushes."""

from django.http import HttpResponse
from django.utils.http import parse_etags
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.response import Response
from rest_framework.views import APIView

from catalog.models import ProductImage
from hub.api.lookups import get_by_uuid_or_404
from pushes.images import ImageDownloadFailed, ImageProcessingFailed, processed_image

CACHE_CONTROL = "public, max-age=86400"


class FirstRenderer(BaseContentNegotiation):
    """Ignore Accept: the answer is WebP bytes or a JSON error, whatever the client asks."""

    def select_parser(self, request, parsers):
        return parsers[0] if parsers else None

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type


def etag_matches(header: str, etag: str) -> bool:
    tags = parse_etags(header)
    return "*" in tags or any(tag.removeprefix("W/") == etag for tag in tags)


class ProcessedImageView(APIView):
    """The image's source converted to WebP (cached); 304 when If-None-Match matches."""

    content_negotiation_class = FirstRenderer

    @extend_schema(
        parameters=[OpenApiParameter("image_id", OpenApiTypes.STR, OpenApiParameter.PATH)],
        responses={
            (200, "image/webp"): OpenApiTypes.BINARY,
            304: OpenApiResponse(description="Not modified (If-None-Match matched the ETag)"),
            404: OpenApiResponse(description="Image not found"),
            500: OpenApiResponse(description="Could not process the image"),
            502: OpenApiResponse(description="Could not download the source image"),
        },
    )
    def get(self, request, image_id):
        image = get_by_uuid_or_404(ProductImage.objects.all(), image_id, "Image not found")
        try:
            processed = processed_image(image)
        except ImageDownloadFailed as exc:
            return Response({"detail": str(exc)}, status=502)
        except ImageProcessingFailed as exc:
            return Response({"detail": str(exc)}, status=500)
        headers = {"ETag": processed.etag, "Cache-Control": CACHE_CONTROL}
        if etag_matches(request.headers.get("If-None-Match", ""), processed.etag):
            response = HttpResponse(status=304, headers=headers)
            del response["Content-Type"]
            return response
        return HttpResponse(processed.data, content_type="image/webp", headers=headers)

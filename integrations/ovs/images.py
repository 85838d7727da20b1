"""Hosted copies of product images, on the integration's push service (see ovs-api.md).

After a sync, each image not uploaded yet (or whose source changed) is converted to WebP
(pushes/images.py) and posted to `{push_service_base_url}/images`. The image row then
keeps its source in `supplier_image_url`, the hosted copy in `url`, and the sha256 of the
uploaded bytes in `checksum`, so an unchanged image is not uploaded again.
"""

import hashlib
import logging

import requests

from catalog.models import ProductImage
from hub.outbound import OutboundBlocked, guarded_session
from pushes.images import ImageDownloadFailed, ImageProcessingFailed, processed_image

logger = logging.getLogger(__name__)


class UploadFailed(Exception):
    """The push service did not take this image."""


class PushServiceRefused(UploadFailed):
    """The push service refuses every upload (wrong key, blocked address): stop trying."""


def upload_product_images(integration, product_ids) -> int:
    """Upload the images of these products that need it; return how many were uploaded."""
    base_url = (integration.push_service_base_url or "").strip().rstrip("/")
    if not base_url:
        return 0
    images = (
        ProductImage.objects.filter(product_id__in=list(product_ids))
        .select_related("product")
        .order_by("product_id", "sort_order", "id")
    )
    uploaded = 0
    with guarded_session(retry_post=False) as session:
        for image in images:
            if image.supplier_image_url == image.source_url and image.checksum:
                continue
            try:
                data = processed_image(image).data
                url = post_image(session, base_url, integration.push_service_api_key, image, data)
            except PushServiceRefused as exc:
                logger.error("Image uploads to the push service of %s stopped: %s",
                             integration, exc)
                break
            except (ImageDownloadFailed, ImageProcessingFailed, UploadFailed) as exc:
                logger.warning("Image %s of product %s not uploaded: %s",
                               image.pk, image.product.supplier_sku, exc)
                continue
            image.supplier_image_url = image.source_url
            image.url = url
            image.checksum = hashlib.sha256(data).hexdigest()
            image.save(update_fields=["supplier_image_url", "url", "checksum", "updated_at"])
            uploaded += 1
    return uploaded


def post_image(session, base_url, api_key, image, data) -> str:
    """POST one WebP image; the public URL the push service answers."""
    try:
        response = session.post(
            f"{base_url}/images",
            headers={"x-api-key": api_key or ""},
            files={"file": (f"{image.pk}.webp", data, "image/webp")},
            data={
                "product_code": image.product.supplier_sku,
                "color": image.color or "",
                "sort_order": str(image.sort_order),
            },
        )
    except OutboundBlocked as exc:
        raise PushServiceRefused(str(exc)) from None
    except requests.RequestException as exc:
        name = type(exc).__name__
        raise UploadFailed(f"the push service could not be reached ({name})") from None
    if response.status_code in (401, 403):
        raise PushServiceRefused(f"the push service answered HTTP {response.status_code}")
    if response.status_code not in (200, 201):
        raise UploadFailed(f"the push service answered HTTP {response.status_code}")
    try:
        url = response.json()["url"]
    except (ValueError, TypeError, KeyError):
        raise UploadFailed("the push service answered without a file URL") from None
    if not isinstance(url, str) or not url.startswith(("https://", "http://")) or len(url) > 2000:
        raise UploadFailed("the push service answered an invalid file URL")
    return url

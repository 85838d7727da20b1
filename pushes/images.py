"""Product images as storefronts get them: downloaded from the source, converted to WebP.

`processed_image(image)` downloads the image's source URL through the guarded outbound
session, decodes it under a pixel limit (decompression bombs are refused), applies the
EXIF orientation, scales it into IMAGE_MAX_SIZE x IMAGE_MAX_SIZE when it is larger, and
encodes it as WebP. The bytes and their ETag (the quoted sha256 of the WebP bytes) are
kept in the cache for IMAGE_CACHE_SECONDS, so a second request neither downloads nor
encodes anything.
"""

import hashlib
import io
import logging
import warnings
from dataclasses import dataclass

import requests
from django.conf import settings
from django.core.cache import cache
from PIL import Image, ImageOps, UnidentifiedImageError

from hub.outbound import OutboundBlocked, ResponseTooLarge, fetch_bytes

logger = logging.getLogger(__name__)

WEBP_QUALITY = 85
WEBP_METHOD = 4
# Bump when the processing changes, so cached results of the old processing are not served.
PROCESSING_VERSION = 1


class ImageDownloadFailed(Exception):
    """The source image could not be downloaded. The message is safe to show."""


class ImageProcessingFailed(Exception):
    """The downloaded bytes could not be turned into a WebP image. The message is safe to show."""


@dataclass(frozen=True)
class ProcessedImage:
    data: bytes
    etag: str


def processed_image(image) -> ProcessedImage:
    """The WebP bytes and ETag of a ProductImage, from the cache or made now."""
    key = cache_key(image)
    cached = cache.get(key)
    if cached is not None:
        return ProcessedImage(*cached)
    source = download_source(image.source_url)
    data = convert_to_webp(source)
    processed = ProcessedImage(data, f'"{hashlib.sha256(data).hexdigest()}"')
    cache.set(key, (processed.data, processed.etag), settings.IMAGE_CACHE_SECONDS)
    return processed


def cache_key(image) -> str:
    source = hashlib.sha256(image.source_url.encode()).hexdigest()[:32]
    return (
        f"pushes:image:v{PROCESSING_VERSION}:{image.pk}:{source}:"
        f"{settings.IMAGE_MAX_SIZE}:{settings.IMAGE_MAX_PIXELS}:{WEBP_QUALITY}:{WEBP_METHOD}"
    )


def download_source(url: str) -> bytes:
    """The source image's bytes, or ImageDownloadFailed with a reason fit to show."""
    limit = settings.IMAGE_MAX_BYTES
    try:
        data, _content_type = fetch_bytes(url, max_bytes=limit)
    except OutboundBlocked as exc:
        logger.warning("Image download refused: %s", exc)
        raise download_failed("its address is not allowed") from None
    except ResponseTooLarge:
        raise download_failed(f"it is larger than {limit} bytes") from None
    except requests.HTTPError as exc:
        status = exc.response.status_code if exc.response is not None else "error"
        raise download_failed(f"the source answered HTTP {status}") from None
    except requests.Timeout:
        raise download_failed("the source did not answer in time") from None
    except requests.RequestException as exc:
        logger.warning("Image download failed: %s", exc)
        raise download_failed("the source could not be reached") from None
    if not data:
        raise download_failed("the source sent no data")
    return data


def convert_to_webp(source: bytes) -> bytes:
    """Decode, orient, scale down and encode as WebP, or raise ImageProcessingFailed."""
    max_pixels = settings.IMAGE_MAX_PIXELS
    max_size = settings.IMAGE_MAX_SIZE
    # Pillow's own limit (a warning above it, an error above twice it) is a module global:
    # set it, turn its warning into an error, and check the size here too.
    Image.MAX_IMAGE_PIXELS = max_pixels
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(source)) as opened:
                width, height = opened.size
                if width * height > max_pixels:
                    raise Image.DecompressionBombError(f"{width}x{height}")
                picture = ImageOps.exif_transpose(opened)
                picture.load()
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise processing_failed(f"it has more than {max_pixels} pixels") from None
    except UnidentifiedImageError:
        raise processing_failed("the file is not an image") from None
    except Exception:
        logger.warning("Image could not be decoded", exc_info=True)
        raise processing_failed("it could not be decoded") from None

    try:
        picture = picture.convert("RGBA" if picture.has_transparency_data else "RGB")
        if max(picture.size) > max_size:
            picture.thumbnail((max_size, max_size))
        output = io.BytesIO()
        picture.save(output, "WEBP", quality=WEBP_QUALITY, method=WEBP_METHOD)
    except Exception:
        logger.warning("Image could not be encoded", exc_info=True)
        raise processing_failed("it could not be encoded") from None
    return output.getvalue()


def download_failed(reason):
    return ImageDownloadFailed(f"Could not download the source image: {reason}")


def processing_failed(reason):
    return ImageProcessingFailed(f"Could not process the image: {reason}")

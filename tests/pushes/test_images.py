"""Processed (WebP) product images: the endpoint, its cache and guards, and the uploads of
hosted copies to the push service."""

import hashlib
import io
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests
from PIL import Image

from catalog.ingest import ingest_products
from catalog.models import Product, ProductImage
from integrations.models import OVSIntegration
from integrations.ovs.images import upload_product_images
from pushes import images as processing
from tests.factories import print_payload

pytestmark = pytest.mark.django_db


def processed_path(image_id):
    return f"/api/push/image/{image_id}/processed"


# -- fixtures and helpers ------------------------------------------------------------------


@pytest.fixture(autouse=True)
def own_cache(settings):
    """A fresh in-memory cache per test, so no test sees another's processed images."""
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": f"images-{uuid.uuid4()}",
        }
    }


@pytest.fixture
def sent(monkeypatch):
    """Every URL a request was really sent to (past the address guard)."""
    urls = []
    original = requests.adapters.HTTPAdapter.send

    def send(self, request, **kwargs):
        urls.append(request.url)
        return original(self, request, **kwargs)

    monkeypatch.setattr(requests.adapters.HTTPAdapter, "send", send)
    return urls


@pytest.fixture
def encodes(monkeypatch):
    """How many times an image was converted to WebP."""
    calls = []
    original = processing.convert_to_webp

    def convert(source):
        calls.append(len(source))
        return original(source)

    monkeypatch.setattr(processing, "convert_to_webp", convert)
    return calls


class Handler(BaseHTTPRequestHandler):
    def log_message(self, format, *args):
        pass

    def do_GET(self):
        self.server.hits[self.path] = self.server.hits.get(self.path, 0) + 1
        status, headers, body = self.server.routes.get(self.path, (404, {}, b"not found"))
        self.send_response(status)
        for name, value in {"Content-Length": str(len(body)), **headers}.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture
def server():
    """A local image server; set `server.routes[path] = (status, headers, body)`."""
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.hits = {}
    httpd.routes = {}
    thread = threading.Thread(
        target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    )
    thread.start()
    httpd.url = f"http://127.0.0.1:{httpd.server_address[1]}"
    yield httpd
    httpd.shutdown()
    httpd.server_close()


def serve(server, path, body, content_type="image/png", status=200):
    server.routes[path] = (status, {"Content-Type": content_type}, body)
    return server.url + path


def encoded(picture, format="PNG", **options):
    buffer = io.BytesIO()
    picture.save(buffer, format, **options)
    return buffer.getvalue()


def png(width, height, color=(200, 30, 40), mode="RGB"):
    return encoded(Image.new(mode, (width, height), color))


@pytest.fixture
def product(supplier):
    return Product.objects.create(
        supplier=supplier, supplier_sku="ODD-1", product_name="Odd images", product_type="print"
    )


def image_at(product, url):
    return ProductImage.objects.create(product=product, source_url=url, url=url)


def ovs_image_url(sandbox, code="OVS-00001", n=0):
    return f"{sandbox.url_of('ovs')}/images/{code}-{n}.png"


def ingest_ovs_product(supplier, sandbox, code="OVS-00001", numbers=(0,)):
    images = [
        {"url": ovs_image_url(sandbox, code, n), "color": "Navy Blue", "sort_order": n}
        for n in numbers
    ]
    ingest_products(supplier, [print_payload(code, images=images)])
    return Product.objects.get(supplier=supplier, supplier_sku=code)


def image_downloads(sandbox):
    return [entry for entry in sandbox.fakes["ovs"].request_log
            if entry["path"].startswith("/images/")]


def webp_of(response):
    picture = Image.open(io.BytesIO(response.content))
    assert picture.format == "WEBP"
    return picture


# -- the processed image endpoint ----------------------------------------------------------


def test_the_image_is_served_as_webp(api, supplier, sandbox):
    image = ingest_ovs_product(supplier, sandbox).images.get()

    response = api.get(processed_path(image.id))

    assert response.status_code == 200
    assert response["Content-Type"] == "image/webp"
    assert response["Cache-Control"] == "public, max-age=86400"
    assert response["ETag"] == f'"{hashlib.sha256(response.content).hexdigest()}"'
    picture = webp_of(response)
    assert picture.size == (64, 64)
    assert len(image_downloads(sandbox)) == 1


def test_the_source_url_is_downloaded_even_when_url_points_at_a_hosted_copy(
    api, supplier, sandbox
):
    image = ingest_ovs_product(supplier, sandbox).images.get()
    image.url = "https://cdn.example/hosted.webp"
    image.save()

    response = api.get(processed_path(image.id))

    assert response.status_code == 200
    assert [entry["path"] for entry in image_downloads(sandbox)] == ["/images/OVS-00001-0.png"]


def test_a_second_request_neither_downloads_nor_encodes(api, supplier, sandbox, encodes):
    image = ingest_ovs_product(supplier, sandbox).images.get()

    first = api.get(processed_path(image.id))
    second = api.get(processed_path(image.id))

    assert second.status_code == 200
    assert second.content == first.content
    assert second["ETag"] == first["ETag"]
    assert len(image_downloads(sandbox)) == 1
    assert len(encodes) == 1


def test_a_matching_if_none_match_answers_304_without_work(api, supplier, sandbox, encodes):
    image = ingest_ovs_product(supplier, sandbox).images.get()
    etag = api.get(processed_path(image.id))["ETag"]

    for header in (etag, f"W/{etag}", f'"other", {etag}', "*"):
        response = api.get(processed_path(image.id), HTTP_IF_NONE_MATCH=header)

        assert response.status_code == 304
        assert response.content == b""
        assert response["ETag"] == etag
        assert response["Cache-Control"] == "public, max-age=86400"
    assert len(image_downloads(sandbox)) == 1
    assert len(encodes) == 1


def test_an_other_etag_gets_the_image(api, supplier, sandbox):
    image = ingest_ovs_product(supplier, sandbox).images.get()

    response = api.get(processed_path(image.id), HTTP_IF_NONE_MATCH='"something-else"')

    assert response.status_code == 200
    webp_of(response)


def test_the_image_is_served_whatever_the_client_accepts(api, supplier, sandbox):
    image = ingest_ovs_product(supplier, sandbox).images.get()

    response = api.get(processed_path(image.id), HTTP_ACCEPT="image/webp")

    assert response.status_code == 200
    webp_of(response)


def test_a_change_of_the_processing_settings_processes_again(
    api, product, server, settings, encodes
):
    image = image_at(product, serve(server, "/wide.png", png(300, 150)))
    assert webp_of(api.get(processed_path(image.id))).size == (300, 150)

    settings.IMAGE_MAX_SIZE = 100

    assert webp_of(api.get(processed_path(image.id))).size == (100, 50)
    assert len(encodes) == 2


@pytest.mark.parametrize(
    "url",
    [
        "http://10.0.0.1/image.png",
        "http://169.254.169.254/latest/meta-data/",
        "file:///etc/passwd",
    ],
)
def test_private_addresses_and_other_schemes_are_refused(api, product, url, sent):
    image = image_at(product, url)

    response = api.get(processed_path(image.id))

    assert response.status_code == 502
    assert response.json() == {
        "detail": "Could not download the source image: its address is not allowed"
    }
    assert sent == []


def test_loopback_is_refused_when_it_is_not_allowed(api, product, server, settings, sent):
    settings.OUTBOUND_ALLOWED_HOSTS = []
    image = image_at(product, serve(server, "/ok.png", png(10, 10)))

    response = api.get(processed_path(image.id))

    assert response.status_code == 502
    assert response.json()["detail"].startswith("Could not download the source image:")
    assert "127.0.0.1" not in response.json()["detail"]
    assert sent == []
    assert server.hits == {}


@pytest.mark.parametrize(
    "target", ["http://10.0.0.1/image.png", "http://169.254.169.254/latest/meta-data/"]
)
def test_a_redirect_to_a_private_address_is_refused(api, product, server, settings, sent,
                                                     target):
    settings.OUTBOUND_ALLOWED_HOSTS = ["127.0.0.1:*"]
    server.routes["/moved.png"] = (302, {"Location": target}, b"")
    image = image_at(product, server.url + "/moved.png")

    response = api.get(processed_path(image.id))

    assert response.status_code == 502
    assert response.json()["detail"].startswith("Could not download the source image:")
    assert sent == [server.url + "/moved.png"]


def test_an_error_of_the_source_is_a_502(api, product, server):
    image = image_at(product, server.url + "/missing.png")

    response = api.get(processed_path(image.id))

    assert response.status_code == 502
    assert response.json() == {
        "detail": "Could not download the source image: the source answered HTTP 404"
    }


def test_a_failure_is_not_cached(api, product, server):
    image = image_at(product, server.url + "/later.png")
    assert api.get(processed_path(image.id)).status_code == 502

    serve(server, "/later.png", png(20, 20))

    assert api.get(processed_path(image.id)).status_code == 200


def test_an_oversized_image_is_a_502(api, product, server, settings):
    settings.IMAGE_MAX_BYTES = 1000
    noise = encoded(Image.effect_noise((100, 100), 64))
    assert len(noise) > 1000
    image = image_at(product, serve(server, "/noise.png", noise))

    response = api.get(processed_path(image.id))

    assert response.status_code == 502
    assert response.json() == {
        "detail": "Could not download the source image: it is larger than 1000 bytes"
    }


@pytest.mark.parametrize("size", [(5000, 5000), (1100, 1000)])
def test_a_decompression_bomb_is_refused(api, product, server, settings, size):
    # 5000x5000 is over twice the limit (Pillow's error); 1100x1000 just over (its warning).
    settings.IMAGE_MAX_PIXELS = 1_000_000
    image = image_at(product, serve(server, "/bomb.png", png(*size, color=0, mode="L")))

    response = api.get(processed_path(image.id))

    assert response.status_code == 500
    assert response["Content-Type"] == "application/json"
    assert response.json() == {
        "detail": "Could not process the image: it has more than 1000000 pixels"
    }


def test_a_large_image_is_scaled_into_the_box(api, product, server, settings):
    settings.IMAGE_MAX_SIZE = 100
    image = image_at(product, serve(server, "/tall.png", png(150, 300)))

    response = api.get(processed_path(image.id))

    assert response.status_code == 200
    assert webp_of(response).size == (50, 100)


def test_a_small_image_is_not_enlarged(api, product, server, settings):
    settings.IMAGE_MAX_SIZE = 100
    image = image_at(product, serve(server, "/small.png", png(30, 20)))

    assert webp_of(api.get(processed_path(image.id))).size == (30, 20)


def test_the_exif_orientation_is_applied(api, product, server):
    exif = Image.Exif()
    exif[0x0112] = 6  # rotated 90 degrees clockwise
    photo = encoded(Image.new("RGB", (40, 20), (0, 120, 0)), "JPEG", exif=exif)
    image = image_at(product, serve(server, "/photo.jpg", photo, "image/jpeg"))

    assert webp_of(api.get(processed_path(image.id))).size == (20, 40)


def test_transparency_is_kept(api, product, server):
    image = image_at(product, serve(server, "/logo.png", png(16, 16, (0, 0, 0, 0), "RGBA")))

    picture = webp_of(api.get(processed_path(image.id)))

    assert picture.mode == "RGBA"
    assert picture.getpixel((8, 8))[3] == 0


@pytest.mark.parametrize(
    "body, reason",
    [
        (b"<html>not an image</html>", "the file is not an image"),
        (png(200, 200)[:200], "it could not be decoded"),
    ],
)
def test_bytes_that_are_not_an_image_are_a_500(api, product, server, body, reason):
    image = image_at(product, serve(server, "/fake.png", body))

    response = api.get(processed_path(image.id))

    assert response.status_code == 500
    assert response.json() == {"detail": f"Could not process the image: {reason}"}


@pytest.mark.parametrize("image_id", [uuid.uuid4(), "not-a-uuid"])
def test_an_unknown_or_malformed_id_is_not_found(api, image_id):
    response = api.get(processed_path(image_id))

    assert response.status_code == 404
    assert response.json() == {"detail": "Image not found"}


def test_the_image_needs_a_signed_in_user(anonymous_api, supplier, sandbox):
    image = ingest_ovs_product(supplier, sandbox).images.get()

    response = anonymous_api.get(processed_path(image.id))

    assert response.status_code == 401
    assert "detail" in response.json()
    assert image_downloads(sandbox) == []


# -- uploads of hosted copies to the push service ------------------------------------------


@pytest.fixture
def integration(sandbox, user):
    return OVSIntegration.objects.create(
        name="OVS", base_url=sandbox.url_of("ovs"), username="demo", password="demo-password",
        user=user, push_service_base_url=sandbox.url_of("push"),
        push_service_api_key="demo-push-key",
    )


def uploads(sandbox):
    return [entry for entry in sandbox.fakes["push"].request_log if entry["method"] == "POST"]


def test_images_get_hosted_urls_and_keep_their_source(integration, supplier, sandbox):
    product = ingest_ovs_product(supplier, sandbox, numbers=(0, 1))

    assert upload_product_images(integration, [product.id]) == 2

    files = sandbox.fakes["push"].state["files"]
    for n, image in enumerate(product.images.order_by("sort_order")):
        assert image.source_url == ovs_image_url(sandbox, n=n)
        assert image.supplier_image_url == image.source_url
        assert image.url.startswith(f"{sandbox.url_of('push')}/files/")
        hosted = requests.get(image.url, timeout=5)
        assert hosted.status_code == 200
        assert Image.open(io.BytesIO(hosted.content)).format == "WEBP"
        assert image.checksum == hashlib.sha256(hosted.content).hexdigest()
        stored = files[image.url.rsplit("/", 1)[1].removesuffix(".webp")]
        assert (stored["product_code"], stored["color"], stored["sort_order"]) == (
            "OVS-00001", "Navy Blue", str(n)
        )


def test_a_second_call_uploads_nothing(integration, supplier, sandbox):
    product = ingest_ovs_product(supplier, sandbox, numbers=(0, 1))
    upload_product_images(integration, [product.id])
    hosted = sorted(product.images.values_list("url", flat=True))

    assert upload_product_images(integration, [product.id]) == 0

    assert len(uploads(sandbox)) == 2
    assert sorted(product.images.values_list("url", flat=True)) == hosted


def test_a_new_image_of_the_product_is_uploaded(integration, supplier, sandbox):
    product = ingest_ovs_product(supplier, sandbox, numbers=(0,))
    upload_product_images(integration, [product.id])

    ProductImage.objects.create(product=product, url=ovs_image_url(sandbox, n=1), sort_order=1)

    assert upload_product_images(integration, [product.id]) == 1
    assert len(uploads(sandbox)) == 2


def test_a_wrong_key_uploads_nothing_and_keeps_the_original_url(integration, supplier, sandbox):
    integration.push_service_api_key = "wrong-key"
    integration.save()
    product = ingest_ovs_product(supplier, sandbox, numbers=(0, 1))

    assert upload_product_images(integration, [product.id]) == 0

    for image in product.images.all():
        assert image.url == image.source_url
        assert image.supplier_image_url is None
        assert image.checksum is None
    # A refused key refuses every image: the first refusal stops the run.
    assert [entry["status"] for entry in uploads(sandbox)] == [401]
    assert sandbox.fakes["push"].state["files"] == {}


def test_an_image_that_fails_is_skipped(integration, supplier, sandbox):
    product = ingest_ovs_product(supplier, sandbox, numbers=(0, 9))  # -9 does not exist

    assert upload_product_images(integration, [product.id]) == 1

    missing = product.images.get(source_url=ovs_image_url(sandbox, n=9))
    assert missing.url == missing.source_url
    assert missing.supplier_image_url is None


def test_an_upload_the_push_service_fails_is_skipped(integration, supplier, sandbox):
    product = ingest_ovs_product(supplier, sandbox, numbers=(0, 1))
    sandbox.fakes["push"].set_faults(fail_next=1)

    assert upload_product_images(integration, [product.id]) == 1
    # Uploads are not retried (a retried POST could host the image twice).
    assert [entry["status"] for entry in uploads(sandbox)] == [500, 201]


def test_nothing_happens_without_a_push_service(integration, supplier, sandbox):
    integration.push_service_base_url = ""
    integration.save()
    product = ingest_ovs_product(supplier, sandbox)

    assert upload_product_images(integration, [product.id]) == 0

    assert image_downloads(sandbox) == []
    assert sandbox.fakes["push"].request_log == []

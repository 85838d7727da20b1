"""A fake push service: hosts product images at public URLs (see ovs-api.md, "Push service").

- `POST /images` with header `x-api-key` and a multipart body: `file` (the image bytes),
  `product_code`, `color`, `sort_order`. 201 `{"id", "url"}`; 401 on a wrong key, 413
  when the file is over 10 MB, 422 without a file.
- `GET /files/<id>.webp` serves the stored bytes at the URL the upload answered.

Uploads are kept in memory (`state["files"]`, by id) and are gone after a reset.

Options (all optional):
- `api_key`: the accepted key ("demo-push-key").
- `public_base`: the sandbox's own URL, which the returned file URLs point at.
"""

from werkzeug.routing import Rule
from werkzeug.wrappers import Response

from sandbox.base import Fake, json_response

MAX_FILE_BYTES = 10 * 1024 * 1024


class PushServiceFake(Fake):
    rules = [
        Rule("/images", endpoint="upload", methods=["POST"]),
        Rule("/files/<name>", endpoint="file", methods=["GET"]),
    ]

    def seed(self):
        self.api_key = self.options.get("api_key", "demo-push-key")
        self.public_base = self.options.get("public_base", "http://127.0.0.1:8001").rstrip("/")
        self.state = {"files": {}, "next_id": 1}

    def upload(self, request):
        if request.headers.get("x-api-key") != self.api_key:
            return json_response({"detail": "Invalid API key"}, 401)
        upload = request.files.get("file")
        if upload is None:
            return json_response({"detail": "file is required"}, 422)
        data = upload.read(MAX_FILE_BYTES + 1)
        if len(data) > MAX_FILE_BYTES:
            return json_response({"detail": "File is over 10 MB"}, 413)
        with self.lock:
            file_id = f"img-{self.state['next_id']:06d}"
            self.state["next_id"] += 1
            self.state["files"][file_id] = {
                "data": data,
                "content_type": upload.mimetype or "application/octet-stream",
                "product_code": request.form.get("product_code"),
                "color": request.form.get("color"),
                "sort_order": request.form.get("sort_order"),
            }
        url = f"{self.public_base}/push/files/{file_id}.webp"
        return json_response({"id": file_id, "url": url}, 201)

    def file(self, request, name):
        file_id = name.removesuffix(".webp")
        with self.lock:
            stored = self.state["files"].get(file_id) if name.endswith(".webp") else None
        if stored is None:
            return json_response({"detail": "File not found"}, 404)
        return Response(stored["data"], mimetype="image/webp")

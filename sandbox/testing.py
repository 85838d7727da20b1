"""Run the sandbox over real HTTP: in-process for tests, or in a process of its own.

    with RunningSandbox(catalog_size=250) as sandbox:
        requests.post(f"{sandbox.url}/ovs/auth/login", json=...)
        sandbox.fakes["ovs"].set_faults(fail_next=1)

    with sandbox_process("--catalog-size", "20000") as url:
        ...  # the fakes' work is not counted in this process (benchmarks)
"""

import io
import socket
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import contextmanager

import requests
from django.conf import settings
from werkzeug.serving import WSGIRequestHandler

from sandbox.server import make_sandbox_server


class QuietRequestHandler(WSGIRequestHandler):
    def log_request(self, code="-", size="-"):
        pass


class ReceivedRequests:
    """WSGI middleware that keeps every request as it arrived: line, headers and body.

    Tests read it to prove a secret never reached a server (`RunningSandbox.carrying`).
    """

    def __init__(self, app):
        self.app = app
        self.lock = threading.Lock()
        self.received = []

    def __call__(self, environ, start_response):
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length > 0 else b""
        environ["wsgi.input"] = io.BytesIO(body)
        headers = [f"{key}: {value}" for key, value in environ.items() if key.startswith("HTTP_")]
        line = f"{environ['REQUEST_METHOD']} {environ.get('PATH_INFO', '')}"
        if environ.get("QUERY_STRING"):
            line += f"?{environ['QUERY_STRING']}"
        with self.lock:
            self.received.append("\n".join([line, *headers, "", body.decode("utf-8", "replace")]))
        return self.app(environ, start_response)


class RunningSandbox:
    """All the fakes served on 127.0.0.1 at a free port, in a daemon thread.

    Options are passed to every fake. `url` is the sandbox's base URL, `fakes` the fake
    instances by name, so a test can set their faults or read their state directly;
    `carrying(text)` lists the requests it received that contain `text`.
    """

    def __init__(self, **options):
        self.options = options
        self.server = None
        self.thread = None
        self.url = None
        self.fakes = {}

    def start(self):
        self.server, self.fakes = make_sandbox_server(
            "127.0.0.1", 0, handler=QuietRequestHandler, **self.options
        )
        self.recorder = ReceivedRequests(self.server.app)
        self.server.app = self.recorder
        self.url = f"http://127.0.0.1:{self.server.port}"
        # A short poll interval keeps stop() quick; tests start many sandboxes.
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05},
            name="sandbox", daemon=True,
        )
        self.thread.start()
        return self

    def stop(self):
        self.server.shutdown()
        self.server.server_close()
        self.thread.join()

    def url_of(self, name):
        """The base URL of one fake, e.g. url_of("ovs")."""
        return f"{self.url}/{name}"

    def carrying(self, text):
        """The requests received so far (line, headers, body) in which `text` appears."""
        with self.recorder.lock:
            return [request for request in self.recorder.received if text in request]

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc_info):
        self.stop()


@contextmanager
def sandbox_process(*args, start_seconds=60):
    """The sandbox served by `manage.py sandbox *args` in a child process on a free port
    of 127.0.0.1; its base URL."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with tempfile.TemporaryFile() as output:
        process = subprocess.Popen(
            [sys.executable, "manage.py", "sandbox", "--port", str(port), *args],
            cwd=settings.BASE_DIR, stdout=subprocess.DEVNULL, stderr=output,
        )
        url = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + start_seconds
            while True:
                try:
                    requests.get(f"{url}/", timeout=1)
                    break
                except requests.RequestException:
                    if process.poll() is not None or time.monotonic() > deadline:
                        output.seek(0)
                        tail = output.read().decode(errors="replace")[-1000:]
                        raise RuntimeError(f"The sandbox process did not start: {tail}") from None
                    time.sleep(0.2)
            yield url
        finally:
            process.terminate()
            process.wait(timeout=20)

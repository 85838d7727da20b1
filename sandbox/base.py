"""The shared shape of every sandbox fake.

A fake is a WSGI application (werkzeug) with its own in-memory state, mounted by
`sandbox.server` under a prefix (`/ovs`, `/ops`, ...). Each one keeps the same control
surface so tests and the demo drive every fake alike:

- `POST {prefix}/_sandbox/faults` with a JSON object sets fault switches (merged into
  the current ones); `GET` returns them.
- `POST {prefix}/_sandbox/reset` restores the seeded state and clears faults.
- `GET {prefix}/_sandbox/requests` returns the request log (method, path, status),
  so a test can assert on what a client really sent.

Fault switches common to all fakes (each fake may add its own):
- `latency_ms`: sleep before answering.
- `fail_next`: answer the next N requests with 500.
- `error_rate`: answer this fraction of requests with 500 (seeded, so repeatable).
- `rate_limit_next`: answer the next N requests with 429 and `Retry-After`.
- `retry_after`: the seconds given in `Retry-After` (default 1).
- `malformed_next`: answer the next N requests with a 200 whose body is not JSON.
Control paths are never subject to faults.
"""

import json
import random
import threading
import time

from werkzeug.exceptions import HTTPException, NotFound
from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response

DEFAULT_FAULTS = {
    "latency_ms": 0,
    "fail_next": 0,
    "error_rate": 0.0,
    "rate_limit_next": 0,
    "retry_after": 1,
    "malformed_next": 0,
}


def json_response(data, status=200, headers=None):
    return Response(
        json.dumps(data, default=str), status=status, headers=headers,
        mimetype="application/json",
    )


class Fake:
    """Base class of a fake: routing, fault switches, request log, control paths.

    Subclasses set `rules` (werkzeug Rules whose endpoint is a method name) and
    implement `seed()` to build their initial state in `self.state`.
    """

    rules: list[Rule] = []
    extra_faults: dict = {}

    def __init__(self, **options):
        self.options = options
        self.lock = threading.RLock()
        self.url_map = Map(
            [
                Rule("/_sandbox/faults", endpoint="control_faults", methods=["GET", "POST"]),
                Rule("/_sandbox/reset", endpoint="control_reset", methods=["POST"]),
                Rule("/_sandbox/requests", endpoint="control_requests", methods=["GET"]),
                *[rule.empty() for rule in self.rules],
            ],
            strict_slashes=False,
        )
        self.reset()

    # -- state -------------------------------------------------------------------------

    def reset(self):
        with self.lock:
            self.faults = {**DEFAULT_FAULTS, **self.extra_faults}
            self.random = random.Random(1234)
            self.request_log = []
            self.state = {}
            self.seed()

    def seed(self):
        """Build the initial state in self.state."""

    def set_faults(self, **faults):
        with self.lock:
            unknown = set(faults) - set(self.faults)
            if unknown:
                raise ValueError(f"unknown fault switches: {sorted(unknown)}")
            self.faults.update(faults)

    def _take(self, name):
        """Consume one unit of a countdown fault; True when it fires."""
        with self.lock:
            if self.faults.get(name, 0) > 0:
                self.faults[name] -= 1
                return True
            return False

    def injected_fault(self, request):
        """A Response when a fault switch fires for this request, else None."""
        latency = self.faults["latency_ms"]
        if latency:
            time.sleep(latency / 1000)
        if self._take("rate_limit_next"):
            return json_response(
                {"detail": "Too many requests"}, 429,
                headers={"Retry-After": str(self.faults["retry_after"])},
            )
        if self._take("fail_next"):
            return json_response({"detail": "Internal server error"}, 500)
        with self.lock:
            failed = self.faults["error_rate"] and self.random.random() < self.faults["error_rate"]
        if failed:
            return json_response({"detail": "Internal server error"}, 500)
        if self._take("malformed_next"):
            return Response("<html>upstream error", status=200, mimetype="application/json")
        return None

    # -- control paths -----------------------------------------------------------------

    def control_faults(self, request):
        if request.method == "POST":
            try:
                self.set_faults(**(request.get_json(force=True) or {}))
            except (ValueError, TypeError) as exc:
                return json_response({"detail": str(exc)}, 422)
        return json_response(self.faults)

    def control_reset(self, request):
        self.reset()
        return json_response({"reset": True})

    def control_requests(self, request):
        with self.lock:
            return json_response(list(self.request_log))

    # -- WSGI --------------------------------------------------------------------------

    def dispatch(self, request):
        adapter = self.url_map.bind_to_environ(request.environ)
        try:
            endpoint, values = adapter.match()
        except NotFound:
            return json_response({"detail": "Not Found"}, 404)
        except HTTPException as exc:
            return json_response({"detail": exc.description}, exc.code)
        if not endpoint.startswith("control_"):
            fault = self.injected_fault(request)
            if fault is not None:
                return fault
        return getattr(self, endpoint)(request, **values)

    def __call__(self, environ, start_response):
        request = Request(environ)
        response = self.dispatch(request)
        if not request.path.startswith("/_sandbox/"):
            with self.lock:
                self.request_log.append(
                    {"method": request.method, "path": request.path,
                     "query": request.query_string.decode(), "status": response.status_code}
                )
        return response(environ, start_response)

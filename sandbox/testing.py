"""Run the sandbox in-process, over real HTTP, for tests.

    with RunningSandbox(catalog_size=250) as sandbox:
        requests.post(f"{sandbox.url}/ovs/auth/login", json=...)
        sandbox.fakes["ovs"].set_faults(fail_next=1)
"""

import threading

from werkzeug.serving import WSGIRequestHandler

from sandbox.server import make_sandbox_server


class QuietRequestHandler(WSGIRequestHandler):
    def log_request(self, code="-", size="-"):
        pass


class RunningSandbox:
    """All the fakes served on 127.0.0.1 at a free port, in a daemon thread.

    Options are passed to every fake. `url` is the sandbox's base URL, `fakes` the fake
    instances by name, so a test can set their faults or read their state directly.
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

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc_info):
        self.stop()

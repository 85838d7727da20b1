"""The sandbox server: every fake mounted under its own prefix in one WSGI app.

`FAKES` names each fake's class by dotted path; `build_app` mounts each under
`/<name>`, and `/` lists what is mounted. `/demo/images/<name>.png` serves the demo
catalog's pictures (a colour taken from the name).
"""

import re
import zlib

from werkzeug.middleware.dispatcher import DispatcherMiddleware
from werkzeug.serving import make_server
from werkzeug.utils import import_string
from werkzeug.wrappers import Request, Response

from sandbox.base import json_response
from sandbox.ovs import COLORS, picture

DEMO_IMAGE = re.compile(r"/demo/images/(?P<name>[a-z0-9-]+)\.png")
DEMO_IMAGE_SIZE = 320


def demo_image_colour(name):
    """The colour a demo picture's name ends with ("da100-navy-blue"), else one from the name."""
    for colour, (_, rgb) in COLORS.items():
        if name.endswith(colour.lower().replace(" ", "-")):
            return rgb
    checksum = zlib.crc32(name.encode())
    return (checksum & 0xFF, checksum >> 8 & 0xFF, checksum >> 16 & 0xFF)

FAKES = {
    "ovs": "sandbox.ovs.OVSFake",
    "ops": "sandbox.ops.OPSFake",
    "push": "sandbox.push_service.PushServiceFake",
    "printops": "sandbox.printops.PrintOpsFake",
    "oms": "sandbox.oms.OMSFake",
}


def build_app(public_base, **options):
    """The combined WSGI app and the fakes in it, by name.

    `public_base` is the URL the sandbox is reached at; every fake gets it, and all
    other options, as its own options.
    """
    public_base = public_base.rstrip("/")
    fakes = {
        name: import_string(path)(public_base=public_base, **options)
        for name, path in FAKES.items()
    }

    @Request.application
    def index(request):
        demo_image = DEMO_IMAGE.fullmatch(request.path)
        if demo_image:
            rgb = demo_image_colour(demo_image.group("name"))
            return Response(picture(rgb, DEMO_IMAGE_SIZE), mimetype="image/png")
        if request.path != "/":
            return json_response({"detail": "Not Found"}, 404)
        return json_response({"fakes": {name: f"{public_base}/{name}" for name in fakes}})

    app = DispatcherMiddleware(index, {f"/{name}": fake for name, fake in fakes.items()})
    return app, fakes


def make_sandbox_server(host, port, public_base=None, handler=None, **options):
    """A threaded server of all the fakes, bound but not yet serving, and the fakes.

    With port 0 the system picks a free port; `server.port` tells which. Unless
    `public_base` says otherwise, the fakes believe they are reached at host:port.
    """
    server = make_server(host, port, app=None, threaded=True, request_handler=handler)
    if public_base is None:
        public_base = f"http://{host}:{server.port}"
    server.app, fakes = build_app(public_base, **options)
    return server, fakes


def serve(host="127.0.0.1", port=8001, public_base=None, **options):
    """Serve all the fakes until interrupted."""
    server, fakes = make_sandbox_server(host, port, public_base, **options)
    base = public_base or f"http://{host}:{server.port}"
    for name in fakes:
        print(f"{name}: {base.rstrip('/')}/{name}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()

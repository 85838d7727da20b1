"""The README's production command, as gunicorn reads it."""

import json
import shlex
import sys
from pathlib import Path

from django.conf import settings
from gunicorn.app.wsgiapp import WSGIApplication

from tests.factories import apparel_payload

ROOT = Path(__file__).resolve().parents[2]


def documented_server_config(monkeypatch):
    readme = (ROOT / "README.md").read_text()
    [command] = [line for line in readme.splitlines() if line.startswith(".venv/bin/gunicorn")]
    monkeypatch.setattr(sys, "argv", ["gunicorn", *shlex.split(command.split("#")[0])[1:]])
    monkeypatch.chdir(ROOT)
    return WSGIApplication("%(prog)s [OPTIONS] [APP_MODULE]").cfg


def test_the_production_server_gives_the_largest_ingest_time_to_finish(monkeypatch):
    config = documented_server_config(monkeypatch)

    assert config.timeout == settings.REQUEST_TIMEOUT
    # The largest ingest, at 20 products a second, finishes before the worker is killed.
    assert config.timeout >= settings.MAX_INGEST_ITEMS / 20
    assert config.graceful_timeout >= config.timeout


def test_the_production_server_keeps_client_connections_alive(monkeypatch):
    config = documented_server_config(monkeypatch)

    # Threaded workers keep a connection open between requests; sync workers close it.
    assert config.worker_class_str == "gthread"
    assert config.threads > 1 and config.keepalive >= 5


def test_the_body_limit_takes_the_largest_ingest_of_full_products():
    # A full product: 6 colours x 5 sizes, two price tiers each, an image per colour.
    product = apparel_payload(
        "PC61-XXXXXXXX", colors=("Natural", "Black", "Navy", "White", "Heather Grey", "Red"),
        sizes=("S", "M", "L", "XL", "2XL"), description="A soft tee. " * 40,
    )
    largest = len(json.dumps([product] * settings.MAX_INGEST_ITEMS).encode())

    assert largest <= settings.DATA_UPLOAD_MAX_MEMORY_SIZE

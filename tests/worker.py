"""A real Celery worker process for end-to-end tests.

It consumes from the configured Redis broker and writes to the test database, so tests
that use it need PostgreSQL (the SQLite test database lives in this process's memory)
and `django_db(transaction=True)` (the worker must see committed rows).
"""

import os
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import pytest
from django.db import connection

from hub.celery import app

ROOT = Path(__file__).resolve().parent.parent


def require_services():
    """Skip unless PostgreSQL and a Redis broker are configured (fail in CI instead)."""
    broker = app.conf.broker_url or ""
    missing = []
    if connection.vendor != "postgresql":
        missing.append("PostgreSQL (DATABASE_URL)")
    if not broker.startswith("redis"):
        missing.append("a Redis broker (CELERY_BROKER_URL)")
    if missing:
        message = "needs " + " and ".join(missing)
        if os.environ.get("HUB_REQUIRE_SERVICES"):
            pytest.fail(message)
        pytest.skip(message)


def test_database_url():
    db = connection.settings_dict
    user = db["USER"] or "postgres"
    password = f":{db['PASSWORD']}" if db["PASSWORD"] else ""
    host, port = db["HOST"] or "127.0.0.1", db["PORT"] or 5432
    return f"postgres://{user}{password}@{host}:{port}/{db['NAME']}"


@contextmanager
def running_worker(concurrency=2, name="test"):
    require_services()
    env = {
        **os.environ,
        "DATABASE_URL": test_database_url(),
        "CELERY_BROKER_URL": app.conf.broker_url,
        "HUB_ENV_FILE": "/dev/null",
        "CELERY_TASK_ALWAYS_EAGER": "0",
    }
    app.control.purge()
    process = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "hub", "worker", "--loglevel", "WARNING",
         "--concurrency", str(concurrency), "--hostname", f"{name}-{os.getpid()}@%h",
         "--without-gossip", "--without-mingle"],
        cwd=ROOT, env=env,
    )
    try:
        deadline = time.monotonic() + 60
        while not app.control.ping(timeout=0.5):
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("The Celery worker did not start")
        yield process
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()


def wait_for(condition, timeout=60, interval=0.2):
    """Poll until condition() is truthy; return its value or fail."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(interval)
    pytest.fail(f"Timed out after {timeout}s waiting for {condition.__doc__ or condition}")

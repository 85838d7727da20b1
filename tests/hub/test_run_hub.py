"""`manage.py run_hub` as a developer runs it: started, stopped with Ctrl-C, refused a busy port."""

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from hub.management.commands.load_demo import PASSWORD_FILE, demo_admin

ROOT = Path(__file__).resolve().parents[2]


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def hub_env(var_dir):
    """The embedded defaults (SQLite, file queue) in a folder of the test's own."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL")}
    env.update(HUB_VAR_DIR=str(var_dir), HUB_ENV_FILE="/dev/null",
               SECRET_KEY="run-hub-test")
    return env


def processes_started_in(var_dir):
    """Pids of live processes whose environment names this var folder (the hub's children)."""
    marker = f"HUB_VAR_DIR={var_dir}".encode()
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            environment = (entry / "environ").read_bytes().split(b"\0")
            state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if marker in environment and state != "Z":
            pids.append(int(entry.name))
    return pids


def port_free(port):
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def start_hub(tmp_path, port, sandbox_port):
    return subprocess.Popen(
        [sys.executable, "manage.py", "run_hub", "--no-demo", "--port", str(port),
         "--sandbox-port", str(sandbox_port)],
        cwd=ROOT, env=hub_env(tmp_path), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        text=True,
    )


def wait_for_line(process, text, seconds=120):
    deadline, seen = time.monotonic() + seconds, []
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line and process.poll() is not None:
            break
        seen.append(line)
        if text in line:
            return seen
    raise AssertionError(f"{text!r} never printed:\n{''.join(seen)}")


def test_ctrl_c_stops_every_process_and_frees_the_ports(tmp_path):
    port, sandbox_port = free_port(), free_port()
    hub = start_hub(tmp_path, port, sandbox_port)
    try:
        wait_for_line(hub, "The hub is running")
        children = processes_started_in(tmp_path)
        # sandbox, gunicorn and its 2 workers, a worker and its pool, beat
        assert len(children) >= 6
        assert not port_free(port) and not port_free(sandbox_port)

        hub.send_signal(signal.SIGINT)
        hub.wait(timeout=60)
    finally:
        if hub.poll() is None:
            hub.kill()
    deadline = time.monotonic() + 5
    while processes_started_in(tmp_path) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert processes_started_in(tmp_path) == []
    assert port_free(port) and port_free(sandbox_port)


def test_a_busy_port_stops_run_with_a_message(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = subprocess.run(
            [sys.executable, "manage.py", "run_hub", "--no-demo", "--port", str(port),
             "--sandbox-port", str(free_port())],
            cwd=ROOT, env=hub_env(tmp_path), capture_output=True, text=True, timeout=60,
        )
    assert result.returncode != 0
    assert f"Port {port} on 127.0.0.1 is already in use" in result.stderr
    assert "The hub is running" not in result.stdout
    assert processes_started_in(tmp_path) == []


@pytest.mark.django_db
def test_the_demo_admin_password_is_made_once_and_kept(settings, tmp_path):
    settings.VAR_DIR = tmp_path
    user, password = demo_admin("admin")
    assert (tmp_path / PASSWORD_FILE).read_text().strip() == password

    again, same = demo_admin("admin")
    assert same == password
    again.refresh_from_db()
    assert again.check_password(password) and again.is_superuser
    # The password hash was not rewritten, so the admin's tokens stay valid.
    assert again.password == user.password

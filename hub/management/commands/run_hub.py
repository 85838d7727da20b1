"""Run the whole hub on one machine: web, worker, beat and the sandbox, until Ctrl-C.

Each child runs in a process group of its own, so stopping it reaches everything it
started (gunicorn's and celery's own workers too), and a Ctrl-C in the terminal reaches
only this command, which then stops every group: politely first, then for good. Ports
are checked before anything starts, so a port already taken stops the command with a
message instead of a half-started hub.
"""

import ctypes
import errno
import os
import signal
import socket
import subprocess
import sys
import time

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

# How long the children get to stop after SIGTERM before they are killed.
STOP_SECONDS = 10
PR_SET_PDEATHSIG = 1


def port_in_use(host, port):
    """True when something already listens on host:port (bound the way the servers bind)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                return True
            raise
    return False


def own_process_group():
    """In the child, before it runs: a process group of its own, and to be told (SIGTERM)
    when this command dies without stopping it (killed with SIGKILL)."""
    os.setsid()
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    except OSError:
        pass  # not Linux: the process group still lets a normal stop reach everything


def signal_groups(running, signum):
    for process in running.values():
        try:
            os.killpg(process.pid, signum)
        except (ProcessLookupError, PermissionError):
            pass


def stop_all(running):
    """Stop every child's whole process group: SIGTERM, wait, then SIGKILL what is left."""
    signal_groups(running, signal.SIGTERM)
    deadline = time.monotonic() + STOP_SECONDS
    for process in running.values():
        try:
            process.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            pass
    # The group leaders may be gone while their own children are not: kill the groups.
    signal_groups(running, signal.SIGKILL)
    for process in running.values():
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            pass


class Command(BaseCommand):
    help = "Migrate, load the demo, then run web + worker + beat + sandbox until interrupted."

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--sandbox-port", type=int, default=8001)
        parser.add_argument("--no-demo", action="store_true", help="skip loading the demo data")

    def handle(self, host, port, sandbox_port, no_demo, **options):
        for name, number in (("PORT", port), ("SANDBOX_PORT", sandbox_port)):
            if port_in_use(host, number):
                raise CommandError(
                    f"Port {number} on {host} is already in use (another hub, or another "
                    f"program): stop it, or choose another port, e.g. "
                    f"`make run {name}={number + 80}`."
                )
        if port == sandbox_port:
            raise CommandError("PORT and SANDBOX_PORT must differ.")
        # Ctrl-C and SIGTERM (a supervisor, `timeout`) both stop everything.
        signal.signal(signal.SIGINT, self.interrupt)
        signal.signal(signal.SIGTERM, self.interrupt)
        running = {}
        try:
            self.run(host, port, sandbox_port, no_demo, running)
        except KeyboardInterrupt:
            self.stdout.write("\nStopping…")
        finally:
            # A second Ctrl-C must not cut the stopping short and leave children behind.
            signal.signal(signal.SIGINT, signal.SIG_IGN)
            signal.signal(signal.SIGTERM, signal.SIG_IGN)
            stop_all(running)
        if getattr(self, "failed", None):
            raise CommandError(self.failed)

    def run(self, host, port, sandbox_port, no_demo, running):
        base = f"http://{host}:{port}"
        if not os.environ.get("HUB_PUBLIC_URL"):
            # Webhooks registered by the demo must point at this hub's port.
            os.environ["HUB_PUBLIC_URL"] = settings.HUB_PUBLIC_URL = base
        # The hub's outbound requests may reach the sandbox on whichever port it runs.
        allowed = [*(settings.OUTBOUND_ALLOWED_HOSTS or []), f"{host}:{sandbox_port}"]
        settings.OUTBOUND_ALLOWED_HOSTS = allowed
        os.environ["OUTBOUND_ALLOWED_HOSTS"] = ",".join(allowed)
        call_command("migrate", interactive=False, verbosity=0)
        call_command("collectstatic", interactive=False, verbosity=0)
        sandbox_url = f"http://{host}:{sandbox_port}"
        self.allow_outbound(f"{host}:{sandbox_port}")
        python = sys.executable
        bin_dir = os.path.dirname(python)
        processes = {
            "sandbox": [python, "manage.py", "sandbox", "--host", host,
                        "--port", str(sandbox_port)],
            "web": [os.path.join(bin_dir, "gunicorn"), "hub.wsgi", "--bind", f"{host}:{port}",
                    "--workers", "2", "--threads", "4", "--access-logfile", "-"],
            "worker": [os.path.join(bin_dir, "celery"), "-A", "hub", "worker",
                       "--loglevel", "INFO", "--concurrency", "2"],
            "beat": [os.path.join(bin_dir, "celery"), "-A", "hub", "beat", "--loglevel", "INFO",
                     "--schedule", str(settings.VAR_DIR / "celerybeat-schedule")],
        }
        for name, cmd in processes.items():
            running[name] = subprocess.Popen(
                cmd, cwd=settings.BASE_DIR, preexec_fn=own_process_group
            )
        self.wait_for(host, sandbox_port, running)
        if not no_demo:
            call_command("load_demo", sandbox_url=sandbox_url, stdout=self.stdout)
        self.wait_for(host, port, running)
        self.stdout.write(self.style.SUCCESS(
            "\nThe hub is running:\n"
            f"  admin         {base}/admin/\n"
            f"  API docs      {base}/api/docs/\n"
            f"  health        {base}/api/health\n"
            f"  sandbox       {sandbox_url}/\n"
            "Press Ctrl-C to stop.\n"
        ))
        while True:
            self.check_children(running)
            time.sleep(0.5)

    def check_children(self, running):
        for name, process in running.items():
            if process.poll() is not None:
                self.failed = f"{name} stopped (exit {process.returncode}); stopping the hub."
                raise KeyboardInterrupt

    def allow_outbound(self, host_port):
        """Let this process and its children reach the sandbox (that port only), whatever
        an older var/hub.env allows."""
        allowed = list(settings.OUTBOUND_ALLOWED_HOSTS)
        if host_port not in allowed:
            allowed.append(host_port)
        settings.OUTBOUND_ALLOWED_HOSTS = allowed
        os.environ["OUTBOUND_ALLOWED_HOSTS"] = ",".join(allowed)

    def interrupt(self, signum, frame):
        raise KeyboardInterrupt

    def wait_for(self, host, port, running, seconds=60):
        """Wait until our child listens on host:port; stop when a child dies meanwhile."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            self.check_children(running)
            try:
                socket.create_connection((host, port), timeout=1).close()
                return
            except OSError:
                time.sleep(0.3)
        self.failed = f"Nothing listened on {host}:{port} within {seconds} s; stopping the hub."
        raise KeyboardInterrupt

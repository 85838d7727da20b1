"""Run the whole hub on one machine: web, worker, beat and the sandbox, until Ctrl-C."""

import os
import signal
import subprocess
import sys
import time

import requests
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand

from hub.outbound import guarded_session


class Command(BaseCommand):
    help = "Migrate, load the demo, then run web + worker + beat + sandbox until interrupted."

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--sandbox-port", type=int, default=8001)
        parser.add_argument("--no-demo", action="store_true", help="skip loading the demo data")

    def handle(self, host, port, sandbox_port, no_demo, **options):
        # A SIGTERM (a supervisor, `timeout`) stops the children like Ctrl-C does.
        signal.signal(signal.SIGTERM, self.interrupt)
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
            "beat": [os.path.join(bin_dir, "celery"), "-A", "hub", "beat", "--loglevel", "INFO"],
        }
        running = {name: subprocess.Popen(cmd, cwd=settings.BASE_DIR)
                   for name, cmd in processes.items()}
        try:
            self.wait_for(f"{sandbox_url}/")
            if not no_demo:
                call_command("load_demo", sandbox_url=sandbox_url, stdout=self.stdout)
            base = f"http://{host}:{port}"
            self.stdout.write(self.style.SUCCESS(
                "\nThe hub is running:\n"
                f"  admin         {base}/admin/\n"
                f"  API docs      {base}/api/docs/\n"
                f"  health        {base}/api/health\n"
                f"  sandbox       {sandbox_url}/\n"
                "Press Ctrl-C to stop.\n"
            ))
            while True:
                for name, process in running.items():
                    if process.poll() is not None:
                        self.stderr.write(f"{name} stopped (exit {process.returncode}).")
                        return
                time.sleep(1)
        except KeyboardInterrupt:
            pass
        finally:
            for process in running.values():
                if process.poll() is None:
                    process.send_signal(signal.SIGTERM)
            for process in running.values():
                try:
                    process.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    process.kill()

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

    def wait_for(self, url, seconds=20):
        """Wait until the sandbox answers, so the demo can register itself with it."""
        session = guarded_session(retries=0)
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            try:
                session.get(url, timeout=1)
                return
            except requests.RequestException:
                time.sleep(0.3)
        self.stderr.write(f"The sandbox did not answer at {url}; the demo may be incomplete.")

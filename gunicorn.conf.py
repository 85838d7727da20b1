"""The production web server's settings: `gunicorn hub.wsgi -c gunicorn.conf.py`.

Threaded workers (gthread) keep client connections alive between requests, so an API
consumer pays for TCP setup once, not per request. Override on the command line
(`--workers`, `--threads`, `--bind`) or with GUNICORN_CMD_ARGS.
"""

import os

worker_class = "gthread"
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
threads = 4
# Seconds an idle kept-alive connection stays open.
keepalive = 30

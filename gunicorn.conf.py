"""The production web server's settings; gunicorn reads this file from the working directory.

The ingest endpoint takes up to MAX_INGEST_ITEMS products in one request (a body of up to
DATA_UPLOAD_MAX_MEMORY_SIZE bytes) and stores them before it answers: a worker killed at
gunicorn's default 30 s would leave such a request half stored. REQUEST_TIMEOUT is sized
for the largest ingest (see hub/settings.py).

Threaded workers (gthread) keep client connections alive between requests, so an API
consumer pays for TCP setup once, not per request.
"""

from hub.env import env_int
from hub.settings import REQUEST_TIMEOUT

timeout = REQUEST_TIMEOUT
# A stopping worker finishes the request it is serving.
graceful_timeout = REQUEST_TIMEOUT
workers = env_int("WEB_CONCURRENCY", 4, minimum=1)
worker_class = "gthread"
threads = 4
# Seconds an idle kept-alive connection stays open.
keepalive = 30

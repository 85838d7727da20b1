"""A heartbeat for long work: proof of life written from a thread while the work runs.

Claims and running syncs are taken for dead when their heartbeat stops moving. Written
from the work's own steps, it would stop during a long wait (a rate limit, a slow read),
and a live run would be taken for dead; written from a thread, it beats as long as the
process lives and stops when the process dies.
"""

import logging
import threading

from django.db import DatabaseError, connection

logger = logging.getLogger(__name__)


class Heartbeat:
    """Call `beat()` every `every` seconds, in a thread, while the `with` block runs."""

    def __init__(self, beat, every):
        self.beat = beat
        self.every = every
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self.run, name="heartbeat", daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc_info):
        self.stopped.set()
        self.thread.join()

    def run(self):
        try:
            while not self.stopped.wait(self.every):
                try:
                    self.beat()
                except DatabaseError:
                    # One missed beat is not death; the next one may get through.
                    logger.warning("A heartbeat could not be written", exc_info=True)
        finally:
            connection.close()  # the thread's own connection

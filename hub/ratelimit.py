"""A request budget shared by every process: N requests per rolling window per key.

Counts live in the cache (Redis when REDIS_URL is set, so all workers on all machines
share them; a file cache on one machine otherwise). A sliding-window counter: the
current fixed window's count plus the previous window's, weighted by how much of it
still overlaps the rolling window.
"""

import time

from django.core.cache import cache

sleep = time.sleep


def _slot(key, limit, window, now):
    """Take one request of the budget if it fits; True when taken."""
    current = int(now // window)
    elapsed = (now % window) / window
    carried = cache.get(f"ratelimit:{key}:{current - 1}", 0) * (1 - elapsed)
    name = f"ratelimit:{key}:{current}"
    if carried + cache.get(name, 0) >= limit:
        return False
    # add() then incr() is atomic on Redis; both windows' keys expire by themselves.
    cache.add(name, 0, timeout=int(window * 2) + 1)
    try:
        used = cache.incr(name)
    except ValueError:  # expired between add and incr
        cache.set(name, 1, timeout=int(window * 2) + 1)
        used = 1
    if carried + used > limit:
        cache.decr(name)  # another process took the last one first
        return False
    return True


def acquire(key, limit, window=60.0, *, max_wait=300.0):
    """Block until a request under `key` fits in the budget; False if that takes too long."""
    deadline = time.monotonic() + max_wait
    while True:
        if _slot(key, limit, window, time.time()):
            return True
        if time.monotonic() >= deadline:
            return False
        sleep(min(1.0, window / max(limit, 1)))

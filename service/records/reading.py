"""How many user files are read at once: at most ``limit`` (the parse concurrency, one per
parser worker), and at most one of each person's. One person sending file after file (by
mistake, or to attack) holds one parser and never all of them, so everyone else is served.
Used for every upload that is parsed in a request: completed forms and batch spreadsheets."""

from __future__ import annotations

import threading
import time
from contextlib import contextmanager
from functools import lru_cache

from ..errors import Busy

WAIT_FOR_SLOT = 2.0  # seconds an upload waits for a free parser before 429


@lru_cache(maxsize=None)
def _slots(limit: int) -> threading.BoundedSemaphore:
    return threading.BoundedSemaphore(limit)


_own: dict[str, threading.Lock] = {}  # user id -> held while one of their uploads is read
_own_lock = threading.Lock()


def _own_slot(user_id: str) -> threading.Lock:
    with _own_lock:
        return _own.setdefault(user_id, threading.Lock())


@contextmanager
def reading_slot(user_id: str, limit: int):
    """A parser for one upload: the user's own (one at a time), then one of ``limit``; each
    waited for at most WAIT_FOR_SLOT seconds in all, else Busy (429)."""
    until = time.monotonic() + WAIT_FOR_SLOT
    own = _own_slot(user_id)
    if not own.acquire(timeout=WAIT_FOR_SLOT):
        raise Busy("Another of your uploads is still being read; try again when it has finished.")
    try:
        slots = _slots(limit)
        if not slots.acquire(timeout=max(0.0, until - time.monotonic())):
            raise Busy("Too many uploads are being read right now; try again in a few seconds.")
        try:
            yield
        finally:
            slots.release()
    finally:
        own.release()

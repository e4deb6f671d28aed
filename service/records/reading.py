"""How many user files are read at once: at most ``limit`` (the parse concurrency, one per
parser worker), and at most one of each person's. One person sending file after file (by
mistake, or to attack) holds one parser and never all of them, so everyone else is served.
Used for every upload that is parsed in a request: completed forms and batch spreadsheets.

The slots are shared by callers in threads (``reading_slot``) and callers on an event loop
(``reading_slot_async``, an upload read without a thread), and each set is served in the order
its callers came."""

from __future__ import annotations

import asyncio
import threading
import time
from collections import deque
from contextlib import asynccontextmanager, contextmanager
from functools import lru_cache

from ..errors import Busy

WAIT_FOR_SLOT = 2.0  # seconds an upload waits for a free parser before 429


class Slots:
    """At most ``limit`` held at once; whoever waits is served first come, first served, whether
    they wait in a thread (``acquire``) or on an event loop (``acquire_async``)."""

    def __init__(self, limit: int) -> None:
        self._free = limit
        self._lock = threading.Lock()
        self._waiting: deque[_Waiting] = deque()

    def acquire(self, timeout: float) -> bool:
        """Whether a slot was had within ``timeout`` seconds (then ``release`` it)."""
        with self._lock:
            if self._free and not self._waiting:
                self._free -= 1
                return True
            waiting = _Waiting(threading.Event())
            self._waiting.append(waiting)
        waiting.done.wait(timeout)
        return self._settled(waiting)

    async def acquire_async(self, timeout: float) -> bool:
        """``acquire`` awaited on the running event loop. A caller cancelled while it waits
        takes no slot (one given to it at that moment is passed on)."""
        with self._lock:
            if self._free and not self._waiting:
                self._free -= 1
                return True
            loop = asyncio.get_running_loop()
            waiting = _Waiting(_LoopEvent(loop))
            self._waiting.append(waiting)
        timer = loop.call_later(timeout, waiting.done.set_here)
        try:
            await waiting.done.future
        except asyncio.CancelledError:
            if self._settled(waiting):
                self.release()
            raise
        finally:
            timer.cancel()
        return self._settled(waiting)

    def _settled(self, waiting: "_Waiting") -> bool:
        """After a wait: whether it was given a slot; if not, it stops waiting."""
        with self._lock:
            if waiting.given:
                return True
            self._waiting.remove(waiting)
            return False

    def release(self) -> None:
        with self._lock:
            if self._waiting:  # straight to the first in line: the slot is never free in between
                waiting = self._waiting.popleft()
                waiting.given = True
                waiting.done.set()
            else:
                self._free += 1


class _Waiting:
    __slots__ = ("done", "given")

    def __init__(self, done) -> None:
        self.done = done  # threading.Event, or _LoopEvent
        self.given = False


class _LoopEvent:
    """An event set from any thread, awaited on one event loop."""

    __slots__ = ("loop", "future")

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.future = loop.create_future()

    def set(self) -> None:
        try:
            self.loop.call_soon_threadsafe(self.set_here)
        except RuntimeError:  # the loop has closed: nobody is waiting
            pass

    def set_here(self) -> None:
        """``set`` from the loop's own thread."""
        if not self.future.done():
            self.future.set_result(None)


@lru_cache(maxsize=None)
def _slots(limit: int) -> Slots:
    return Slots(limit)


_own: dict[str, Slots] = {}  # user id -> held while one of their uploads is read
_own_lock = threading.Lock()


def _own_slot(user_id: str) -> Slots:
    with _own_lock:
        own = _own.get(user_id)
        if own is None:
            own = _own[user_id] = Slots(1)
        return own


YOURS = "Another of your uploads is still being read; try again when it has finished."
EVERYONE = "Too many uploads are being read right now; try again in a few seconds."


@contextmanager
def reading_slot(user_id: str, limit: int):
    """A parser for one upload: the user's own (one at a time), then one of ``limit``; each
    waited for at most WAIT_FOR_SLOT seconds in all, else Busy (429)."""
    until = time.monotonic() + WAIT_FOR_SLOT
    own = _own_slot(user_id)
    if not own.acquire(WAIT_FOR_SLOT):
        raise Busy(YOURS)
    try:
        slots = _slots(limit)
        if not slots.acquire(max(0.0, until - time.monotonic())):
            raise Busy(EVERYONE)
        try:
            yield
        finally:
            slots.release()
    finally:
        own.release()


@asynccontextmanager
async def reading_slot_async(user_id: str, limit: int):
    """``reading_slot`` awaited on the running event loop: the same slots, the same limits."""
    until = time.monotonic() + WAIT_FOR_SLOT
    own = _own_slot(user_id)
    if not await own.acquire_async(WAIT_FOR_SLOT):
        raise Busy(YOURS)
    try:
        slots = _slots(limit)
        if not await slots.acquire_async(max(0.0, until - time.monotonic())):
            raise Busy(EVERYONE)
        try:
            yield
        finally:
            slots.release()
    finally:
        own.release()

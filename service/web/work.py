"""Work that keeps a core busy — making a document — runs one piece at a time in each server
process, on a worker thread, while the event loop goes on answering.

Python runs one thread's bytecode at a time. Sixteen requests each making a document in its own
thread (the thread pool's way with plain endpoints) spent 14.6 ms of CPU a document here
against 8.4 ms one at a time, the difference spent handing that lock about. One at a time,
each document costs what it costs alone, and requests that only touch the database (which
release the lock while waiting) are not held up behind them. The
service gets every core by running a server process per core (``stepdown-forms serve``).
"""

from __future__ import annotations

import asyncio
import weakref
from typing import Callable, TypeVar

import anyio
from anyio import to_thread

T = TypeVar("T")

_limiters: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, anyio.CapacityLimiter] = weakref.WeakKeyDictionary()


def _limiter() -> anyio.CapacityLimiter:
    loop = asyncio.get_running_loop()  # one per loop: a limiter belongs to the loop it was made in
    limiter = _limiters.get(loop)
    if limiter is None:
        limiter = _limiters[loop] = anyio.CapacityLimiter(1)
    return limiter


async def on_core(function: Callable[..., T], *args: object) -> T:
    """``function(*args)`` on a worker thread, after the one before it in this process finished."""
    return await to_thread.run_sync(function, *args, limiter=_limiter())

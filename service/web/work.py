"""Work that keeps a core busy — making a document — runs one piece at a time in each server
process, on a worker thread of its own, while the event loop goes on answering.

Python runs one thread's bytecode at a time. Sixteen requests each making a document in its own
thread (the thread pool's way with plain endpoints) spent 14.6 ms of CPU a document here
against 8.4 ms one at a time, the difference spent handing that lock about. One at a time,
each document costs what it costs alone, and requests that only touch the database (which
release the lock while waiting) are not held up behind them. The service gets every core by
running a server process per core (``stepdown-forms serve``).

The hand-off is kept small. Each event loop has one core thread and a queue; a request puts
its piece on the queue and waits on a future, and the thread, once a piece is done, takes the
next one straight off the queue. anyio's ``to_thread`` with a limiter of one (used before) made
the loop wake, pass the limiter on and wake the thread again between every two pieces: with
py-spy under the generate-.docx load, that hand-off held the interpreter lock for about a sixth
of the process's samples, against a document's two fifths.

A piece the caller knows is short runs in place, on the loop (``in_place``). While the core
thread works, the loop waits for the interpreter's lock anyway, up to its switch interval
(5 ms), so a thread buys the loop nothing for a piece shorter than that, and the two hand-offs
and the switches between the threads cost about 0.15 ms of CPU a piece (measured: a Word
document through the service 1.41 ms of server CPU on the core thread, 1.26 ms in place).
"""

from __future__ import annotations

import asyncio
import contextvars
import queue
import threading
import weakref
from typing import Callable, TypeVar

T = TypeVar("T")

_queues: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, queue.SimpleQueue] = weakref.WeakKeyDictionary()
_made = threading.Lock()


def _queue(loop: asyncio.AbstractEventLoop) -> queue.SimpleQueue:
    jobs = _queues.get(loop)
    if jobs is None:
        with _made:
            jobs = _queues.get(loop)
            if jobs is None:
                jobs = _queues[loop] = queue.SimpleQueue()
                threading.Thread(target=_run, args=(jobs,), name="core", daemon=True).start()
                weakref.finalize(loop, jobs.put, None)  # the loop gone: the thread ends
    return jobs


def _run(jobs: queue.SimpleQueue) -> None:
    """The core thread of one event loop: each piece in turn. Between pieces it holds no
    reference to the loop, so the loop can go (and its finalizer end this thread)."""
    while (job := jobs.get()) is not None:
        _do(*job)
        del job


def _do(future: asyncio.Future, context: contextvars.Context, function: Callable, args: tuple) -> None:
    """One piece, its result (or what it raised) handed back to the loop that asked."""
    if future.cancelled():  # its request went away while it waited: nothing to make
        return
    result = error = None
    try:
        result = context.run(function, *args)
    except BaseException as exc:  # for the request that asked, as to_thread would
        error = exc
    try:
        future.get_loop().call_soon_threadsafe(_settle, future, result, error)
    except RuntimeError:  # the loop closed while the piece ran: nobody is waiting
        pass


def _settle(future: asyncio.Future, result: object, error: BaseException | None) -> None:
    if future.cancelled():  # the request went away (the client hung up); the piece was done anyway
        return
    if error is not None:
        future.set_exception(error)
    else:
        future.set_result(result)


async def on_core(function: Callable[..., T], *args: object, in_place: bool = False) -> T:
    """``function(*args)`` on this process's core thread, after the pieces queued before it;
    with ``in_place``, for a piece known to take well under the switch interval, here and now.
    Only for work without side effects: a request cancelled while it waits stops waiting, and
    its piece is skipped if it has not started (one that has runs to the end; a thread cannot
    be stopped part way)."""
    if in_place:
        return function(*args)
    loop = asyncio.get_running_loop()
    future = loop.create_future()
    _queue(loop).put((future, contextvars.copy_context(), function, args))
    return await future

"""Small writes committed together: one transaction and one fsync for every write waiting.

The hot writes of a busy service are small (an upload's row and its audit entry; a read's audit
entry) and each took a write turn of its own: SQLite has one writer, PostgreSQL queues them on
the audit chain's head row, and under load a turn was held mostly by the commit's fsync and by
the holder waiting for its process's GIL, while every other request queued behind it. Here one
thread per process takes the writes waiting at that moment, runs them in one transaction, in the
order they came, commits once, and only then lets their callers go on:

- a write whose own work raises is rolled back alone, its caller gets the error, and the others
  still commit (the batch is run again with a savepoint for each write: see ``_commit``);
- nothing is acknowledged before it is durable: a caller returns only after the commit that
  holds its write, and if that commit fails every caller in it gets the failure;
- the audit chain is unchanged: entries are appended in the order the writes ran (its head is
  read once a batch and written back once, ``audit.Tail``).

A caller on the event loop awaits its write (``run_async``): the commit thread hands the result
to the loop once durable, so no thread of the caller's waits in between.
"""

from __future__ import annotations

import asyncio
import queue
import threading
import time
from typing import Callable, TypeVar

from sqlalchemy import Connection

from .audit import Tail

T = TypeVar("T")
SAVEPOINT, UNDO, RELEASE = "SAVEPOINT stepdown_write", "ROLLBACK TO SAVEPOINT stepdown_write", "RELEASE SAVEPOINT stepdown_write"


class GroupCommit:
    MOST = 256  # writes in one transaction

    KEEP_SECONDS = 1.0  # a connection idle longer is given back, and the next batch takes one the pool checks

    def __init__(self, database, name: str) -> None:
        self.db = database
        self.name = name
        self._queue: queue.SimpleQueue = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._start = threading.Lock()
        self._kept: Connection | None = None  # the commit thread's own connection, between batches
        self._last = 0.0

    def run(self, work: Callable[[Connection], T]) -> T:
        """Run ``work(connection)`` in the next shared transaction and return its result once that
        is committed; raise what ``work`` raised, or why the commit failed."""
        if threading.current_thread() is self._thread:  # a write made by a write: already in the turn
            return work(self._current)
        self._ensure_thread()
        waiter = _Waiter(work, threading.Event())
        self._queue.put(waiter)
        waiter.done.wait()
        if waiter.error is not None:
            raise waiter.error
        return waiter.result

    async def run_async(self, work: Callable[[Connection], T]) -> T:
        """``run`` for a caller on the event loop: the write is queued, and this waits on the loop
        (not in a thread) until the commit that holds it is durable. A caller that goes away
        while it waits does not take its write back: once queued it commits (or fails) with the
        others, as a thread's would."""
        self._ensure_thread()
        loop = asyncio.get_running_loop()
        waiter = _Waiter(work, _LoopDone(loop, loop.create_future()))
        self._queue.put(waiter)
        await asyncio.shield(waiter.done.future)
        if waiter.error is not None:
            raise waiter.error
        return waiter.result

    def stop(self) -> None:
        if self._thread is not None and self._thread.is_alive():
            self._queue.put(None)
            self._thread.join(10)

    def _connection(self) -> Connection:
        """The connection a batch runs on: the one kept from the last batch if that was under
        ``KEEP_SECONDS`` ago (under load, batches follow each other by milliseconds), else one from
        the pool, which checks a connection before lending it (on PostgreSQL a round trip, and
        SQLAlchemy's checkout on both, which every batch paid before). A batch that fails gives
        its connection back."""
        if self._kept is not None and (self._kept.invalidated or time.monotonic() - self._last > self.KEEP_SECONDS):
            self._give_back()
        if self._kept is None:
            self._kept = self.db.engine.connect()
        self._last = time.monotonic()
        return self._kept

    def _give_back(self) -> None:
        kept, self._kept = self._kept, None
        if kept is not None:
            try:
                kept.close()
            except Exception:  # a broken connection: the pool discards it
                pass

    def _ensure_thread(self) -> None:
        if self._thread is None or not self._thread.is_alive():
            with self._start:
                if self._thread is None or not self._thread.is_alive():
                    self._thread = threading.Thread(target=self._loop, name=self.name, daemon=True)
                    self._thread.start()

    def _take(self, first: "_Waiter") -> list["_Waiter"]:
        batch = [first]
        while len(batch) < self.MOST:
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                break
            if item is None:
                self._queue.put(None)  # stop after this batch
                break
            batch.append(item)
        return batch

    def _loop(self) -> None:
        while (first := self._queue.get()) is not None:
            batch = self._take(first)
            try:
                try:
                    self._commit(batch, careful=False)
                except _OneFailed:  # undone whole; again, each write in a savepoint of its own
                    for waiter in batch:
                        waiter.error = None
                    self._commit(batch, careful=True)
            except Exception as exc:  # the commit failed (or the database is gone): nothing here is kept
                self._give_back()  # the next batch starts on a checked connection
                for waiter in batch:
                    if waiter.error is None:
                        waiter.error, waiter.result = exc, None
            finally:
                self._current = None
            for waiter in batch:
                waiter.done.set()
        self._give_back()

    def _commit(self, batch: list["_Waiter"], careful: bool) -> None:
        """The batch in one transaction, the chain's head read and moved once (``audit.Tail``).
        First without savepoints (a write very rarely fails, and on PostgreSQL each savepoint is
        two more round trips): a write that raises undoes them all (``_OneFailed``), and the
        batch runs again ``careful``, each write in a savepoint, so it alone is undone."""
        with self.db.writing(self._connection()) as connection, Tail(connection) as tail:
            self._current = connection
            savepoints = connection.connection.dbapi_connection.cursor() if careful else None  # see plain.py
            for waiter in batch:
                if not careful:
                    try:
                        waiter.result = waiter.work(connection)
                    except Exception as exc:
                        waiter.error = exc
                        raise _OneFailed() from exc
                    continue
                mark = tail.mark()
                savepoints.execute(SAVEPOINT)
                try:
                    waiter.result = waiter.work(connection)
                except Exception as exc:  # this write alone is undone; the others go on
                    savepoints.execute(UNDO)
                    tail.back_to(mark)
                    waiter.error = exc
                savepoints.execute(RELEASE)
            tail.close()

    _current: Connection | None = None


class _OneFailed(Exception):
    """A write of a batch run without savepoints raised: the batch is undone and run again."""


class _Waiter:
    __slots__ = ("work", "done", "result", "error")

    def __init__(self, work, done) -> None:
        self.work = work
        self.done = done  # threading.Event, or _LoopDone for a caller on an event loop: ``set()`` once durable
        self.result = None
        self.error: Exception | None = None


class _LoopDone:
    """``set()`` from the commit thread resolves a future on the caller's event loop."""

    __slots__ = ("loop", "future")

    def __init__(self, loop: asyncio.AbstractEventLoop, future: asyncio.Future) -> None:
        self.loop, self.future = loop, future

    def set(self) -> None:
        try:
            self.loop.call_soon_threadsafe(_resolve, self.future)
        except RuntimeError:  # the loop closed meanwhile: nobody is waiting
            pass


def _resolve(future: asyncio.Future) -> None:
    if not future.done():
        future.set_result(None)

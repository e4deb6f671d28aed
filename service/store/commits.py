"""Small writes committed together: one transaction and one fsync for every write waiting.

The hot writes of a busy service are small (an upload's row and its audit entry; a read's audit
entry) and each took a write turn of its own: SQLite has one writer, PostgreSQL queues them on
the audit chain's head row, and under load a turn was held mostly by the commit's fsync and by
the holder waiting for its process's GIL, while every other request queued behind it. Here one
thread per process takes the writes waiting at that moment, runs each in a SAVEPOINT of one
transaction, in the order they came, commits once, and only then lets their callers go on:

- a write whose own work raises is rolled back alone (its savepoint), its caller gets the error,
  and the others still commit;
- nothing is acknowledged before it is durable: a caller returns only after the commit that
  holds its write, and if that commit fails every caller in it gets the failure;
- the audit chain is unchanged: entries are appended in the order the writes ran.
"""

from __future__ import annotations

import queue
import threading
from typing import Callable, TypeVar

from sqlalchemy import Connection

T = TypeVar("T")


class GroupCommit:
    MOST = 256  # writes in one transaction

    def __init__(self, database, name: str) -> None:
        self.db = database
        self.name = name
        self._queue: queue.SimpleQueue = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._start = threading.Lock()

    def run(self, work: Callable[[Connection], T]) -> T:
        """Run ``work(connection)`` in the next shared transaction and return its result once that
        is committed; raise what ``work`` raised, or why the commit failed."""
        if threading.current_thread() is self._thread:  # a write made by a write: already in the turn
            return work(self._current)
        self._ensure_thread()
        waiter = _Waiter(work)
        self._queue.put(waiter)
        waiter.done.wait()
        if waiter.error is not None:
            raise waiter.error
        return waiter.result

    def stop(self) -> None:
        if self._thread is not None and self._thread.is_alive():
            self._queue.put(None)
            self._thread.join(10)

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
                with self.db.writing() as connection:
                    self._current = connection
                    for waiter in batch:
                        try:
                            with connection.begin_nested():
                                waiter.result = waiter.work(connection)
                        except Exception as exc:  # this write alone is undone; the others go on
                            waiter.error = exc
            except Exception as exc:  # the commit failed (or the database is gone): nothing here is kept
                for waiter in batch:
                    if waiter.error is None:
                        waiter.error, waiter.result = exc, None
            finally:
                self._current = None
            for waiter in batch:
                waiter.done.set()

    _current: Connection | None = None


class _Waiter:
    __slots__ = ("work", "done", "result", "error")

    def __init__(self, work) -> None:
        self.work = work
        self.done = threading.Event()
        self.result = None
        self.error: Exception | None = None

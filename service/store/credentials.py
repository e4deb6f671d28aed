"""Credentials checked once and kept, for PostgreSQL, until the database says they changed.

On PostgreSQL every API request's token check was a read over a connection: about 0.4 ms more
CPU a request than SQLite's local read, and a thread hand-off. Each server process now keeps
the rows its token checks found, and forgets them all the moment any user, team or token
changes: triggers (migration 0010) send a notice on ``CHANNEL`` when such a change commits, and
a thread here, listening on its own connection, clears what is kept.

What keeps it safe:

- nothing is kept unless the listener is connected and listening; while it is not (start-up,
  a dropped connection), every check reads the database, and what was kept before is dropped
  when it connects again, since notices may have been missed meanwhile;
- a row read while a notice arrived is not kept (the generation it was read under has passed),
  so a check that raced a revocation cannot keep the old row;
- the process that makes a change forgets at once, without waiting for its notice (``changed``);
- a kept row is used for at most ``MAX_AGE`` seconds, and at most ``MAX_KEPT`` are kept;
- only tokens that were found are kept (an unknown token reads the database every time, so
  guesses cannot fill the table).

Other processes stop accepting a revoked token when the notice reaches them: a few milliseconds
after the revocation commits.
"""

from __future__ import annotations

import logging
import threading
import time

CHANNEL = "stepdown_credentials"
MAX_AGE = 60.0  # seconds a kept row is used, notice or not
MAX_KEPT = 10_000
RECONNECT_SECONDS = 1.0

log = logging.getLogger(__name__)


class NoCredentials:
    """SQLite, or keeping nothing: every check reads."""

    def get(self, key: str):
        return None

    def generation(self) -> int | None:
        return None

    def put(self, key: str, row, generation: int | None) -> None:
        pass

    def changed(self) -> None:
        pass

    def stop(self) -> None:
        pass


class CredentialWatch(NoCredentials):
    def __init__(self, connect) -> None:
        """``connect()``: a new DB-API (psycopg) connection of the database's own, for listening."""
        self._connect = connect
        self._kept: dict[str, tuple[float, object]] = {}
        self._lock = threading.Lock()
        self._generation = 0
        self._listening = False
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    def _started(self) -> bool:
        """Whether it is listening; the listener starts with the first check (a command that
        checks no token never connects)."""
        if self._thread is None:
            with self._lock:
                if self._thread is None:
                    self._thread = threading.Thread(target=self._listen, name="stepdown-credentials", daemon=True)
                    self._thread.start()
        return self._listening

    def get(self, key: str):
        """The row kept for ``key``, if the listener is listening and the row is fresh enough."""
        if not self._started():
            return None
        kept = self._kept.get(key)
        if kept is None or time.monotonic() - kept[0] > MAX_AGE:
            return None
        return kept[1]

    def generation(self) -> int | None:
        """Take this before reading a row to keep; ``None``: do not keep it."""
        return self._generation if self._started() else None

    def put(self, key: str, row, generation: int | None) -> None:
        if row is None or generation is None:
            return
        with self._lock:
            if generation != self._generation or not self._listening:
                return  # something changed while it was read: it may be out of date already
            if len(self._kept) >= MAX_KEPT:
                self._kept.clear()
            self._kept[key] = (time.monotonic(), row)

    def changed(self) -> None:
        """Forget everything kept (a notice came, or this process made a change)."""
        with self._lock:
            self._generation += 1
            self._kept.clear()

    def listening(self) -> bool:
        return self._started()

    def stop(self) -> None:
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(5)

    def _listen(self) -> None:
        while not self._stopping.is_set():
            try:
                connection = self._connect()
                try:
                    connection.autocommit = True
                    connection.execute(f"LISTEN {CHANNEL}")
                    self.changed()  # notices may have been missed while not listening
                    self._listening = True
                    while not self._stopping.is_set():
                        for _notice in connection.notifies(timeout=0.2):
                            self.changed()
                finally:
                    self._listening = False
                    self.changed()
                    connection.close()
            except Exception as exc:  # the database went away: check every token by reading until it is back
                log.warning("Not listening for credential changes (%s); every token check reads the database.",
                            type(exc).__name__)
                self._stopping.wait(RECONNECT_SECONDS)

"""The database: an engine for SQLite (default) or PostgreSQL, migrations to the newest
schema on start, and sessions whose writes are all-or-nothing.

SQLite runs in WAL mode with ``synchronous=FULL`` (a committed write survives a power cut) and
foreign keys on; each transaction that may write starts with BEGIN IMMEDIATE, so two requests
never both read and then collide on writing (the audit chain relies on this). Work that only
reads (who a token or session belongs to) uses ``Database.read``: a plain BEGIN, which in WAL
mode neither waits for writers nor holds them up. The smallest reads of a request (the API
token's check, the case an upload belongs to: one indexed row) are made on the event loop, on
the calling thread's own driver connection, from a statement compiled once (``first_in_place``);
on PostgreSQL the token rows it finds are kept until a user, team or token changes
(``credentials.py``).

What the database holds never reaches a log, whatever an operator turns up: the engine hides
statement parameters (``hide_parameters``), and the rows and columns SQLAlchemy logs at DEBUG
are dropped by a filter on its engine logger.
"""

from __future__ import annotations

import asyncio
import fcntl
import logging
import os
import sqlite3
import threading
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Connection, create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from ..settings import Settings
from .audit import record_read
from .commits import GroupCommit
from .credentials import CredentialWatch, NoCredentials
from .files import FileStore
from . import plain
from .models import ApiToken, Team, User
from .seal import Sealer

MIGRATIONS = Path(__file__).with_name("migrations")
READ_ONLY = "stepdown_read_only"  # execution option: begin a deferred (read) transaction on SQLite
ENGINE_LOGGER = "sqlalchemy.engine.Engine"  # where SQLAlchemy logs statements, parameters and rows
BUSY_MS = 30000  # the longest an ordinary statement waits for SQLite (writers take turns before that: ``_turn``)
IN_PLACE_BUSY_MS = 100  # the longest a read made on the event loop waits for SQLite before it gives up


class _NoStoredValues(logging.Filter):
    """Drops SQLAlchemy's DEBUG records: the rows and columns a query returned."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.levelno > logging.DEBUG


def _quiet_engine_logs() -> None:
    logger = logging.getLogger(ENGINE_LOGGER)
    if not any(isinstance(f, _NoStoredValues) for f in logger.filters):
        logger.addFilter(_NoStoredValues())


class Database:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.engine = make_engine(settings)
        self.sealer = Sealer(settings.data_key)
        self.files = FileStore(settings.file_store)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        self._reader = self.engine.execution_options(**{READ_ONLY: True})
        self._read_sessions = sessionmaker(self._reader, expire_on_commit=False)
        self._writers = threading.RLock() if self.dialect == "sqlite" else None
        self._held = threading.local()  # .depth: sessions this thread has open
        self.commits = GroupCommit(self, "stepdown-group-commit")
        # PostgreSQL: token checks kept until a change to users, teams or tokens (credentials.py)
        self.credentials = CredentialWatch(self._listener) if self.dialect == "postgresql" else NoCredentials()
        _forget_on_change(self._sessions, self.credentials)
        path = settings.sqlite_path()
        self._lock_file = os.open(f"{path}-writers.lock", os.O_RDWR | os.O_CREAT, 0o600) if path else None
        # SQLite on a file: each thread's own driver connection, for the smallest reads, made in place
        self._in_place = _InPlace(path) if path else None

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def migrate(self) -> None:
        """Bring the schema to the newest migration (Alembic), inside one transaction."""
        from alembic import command  # deferred: it takes 0.3 s to load, and only migrating needs it
        from alembic.config import Config

        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS))
        with self.engine.begin() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, "head")

    @contextmanager
    def session(self):
        """A unit of work: committed when the block ends, rolled back whole if it raises. On
        SQLite, writers take their turn in ``_turn`` first."""
        with self._turn():
            session: Session = self._sessions()
            try:
                yield session
                session.commit()
            except BaseException:
                session.rollback()
                raise
            finally:
                session.close()

    @contextmanager
    def writing(self, kept: Connection | None = None):
        """A Core connection in a write transaction (after the write turn, as ``session``):
        committed when the block ends, rolled back if it raises. For small, hot writes of plain
        statements, without the ORM's bookkeeping. ``kept``: a connection of the caller's own
        to begin it on (the group commit keeps one), rather than one from the pool."""
        with self._turn():
            if kept is None:
                with self.engine.begin() as connection:
                    yield connection
            else:
                with kept.begin():
                    yield kept

    @contextmanager
    def _turn(self):
        """SQLite has one writer at a time, and a writer that finds the database busy sleeps and
        polls (1, 2, 5 ... 100 ms): under load that, not the work, made the slowest requests
        slow. So writers queue here instead — a lock for this process's threads, then an
        exclusive lock on a file beside the database for the other processes — and each is woken
        the moment the one before it commits. PostgreSQL locks rows itself: nothing to do."""
        depth = getattr(self._held, "depth", 0)
        self._held.depth = depth + 1
        try:
            if self._writers is None or depth:  # PostgreSQL, or a session inside a session: already our turn
                yield
                return
            with self._writers:
                if self._lock_file is not None:
                    fcntl.flock(self._lock_file, fcntl.LOCK_EX)
                try:
                    yield
                finally:
                    if self._lock_file is not None:
                        fcntl.flock(self._lock_file, fcntl.LOCK_UN)
        finally:
            self._held.depth = depth

    def in_session(self) -> bool:
        """Whether this thread has a session open (and so, on SQLite, the write turn)."""
        return getattr(self._held, "depth", 0) > 0

    @contextmanager
    def read(self):
        """A connection for reading only (SQLite: a deferred transaction, so it never queues
        behind a write; PostgreSQL: a read-only transaction); rolled back when the block ends."""
        with self._reader.connect() as connection:
            if self.dialect == "postgresql":
                connection.exec_driver_sql("SET TRANSACTION READ ONLY")
            yield connection

    def first(self, statement, params: dict):
        """The first row of ``statement`` or None, read the ordinary way (``read``)."""
        with self.read() as connection:
            return connection.execute(statement, params).first()

    async def first_async(self, statement, params: dict):
        """``first`` for a caller on the event loop: read in place where it can be
        (``first_in_place``), else in a thread."""
        try:
            return self.first_in_place(statement, params)
        except ReadElsewhere:
            return await asyncio.to_thread(self.first, statement, params)

    def first_in_place(self, statement, params: dict):
        """The first row of ``statement`` (a SELECT built once, with named parameters), or None,
        read on this thread's own connection: for a read small enough to make on the event loop
        (one indexed row, a few microseconds), with no pool to queue for and no thread to hand
        over to. SQLite on a file only, where a read neither waits for writers nor holds them up;
        should the database be busy even so, it gives up after ``IN_PLACE_BUSY_MS`` rather than
        hold the loop. Raises ``ReadElsewhere`` when it cannot be made here (PostgreSQL, whose
        reads cross a connection; busy; any error of SQLite's): the caller uses ``read``."""
        if self._in_place is None:
            raise ReadElsewhere()
        return self._in_place.first(self.engine.dialect, statement, params)

    @contextmanager
    def reading(self):
        """An ORM session for reading only (as ``read``): it takes no write turn, and whatever
        it did is rolled back when the block ends."""
        session: Session = self._read_sessions()
        try:
            yield session
        finally:
            session.close()

    def audit_read(self, **entry) -> None:
        """An audit entry for a read, committed (with others waiting) before this returns; see
        ``audit.record_read``. Not inside a session: the entry waits for the write turn."""
        if self.in_session():
            raise RuntimeError("audit_read inside a session would wait for its own turn")
        record_read(self.commits, self.sealer, **entry)

    async def read_then_write(self, statement, params: dict, work):
        """``work(connection, row)`` committed with the other small writes waiting (as
        ``write_together_async``), ``row`` the first row of ``statement`` (None: no row, or no
        statement). On SQLite the row is read first, in place, so the write's turn is held only
        to write; elsewhere (PostgreSQL) it is read inside the write's own transaction: one round
        trip there, rather than a thread and a read transaction of its own (a ping, SET
        TRANSACTION READ ONLY, the read, a rollback)."""
        if statement is None:
            return await self.write_together_async(lambda connection: work(connection, None))
        if self._in_place is not None:
            row = await self.first_async(statement, params)
            return await self.write_together_async(lambda connection: work(connection, row))
        return await self.write_together_async(lambda connection: work(connection, plain.first(connection, statement,
                                                                                                 params)))

    def write_together(self, work):
        """``work(connection)`` committed with the other small writes waiting (``GroupCommit``),
        its result returned once durable. ``work`` uses only the connection it is given (a
        session would wait for the turn this one holds) and is undone alone if it raises."""
        if self.in_session():
            raise RuntimeError("write_together inside a session would wait for its own turn")
        return self.commits.run(work)

    async def write_together_async(self, work):
        """``write_together`` awaited on the event loop: no thread of the caller's waits for
        the commit (the commit thread hands the result back once durable)."""
        return await self.commits.run_async(work)

    def _listener(self):
        """A connection of the database's own, out of the pool, for LISTEN."""
        pooled = self.engine.raw_connection()
        connection = pooled.dbapi_connection
        pooled.detach()  # the pool forgets it: it is this listener's until closed
        return connection

    def dispose(self) -> None:
        self.credentials.stop()
        self.commits.stop()
        self.engine.dispose()
        if self._in_place is not None:
            self._in_place.close()
        if self._lock_file is not None:
            os.close(self._lock_file)
            self._lock_file = None


class ReadElsewhere(Exception):
    """A read that cannot be made in place: make it the ordinary way (``Database.read``)."""


class _InPlace:
    """Each thread's own read-only driver connection to the SQLite file, for statements
    compiled once (``plain``). A single SELECT on a connection in autocommit mode is its own read
    transaction: it sees one committed state of the database, and never waits for a writer."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._local = threading.local()
        self._all: list[sqlite3.Connection] = []
        self._lock = threading.Lock()

    def _connection(self) -> sqlite3.Connection:
        connection = getattr(self._local, "connection", None)
        if connection is None:
            connection = sqlite3.connect(self.path, timeout=IN_PLACE_BUSY_MS / 1000, isolation_level=None,
                                         check_same_thread=False)
            connection.execute(f"PRAGMA busy_timeout={IN_PLACE_BUSY_MS}")
            connection.execute("PRAGMA query_only=1")  # reads only, whatever is asked of it
            with self._lock:
                self._all.append(connection)
            self._local.connection = connection
        return connection

    def first(self, dialect, statement, params: dict):
        try:
            return plain.first_on(self._connection(), dialect, statement, params)
        except sqlite3.Error:  # "database is locked", or anything else: the caller reads the ordinary way
            raise ReadElsewhere() from None

    def close(self) -> None:
        with self._lock:
            for connection in self._all:
                connection.close()
            self._all.clear()
        self._local = threading.local()


def _forget_on_change(sessions: sessionmaker, credentials) -> None:
    """This process forgets the credentials it keeps as soon as its own session commits a
    change to a user, team or token (the others hear of it by notice)."""
    @event.listens_for(sessions, "after_flush")
    def _flushed(session, _context) -> None:
        if any(isinstance(o, (User, Team, ApiToken)) for o in (*session.new, *session.dirty, *session.deleted)):
            session.info["credentials_changed"] = True

    @event.listens_for(sessions, "after_commit")
    def _committed(session) -> None:
        if session.info.pop("credentials_changed", False):
            credentials.changed()


def make_engine(settings: Settings) -> Engine:
    """The engine for ``settings``; on SQLite a statement waits up to ``BUSY_MS`` for a busy database."""
    url = settings.database_url
    _quiet_engine_logs()
    if not url.startswith("sqlite"):
        return create_engine(url, pool_pre_ping=True, hide_parameters=True)
    path = settings.sqlite_path()
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": BUSY_MS / 1000},
                           hide_parameters=True)

    @event.listens_for(engine, "connect")
    def _pragmas(dbapi_connection, _record) -> None:
        dbapi_connection.isolation_level = None  # transactions are begun below, not by the driver
        cursor = dbapi_connection.cursor()
        if path is not None:
            cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={BUSY_MS}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(connection) -> None:
        connection.exec_driver_sql("BEGIN" if connection.get_execution_options().get(READ_ONLY) else "BEGIN IMMEDIATE")

    return engine

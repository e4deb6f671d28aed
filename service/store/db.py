"""The database: an engine for SQLite (default) or PostgreSQL, migrations to the newest
schema on start, and sessions whose writes are all-or-nothing.

SQLite runs in WAL mode with ``synchronous=FULL`` (a committed write survives a power cut) and
foreign keys on; each transaction starts with BEGIN IMMEDIATE, so two requests never both read
and then collide on writing (the audit chain relies on this).

What the database holds never reaches a log, whatever an operator turns up: the engine hides
statement parameters (``hide_parameters``), and the rows and columns SQLAlchemy logs at DEBUG
are dropped by a filter on its engine logger.
"""

from __future__ import annotations

import logging
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from ..settings import Settings
from .seal import Sealer

MIGRATIONS = Path(__file__).with_name("migrations")
ENGINE_LOGGER = "sqlalchemy.engine.Engine"  # where SQLAlchemy logs statements, parameters and rows


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
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)

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
        """A unit of work: committed when the block ends, rolled back whole if it raises."""
        session: Session = self._sessions()
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    def dispose(self) -> None:
        self.engine.dispose()


def make_engine(settings: Settings) -> Engine:
    url = settings.database_url
    _quiet_engine_logs()
    if not url.startswith("sqlite"):
        return create_engine(url, pool_pre_ping=True, hide_parameters=True)
    path = settings.sqlite_path()
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30}, hide_parameters=True)

    @event.listens_for(engine, "connect")
    def _pragmas(dbapi_connection, _record) -> None:
        dbapi_connection.isolation_level = None  # transactions are begun below, not by the driver
        cursor = dbapi_connection.cursor()
        if path is not None:
            cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(connection) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")

    return engine

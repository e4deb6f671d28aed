"""The databases the storage and API tests run on: SQLite always, PostgreSQL when the test
command has started one (STEPDOWN_TEST_DATABASE_URL; under CI=true its absence fails)."""

from __future__ import annotations

import os
import uuid

import pytest

PG_URL = os.environ.get("STEPDOWN_TEST_DATABASE_URL", "")


def _postgres_url() -> str:
    """A fresh database on the test server for one test."""
    if not PG_URL:
        message = "PostgreSQL is not running (scripts/test starts it and sets STEPDOWN_TEST_DATABASE_URL)"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    import psycopg

    name = f"sdf_{uuid.uuid4().hex[:12]}"
    admin = PG_URL.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return PG_URL.rsplit("/", 1)[0] + "/" + name


def _drop_postgres(url: str) -> None:
    """Drop a test database, ending its connections. An autovacuum worker on it (a superuser's
    process, which this role may not end) makes FORCE fail for a moment: try again."""
    import time

    import psycopg

    name = url.rsplit("/", 1)[1]
    admin = PG_URL.replace("postgresql+psycopg://", "postgresql://")
    for attempt in range(50):
        try:
            with psycopg.connect(admin, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            return
        except psycopg.errors.InsufficientPrivilege:
            if attempt == 49:
                raise
            time.sleep(0.1)


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request, tmp_path):
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path}/service.sqlite3"
        return
    url = _postgres_url()
    yield url
    _drop_postgres(url)

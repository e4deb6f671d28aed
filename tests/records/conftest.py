"""A migrated database with its own file store per test, on SQLite and (when the test command
started one) PostgreSQL, for the casework tests."""

from __future__ import annotations

import pytest

from service.settings import Settings
from service.store import Database


@pytest.fixture
def db(database_url, tmp_path):
    database = Database(Settings(database_url=database_url, data_dir=str(tmp_path)))
    database.migrate()
    yield database
    database.dispose()

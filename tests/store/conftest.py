"""A migrated database per test, on SQLite and (when the test command started one) PostgreSQL."""

from __future__ import annotations

import pytest

from service.settings import Settings
from service.store import Database


@pytest.fixture
def db(database_url):
    database = Database(Settings(database_url=database_url))
    database.migrate()
    yield database
    database.dispose()

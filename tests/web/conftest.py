"""A running app per test, on SQLite and (when the test command has started one) PostgreSQL,
with two teams: North (a manager, a practitioner) and South (a practitioner)."""

from __future__ import annotations

import os
import uuid
from dataclasses import dataclass

import pytest
from fastapi.testclient import TestClient

from service import records
from service.settings import Settings
from service.web import create_app
from tests.conftest import REGISTRY

PASSWORD = "a long test password"
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
    import psycopg

    name = url.rsplit("/", 1)[1]
    admin = PG_URL.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request, tmp_path):
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path}/service.sqlite3"
        return
    url = _postgres_url()
    yield url
    _drop_postgres(url)


@dataclass
class World:
    app: object
    client: TestClient
    tokens: dict[str, str]
    actors: dict[str, records.Actor]

    @property
    def db(self):
        return self.app.state.db

    def auth(self, who: str) -> dict:
        return {"Authorization": f"Bearer {self.tokens[who]}"}

    def get(self, who: str, url: str, headers: dict | None = None, **kw):
        return self.client.get(url, headers={**self.auth(who), **(headers or {})}, **kw)

    def post(self, who: str, url: str, headers: dict | None = None, **kw):
        return self.client.post(url, headers={**self.auth(who), **(headers or {})}, **kw)


def make_world(url: str, **settings) -> World:
    app = create_app(Settings(database_url=url, **settings), registry=REGISTRY)
    db = app.state.db
    actors = {
        "manager": records.create_user(db, "nia.manager", PASSWORD, role="manager", team="North Team"),
        "worker": records.create_user(db, "sam.worker", PASSWORD, role="practitioner", team="North Team"),
        "south": records.create_user(db, "ola.south", PASSWORD, role="practitioner", team="South Team"),
        "admin": records.create_user(db, "ade.admin", PASSWORD, role="admin", team="North Team"),
    }
    tokens = {who: records.create_token(db, actor, "tests") for who, actor in actors.items()}
    return World(app, TestClient(app), tokens, actors)


@pytest.fixture
def world(database_url):
    w = make_world(database_url)
    with w.client:
        yield w
    w.db.dispose()

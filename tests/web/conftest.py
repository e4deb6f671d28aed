"""A running app per test, on SQLite and (when the test command has started one) PostgreSQL,
with two teams: North (a manager, a practitioner) and South (a practitioner)."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from fastapi.testclient import TestClient

from service import records
from service.settings import Settings
from service.web import create_app
from tests.conftest import REGISTRY

PASSWORD = "a long test password"
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
    import tempfile

    settings.setdefault("data_dir", tempfile.mkdtemp(prefix="sdf-data-"))
    settings.setdefault("job_workers", 0)
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
    w.app.state.jobs.stop()
    w.db.dispose()

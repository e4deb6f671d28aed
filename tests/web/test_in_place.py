"""The cheap paths of a request: the API token's check read in place on SQLite (``Database.
read_in_place``) and a small Word document made in place (``work.on_core(in_place=True)``),
with the ordinary ways kept for everything else."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from service import records
from service.errors import AccessError
from service.store.db import IN_PLACE_BUSY_MS
from service.web import deps, work
from service.web.api import documents as documents_api

SAMPLE = json.loads((Path(__file__).parents[2] / "samples" / "key-criteria.json").read_text())


def test_on_sqlite_the_token_is_read_on_the_loop_and_revoking_it_takes_effect_at_once(world, monkeypatch):
    if world.db.dialect != "sqlite":
        assert records.resolve_token_in_place(world.db, world.tokens["worker"]) is None  # PostgreSQL: a thread
        return

    def no_thread(*_):
        raise AssertionError("the token was read in a thread")

    monkeypatch.setattr(deps, "resolve_token", no_thread)
    assert world.get("worker", "/api/me").json()["username"] == "sam.worker"
    token = world.post("worker", "/api/tokens", json={"name": "to revoke", "days": 1}).json()["token"]
    auth = {"Authorization": f"Bearer {token}"}
    assert world.client.get("/api/me", headers=auth).status_code == 200
    made = next(t for t in world.get("worker", "/api/tokens").json() if t["name"] == "to revoke")
    assert world.post("worker", f"/api/tokens/{made['id']}/revoke").status_code == 200
    refused = world.client.get("/api/me", headers=auth)
    assert refused.status_code == 401 and refused.json()["error"]["code"] == "unauthenticated"
    with pytest.raises(AccessError):
        records.resolve_token_in_place(world.db, "sdf_not-a-token")


def test_when_the_in_place_read_cannot_be_made_the_thread_pool_answers(world, monkeypatch):
    monkeypatch.setattr(type(world.db), "read_in_place", lambda self, work: None)
    assert world.get("worker", "/api/me").json()["username"] == "sam.worker"
    assert world.client.get("/api/me", headers={"Authorization": "Bearer sdf_nothing"}).status_code == 401


def test_the_in_place_read_waits_little_and_leaves_any_database_error_to_the_ordinary_read(world):
    if world.db.dialect != "sqlite":
        assert world.db.read_in_place(lambda conn: 1) is None
        return
    pragma = "PRAGMA busy_timeout"
    assert world.db.read_in_place(lambda conn: conn.exec_driver_sql(pragma).scalar()) == IN_PLACE_BUSY_MS
    with world.db.read() as conn:  # the ordinary reads may wait as long as they always did
        assert conn.exec_driver_sql(pragma).scalar() == 30000
    # "database is locked" or any other error of SQLite's: not answered here, the caller reads again
    assert world.db.read_in_place(lambda conn: conn.exec_driver_sql("SELECT * FROM no_such_table").all()) is None
    assert world.db.read_in_place(lambda conn: conn.exec_driver_sql("SELECT 41 + 1").scalar()) == 42


def test_a_small_word_request_is_made_in_place_and_a_pdf_or_a_large_body_on_the_core_thread(world, monkeypatch):
    seen = []
    real = work.on_core

    async def watched(function, *args, in_place=False):
        seen.append((args[-1], in_place))
        return await real(function, *args, in_place=in_place)

    monkeypatch.setattr(documents_api, "on_core", watched)
    body = {"form": "key-criteria", "data": SAMPLE.get("data", SAMPLE)}
    for fmt in ("docx", "pdf"):
        made = world.post("worker", "/api/documents", json={**body, "format": fmt})
        assert made.status_code == 200 and len(made.content) > 1000
    monkeypatch.setattr(documents_api, "IN_PLACE_BYTES", 100)  # now this body counts as large
    assert world.post("worker", "/api/documents", json={**body, "format": "docx"}).status_code == 200
    assert seen == [("docx", True), ("pdf", False), ("docx", False)]

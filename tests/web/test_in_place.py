"""The cheap paths of a request: the API token's check read in place on SQLite (``Database.
first_in_place``) and a small Word document made in place (``work.on_core(in_place=True)``),
with the ordinary ways kept for everything else."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sqlalchemy import column, select, table

from service import records
from service.errors import AccessError

from service.records.accounts import _BY_TOKEN
from service.store import ReadElsewhere
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
    def elsewhere(self, statement, params):
        raise ReadElsewhere()

    monkeypatch.setattr(type(world.db), "first_in_place", elsewhere)
    assert world.get("worker", "/api/me").json()["username"] == "sam.worker"
    assert world.client.get("/api/me", headers={"Authorization": "Bearer sdf_nothing"}).status_code == 401


def _pragma(name: str, result: str):
    return select(column(result)).select_from(table(f"pragma_{name}"))


def test_the_in_place_read_waits_little_reads_only_and_leaves_any_database_error_to_the_ordinary_read(world):
    if world.db.dialect != "sqlite":
        with pytest.raises(ReadElsewhere):
            world.db.first_in_place(_pragma("busy_timeout", "timeout"), {})
        return
    assert world.db.first_in_place(_pragma("busy_timeout", "timeout"), {}).timeout == IN_PLACE_BUSY_MS
    assert world.db.first_in_place(_pragma("query_only", "query_only"), {}).query_only == 1
    with world.db.read() as conn:  # the ordinary reads may wait as long as they always did
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 30000
    # "database is locked" or any other error of SQLite's: not answered here, the caller reads again
    with pytest.raises(ReadElsewhere):
        world.db.first_in_place(select(column("x")).select_from(table("no_such_table")), {})


def test_a_row_read_in_place_is_the_row_sqlalchemy_reads(world):
    """Same values, same types (a boolean, a time with its zone), same names; and None for no row."""
    if world.db.dialect != "sqlite":
        return
    with world.db.read() as conn:
        hashes = [r[0] for r in conn.exec_driver_sql("SELECT token_hash FROM api_tokens")]
    assert hashes
    for key in hashes:
        with world.db.read() as conn:
            ordinary = conn.execute(_BY_TOKEN, {"hash": key}).first()
        in_place = world.db.first_in_place(_BY_TOKEN, {"hash": key})
        assert tuple(in_place) == tuple(ordinary) and in_place._fields == tuple(ordinary._fields)
        assert in_place.active is True and in_place.expires_at.tzinfo is not None
    assert world.db.first_in_place(_BY_TOKEN, {"hash": "0" * 64}) is None


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


def test_an_upload_is_read_and_stored_with_no_thread_waiting_for_it(world, monkeypatch):
    """The parser's answer, the case's row (SQLite) and the commit are awaited on the event loop:
    the thread ways of each are not used (they fail here), and the upload is read and stored."""
    import service
    from service import isolation
    from service.store import commits

    def no_thread(*_args, **_kwargs):
        raise AssertionError("a thread waited for this upload")

    monkeypatch.setattr(isolation._Exchange, "run", no_thread)
    monkeypatch.setattr(commits.GroupCommit, "run", no_thread)
    monkeypatch.setattr(type(world.db), "first", no_thread)  # the case: in place (SQLite), in the write (PostgreSQL)
    spec = world.app.state.registry.get("key-criteria")
    case = world.post("worker", "/api/cases", json={"values": {"su_number": SAMPLE["su_number"]}}).json()
    for fmt in ("docx", "pdf"):
        raw = service.generate_document(spec, SAMPLE, format=fmt)
        r = world.post("worker", "/api/submissions", files={"file": (f"form.{fmt}", raw)})
        assert r.status_code == 201, r.text
        assert r.json()["format"] == fmt and r.json()["case_id"] == case["id"] and r.json()["result"]["valid"]


def test_a_case_is_viewed_with_no_thread_waiting_and_another_teams_is_not_found_and_audited(world, monkeypatch):
    from service.store import commits
    from service.store.models import AuditEntry

    case = world.post("worker", "/api/cases", json={"values": {"su_number": "SU-EX-9001"}}).json()

    def no_thread(*_args, **_kwargs):
        raise AssertionError("a thread waited for this view")

    monkeypatch.setattr(commits.GroupCommit, "run", no_thread)  # the audit entry: awaited, not waited for
    monkeypatch.setattr(type(world.db), "first", no_thread)  # the row: in place (SQLite), in the write (PostgreSQL)
    seen = world.get("worker", f"/api/cases/{case['id']}")
    assert seen.status_code == 200 and seen.json()["su_number"] == "SU-EX-9001"
    monkeypatch.undo()
    assert world.get("south", f"/api/cases/{case['id']}").status_code == 404
    assert world.get("worker", "/api/cases/" + "x" * 40).status_code == 404
    with world.db.read() as conn:
        outcomes = [(r.action, r.outcome) for r in conn.execute(
            select(AuditEntry.action, AuditEntry.outcome).where(AuditEntry.target == f"case:{case['id']}"))]
    assert ("case.read", "ok") in outcomes and ("case.read", "denied") in outcomes


def test_an_uploads_answer_written_directly_is_what_its_response_model_gives(world):
    """The upload's answer skips validating its own dict again (``schemas.model_json``); it must
    be exactly the JSON its declared model gives: same fields, defaults, times."""
    import service
    from service.web.api.schemas import SubmissionOut

    spec = world.app.state.registry.get("key-criteria")
    world.post("worker", "/api/cases", json={"values": {"su_number": SAMPLE["su_number"], "child_name": "Other Name"}})
    broken = {**SAMPLE, "age": None}
    for data, fmt in ((SAMPLE, "docx"), (broken, "pdf")):
        r = world.post("worker", "/api/submissions",
                       files={"file": (f"f.{fmt}", service.generate_document(spec, data, format=fmt))})
        assert r.status_code == 201, r.text
        sent = r.json()
        assert sent == json.loads(SubmissionOut.model_validate(sent).model_dump_json())
        assert any(row["status"] == "conflict" for row in sent["case_values"])
        assert sent["uploads"] is None and sent["su_number"] is None and sent["uploaded_at"].endswith("Z")

"""Statements compiled once and run on the driver (``store.plain``) store and give back exactly
what SQLAlchemy stores and gives back, on SQLite and PostgreSQL, and refuse what they cannot do
as SQLAlchemy would."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
from sqlalchemy import bindparam, select, text

from service.store import plain, record
from service.store.audit import _APPEND, _COLUMNS, _HEAD
from service.store.models import ApiToken, AuditEntry, User

WHEN = datetime(2026, 12, 7, 16, 5, 9, 123456, tzinfo=timezone.utc)


def _entry(seq: int) -> dict:
    return {"seq": seq, "at": WHEN, "user_id": None, "username": "tester", "action": "case.read",
            "target": f"case:{seq}", "outcome": "ok", "detail": "Ŵyn's – ☃", "prev_hash": "0" * 64,
            "hash": f"{seq:064d}"}


def test_a_row_written_on_the_driver_is_stored_as_sqlalchemy_stores_it(db):
    with db.writing() as connection:
        connection.execute(_APPEND, _entry(1001))  # through SQLAlchemy
        plain.execute(connection, _APPEND, _entry(1002))  # compiled once, on the driver
    with db.read() as connection:
        stored = {row[0]: row[1:] for row in connection.execute(
            text("SELECT seq, CAST(at AS TEXT), user_id, detail FROM audit_log WHERE seq IN (1001, 1002)"))}
        typed = {row.seq: row for row in connection.execute(select(AuditEntry.__table__).where(
            AuditEntry.seq.in_([1001, 1002])))}
    assert stored[1001] == stored[1002]  # the same text in the database: the time's format, the NULL
    same = ("at", "user_id", "username", "action", "outcome", "detail", "prev_hash")
    assert typed[1002].at == WHEN
    assert [getattr(typed[1001], c) for c in same] == [getattr(typed[1002], c) for c in same]


def test_a_row_read_on_the_driver_is_the_row_sqlalchemy_reads(db):
    with db.session() as s:
        record(s, db.sealer, user_id=7, username="tester", action="case.read", target="case:x")
    statement = select(AuditEntry.seq, AuditEntry.at, AuditEntry.username, AuditEntry.detail).where(
        AuditEntry.action == bindparam("action"))
    with db.writing() as connection:
        ordinary = connection.execute(statement, {"action": "case.read"}).first()
        ours = plain.first(connection, statement, {"action": "case.read"})
        assert plain.first(connection, statement, {"action": "no.such"}) is None
        head = plain.first(connection, _HEAD)
    assert tuple(ours) == tuple(ordinary) and ours._fields == tuple(ordinary._fields)
    assert ours.at.tzinfo is not None and head.seq == ours.seq


def test_what_needs_sqlalchemy_is_refused_when_compiled(db):
    with db.writing() as connection:
        with pytest.raises(ValueError, match="default"):  # api_tokens.revoked has a default SQLAlchemy fills in
            plain.execute(connection, ApiToken.__table__.insert(), {"user_id": 1, "token_hash": "x", "name": "n",
                                                                    "created_at": WHEN})
        with pytest.raises(ValueError, match="no value given for hash"):
            plain.first(connection, select(User.id).where(User.username == bindparam("hash")), {})


def test_the_audit_chain_written_on_the_driver_verifies(db):
    from service.store import verify_audit

    with db.session() as s:
        for i in range(3):
            record(s, db.sealer, user_id=1, username="tester", action="case.read", target=f"case:{i}")
    with db.writing() as connection:
        record(connection, db.sealer, user_id=None, username="(setup)", action="team.create", target="team:1")
    with db.session() as s:
        check = verify_audit(s, db.sealer)
    assert check.ok and check.entries == 4
    assert set(_COLUMNS) <= set(AuditEntry.__table__.c.keys())

"""Token checks kept on PostgreSQL until a user, team or token changes (``store/credentials.py``),
and the notices that clear them (migration 0010)."""

from __future__ import annotations

import time

import pytest

from service import records
from service.errors import AccessError
from service.settings import Settings
from service.store import Database
from service.store.credentials import CredentialWatch, NoCredentials
from service.store.models import User
from tests.databases import _drop_postgres, _postgres_url


def _until(condition, seconds: float = 5.0) -> bool:
    deadline = time.monotonic() + seconds
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.01)
    return condition()


@pytest.fixture
def pg():
    """PostgreSQL only (SQLite keeps nothing: see the last test)."""
    url = _postgres_url()
    database = Database(Settings(database_url=url))
    database.migrate()
    yield database
    database.dispose()
    _drop_postgres(url)


def test_sqlite_keeps_nothing(db):
    if db.dialect == "sqlite":
        assert isinstance(db.credentials, NoCredentials)
    else:
        assert isinstance(db.credentials, CredentialWatch) and _until(db.credentials.listening)
    db.credentials.put("k", ("row",), db.credentials.generation())
    assert (db.credentials.get("k") is None) == (db.dialect == "sqlite")


def _token(db):
    actor = records.create_user(db, "kim.keeper", "a long test password", role="practitioner", team="North Team")
    return actor, records.create_token(db, actor, "tests")


def test_a_checked_token_is_kept_and_answered_without_a_read(pg):
    _, token = _token(pg)
    assert records.resolve_token_in_place(pg, token) is None  # not yet kept: the caller reads in a thread
    assert _until(pg.credentials.listening)
    assert records.resolve_token(pg, token).username == "kim.keeper"
    kept = records.resolve_token_in_place(pg, token)
    assert kept is not None and kept.username == "kim.keeper"
    with pytest.raises(AccessError):
        records.resolve_token(pg, "sdf_unknown")
    assert records.resolve_token_in_place(pg, "sdf_unknown") is None  # unknown tokens are never kept


def test_a_change_in_another_process_clears_what_is_kept(pg):
    """A second Database stands for another server process: its revocation reaches the first
    by notice, and the first refuses the token."""
    actor, token = _token(pg)
    assert _until(pg.credentials.listening)
    records.resolve_token(pg, token)
    assert records.resolve_token_in_place(pg, token) is not None
    other = Database(pg.settings)
    try:
        made = records.list_tokens(other, actor)
        records.revoke_token(other, actor, next(t["id"] for t in made if t["name"] == "tests"))
    finally:
        other.dispose()
    assert _until(lambda: records.resolve_token_in_place(pg, token) is None)
    with pytest.raises(AccessError):
        records.resolve_token(pg, token)


def test_the_process_that_makes_a_change_forgets_at_once(pg):
    actor, token = _token(pg)
    assert _until(pg.credentials.listening)
    records.resolve_token(pg, token)
    with pg.session() as s:
        s.get(User, actor.user_id).active = False
    assert records.resolve_token_in_place(pg, token) is None  # no waiting for the notice
    with pytest.raises(AccessError):
        records.resolve_token(pg, token)


def test_a_row_read_while_a_change_came_is_not_kept_and_nothing_is_kept_when_not_listening():
    watch = CredentialWatch(lambda: (_ for _ in ()).throw(OSError("no database")))
    try:
        assert watch.generation() is None  # not listening: nothing may be kept
        watch.put("k", ("row",), None)
        assert watch.get("k") is None
    finally:
        watch.stop()
    watch = CredentialWatch(lambda: None)
    watch._thread, watch._listening = object(), True  # as if listening, without a database
    generation = watch.generation()
    watch.changed()  # a notice while the row was being read
    watch.put("k", ("old row",), generation)
    assert watch.get("k") is None
    watch.put("k", ("new row",), watch.generation())
    assert watch.get("k") == ("new row",)

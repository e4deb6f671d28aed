"""Many requests at once: reads that wait for no writer, SQLite writers that take turns (within a
process and between processes) instead of sleeping on a busy database, and audit entries of
reads written together, each durable before its read is answered."""

from __future__ import annotations

import contextlib
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from sqlalchemy import event, func, select, text

from service.errors import AuditUnavailable
from service.settings import Settings
from service.store import Database, record, verify_audit
from service.store.models import AuditEntry

ROOT = Path(__file__).resolve().parents[2]


def _entries(db) -> int:
    with db.read() as c:
        return c.execute(select(func.count()).select_from(AuditEntry)).scalar_one()


def test_reads_do_not_wait_for_an_open_writer(db):
    writing, release = threading.Event(), threading.Event()

    def writer():
        with db.session() as s:
            record(s, db.sealer, user_id=1, username="tester", action="case.create", target="case:1")
            writing.set()
            release.wait(10)

    t = threading.Thread(target=writer)
    t.start()
    try:
        assert writing.wait(10)
        start = time.monotonic()
        with db.read() as c:
            assert c.execute(text("SELECT 1")).scalar_one() == 1
        with db.reading() as s:
            assert s.execute(select(func.count()).select_from(AuditEntry)).scalar_one() == 0  # not yet committed
        assert time.monotonic() - start < 2
    finally:
        release.set()
        t.join(10)
    assert _entries(db) == 1


def test_read_audit_entries_are_grouped_chained_and_durable_on_return(db):
    commits = []
    event.listen(db.engine, "commit", lambda conn: commits.append(1))

    def read(i):
        db.audit_read(user_id=1, username="tester", action="case.read", target=f"case:{i}")
        with db.read() as c:  # answered only once its entry is committed: a fresh connection sees it
            return c.execute(select(func.count()).select_from(AuditEntry)
                             .where(AuditEntry.target == f"case:{i}")).scalar_one()

    with ThreadPoolExecutor(32) as pool:
        seen = list(pool.map(read, range(400)))
    assert seen == [1] * 400
    assert _entries(db) == 400
    with db.session() as s:
        assert verify_audit(s, db.sealer).ok
    assert len(commits) < 400  # entries waiting together shared a commit


def test_a_read_whose_entry_cannot_be_written_is_refused(db, monkeypatch):
    def broken(*_a, **_k):
        raise OSError("disk gone")

    monkeypatch.setattr("service.store.audit.record", broken)
    with pytest.raises(AuditUnavailable) as refused:
        db.audit_read(user_id=1, username="tester", action="case.read", target="case:1")
    assert refused.value.code == "audit_unavailable"
    monkeypatch.undo()
    db.audit_read(user_id=1, username="tester", action="case.read", target="case:2")  # works again
    assert _entries(db) == 1


def test_a_read_entry_is_not_asked_for_inside_a_session(db):
    with db.session():
        with pytest.raises(RuntimeError):
            db.audit_read(user_id=1, username="tester", action="case.read", target="case:1")


WRITER = r"""
import sys
sys.path.insert(0, {root!r})
from service.settings import Settings
from service.store import Database, record
db = Database(Settings(database_url={url!r}))
for i in range({n}):
    with db.session() as s:
        record(s, db.sealer, user_id=1, username="p{who}", action="case.create", target=f"case:{who}-{{i}}")
db.dispose()
"""


def test_writers_in_several_processes_take_turns_and_keep_the_chain(tmp_path):
    """Four processes writing at once, SQLite's busy timeout cut to 0.2 s for them: without the
    turn lock beside the database they would fail with 'database is locked'."""
    url = f"sqlite:///{tmp_path}/turns.sqlite3"
    db = Database(Settings(database_url=url))
    db.migrate()
    db.engine.dispose()
    code = WRITER.replace("db = Database", "import sqlalchemy.event as ev\ndb = Database").replace(
        "for i in", "ev.listen(db.engine, 'connect', lambda c, r: c.execute('PRAGMA busy_timeout=200'))\nfor i in")
    procs = [subprocess.Popen([sys.executable, "-c", code.format(root=str(ROOT), url=url, n=150, who=w)],
                              stderr=subprocess.PIPE, text=True) for w in range(4)]
    errors = [p.communicate(timeout=120)[1] for p in procs]
    assert [p.returncode for p in procs] == [0] * 4, errors
    assert _entries(db) == 600
    with db.session() as s:
        assert verify_audit(s, db.sealer).ok
    db.dispose()


def _writes_together(db, works):
    """Run each of ``works`` through ``Database.write_together`` from its own thread, all at once."""
    start = threading.Barrier(len(works))

    def go(work):
        start.wait(10)
        try:
            return db.write_together(work)
        except Exception as exc:
            return exc

    with ThreadPoolExecutor(len(works)) as pool:
        return list(pool.map(go, works))


def test_small_writes_share_commits_and_a_failing_one_is_undone_alone(db):
    commits = []
    event.listen(db.engine, "commit", lambda conn: commits.append(1))

    def entry(i):
        def work(connection):
            record(connection, db.sealer, user_id=1, username="tester", action="submission.upload", target=f"x:{i}")
            if i % 10 == 3:
                raise ValueError(f"work {i} refused")
            return i
        return work

    results = _writes_together(db, [entry(i) for i in range(60)])
    failed = [r for r in results if isinstance(r, Exception)]
    assert [str(e) for e in failed] == [f"work {i} refused" for i in range(3, 60, 10)]  # each its own error
    assert sorted(r for r in results if not isinstance(r, Exception)) == [i for i in range(60) if i % 10 != 3]
    with db.read() as c:
        targets = set(c.execute(select(AuditEntry.target)).scalars())
    assert targets == {f"x:{i}" for i in range(60) if i % 10 != 3}  # the refused ones left nothing
    with db.session() as s:
        assert verify_audit(s, db.sealer).ok  # their entries were undone with them: the chain has no gap
    assert len(commits) < 60


def test_when_the_shared_commit_fails_every_write_in_it_fails_and_nothing_is_kept(db, monkeypatch):
    from service.store import commits as commits_module

    real = db.writing

    @contextlib.contextmanager
    def commit_fails(kept=None):
        with real(kept) as connection:
            yield connection
            raise OSError("the disk went away at commit")  # raised inside the transaction: rolled back

    monkeypatch.setattr(db, "writing", commit_fails)
    assert commits_module.GroupCommit.MOST > 1
    works = [lambda c, i=i: record(c, db.sealer, user_id=1, username="t", action="case.read", target=f"y:{i}")
             for i in range(8)]
    results = _writes_together(db, works)
    assert all(isinstance(r, OSError) for r in results)
    assert _entries(db) == 0
    monkeypatch.undo()
    db.write_together(works[0])  # and the next write goes through
    assert _entries(db) == 1


def test_a_write_together_is_not_asked_for_inside_a_session(db):
    with db.session():
        with pytest.raises(RuntimeError):
            db.write_together(lambda c: None)


def test_writes_awaited_on_an_event_loop_share_commits_with_threads_and_are_durable_when_answered(db):
    """``write_together_async``: callers on a loop wait there, not in a thread; each is answered
    only once its write is committed (a fresh connection sees it at that moment), a failing one
    alone gets its error, and one whose caller went away is still committed."""
    import asyncio

    commits = []
    event.listen(db.engine, "commit", lambda conn: commits.append(1))

    def entry(i):
        def work(connection):
            if i == 7:
                raise ValueError("work 7 refused")
            record(connection, db.sealer, user_id=1, username="t", action="case.read", target=f"z:{i}")
            return i
        return work

    def seen(target: str) -> bool:
        with db.read() as c:
            return c.execute(select(func.count()).select_from(AuditEntry).where(AuditEntry.target == target)).scalar() == 1

    async def one(i):
        try:
            answer = await db.write_together_async(entry(i))
        except ValueError as exc:
            return str(exc)
        assert seen(f"z:{i}")  # durable before it was answered
        return answer

    async def many():
        threads = [asyncio.to_thread(db.write_together, entry(100 + i)) for i in range(5)]  # threads among them
        leaving = asyncio.ensure_future(db.write_together_async(entry(50)))
        await asyncio.sleep(0)
        leaving.cancel()  # its caller goes away; the write, queued, still commits
        results = await asyncio.gather(*(one(i) for i in range(20)), *threads)
        with pytest.raises(asyncio.CancelledError):
            await leaving
        return results

    results = asyncio.run(many())
    assert results == [i if i != 7 else "work 7 refused" for i in range(20)] + [100 + i for i in range(5)]
    assert seen("z:50") and not seen("z:7")
    assert len(commits) < 26  # shared
    with db.session() as s:
        assert verify_audit(s, db.sealer).ok


def test_a_shared_commit_reads_the_chains_head_once_and_writes_it_once(db, monkeypatch):
    """In a batch the audit chain's head is read (and locked) at its first entry and written back
    once before the commit, however many entries it appends; the chain still verifies."""
    from service.store import audit, plain

    counted = {"read": 0, "moved": 0}
    first, execute = plain.first, plain.execute

    def counting_first(connection, statement, params=None):
        counted["read"] += statement is audit._HEAD
        return first(connection, statement, params)

    def counting_execute(connection, statement, params=None):
        counted["moved"] += statement is audit._MOVE or statement is audit._START
        return execute(connection, statement, params)

    monkeypatch.setattr(plain, "first", counting_first)
    monkeypatch.setattr(plain, "execute", counting_execute)
    commits = []
    event.listen(db.engine, "commit", lambda conn: commits.append(1))

    def two_entries(i):
        def work(connection):
            for k in range(2):
                record(connection, db.sealer, user_id=1, username="t", action="case.read", target=f"h:{i}:{k}")
            return i
        return work

    assert _writes_together(db, [two_entries(i) for i in range(40)]) == list(range(40))
    assert counted["read"] == counted["moved"] == len(commits) < 40
    assert _entries(db) == 80
    with db.session() as s:
        assert verify_audit(s, db.sealer).ok


def test_the_group_commit_keeps_its_connection_while_busy_and_takes_a_checked_one_after_a_pause(db, monkeypatch):
    from service.store import commits as commits_module

    work = lambda c: record(c, db.sealer, user_id=1, username="t", action="case.read", target="k")  # noqa: E731
    db.write_together(work)
    kept = db.commits._kept
    db.write_together(work)
    assert db.commits._kept is kept  # batches close together: the same connection, no checkout
    monkeypatch.setattr(commits_module.GroupCommit, "KEEP_SECONDS", 0.0)
    db.write_together(work)
    assert db.commits._kept is not kept and kept.closed  # after a pause: given back, another taken
    kept = db.commits._kept
    kept.invalidate()  # it broke (the database restarted, say)
    db.write_together(work)
    assert db.commits._kept is not kept and _entries(db) == 4

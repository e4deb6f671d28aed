"""Storage: the audit log is append-only and tamper-evident, stored child data can be sealed at
rest, migrations run on an empty database, a failed unit of work leaves nothing behind."""

from __future__ import annotations

import pytest
from sqlalchemy import select, text

from service import records
from service.errors import StepDownError
from service.settings import Settings
from service.store import Database, record, verify_audit
from service.store.models import AuditEntry, Case
from service.store.seal import SealError, Sealer, new_key


def _log(db, n=3):
    with db.session() as s:
        for i in range(n):
            record(s, db.sealer, user_id=1, username="tester", action="case.read", target=f"case:{i}")


def test_the_chain_verifies(db):
    _log(db, 5)
    with db.session() as s:
        check = verify_audit(s, db.sealer)
    assert check.ok and check.entries == 5


def test_the_database_refuses_to_change_or_delete_entries(db):
    _log(db)
    for statement in ("UPDATE audit_log SET outcome = 'ok' WHERE seq = 2", "DELETE FROM audit_log WHERE seq = 2"):
        with pytest.raises(Exception, match="append-only"):
            with db.session() as s:
                s.execute(text(statement))
    with db.session() as s:
        assert verify_audit(s, db.sealer).ok


def _drop_guards(db) -> None:
    with db.engine.begin() as conn:
        if db.dialect == "postgresql":
            conn.execute(text("ALTER TABLE audit_log DISABLE TRIGGER audit_append_only"))
        else:
            conn.execute(text("DROP TRIGGER audit_no_update"))
            conn.execute(text("DROP TRIGGER audit_no_delete"))


def test_an_edited_entry_is_found(db):
    _log(db, 4)
    _drop_guards(db)  # someone with full database access goes around the triggers
    with db.engine.begin() as conn:
        conn.execute(text("UPDATE audit_log SET target = 'case:other' WHERE seq = 3"))
    with db.session() as s:
        check = verify_audit(s, db.sealer)
    assert not check.ok and check.first_bad == 3 and "changed" in check.problem


def test_a_removed_entry_is_found(db):
    _log(db, 4)
    _drop_guards(db)
    with db.engine.begin() as conn:
        conn.execute(text("DELETE FROM audit_log WHERE seq = 2"))
    with db.session() as s:
        check = verify_audit(s, db.sealer)
    assert not check.ok and check.first_bad == 2


def test_removing_the_newest_entries_is_found(db):
    _log(db, 4)
    _drop_guards(db)
    with db.engine.begin() as conn:
        conn.execute(text("DELETE FROM audit_log WHERE seq = 4"))
    with db.session() as s:
        assert not verify_audit(s, db.sealer).ok


def test_removing_the_newest_entries_and_rewinding_the_head_is_found_by_a_checkpoint(db, tmp_path):
    """Without a checkpoint, a chain cut short with its head rewound looks whole; the signed
    checkpoint published outside the database shows what was removed."""
    from service.store import read_checkpoints, write_checkpoint

    _log(db, 4)
    with db.session() as s:
        write_checkpoint(s, db.sealer, tmp_path)
    _drop_guards(db)
    with db.engine.begin() as conn:
        third = conn.execute(text("SELECT hash FROM audit_log WHERE seq = 3")).scalar_one()
        conn.execute(text("DELETE FROM audit_log WHERE seq = 4"))
        conn.execute(text("UPDATE audit_head SET seq = 3, hash = :h WHERE id = 1"), {"h": third})
    with db.session() as s:
        assert verify_audit(s, db.sealer).ok  # the database alone cannot tell
        check = verify_audit(s, db.sealer, read_checkpoints(tmp_path))
    assert not check.ok and check.first_bad == 4 and "removed" in check.problem


def test_an_altered_checkpoint_is_found(db, tmp_path):
    import json

    from service.store import read_checkpoints, write_checkpoint

    _log(db, 2)
    with db.session() as s:
        write_checkpoint(s, db.sealer, tmp_path)
    path = tmp_path / "audit-checkpoints.jsonl"
    point = json.loads(path.read_text())
    path.write_text(json.dumps({**point, "seq": 1}) + "\n")  # moved back to hide later entries
    with db.session() as s:
        check = verify_audit(s, db.sealer, read_checkpoints(tmp_path))
    assert not check.ok and "altered" in check.problem


def test_a_failed_unit_of_work_leaves_nothing(db):
    with pytest.raises(RuntimeError):
        with db.session() as s:
            record(s, db.sealer, user_id=1, username="t", action="case.create")
            raise RuntimeError("the action failed after logging")
    with db.session() as s:
        assert s.scalars(select(AuditEntry)).all() == []
        assert verify_audit(s, db.sealer).ok


def test_sealed_case_values_are_not_in_the_database_in_clear(database_url):
    key = new_key()
    db = Database(Settings(database_url=database_url, data_key=key))
    db.migrate()
    actor = records.create_user(db, "kim.sealed", "a long test password", role="practitioner", team="T")
    case = records.create_case(db, actor, {"su_number": "SU-EX-77", "child_name": "Distinctive Canaryname"})
    with db.engine.connect() as conn:
        stored = conn.execute(text("SELECT \"values\" FROM cases")).scalar_one()
        history = " ".join(conn.execute(text("SELECT change FROM case_changes")).scalars())
    assert "Canaryname" not in stored and "Canaryname" not in history and stored.startswith("f:")
    assert records.get_case(db, actor, case["id"])["values"]["child_name"] == "Distinctive Canaryname"
    # without the key, or with another, the data is refused rather than shown wrong
    for other in (None, new_key()):
        db2 = Database(Settings(database_url=database_url, data_key=other))
        with pytest.raises(SealError):
            records.get_case(db2, actor, case["id"])
        db2.dispose()
    db.dispose()


def test_a_keyed_chain_cannot_be_rebuilt_without_the_key(database_url):
    db = Database(Settings(database_url=database_url, data_key=new_key()))
    db.migrate()
    _log(db, 2)
    with db.session() as s:
        assert verify_audit(s, db.sealer).ok
        assert not verify_audit(s, Sealer(None)).ok  # a plain SHA-256 chain does not match the HMAC chain
    db.dispose()


@pytest.mark.parametrize("key", [None, new_key()])
def test_sealed_values_read_back_as_the_standard_library_reads_them(key):
    """orjson writes what it can; what it refuses (a key that is not text, an integer beyond 64
    bits) the standard library writes; and values sealed before (by the standard library) read
    back the same."""
    import json

    sealer = Sealer(key)
    for value in [{"name": "Ŵyn \u2013 ☃", "n": [1.5, 1e16, None, True, 0, -3]}, {1: "a key that is a number"},
                  {"big": 2 ** 70}, "just text", []]:
        expected = json.loads(json.dumps(value, ensure_ascii=False))
        assert sealer.loads(sealer.dumps(value)) == expected
    if key is None:  # a value written by the standard library before orjson: read the same
        older = "j:" + json.dumps({"x": "Ŵyn", "y": [1, 2.5]}, ensure_ascii=False, separators=(",", ":"))
        assert sealer.loads(older) == {"x": "Ŵyn", "y": [1, 2.5]}
        assert sealer.dumps({"x": "Ŵyn", "y": [1, 2.5]}) == older  # and the same text is written


def test_a_bad_key_is_a_clear_error():
    with pytest.raises(StepDownError, match="STEPDOWN_DATA_KEY"):
        Sealer("not a key")


def test_migrations_bring_an_empty_database_to_the_models(db):
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from service.store.models import Base

    with db.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert diff == []
    db.migrate()  # running again changes nothing
    with db.session() as s:
        assert s.scalars(select(Case)).all() == []


def test_sqlite_runs_in_wal_with_full_sync(tmp_path):
    db = Database(Settings(database_url=f"sqlite:///{tmp_path}/x.sqlite3"))
    with db.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 2  # FULL
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    db.dispose()

"""Backups and the restore drill, on SQLite and PostgreSQL: a backup taken while the service
holds data restores to the same rows, files and audit chain; a damaged backup, a backup
restored over existing data is refused or reported."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import text

from service import records
from service.errors import RecordInvalid
from service.settings import Settings
from service.store import Database
from service.store.backup import backup, drill, restore
from service.store.seal import new_key
from tests.databases import _drop_postgres, _postgres_url


@pytest.fixture
def live(database_url, tmp_path):
    """A service's database and folders with a user, cases, a finished batch ZIP and a checkpoint."""
    settings = Settings(database_url=database_url, data_dir=str(tmp_path / "data"), data_key=new_key())
    db = Database(settings)
    db.migrate()
    actor = records.create_user(db, "sam.worker", "a long test password", role="practitioner", team="North Team")
    for n in range(3):
        records.create_case(db, actor, {"su_number": f"SU-EX-90{n}", "child_name": f"Drill{n} Example"})
    (tmp_path / "data" / "jobs").mkdir(parents=True)
    (tmp_path / "data" / "jobs" / "0f0e0d0c-0000-4000-8000-000000000001.zip").write_bytes(b"PK\x05\x06" + b"\0" * 18)
    records.publish_checkpoint(db)
    yield db
    db.dispose()


def _scratch_url(db: Database):
    return None if db.dialect == "sqlite" else _postgres_url()


def test_a_backup_restores_to_the_same_rows_files_and_audit_chain(live, tmp_path):
    manifest = backup(live.settings, tmp_path / "backup")
    assert manifest["tables"]["cases"] == 3 and manifest["tables"]["users"] == 1
    assert "files/jobs/0f0e0d0c-0000-4000-8000-000000000001.zip" in manifest["files"]
    url = _scratch_url(live)
    try:
        result = drill(tmp_path / "backup", tmp_path / "scratch", database_url=url, data_key=live.settings.data_key)
    finally:
        if url:
            _drop_postgres(url)
    assert result.ok, result.checks
    names = [what for what, _, _ in result.checks]
    assert "rows in cases" in names and "rows in audit_log" in names
    assert "audit chain whole and holding every checkpoint" in names


def test_a_damaged_backup_fails_the_drill_and_is_never_restored(live, tmp_path):
    backup(live.settings, tmp_path / "backup")
    zipped = next((tmp_path / "backup" / "files" / "jobs").glob("*.zip"))
    zipped.write_bytes(zipped.read_bytes() + b"x")
    result = drill(tmp_path / "backup", tmp_path / "scratch")
    assert not result.ok and result.checks[0][0] == "backup files match the manifest"
    with pytest.raises(RecordInvalid, match="damaged"):
        restore(tmp_path / "backup", Settings(database_url=f"sqlite:///{tmp_path}/new.sqlite3",
                                              data_dir=str(tmp_path / "new")))
    assert not (tmp_path / "new.sqlite3").exists()


def test_a_restore_never_overwrites_data_already_there(live, tmp_path):
    backup(live.settings, tmp_path / "backup")
    with pytest.raises(RecordInvalid, match="new"):
        restore(tmp_path / "backup", live.settings)


def test_the_restore_drill_command_says_each_check(live, tmp_path, monkeypatch):
    if live.dialect != "sqlite":
        pytest.skip("the command-line drill is shown on SQLite; PostgreSQL's is the test above")
    from click.testing import CliRunner

    from service.cli import cli

    env = {"DATABASE_URL": live.settings.database_url, "STEPDOWN_DATA_DIR": live.settings.data_dir,
           "STEPDOWN_DATA_KEY": live.settings.data_key}
    runner = CliRunner()
    made = runner.invoke(cli, ["backup", str(tmp_path / "b")], env=env)
    assert made.exit_code == 0, made.output
    checked = runner.invoke(cli, ["restore-drill", str(tmp_path / "b")], env=env, standalone_mode=False)
    assert checked.return_value == 0, checked.output
    assert "restore drill passed" in checked.output and "ok   rows in cases: 3 of 3" in checked.output
    with live.engine.connect() as c:
        assert c.execute(text("SELECT count(*) FROM cases")).scalar_one() == 3  # the live database untouched
    assert Path(tmp_path / "b" / "manifest.json").is_file()


def test_a_backup_whose_audit_chain_was_cut_short_fails_the_drill(live, tmp_path):
    """Someone with the database's password removes the newest audit entries (past the trigger
    that refuses it) and rewinds the head to match, so the chain alone looks whole; the backup
    taken afterwards is consistent with its manifest. Only the published checkpoint still knows
    how long the chain was, and the drill says which entries went."""
    with live.engine.begin() as c:
        last = c.execute(text("SELECT max(seq) FROM audit_log")).scalar_one()
        assert last >= 3
        if live.dialect == "sqlite":
            c.execute(text("DROP TRIGGER audit_no_delete"))
        else:
            c.execute(text("ALTER TABLE audit_log DISABLE TRIGGER audit_append_only"))
        c.execute(text("DELETE FROM audit_log WHERE seq > :keep"), {"keep": last - 2})
        kept = c.execute(text("SELECT hash FROM audit_log WHERE seq = :keep"), {"keep": last - 2}).scalar_one()
        c.execute(text("UPDATE audit_head SET seq = :keep, hash = :hash WHERE id = 1"), {"keep": last - 2, "hash": kept})
    manifest = backup(live.settings, tmp_path / "backup")
    assert manifest["tables"]["audit_log"] == last - 2
    url = _scratch_url(live)
    try:
        result = drill(tmp_path / "backup", tmp_path / "scratch", database_url=url, data_key=live.settings.data_key)
    finally:
        if url:
            _drop_postgres(url)
    checks = {what: (ok, detail) for what, ok, detail in result.checks}
    assert checks["backup files match the manifest"][0] and checks["rows in audit_log"][0]
    ok, detail = checks["audit chain whole and holding every checkpoint"]
    assert not ok and not result.ok
    assert f"entries {last - 1} to {last} were removed" in detail, detail

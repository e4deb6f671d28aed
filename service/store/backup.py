"""Backups of the database and the files, restores, and a drill that proves a backup restores.

A backup is a folder:

    manifest.json        what it holds: rows per table, every file's SHA-256 and size, the
                         audit chain's head; written last, so a backup without one is unfinished
    database.sqlite3     SQLite's online backup (a consistent copy while the service runs), or
    database.dump        pg_dump's custom format, taken in the same snapshot as the counts
    files/jobs/*.zip     the finished batch ZIPs of the file store (parts being built are not kept)
    data/audit-checkpoints.jsonl   the audit chain's published checkpoints

The encryption key (STEPDOWN_DATA_KEY) is never in a backup: keep it apart (docs/deploy.md).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from sqlalchemy import create_engine, inspect, text

from ..errors import InstallationError, RecordInvalid
from ..settings import Settings
from .audit import CHECKPOINTS, read_checkpoints, verify_audit
from .db import Database

MANIFEST = "manifest.json"
FORMAT = 1


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _libpq(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


def _tables(connection) -> list[str]:
    return sorted(t for t in inspect(connection).get_table_names() if t != "alembic_version")


def _counts(connection) -> dict[str, int]:
    return {t: connection.execute(text(f'SELECT count(*) FROM "{t}"')).scalar_one() for t in _tables(connection)}


def _tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise InstallationError(f"{name} is needed for PostgreSQL backups (Debian: postgresql-client)")
    return found


# -- backing up -------------------------------------------------------------------------------

def backup(settings: Settings, out: str | Path) -> dict:
    """Back up the database and files of ``settings`` into the new folder ``out``; returns the
    manifest."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=False)
    source = settings.sqlite_path()
    if source is not None:
        with sqlite3.connect(source) as live, sqlite3.connect(out / "database.sqlite3") as copy:
            live.backup(copy)
        engine = create_engine(f"sqlite:///{out / 'database.sqlite3'}")
        with engine.connect() as c:
            counts = _counts(c)
        engine.dispose()
    else:
        counts = _pg_dump(settings.database_url, out / "database.dump")
    files = {}
    store = Path(settings.file_store) / "jobs"
    for path in sorted(store.glob("*.zip")) if store.is_dir() else []:
        files[f"files/jobs/{path.name}"] = path
    checkpoints = Path(settings.data_dir) / CHECKPOINTS
    if checkpoints.is_file():
        files[f"data/{CHECKPOINTS}"] = checkpoints
    listed = {}
    for name, path in files.items():
        target = out / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, target)
        listed[name] = {"sha256": _sha256(target), "bytes": target.stat().st_size}
    database = "database.sqlite3" if source is not None else "database.dump"
    listed[database] = {"sha256": _sha256(out / database), "bytes": (out / database).stat().st_size}
    manifest = {"format": FORMAT, "made": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                "dialect": "sqlite" if source is not None else "postgresql", "database": database,
                "tables": counts, "files": listed}
    tmp = out / f".{MANIFEST}.partial"
    tmp.write_text(json.dumps(manifest, indent=2), encoding="utf-8")
    os.replace(tmp, out / MANIFEST)
    return manifest


def _pg_dump(url: str, target: Path) -> dict[str, int]:
    """pg_dump in the very snapshot the rows are counted in."""
    engine = create_engine(url)
    try:
        with engine.connect() as c:
            c.exec_driver_sql("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
            snapshot = c.exec_driver_sql("SELECT pg_export_snapshot()").scalar_one()
            counts = _counts(c)
            done = subprocess.run([_tool("pg_dump"), "--format=custom", "--no-owner", "--no-privileges",
                                   f"--snapshot={snapshot}", "--file", str(target), _libpq(url)],
                                  capture_output=True, text=True, timeout=3600)
            c.exec_driver_sql("COMMIT")
    finally:
        engine.dispose()
    if done.returncode != 0:
        raise InstallationError(f"pg_dump failed: {done.stderr.strip()[:300]}")
    return counts


# -- restoring --------------------------------------------------------------------------------

def read_manifest(folder: str | Path) -> dict:
    path = Path(folder) / MANIFEST
    if not path.is_file():
        raise RecordInvalid(f"{folder} is not a finished backup (it has no {MANIFEST})")
    manifest = json.loads(path.read_text(encoding="utf-8"))
    if manifest.get("format") != FORMAT:
        raise RecordInvalid(f"{folder} is a backup of another format ({manifest.get('format')!r})")
    return manifest


def damaged_files(folder: str | Path, manifest: dict) -> list[str]:
    """The backup's files that are missing or differ from its manifest."""
    bad = []
    for name, want in manifest["files"].items():
        path = Path(folder) / name
        if not path.is_file() or path.stat().st_size != want["bytes"] or _sha256(path) != want["sha256"]:
            bad.append(name)
    return bad


def restore(folder: str | Path, settings: Settings) -> dict:
    """Restore a backup into the database and folders of ``settings``, which must be empty (a
    restore never mixes with, or overwrites, data already there). Returns the manifest."""
    folder = Path(folder)
    manifest = read_manifest(folder)
    bad = damaged_files(folder, manifest)
    if bad:
        raise RecordInvalid(f"the backup is damaged: {len(bad)} files differ from its manifest (first: {bad[0]})")
    target = settings.sqlite_path()
    if (target is not None) != (manifest["dialect"] == "sqlite"):
        raise RecordInvalid(f"this is a {manifest['dialect']} backup; restore it into a {manifest['dialect']} database")
    if target is not None:
        if target.exists() and target.stat().st_size > 0:
            raise RecordInvalid(f"{target} already exists: restore into a new database")
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(folder / manifest["database"], target)
    else:
        engine = create_engine(settings.database_url)
        with engine.connect() as c:
            present = _tables(c)
        engine.dispose()
        if present:
            raise RecordInvalid("the target PostgreSQL database is not empty: restore into a new one")
        done = subprocess.run([_tool("pg_restore"), "--no-owner", "--no-privileges", "--exit-on-error",
                               "--dbname", _libpq(settings.database_url), str(folder / manifest["database"])],
                              capture_output=True, text=True, timeout=3600)
        if done.returncode != 0:
            raise InstallationError(f"pg_restore failed: {done.stderr.strip()[:300]}")
    for name in manifest["files"]:
        if name.startswith("files/"):
            destination = Path(settings.file_store) / name.removeprefix("files/")
        elif name.startswith("data/"):
            destination = Path(settings.data_dir) / name.removeprefix("data/")
        else:
            continue
        if destination.exists():
            raise RecordInvalid(f"{destination} already exists: restore into empty folders")
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(folder / name, destination)
    return manifest


# -- the drill --------------------------------------------------------------------------------

@dataclass
class Drill:
    checks: list[tuple[str, bool, str]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return bool(self.checks) and all(ok for _, ok, _ in self.checks)

    def check(self, what: str, ok: bool, detail: str = "") -> None:
        self.checks.append((what, ok, detail))


def drill(folder: str | Path, scratch: str | Path, *, database_url: str | None = None,
          data_key: str | None = None) -> Drill:
    """Restore the backup into ``scratch`` (a new folder; and ``database_url``, an empty
    PostgreSQL database, for a PostgreSQL backup), then check it: every table has the rows the
    manifest counted, every file its hash, the audit chain is whole and holds every checkpoint."""
    scratch = Path(scratch)
    result = Drill()
    manifest = read_manifest(folder)
    bad = damaged_files(folder, manifest)
    result.check("backup files match the manifest", not bad, f"{len(bad)} differ" if bad else
                 f"{len(manifest['files'])} files")
    if bad:
        return result
    url = database_url or f"sqlite:///{scratch / 'restored.sqlite3'}"
    settings = Settings(database_url=url, data_dir=str(scratch / "data"), files_dir=str(scratch / "files"),
                        data_key=data_key)
    restore(folder, settings)
    db = Database(settings)
    try:
        with db.engine.connect() as c:
            counts = _counts(c)
        for table, want in manifest["tables"].items():
            result.check(f"rows in {table}", counts.get(table) == want, f"{counts.get(table)} of {want}")
        for name, want in manifest["files"].items():
            if name.startswith("files/"):
                path = Path(settings.file_store) / name.removeprefix("files/")
                result.check(f"restored {name}", path.is_file() and _sha256(path) == want["sha256"])
        with db.reading() as s:
            audit = verify_audit(s, db.sealer, read_checkpoints(settings.data_dir))
        result.check("audit chain whole and holding every checkpoint", audit.ok,
                     f"{audit.entries} entries" if audit.ok else audit.problem)
    finally:
        db.dispose()
    return result

"""Batch jobs through the API: start from a spreadsheet, follow progress, download the ZIP;
cancel; bad input refused before queueing; another team's job invisible; a job a crash left
running carries on at the next start (to the same bytes) and is never served half-built."""

from __future__ import annotations

import io
import json
import time
import zipfile
from datetime import datetime, timezone

from sqlalchemy import select

import service
from service.records.jobs import job_file
from service.settings import Settings
from service.store import Database
from service.store.models import Job, JobPart
from tests.conftest import REGISTRY
from tests.packs.test_packs import PACKS, _csv, _row
from tests.web.conftest import make_world
from tests.web.test_api import _error


def _start(world, who, pack_id, raw: bytes | None, name="meetings.csv"):
    files = {"file": (name, raw)} if raw is not None else None
    return world.post(who, f"/api/packs/{pack_id}/jobs", files=files)


def _finish(world, who, job_id, timeout=120) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = world.get(who, f"/api/jobs/{job_id}").json()
        if job["status"] not in ("queued", "running"):
            return job
        time.sleep(0.1)
    raise AssertionError("the job did not finish")


def test_packs_and_templates_are_listed(world):
    packs = world.get("worker", "/api/packs").json()
    assert {p["id"] for p in packs} == set(PACKS.ids())
    r = world.get("worker", "/api/packs/matching/template.xlsx")
    assert r.status_code == 200 and r.content.startswith(b"PK")
    _error(world.get("worker", "/api/packs/nope/template.xlsx"), 404, "pack_unknown")


def test_a_batch_job_runs_to_a_download_with_case_values(world):
    world.post("worker", "/api/cases", json={"values": {"su_number": "SU-EX-7001", "child_name": "Rowan1 Example",
                                                         "date_of_birth": "2013-06-01", "iro_name": "Case Iro"}})
    pack = PACKS.get("matching")
    r = _start(world, "worker", "matching", _csv([_row(1, iro_name=""), _row(2), _row(3, meeting_date="soon")], pack))
    assert r.status_code == 202, r.text
    job = _finish(world, "worker", r.json()["id"])
    assert job["status"] == "done" and job["download"]
    assert (job["summary"]["rows"], job["summary"]["built"]) == (3, 2)
    assert job["summary"]["problems"][0]["row"] == 4
    z = world.get("worker", f"/api/jobs/{job['id']}/download")
    assert z.status_code == 200 and z.headers["content-type"] == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(z.content))
    manifest = json.loads(archive.read("manifest.json"))
    assert [f["folder"] for f in manifest["folders"]] == ["2026-12-02_SU-EX-7001", "2026-12-02_SU-EX-7002"]
    kc = archive.read("2026-12-02_SU-EX-7001/01-key-criteria.pdf")
    # the team's case filled what the row left out
    assert service.extract_document(kc, REGISTRY).data["child_name"] == "Rowan1 Example"
    listed = world.get("worker", "/api/jobs").json()
    assert [j["id"] for j in listed] == [job["id"]]


def test_unreadable_input_is_refused_before_queueing(world):
    _error(_start(world, "worker", "matching", b"Child's name\nA\n"), 422, "data_unusable")
    _error(_start(world, "worker", "matching", None), 422, "input_missing")
    assert world.get("worker", "/api/jobs").json() == []


def test_a_batch_spreadsheet_is_read_under_the_same_per_person_limit_as_uploads(world, monkeypatch):
    """Reading a batch's spreadsheet takes one of the person's parser slots, like an upload, so
    spreadsheets cannot be used to hold every parser either."""
    from service.records import reading

    monkeypatch.setattr(reading, "WAIT_FOR_SLOT", 0.05)
    raw = _csv([_row(1)], PACKS.get("matching"))
    with reading.reading_slot(world.actors["worker"].user_id, world.db.settings.parse_concurrency):
        _error(_start(world, "worker", "matching", raw), 429, "busy")
        assert _start(world, "manager", "matching", raw).status_code == 202
    assert len(world.get("worker", "/api/jobs").json()) == 1  # the team's: the manager's job only


def test_another_teams_job_is_invisible(world):
    pack = PACKS.get("matching")
    job = _start(world, "worker", "matching", _csv([_row(1)], pack)).json()
    _finish(world, "worker", job["id"])
    for url in (f"/api/jobs/{job['id']}", f"/api/jobs/{job['id']}/download"):
        _error(world.get("south", url), 404, "not_found")
    _error(world.post("south", f"/api/jobs/{job['id']}/cancel"), 404, "not_found")
    assert world.get("south", "/api/jobs").json() == []


def test_cancelling_a_running_job(database_url):
    world = make_world(database_url, job_workers=1)
    with world.client:
        pack = PACKS.get("placement-stability-meeting")
        job = _start(world, "worker", pack.id, _csv([_row(i) for i in range(1, 40)], pack)).json()
        deadline = time.monotonic() + 60
        while world.get("worker", f"/api/jobs/{job['id']}").json()["done"] < 1 and time.monotonic() < deadline:
            time.sleep(0.05)
        r = world.post("worker", f"/api/jobs/{job['id']}/cancel")
        assert r.status_code == 200
        done = _finish(world, "worker", job["id"])
        assert done["status"] == "cancelled" and not done["download"]
        _error(world.get("worker", f"/api/jobs/{job['id']}/download"), 409, "job_not_ready")
        assert not job_file(world.db, job["id"]).exists()
        assert [p for p in job_file(world.db, job["id"]).parent.iterdir()] == []
        _error(world.post("worker", f"/api/jobs/{job['id']}/cancel"), 409, "job_finished")
    world.app.state.jobs.stop()
    world.db.dispose()


def test_a_batch_a_crash_interrupted_carries_on_at_the_next_start_to_the_same_zip(database_url, tmp_path):
    world = make_world(database_url, data_dir=str(tmp_path))
    with world.client:
        pack = PACKS.get("matching")
        job = _start(world, "worker", "matching", _csv([_row(i) for i in range(1, 6)], pack)).json()
        _finish(world, "worker", job["id"])
        first = world.get("worker", f"/api/jobs/{job['id']}/download").content
    world.app.state.jobs.stop()
    # as if the process died half-way: the job running, a part being built, no ZIP, a partial file
    with world.db.session() as s:
        s.get(Job, job["id"]).status = "running"
        part = s.scalar(select(JobPart).where(JobPart.job_id == job["id"], JobPart.number == 2))
        part.status, part.heartbeat = "running", datetime.now(timezone.utc)
    job_file(world.db, job["id"]).unlink()
    (tmp_path / "jobs" / f".{job['id']}.zip.1.2.partial").write_bytes(b"half a zip")
    # and one from before batches had parts, which cannot carry on
    with world.db.session() as s:
        old = Job(id="0" * 8 + "-0000-0000-0000-" + "0" * 12, team_id=world.actors["worker"].team_id,
                  user_id=world.actors["worker"].user_id, pack="matching", status="running", total=3, done=1,
                  cancel_requested=False, created_at=datetime.now(timezone.utc), parts=0, problems=None)
        s.add(old)
    world.db.dispose()

    again = make_world_again(database_url, tmp_path)
    with again.client:
        assert not (tmp_path / "jobs" / f".{job['id']}.zip.1.2.partial").exists()
        done = _finish(again, "worker", job["id"])
        assert done["status"] == "done"
        assert again.get("worker", f"/api/jobs/{job['id']}/download").content == first  # built again, same bytes
        stale = again.get("worker", f"/api/jobs/{old.id}").json()
        assert stale["status"] == "failed" and "stopped" in stale["error"]
    again.app.state.jobs.stop()
    again.db.dispose()


def make_world_again(database_url, data_dir):
    """The same database and files, a new application (a restart), with the same users' tokens."""
    from fastapi.testclient import TestClient

    from service import records
    from service.web import create_app
    from tests.web.conftest import PASSWORD, World

    app = create_app(Settings(database_url=database_url, data_dir=str(data_dir), job_workers=0), registry=REGISTRY)
    actor = records.authenticate(app.state.db, "sam.worker", PASSWORD)
    return World(app, TestClient(app), {"worker": records.create_token(app.state.db, actor, "again")}, {"worker": actor})

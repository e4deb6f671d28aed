"""Batches with the real parts: redis-server, two ``stepdown-forms worker`` processes, the web
service, one database (SQLite, then PostgreSQL) and file store. A batch is built on both
workers and downloaded whole; it survives a worker killed outright, Redis restarted empty, and
the web process killed and started again, with every meeting in the ZIP exactly once;
cancelling stops it; and the embedded engine (no broker) carries a batch on across a restart
of the web process too."""

from __future__ import annotations

import io
import json
import os
import signal
import socket
import zipfile

import pytest
from sqlalchemy import create_engine, select

from service.store.models import JobPart
from tests.jobs.cluster import PASSWORD, Cluster, Redis
from tests.packs.test_crash import _left_after
from tests.packs.test_packs import PACKS, _csv, _row
from tests.web.test_processes import _tree

PACK = PACKS.get("placement-stability-meeting")
ROWS = 40  # 20 parts of two meetings: several seconds of work on two workers


@pytest.fixture(scope="module")
def redis(tmp_path_factory):
    server = Redis(tmp_path_factory.mktemp("redis")).start()
    yield server
    server.stop()


@pytest.fixture
def cluster(tmp_path, redis, database_url):
    """Two workers and a web process on one database: SQLite (as on one machine) and PostgreSQL
    (as across machines)."""
    c = Cluster(tmp_path, database_url, redis.url)
    c.user()
    c.start_worker("one")
    c.start_worker("two")
    c.start_web()
    yield c
    c.stop()


def _batch(c: Cluster, rows: int = ROWS) -> str:
    return c.start_batch(PACK.id, _csv([_row(i) for i in range(1, rows + 1)], PACK))


def _whole(c: Cluster, job_id: str, rows: int = ROWS) -> dict:
    """The downloaded ZIP holds every meeting exactly once, each file as the manifest says."""
    status, raw = c.request("GET", f"/api/jobs/{job_id}/download")
    assert status == 200
    archive = zipfile.ZipFile(io.BytesIO(raw))
    manifest = json.loads(archive.read("manifest.json"))
    assert sorted(f["row"] for f in manifest["folders"]) == list(range(2, rows + 2))
    assert len({f["folder"] for f in manifest["folders"]}) == rows
    names = archive.namelist()
    assert len(names) == len(set(names))
    for folder in manifest["folders"]:
        for f in folder["files"]:
            assert len(archive.read(f["name"])) == f["bytes"]
    return manifest


def _parts(c: Cluster, job_id: str) -> list[JobPart]:
    engine = create_engine(c.env["DATABASE_URL"])
    try:
        with engine.connect() as conn:
            return list(conn.execute(select(JobPart).where(JobPart.job_id == job_id).order_by(JobPart.number)))
    finally:
        engine.dispose()


def _started(c: Cluster, job_id: str) -> dict:
    return c.wait(job_id, until=lambda j: j["done"] >= 4 or j["status"] not in ("queued", "running"))


def test_a_batch_is_built_on_both_workers_and_downloaded_whole(cluster):
    job_id = _batch(cluster)
    job = cluster.wait(job_id)
    assert job["status"] == "done" and job["done"] == ROWS
    _whole(cluster, job_id)
    builders = {p.worker for p in _parts(cluster, job_id)}
    assert len(builders) == 2, builders  # each worker built some
    assert not (cluster.tmp / "files" / "jobs" / job_id).exists()  # parts gone once assembled


def test_a_batch_started_from_the_web_page_is_built_by_the_workers(cluster):
    """As a person does it: logged in with a password, the spreadsheet sent from the packs page,
    the progress page followed, the ZIP downloaded; the parts built by the worker processes."""
    import re

    import httpx

    def csrf(html: str) -> str:
        return re.search(r'name="csrf" value="([^"]+)"', html).group(1)

    with httpx.Client(base_url=f"http://127.0.0.1:{cluster.port}", timeout=30) as browser:
        page = browser.get("/login")
        r = browser.post("/login", data={"username": "sam.worker", "password": PASSWORD, "csrf": csrf(page.text)})
        assert r.status_code == 303
        packs = browser.get("/packs")
        r = browser.post(f"/packs/{PACK.id}/jobs", data={"csrf": csrf(packs.text)},
                         files={"file": ("week.csv", _csv([_row(i) for i in range(1, 21)], PACK))})
        assert r.status_code == 303 and r.headers["location"].startswith("/jobs/")
        job_id = r.headers["location"].rsplit("/", 1)[1]
        job = cluster.wait(job_id)
        assert job["status"] == "done" and job["done"] == 20
        assert "Download the ZIP" in browser.get(f"/jobs/{job_id}").text
        download = browser.get(f"/jobs/{job_id}/download")
        assert download.status_code == 200 and download.content.startswith(b"PK")
    _whole(cluster, job_id, rows=20)
    assert {p.worker for p in _parts(cluster, job_id)} <= {w for w in _worker_names(cluster)}


def _worker_names(c: Cluster) -> set[str]:
    """The names the worker processes record on the parts they build (host:pid)."""
    host = socket.gethostname()
    return {f"{host}:{child}" for proc in c.workers.values() for child in [proc.pid, *_tree(proc.pid)]}


def test_a_worker_killed_mid_batch_leaves_nothing_behind_and_the_batch_completes(cluster):
    job_id = _batch(cluster)
    assert _started(cluster, job_id)["status"] == "running"
    victim = cluster.workers["one"]
    family = [victim.pid, *_tree(victim.pid)]
    os.kill(victim.pid, signal.SIGKILL)
    victim.wait(10)
    assert _left_after(family, 10) == []  # its pool processes went with it
    job = cluster.wait(job_id)
    assert job["status"] == "done" and job["done"] == ROWS
    _whole(cluster, job_id)
    assert all(p.status == "done" for p in _parts(cluster, job_id))


def test_redis_restarted_empty_mid_batch_delays_the_batch_but_loses_nothing(cluster, redis):
    job_id = _batch(cluster)
    assert _started(cluster, job_id)["status"] == "running"
    redis.stop()  # every waiting doorbell is lost with it
    redis.start()
    job = cluster.wait(job_id)
    assert job["status"] == "done" and job["done"] == ROWS
    _whole(cluster, job_id)


def test_the_web_process_killed_mid_batch_loses_nothing(cluster):
    job_id = _batch(cluster)
    assert _started(cluster, job_id)["status"] == "running"
    cluster.kill_web()
    cluster.start_web()
    job = cluster.wait(job_id)
    assert job["status"] == "done" and job["done"] == ROWS
    _whole(cluster, job_id)


def test_cancelling_stops_the_batch_on_every_worker_and_keeps_nothing(cluster):
    job_id = _batch(cluster, rows=80)
    assert _started(cluster, job_id)["status"] == "running"
    status, answer = cluster.request("POST", f"/api/jobs/{job_id}/cancel")
    assert status == 200 and json.loads(answer)["status"] == "cancelled"
    parts = cluster.tmp / "files" / "jobs" / job_id

    def settled(job):
        return not parts.exists() and not any(p.status == "running" for p in _parts(cluster, job_id))

    job = cluster.wait(job_id, until=settled, timeout=60)
    assert job["status"] == "cancelled" and job["done"] < 80
    assert cluster.request("GET", f"/api/jobs/{job_id}/download")[0] == 409
    assert not (cluster.tmp / "files" / "jobs" / f"{job_id}.zip").exists()
    assert any(p.status == "queued" for p in _parts(cluster, job_id))  # never started


def test_without_a_broker_a_batch_carries_on_after_the_web_process_is_killed(tmp_path):
    c = Cluster(tmp_path, f"sqlite:///{tmp_path}/service.sqlite3", None, STEPDOWN_JOB_WORKERS="2")
    c.user()
    c.start_web()
    try:
        job_id = _batch(c)
        assert _started(c, job_id)["status"] == "running"
        family = [c.web.pid, *_tree(c.web.pid)]
        c.kill_web()
        assert _left_after(family, 10) == []  # builders and parsers went with it
        c.start_web()
        job = c.wait(job_id)
        assert job["status"] == "done" and job["done"] == ROWS
        _whole(c, job_id)
    finally:
        c.stop()

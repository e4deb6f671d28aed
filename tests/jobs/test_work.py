"""A batch's work, whichever engine runs it (service/jobs/work.py), driven step by step: parts
claimed once, taken over when their worker goes quiet, built again to the same bytes and
recorded once, failing their batch with the reason after their tries, stopping when the batch
is cancelled, and a ZIP assembled once with every meeting exactly once."""

from __future__ import annotations

import io
import json
import zipfile
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from service import records
from service.jobs import work
from service.jobs.work import Outcome, Workshop
from service.records.jobs import cancel_job, get_job, job_file
from service.store.models import AuditEntry, Job, JobPart
from tests.conftest import REGISTRY
from tests.packs.test_packs import PACKS, _csv, _row

PACK = PACKS.get("matching")


def _plan(shop, actor, rows=5, **over):
    view, numbers = work.plan(shop.db, REGISTRY, PACKS, actor, PACK.id, _csv([_row(i, **over) for i in range(1, rows + 1)],
                                                                              PACK))
    return view["id"], numbers


def _part(shop, job_id, number) -> JobPart:
    with shop.db.reading() as s:
        return s.scalar(select(JobPart).where(JobPart.job_id == job_id, JobPart.number == number))


def _run_all(shop, job_id, numbers):
    outcomes = [work.run_part(shop, job_id, n) for n in numbers]
    assert outcomes[-1] is Outcome.COMPLETE and all(o is Outcome.BUILT for o in outcomes[:-1])
    assert work.assemble(shop, job_id)


def test_a_batch_is_planned_into_parts_with_no_child_data_in_the_clear(shop, actor):
    job_id, numbers = _plan(shop, actor, rows=5)
    assert numbers == [1, 2, 3]
    with shop.db.reading() as s:
        parts = s.scalars(select(JobPart).where(JobPart.job_id == job_id).order_by(JobPart.number)).all()
    assert [p.size for p in parts] == [2, 2, 1] and {p.status for p in parts} == {"queued"}
    assert shop.db.sealer.encrypting and "Rowan1" not in parts[0].meetings and "SU-EX" not in parts[0].meetings


def test_parts_are_small_enough_for_every_worker_to_get_some():
    assert [work.part_size(n, 10) for n in (1, 3, 8, 20, 80, 1000)] == [1, 1, 1, 3, 10, 10]


def test_parts_build_and_assemble_to_every_meeting_exactly_once(shop, actor):
    job_id, numbers = _plan(shop, actor, rows=5)
    _run_all(shop, job_id, numbers)
    archive = zipfile.ZipFile(job_file(shop.db, job_id))
    manifest = json.loads(archive.read("manifest.json"))
    assert [f["row"] for f in manifest["folders"]] == [2, 3, 4, 5, 6]
    assert len({f["folder"] for f in manifest["folders"]}) == 5
    for folder in manifest["folders"]:
        for f in folder["files"]:
            assert len(archive.read(f["name"])) == f["bytes"]
    assert get_job(shop.db, actor, job_id)["status"] == "done"
    assert not shop.db.files.path(f"jobs/{job_id}").exists()  # the parts are gone once assembled


def test_a_part_built_twice_is_the_same_bytes_and_recorded_once(shop, actor):
    job_id, _ = _plan(shop, actor, rows=4)
    assert work.run_part(shop, job_id, 1) is Outcome.BUILT
    first = shop.db.files.path(work.part_name(job_id, 1)).read_bytes()
    # as if the worker died after writing its file but before the part was recorded: run again
    with shop.db.session() as s:
        part = s.scalar(select(JobPart).where(JobPart.job_id == job_id, JobPart.number == 1))
        part.status, part.heartbeat = "running", datetime.now(timezone.utc) - timedelta(seconds=60)
    again = Workshop(shop.db, REGISTRY, PACKS, worker="elsewhere:2")
    assert work.run_part(again, job_id, 1) is Outcome.BUILT
    assert shop.db.files.path(work.part_name(job_id, 1)).read_bytes() == first
    assert _part(shop, job_id, 1).worker == "elsewhere:2" and _part(shop, job_id, 1).built == 2
    assert work.run_part(again, job_id, 1) is Outcome.SKIPPED  # done: a third doorbell does nothing
    assert work.run_part(shop, job_id, 2) is Outcome.COMPLETE
    assert work.assemble(shop, job_id) and not work.assemble(shop, job_id)  # assembled once
    assert get_job(shop.db, actor, job_id)["done"] == 4


@pytest.mark.parametrize("at", ["first", "last"])
def test_two_assemblies_at_once_leave_the_zip_in_place(shop, actor, monkeypatch, at):
    """A sweeper sends a second assembly of a batch that is being assembled (a web process
    restarted): whichever finishes second must neither delete the finished ZIP nor queue the
    parts the first one tidied away."""
    job_id, numbers = _plan(shop, actor, rows=4)
    for n in numbers:
        work.run_part(shop, job_id, n)
    real, calls = work.BatchZip.add, []

    def add(self, *args, **kwargs):
        calls.append(1)
        if len(calls) == (1 if at == "first" else 4):
            monkeypatch.setattr(work.BatchZip, "add", real)
            assert work.assemble(shop, job_id)  # the other assembly, start to finish
        return real(self, *args, **kwargs)

    monkeypatch.setattr(work.BatchZip, "add", add)
    assert not work.assemble(shop, job_id)  # the parts went from under it, or it finished second
    work._rebuild(shop.db, job_id, numbers)  # as if it had found them missing: the job is done, nothing queued
    assert get_job(shop.db, actor, job_id)["status"] == "done"
    archive = zipfile.ZipFile(job_file(shop.db, job_id))
    assert [f["row"] for f in json.loads(archive.read("manifest.json"))["folders"]] == [2, 3, 4, 5]
    assert all(_part(shop, job_id, n).status == "done" for n in numbers)
    assert not work.assemble(shop, job_id)


def test_a_part_being_built_is_not_claimed_twice_until_its_worker_goes_quiet(shop, actor):
    job_id, _ = _plan(shop, actor, rows=2)
    other = Workshop(shop.db, REGISTRY, PACKS, worker="other:9")
    claim = work._claim(other, job_id, 1)
    assert claim is not None and claim.attempt == 1
    assert work._claim(shop, job_id, 1) is None  # busy elsewhere, heard from just now
    assert work.waiting_parts(shop.db, limit=10) == [(job_id, 2)]
    with shop.db.session() as s:
        s.scalar(select(JobPart).where(JobPart.job_id == job_id, JobPart.number == 1)).heartbeat -= timedelta(seconds=31)
    assert work.waiting_parts(shop.db, limit=10) == [(job_id, 1), (job_id, 2)]
    assert work.run_part(shop, job_id, 1) is Outcome.BUILT
    # the quiet worker wakes up: it was taken over, so its progress report stops it
    with pytest.raises(work.Cancelled):
        work._report(other, job_id, 1, 1, 2)


def test_a_part_that_keeps_failing_fails_its_batch_with_the_reason(shop, actor, monkeypatch):
    job_id, _ = _plan(shop, actor, rows=2)

    def broken(*args, **kwargs):
        raise KeyError("a bug")

    monkeypatch.setattr(work, "build_pack", broken)
    assert work.run_part(shop, job_id, 1) is Outcome.RETRY
    assert _part(shop, job_id, 1).status == "queued"
    assert work.run_part(shop, job_id, 1) is Outcome.SKIPPED  # the second of two tries
    job = get_job(shop.db, actor, job_id)
    assert job["status"] == "failed" and "after 2 tries" in job["error"] and "KeyError" in job["error"]
    assert not shop.db.files.path(f"jobs/{job_id}").exists()


def test_a_worker_that_dies_each_time_runs_out_of_tries(shop, actor):
    job_id, _ = _plan(shop, actor, rows=2)
    for _ in range(2):  # claimed, then the worker "dies": the part is left running and goes quiet
        assert work._claim(shop, job_id, 1) is not None
        with shop.db.session() as s:
            s.scalar(select(JobPart).where(JobPart.job_id == job_id, JobPart.number == 1)).heartbeat -= timedelta(seconds=31)
    assert work.run_part(shop, job_id, 1) is Outcome.SKIPPED
    job = get_job(shop.db, actor, job_id)
    assert job["status"] == "failed" and "its worker stopped each time" in job["error"]


def test_input_that_cannot_be_built_fails_at_once(shop, actor, monkeypatch):
    job_id, _ = _plan(shop, actor, rows=2)

    def refused(*args, **kwargs):
        raise work.InputMissing("the form needs something this row lacks")

    monkeypatch.setattr(work, "build_pack", refused)
    assert work.run_part(shop, job_id, 1) is Outcome.SKIPPED
    job = get_job(shop.db, actor, job_id)
    assert job["status"] == "failed" and job["error"].endswith("the form needs something this row lacks")


def test_a_cancelled_batch_stops_its_parts_and_keeps_nothing(shop, actor):
    job_id, numbers = _plan(shop, actor, rows=6)
    assert work.run_part(shop, job_id, 1) is Outcome.BUILT
    view, waiting = cancel_job(shop.db, actor, job_id)
    assert view["status"] == "cancelled" and view["done"] == 2 and waiting == [2, 3]
    assert work.run_part(shop, job_id, 2) is Outcome.SKIPPED
    assert not work.assemble(shop, job_id) and not job_file(shop.db, job_id).exists()
    assert not shop.db.files.path(f"jobs/{job_id}").exists()


def _fail_elsewhere(shop, actor, job_id):
    with shop.db.session() as s:  # another part gave up: the batch failed, its folder not yet tidied
        s.get(Job, job_id).status = "failed"


@pytest.mark.parametrize("end", [lambda shop, actor, job_id: cancel_job(shop.db, actor, job_id), _fail_elsewhere],
                         ids=["cancelled", "failed-by-another-part"])
def test_a_part_that_finishes_after_its_batch_ended_ends_stopped_with_no_file(shop, actor, monkeypatch, end):
    """The batch ends while a part is being built, and the part is done before its next report:
    it must not stay 'running' for ever (nor be queued again), and its file must not outlive the
    batch."""
    job_id, numbers = _plan(shop, actor, rows=4)
    monkeypatch.setattr(work, "PROGRESS_EVERY", 3600)  # no report in between
    real = work.build_pack

    def cancelled_meanwhile(*args, **kwargs):
        if get_job(shop.db, actor, job_id)["status"] == "running":
            end(shop, actor, job_id)
        return real(*args, **kwargs)

    monkeypatch.setattr(work, "build_pack", cancelled_meanwhile)
    assert work.run_part(shop, job_id, 1) is Outcome.SKIPPED
    assert _part(shop, job_id, 1).status == "stopped"
    assert not shop.db.files.path(f"jobs/{job_id}").exists()


def test_a_part_whose_file_went_missing_is_built_again_before_assembly(shop, actor):
    job_id, numbers = _plan(shop, actor, rows=4)
    for n in numbers:
        work.run_part(shop, job_id, n)
    shop.db.files.delete(work.part_name(job_id, 2))
    assert not work.assemble(shop, job_id)
    assert _part(shop, job_id, 2).status == "queued"
    assert work.run_part(shop, job_id, 2) is Outcome.COMPLETE and work.assemble(shop, job_id)
    assert len(json.loads(zipfile.ZipFile(job_file(shop.db, job_id)).read("manifest.json"))["folders"]) == 4


def test_a_batch_of_only_bad_rows_still_ends_with_its_report(shop, actor):
    job_id, numbers = _plan(shop, actor, rows=2, meeting_date="soon")
    assert numbers == [] and work.unassembled_jobs(shop.db) == [job_id]
    assert work.assemble(shop, job_id)
    manifest = json.loads(zipfile.ZipFile(job_file(shop.db, job_id)).read("manifest.json"))
    assert manifest["built"] == 0 and [p["row"] for p in manifest["problems"]] == [2, 3]


def test_cases_used_by_a_part_are_audited_and_prefill_it(shop, actor):
    records.create_case(shop.db, actor, {"su_number": "SU-EX-7001", "child_name": "Rowan1 Example",
                                         "ethnicity": "Example heritage"})
    job_id, numbers = _plan(shop, actor, rows=2)
    _run_all(shop, job_id, numbers)
    with shop.db.reading() as s:
        used = s.scalars(select(AuditEntry.detail).where(AuditEntry.action == "case.prefill")).all()
    assert used == ["1 team cases for part 1"]
    archive = zipfile.ZipFile(job_file(shop.db, job_id))
    name = next(n for n in archive.namelist() if n.endswith("SU-EX-7001/01-key-criteria.docx"))
    import service

    assert service.extract_document(archive.read(name), REGISTRY).data["ethnicity"] == "Example heritage"


def test_the_same_batch_built_in_another_process_is_the_same_bytes(shop, actor, tmp_path):
    """Another interpreter (other hash seed, other process): the same part, the same bytes."""
    import os
    import subprocess
    import sys

    job_id, _ = _plan(shop, actor, rows=1)
    work.run_part(shop, job_id, 1)
    here = shop.db.files.path(work.part_name(job_id, 1)).read_bytes()
    with shop.db.session() as s:
        s.scalar(select(JobPart).where(JobPart.job_id == job_id)).status = "queued"
    script = (f"from service.jobs.work import Workshop, run_part\nfrom service.settings import Settings\n"
              f"from service.store import Database\nfrom tests.conftest import REGISTRY\n"
              f"from tests.packs.test_packs import PACKS\n"
              f"db = Database(Settings(database_url={shop.db.settings.database_url!r}, data_dir={str(tmp_path)!r}, "
              f"data_key={shop.db.settings.data_key!r}))\n"
              f"print(run_part(Workshop(db, REGISTRY, PACKS, worker='there:2'), {job_id!r}, 1).value)\n")
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120,
                         env={**os.environ, "PYTHONHASHSEED": "12345"}, cwd=os.getcwd())
    assert out.stdout.strip() == "complete", out.stderr
    assert shop.db.files.path(work.part_name(job_id, 1)).read_bytes() == here
    assert zipfile.ZipFile(io.BytesIO(here)).namelist()


def test_a_full_disk_fails_the_batch_in_words(shop, actor, monkeypatch):
    import errno

    job_id, _ = _plan(shop, actor, rows=2)

    def full(name):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(shop.db.files, "writing", full)
    assert work.run_part(shop, job_id, 1) is Outcome.RETRY  # space may be freed before the next try
    assert work.run_part(shop, job_id, 1) is Outcome.SKIPPED
    job = get_job(shop.db, actor, job_id)
    assert job["status"] == "failed" and "disk is full" in job["error"]
    assert "report" in work.os_error(OSError(errno.EIO, "I/O error"))


def test_a_batch_being_built_cannot_be_deleted_and_an_ended_one_keeps_no_meetings(shop, actor):
    from service.errors import Conflict
    from service.records.jobs import delete_job

    job_id, numbers = _plan(shop, actor, rows=4)
    with pytest.raises(Conflict) as refused:
        delete_job(shop.db, actor, job_id)
    assert refused.value.code == "job_running"
    _run_all(shop, job_id, numbers)
    assert delete_job(shop.db, actor, job_id)["status"] == "deleted"
    assert _part(shop, job_id, 1) is None and not job_file(shop.db, job_id).exists()

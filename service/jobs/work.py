"""A batch's work, whichever engine runs it: planned into parts, each part claimed, built and
recorded by one worker, and the ZIP assembled once every part is in.

The database is the record of what is to do and what is done; an engine (embedded threads
and processes, or Celery tasks) only says *when* to do it. So every step can safely happen
twice: a part is claimed with a conditional update (one worker at a time, unless the first
has gone quiet for ``part_timeout`` seconds), built from what is stored, so the same bytes
(``packs.build.Stamp``), written whole into the file store, and recorded once under a lock on
the job's row; the part that completes the job is the one that says so. Assembly writes the
ZIP under a temporary name and moves it into place, then marks the job done; run twice, it
writes the same ZIP.

Nothing about a child goes through the broker: tasks carry a job id and a part number, and a
part's meetings are stored sealed in its row.
"""

from __future__ import annotations

import errno
import math
import os
import socket
import time
import uuid
import zipfile
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from enum import Enum

from sqlalchemy import false, func, select, update

from ..case_record import su_key
from ..errors import Cancelled, InputMissing, StepDownError
from ..packs.batch import BatchResult, BatchZip, meeting_folder, meetings_for
from ..packs.build import Stamp, build_pack
from ..packs.meeting import Meeting, RowProblem
from ..records.accounts import Actor
from ..records.history import meeting_history
from ..records.jobs import ACTIVE, job_name, parts_folder, view
from ..records.reading import reading_slot
from ..store import Database, record
from ..store.models import Case, CaseUse, Job, JobPart

PROGRESS_EVERY = 0.3  # seconds between a part's progress writes (also its heartbeat)
PARTS_PER_BATCH = 8  # a small batch is still split this finely, so every worker gets some


class Outcome(Enum):
    BUILT = "built"  # the part is recorded; others remain
    COMPLETE = "complete"  # the part (or an earlier run of it) was the last: assemble now
    RETRY = "retry"  # it failed and will be run again
    SKIPPED = "skipped"  # nothing to do: done already, someone else is on it, or the job ended


@dataclass
class Workshop:
    """What building parts needs, made once per worker process."""

    db: Database
    registry: object
    packs: object
    worker: str = ""

    def __post_init__(self) -> None:
        self.worker = self.worker or f"{socket.gethostname()}:{os.getpid()}"[:120]


def _now() -> datetime:
    return datetime.now(timezone.utc)


def part_name(job_id: str, number: int) -> str:
    return f"{parts_folder(job_id)}/part-{number:05d}.zip"


def part_size(meetings: int, most: int) -> int:
    """Meetings per part: at most ``most``, and small batches split into several parts."""
    return max(1, min(most, math.ceil(meetings / PARTS_PER_BATCH)))


# -- planning (in the web process) ------------------------------------------------------------

def plan(db: Database, registry, packs, actor: Actor, pack_id: str, raw: bytes | None) -> tuple[dict, list[int]]:
    """Check the input now (an unreadable file is refused here, never queued), then store the
    job and its parts. Returns the job's view and its part numbers."""
    pack = packs.get(pack_id)
    if pack.kind == "meeting" and raw is None:
        raise InputMissing("Upload a spreadsheet of meetings (see the pack's template).")
    with reading_slot(actor.user_id, db.settings.parse_concurrency):
        meetings, problems, total = meetings_for(pack, registry, raw)
    size = part_size(len(meetings), db.settings.part_size)
    chunks = [meetings[i:i + size] for i in range(0, len(meetings), size)]
    with db.session() as s:
        job = Job(id=str(uuid.uuid4()), team_id=actor.team_id, user_id=actor.user_id, pack=pack.id, status="queued",
                  total=total, done=0, cancel_requested=False, created_at=_now().replace(microsecond=0),
                  parts=len(chunks), problems=db.sealer.dumps([p.__dict__ for p in problems]))
        s.add(job)
        s.flush()
        for number, chunk in enumerate(chunks, start=1):
            s.add(JobPart(job_id=job.id, number=number, status="queued", size=len(chunk), built=0, attempts=0,
                          meetings=db.sealer.dumps([m.to_plain() for m in chunk])))
        record(s, db.sealer, user_id=actor.user_id, username=actor.username, action="job.start",
               target=f"job:{job.id}", detail=f"pack {pack.id}, {len(meetings)} meetings in {len(chunks)} parts")
        return view(db, job), list(range(1, len(chunks) + 1))


# -- a part (in a worker) ---------------------------------------------------------------------

@dataclass
class _Claim:
    pack: str
    made: datetime
    meetings: list[dict]
    cases: dict[str, dict]
    attempt: int
    history: dict[str, dict]  # SU key -> the last meeting's records and the case's changes since


def _part(s, job_id: str, number: int) -> JobPart | None:
    return s.scalar(select(JobPart).where(JobPart.job_id == job_id, JobPart.number == number))


def _claim(w: Workshop, job_id: str, number: int) -> _Claim | None:
    """Take the part if it is waiting, or if its worker has gone quiet; None if it is not ours
    to build. The part's cases are read, and their use audited, in the same transaction."""
    db, settings, now = w.db, w.db.settings, _now()
    with db.session() as s:
        job = s.get(Job, job_id)
        part = _part(s, job_id, number)
        if job is None or part is None or job.status not in ACTIVE or part.status in ("done", "failed"):
            return None
        quiet = part.heartbeat is None or part.heartbeat < now - timedelta(seconds=settings.part_timeout)
        if part.status == "running" and not quiet:
            return None
        if part.attempts >= settings.part_attempts:
            _fail(s, job, part, part.error or "its worker stopped each time")
            return None
        taken = s.execute(update(JobPart).where(JobPart.id == part.id, JobPart.attempts == part.attempts,
                                                 JobPart.status == part.status)
                          .values(status="running", attempts=part.attempts + 1, worker=w.worker, heartbeat=now,
                                  built=0, last_row=None)
                          .execution_options(synchronize_session=False)).rowcount
        if taken != 1:
            return None
        if job.status == "queued":
            job.status = "running"
        meetings = db.sealer.loads(part.meetings)
        keys = sorted({su_key(m["values"]["su_number"]) for m in meetings if m["values"].get("su_number")})
        rows = s.scalars(select(Case).where(Case.team_id == job.team_id, Case.su_key.in_(keys))).all() if keys else []
        cases = {c.su_key: db.sealer.loads(c.values) for c in rows}
        history = meeting_history(db, s, w.registry, w.packs.get(job.pack), {c.id: c.su_key for c in rows})
        if cases:
            _note_packs(s, job, [c.id for c in rows])
            record(s, db.sealer, user_id=job.user_id, username="(batch)", action="case.prefill",
                   target=f"job:{job_id}", detail=f"{len(cases)} team cases for part {number}")
        return _Claim(job.pack, job.created_at, meetings, cases, part.attempts + 1, history)


def _note_packs(s, job: Job, case_ids: list[str]) -> None:
    """The case page lists the pack built with it: once per batch, however often a part runs."""
    noted = set(s.scalars(select(CaseUse.case_id).where(CaseUse.job_id == job.id, CaseUse.case_id.in_(case_ids))))
    for case_id in sorted(set(case_ids) - noted):
        s.add(CaseUse(case_id=case_id, kind="pack", what=job.pack, job_id=job.id, user_id=job.user_id, at=_now()))


def _fail(s, job: Job, part: JobPart, reason: str) -> None:
    part.status, part.error = "failed", reason[:300]
    if job.status in ACTIVE:
        tries = f" after {part.attempts} tries" if part.attempts > 1 else ""
        job.status, job.finished_at = "failed", _now()
        job.error = f"Part {part.number} of the batch could not be built{tries}: {reason}"[:300]


def _report(w: Workshop, job_id: str, number: int, built: int, row: int | None) -> None:
    """Progress and heartbeat; raises Cancelled if the job ended or the part was taken over."""
    with w.db.session() as s:
        moved = s.execute(update(JobPart).where(JobPart.job_id == job_id, JobPart.number == number,
                                                JobPart.status == "running", JobPart.worker == w.worker)
                          .values(built=built, last_row=row, heartbeat=_now())
                          .execution_options(synchronize_session=False)).rowcount
        job = s.get(Job, job_id)
        if moved != 1 or job is None or job.status not in ACTIVE or job.cancel_requested:
            raise Cancelled("The batch was cancelled, or this part was taken over.")


def run_part(w: Workshop, job_id: str, number: int) -> Outcome:
    """Build one part of a batch, if it is ours to build."""
    claim = _claim(w, job_id, number)
    if claim is None:
        return Outcome.COMPLETE if needs_assembly(w.db, job_id) else Outcome.SKIPPED
    pack = w.packs.get(claim.pack)
    stamp = Stamp(claim.made, job_id)
    entries: list[dict] = []
    try:
        last = time.monotonic()
        with w.db.files.writing(part_name(job_id, number)) as out, \
                zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as z:
            made = claim.made.timetuple()[:6]
            for plain in claim.meetings:
                meeting = Meeting.from_plain(pack, plain)
                su = meeting.values.get("su_number")
                key = su_key(su) if su else None
                built = build_pack(pack, w.registry, meeting, case_values=claim.cases.get(key) if key else None,
                                   stamp=stamp, history=claim.history.get(key) if key else None)
                for f in built.files:
                    z.writestr(zipfile.ZipInfo(f"{meeting.row}/{f.name}", date_time=made), f.data)
                entries.append({"row": meeting.row, "folder": meeting_folder(pack, meeting, built),
                                "files": [f.name for f in built.files], "warnings": built.warnings})
                if time.monotonic() - last >= PROGRESS_EVERY:
                    _report(w, job_id, number, len(entries), meeting.row)
                    last = time.monotonic()
    except Cancelled:
        _stopped(w, job_id, number)
        _tidy_if_ended(w, job_id)
        return Outcome.SKIPPED
    except StepDownError as exc:  # the input itself cannot be built: another run would fail the same way
        return _failed(w, job_id, number, exc.message, final=True)
    except OSError as exc:
        return _failed(w, job_id, number, os_error(exc), final=False)
    except Exception as exc:  # a bug, not the user's input: say so without details of the data
        return _failed(w, job_id, number, f"The batch could not be built ({type(exc).__name__}); please report it.",
                       final=False)
    return _record(w, job_id, number, entries)


def _stopped(w: Workshop, job_id: str, number: int) -> None:
    """A part this worker gave up because its job ended (or another took it over)."""
    with w.db.session() as s:
        s.execute(update(JobPart).where(JobPart.job_id == job_id, JobPart.number == number, JobPart.status == "running",
                                        JobPart.worker == w.worker, ~select(Job.id).where(
                                            Job.id == job_id, Job.status.in_(ACTIVE)).exists())
                  .values(status="stopped").execution_options(synchronize_session=False))


def _failed(w: Workshop, job_id: str, number: int, reason: str, *, final: bool) -> Outcome:
    with w.db.session() as s:
        job = s.get(Job, job_id)
        part = _part(s, job_id, number)
        if job is None or part is None or part.status != "running" or part.worker != w.worker:
            return Outcome.SKIPPED
        if job.status not in ACTIVE:  # it ended meanwhile (cancel took the folder away): nothing to retry
            part.status = "stopped"
            outcome = Outcome.SKIPPED
        elif final or part.attempts >= w.db.settings.part_attempts:
            _fail(s, job, part, reason)
            outcome = Outcome.SKIPPED
        else:
            part.status, part.heartbeat, part.error = "queued", None, reason[:300]
            outcome = Outcome.RETRY
    if outcome is Outcome.SKIPPED:
        _tidy_if_ended(w, job_id)
    return outcome


def _record(w: Workshop, job_id: str, number: int, entries: list[dict]) -> Outcome:
    """The part is in the store: record it once (under the job row's lock), and say whether it
    completed the job."""
    db = w.db
    with db.session() as s:
        job = s.scalar(select(Job).where(Job.id == job_id).with_for_update())
        part = _part(s, job_id, number)
        if job is None or job.status not in ACTIVE:
            ended = True  # finished after its job ended (before its next report): stopped, not left running
            if part is not None and part.status == "running" and part.worker == w.worker:
                part.status = "stopped"
        else:
            ended = False
            if part.status != "done":
                part.status, part.built, part.heartbeat, part.worker = "done", len(entries), _now(), w.worker
                part.last_row = entries[-1]["row"] if entries else None
                part.result, part.error = db.sealer.dumps(entries), None
                s.flush()
            remaining = s.scalar(select(func.count()).select_from(JobPart)
                                 .where(JobPart.job_id == job_id, JobPart.status != "done"))
    if ended:
        _tidy_if_ended(w, job_id)
        return Outcome.SKIPPED
    return Outcome.COMPLETE if remaining == 0 else Outcome.BUILT


def needs_assembly(db: Database, job_id: str) -> bool:
    with db.reading() as s:
        job = s.get(Job, job_id)
        if job is None or job.status not in ACTIVE or job.cancel_requested:
            return False
        return not s.scalar(select(func.count()).select_from(JobPart)
                            .where(JobPart.job_id == job_id, JobPart.status != "done"))


def _tidy_if_ended(w: Workshop, job_id: str) -> None:
    """A cancelled or failed job keeps no parts."""
    with w.db.reading() as s:
        job = s.get(Job, job_id)
        ended = job is None or job.status not in ACTIVE
    if ended:
        w.db.files.delete_folder(parts_folder(job_id))


# -- assembly (in a worker, once every part is in) --------------------------------------------

def assemble(w: Workshop, job_id: str) -> bool:
    """Write the job's ZIP from its parts and mark it done; False if it is not ready (or no
    longer wanted). A part whose file has gone (a crash after assembly began) is queued to be
    built again, and the job waits for it."""
    db = w.db
    with db.reading() as s:
        job = s.get(Job, job_id)
        if job is None or job.status not in ACTIVE or job.cancel_requested:
            return False
        parts = s.scalars(select(JobPart).where(JobPart.job_id == job_id).order_by(JobPart.number)).all()
        if any(p.status != "done" for p in parts):
            return False
        missing = [p.number for p in parts if not db.files.exists(part_name(job_id, p.number))]
        pack = w.packs.get(job.pack)
        problems = [RowProblem(**p) for p in db.sealer.loads(job.problems or "[]")]
        made, total, results = job.created_at, job.total, {p.number: p.result for p in parts}
    if missing:
        _rebuild(db, job_id, missing)
        return False
    result = BatchResult(pack.id, rows=total, problems=problems)
    try:
        _write_zip(db, job_id, pack, result, made, results)
    except FileNotFoundError:
        if needs_assembly(db, job_id):
            raise  # a part's file went missing: the next assembly finds it missing and has it rebuilt
        return False  # the job ended meanwhile (another assembly finished it, or it was cancelled)
    with db.session() as s:
        job = s.scalar(select(Job).where(Job.id == job_id).with_for_update())
        finished = job is not None and job.status in ACTIVE and not job.cancel_requested
        if finished:
            job.status, job.finished_at, job.done = "done", _now(), result.built
            job.summary = db.sealer.dumps(result.to_dict())
        kept = finished or (job is not None and job.status == "done")  # another assembly won: same bytes
    if not kept:
        db.files.delete(job_name(job_id))
    db.files.delete_folder(parts_folder(job_id))
    return finished


def _write_zip(db: Database, job_id: str, pack, result: BatchResult, made: datetime, results: dict) -> None:
    with db.files.writing(job_name(job_id)) as out:
        archive = BatchZip(out, pack, result, made)
        try:
            for number in sorted(results):
                with zipfile.ZipFile(db.files.path(part_name(job_id, number))) as part:
                    for entry in db.sealer.loads(results[number]):
                        archive.add(entry["folder"], entry["row"],
                                    [(name, part.read(f"{entry['row']}/{name}")) for name in entry["files"]],
                                    entry["warnings"])
        except BaseException:
            archive.discard()
            raise
        archive.close()


def _rebuild(db: Database, job_id: str, numbers: list[int]) -> None:
    """Parts whose files went missing, built again, while their job is still active (another
    assembly may have just finished it and removed its parts)."""
    with db.session() as s:
        s.execute(update(JobPart).where(JobPart.job_id == job_id, JobPart.number.in_(numbers), select(Job.id).where(
                      Job.id == job_id, Job.status.in_(ACTIVE), ~Job.cancel_requested).exists())
                  .values(status="queued", heartbeat=None, built=0, result=None)
                  .execution_options(synchronize_session=False))


# -- what needs doing (for engines and sweepers) ----------------------------------------------

def waiting_parts(db: Database, *, limit: int, queued: bool = True,
                  sent_before: datetime | None = None) -> list[tuple[str, int]]:
    """Parts of active jobs that someone should run: running ones whose worker has gone quiet,
    and (``queued``) those waiting; for a broker, only those never sent or sent before
    ``sent_before``."""
    quiet = _now() - timedelta(seconds=db.settings.part_timeout)
    waiting = JobPart.status == "queued"
    if sent_before is not None:
        waiting = waiting & ((JobPart.sent_at.is_(None)) | (JobPart.sent_at < sent_before))
    if not queued:
        waiting = false()
    with db.read() as c:
        rows = c.execute(select(JobPart.job_id, JobPart.number).join(Job, Job.id == JobPart.job_id)
                         .where(Job.status.in_(ACTIVE), ~Job.cancel_requested,
                                waiting | ((JobPart.status == "running") & (JobPart.heartbeat < quiet)))
                         .order_by(Job.created_at, JobPart.number).limit(limit)).all()
    return [(r[0], r[1]) for r in rows]


def unassembled_jobs(db: Database) -> list[str]:
    """Active jobs with every part done (a worker died between its part and the assembly)."""
    with db.read() as c:
        not_done = select(JobPart.id).where(JobPart.job_id == Job.id, JobPart.status != "done").exists()
        return list(c.scalars(select(Job.id).where(Job.status.in_(ACTIVE), ~Job.cancel_requested, ~not_done)))


def mark_sent(db: Database, parts: list[tuple[str, int]]) -> None:
    now = _now()
    with db.session() as s:
        for job_id, number in parts:
            s.execute(update(JobPart).where(JobPart.job_id == job_id, JobPart.number == number)
                      .values(sent_at=now).execution_options(synchronize_session=False))


def os_error(exc: OSError) -> str:
    """What to tell staff when the machine, not the batch, failed."""
    if exc.errno == errno.ENOSPC:
        return "The server's disk is full, so the batch could not be written. Ask for space to be freed, then start it again."
    if exc.errno in (errno.EACCES, errno.EROFS):
        return "The server may not write the batch's file (a permissions or read-only disk problem); tell its administrator."
    return f"The server could not write the batch ({errno.errorcode.get(exc.errno, 'OSError')}); please report it."

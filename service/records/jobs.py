"""Batch jobs: meeting packs built in the background for the web service, with progress,
cancellation and a download when done.

One job runs at a time per service (its packs are built on every core); others wait in the
queue. Progress is written to the job's row as it goes, at most a few times a second. The ZIP
is written under a temporary name and moved into place when complete (``packs.batch``), so a
job's file exists only once it is whole. On start-up, a job left queued or running by a crash
or restart is marked failed (``recover_jobs``) — never left running forever, never served.
Finished ZIPs are deleted after ``Settings.job_hours``.
"""

from __future__ import annotations

import errno
import queue
import threading
import time
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

from sqlalchemy import select

from ..errors import Cancelled, Conflict, InputMissing, NotFound, StepDownError
from ..packs.batch import meetings_for, run_batch
from ..store import Database, record
from ..store.models import Case, Job, Team
from .access import load_for_team
from .accounts import Actor
from .reading import reading_slot

ACTIVE = ("queued", "running")
PROGRESS_EVERY = 0.3  # seconds between progress writes


def _now() -> datetime:
    return datetime.now(timezone.utc)


def jobs_dir(db: Database) -> Path:
    folder = Path(db.settings.data_dir) / "jobs"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def job_file(db: Database, job_id: str) -> Path:
    return jobs_dir(db) / f"{job_id}.zip"


def _view(db: Database, job: Job) -> dict:
    summary = db.sealer.loads(job.summary) if job.summary else None
    return {"id": job.id, "pack": job.pack, "status": job.status, "total": job.total, "done": job.done,
            "current_row": job.current_row, "created_at": job.created_at, "finished_at": job.finished_at,
            "error": job.error, "summary": summary, "download": job.status == "done"}


def _load(db: Database, s, actor: Actor, job_id: str, action: str) -> Job:
    return load_for_team(db, s, actor, Job, job_id, action)


def _team_cases(db: Database, s, team_id: int) -> dict[str, dict]:
    return {c.su_number: db.sealer.loads(c.values) for c in s.scalars(select(Case).where(Case.team_id == team_id))}


def team_case_values(db: Database, team: str) -> dict[str, dict]:
    """SU number -> latest case values of a team (by name), for prefilling a batch from the
    command line; one audit entry says how many cases were made available."""
    with db.session() as s:
        row = s.scalar(select(Team).where(Team.name == " ".join(team.split())))
        if row is None:
            raise NotFound(f"There is no team called {team}.")
        cases = _team_cases(db, s, row.id)
        record(s, db.sealer, user_id=None, username="(command line)", action="case.prefill",
               target=f"team:{row.id}", detail=f"{len(cases)} team cases for a batch")
        return cases


def get_job(db: Database, actor: Actor, job_id: str) -> dict:
    """A batch's progress: a read that waits for no writer, so it can be asked often."""
    with db.reading() as s:
        view = _view(db, _load(db, s, actor, job_id, "job.read"))
    db.audit_read(user_id=actor.user_id, username=actor.username, action="job.read", target=f"job:{view['id']}")
    return view


def list_jobs(db: Database, actor: Actor) -> list[dict]:
    with db.reading() as s:
        jobs = [_view(db, j) for j in
                s.scalars(select(Job).where(Job.team_id == actor.team_id).order_by(Job.created_at.desc()).limit(100))]
    db.audit_read(user_id=actor.user_id, username=actor.username, action="job.list",
                  target=f"team:{actor.team_id}", detail=f"{len(jobs)} jobs")
    return jobs


def cancel_job(db: Database, actor: Actor, job_id: str) -> dict:
    with db.session() as s:
        job = _load(db, s, actor, job_id, "job.cancel")
        if job.status not in ACTIVE:
            raise Conflict(f"The batch has already {job.status.replace('done', 'finished')}.", "job_finished")
        job.cancel_requested = True
        if job.status == "queued":
            job.status, job.finished_at = "cancelled", _now()
        record(s, db.sealer, user_id=actor.user_id, username=actor.username, action="job.cancel", target=f"job:{job.id}")
        return _view(db, job)


def download_job(db: Database, actor: Actor, job_id: str) -> Path:
    with db.session() as s:
        job = _load(db, s, actor, job_id, "job.download")
        path = job_file(db, job.id)
        if job.status != "done" or not path.is_file():
            raise Conflict("The batch is not ready to download" + (f" (it is {job.status})." if job.status != "done"
                                                                     else "; its file has expired."), "job_not_ready")
        record(s, db.sealer, user_id=actor.user_id, username=actor.username, action="job.download",
               target=f"job:{job.id}")
        return path


def recover_jobs(db: Database) -> int:
    """Mark jobs a crash or restart left queued or running as failed, remove any temporary
    files they left, and expire old ZIPs. Returns how many jobs were marked."""
    folder = jobs_dir(db)
    for partial in folder.glob(".*.partial"):
        partial.unlink(missing_ok=True)
    cutoff = _now() - timedelta(hours=db.settings.job_hours)
    with db.session() as s:
        stuck = s.scalars(select(Job).where(Job.status.in_(ACTIVE))).all()
        for job in stuck:
            job.status, job.finished_at = "failed", _now()
            job.error = "The service stopped while this batch was being built; start it again."
            job_file(db, job.id).unlink(missing_ok=True)
        for job in s.scalars(select(Job).where(Job.status == "done", Job.finished_at < cutoff)):
            job.status = "expired"
            job_file(db, job.id).unlink(missing_ok=True)
        return len(stuck)


def _os_error(exc: OSError) -> str:
    """What to tell staff when the machine, not the batch, failed."""
    if exc.errno == errno.ENOSPC:
        return "The server's disk is full, so the batch could not be written. Ask for space to be freed, then start it again."
    if exc.errno in (errno.EACCES, errno.EROFS):
        return "The server may not write the batch's file (a permissions or read-only disk problem); tell its administrator."
    return f"The server could not write the batch ({errno.errorcode.get(exc.errno, 'OSError')}); please report it."


class JobRunner:
    """Runs queued jobs one after another on a background thread."""

    def __init__(self, db: Database, registry, packs) -> None:
        self.db, self.registry, self.packs = db, registry, packs
        self._queue: queue.Queue[tuple[str, bytes | None] | None] = queue.Queue()
        self._cancel: dict[str, threading.Event] = {}
        self._thread: threading.Thread | None = None
        self.start()

    def start(self) -> None:
        """Run the queue (again, after ``stop``: an application started a second time)."""
        if self._thread is None or not self._thread.is_alive():
            self._thread = threading.Thread(target=self._loop, name="stepdown-jobs", daemon=True)
            self._thread.start()

    def submit(self, actor: Actor, pack_id: str, raw: bytes | None) -> dict:
        pack = self.packs.get(pack_id)
        if pack.kind == "meeting" and raw is None:
            raise InputMissing("Upload a spreadsheet of meetings (see the pack's template).")
        if raw is not None:  # an unreadable file is refused now, not in the queue
            with reading_slot(actor.user_id, self.db.settings.parse_concurrency):
                meetings_for(pack, self.registry, raw)
        with self.db.session() as s:
            job = Job(id=str(uuid.uuid4()), team_id=actor.team_id, user_id=actor.user_id, pack=pack.id,
                      status="queued", total=0, done=0, cancel_requested=False, created_at=_now())
            s.add(job)
            s.flush()
            record(s, self.db.sealer, user_id=actor.user_id, username=actor.username, action="job.start",
                   target=f"job:{job.id}", detail=f"pack {pack.id}")
            view = _view(self.db, job)
        self._cancel[view["id"]] = threading.Event()
        self._queue.put((view["id"], raw))
        return view

    def cancel(self, actor: Actor, job_id: str) -> dict:
        view = cancel_job(self.db, actor, job_id)
        if job_id in self._cancel:
            self._cancel[job_id].set()
        return view

    def alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def stop(self) -> None:
        for event in self._cancel.values():
            event.set()
        if self.alive():  # a second stop leaves no sentinel behind to end a restarted queue at once
            self._queue.put(None)
            self._thread.join(30)

    def _loop(self) -> None:
        while True:
            item = self._queue.get()
            try:
                if item is None:
                    return
                self._run(*item)
            finally:
                self._queue.task_done()

    def _set(self, job_id: str, **values) -> Job | None:
        with self.db.session() as s:
            job = s.get(Job, job_id)
            for k, v in values.items():
                setattr(job, k, v)
            return job

    def _run(self, job_id: str, raw: bytes | None) -> None:
        cancel = self._cancel.get(job_id) or threading.Event()
        with self.db.session() as s:
            job = s.get(Job, job_id)
            if job is None or job.status != "queued":
                return
            job.status = "running"
            pack_id = job.pack
            cases = _team_cases(self.db, s, job.team_id)
            record(s, self.db.sealer, user_id=job.user_id, username="(batch)", action="case.prefill",
                   target=f"job:{job_id}", detail=f"{len(cases)} team cases for a batch")
        last = [0.0]

        def progress(done: int, total: int, row: int | None) -> None:
            now = time.monotonic()
            if now - last[0] >= PROGRESS_EVERY or done == total:
                last[0] = now
                job = self._set(job_id, done=done, total=total, current_row=row)
                if job is not None and job.cancel_requested:
                    cancel.set()

        try:
            result = run_batch(self.packs.get(pack_id), self.registry, raw, job_file(self.db, job_id),
                               workers=self.db.settings.job_workers, progress=progress, cancel=cancel,
                               case_lookup=cases.get)
        except Cancelled:
            self._set(job_id, status="cancelled", finished_at=_now())
        except StepDownError as exc:
            self._set(job_id, status="failed", finished_at=_now(), error=exc.message[:300])
        except OSError as exc:
            self._set(job_id, status="failed", finished_at=_now(), error=_os_error(exc))
        except Exception as exc:  # a bug, not the user's input: say so without details of the data
            self._set(job_id, status="failed", finished_at=_now(),
                      error=f"The batch could not be built ({type(exc).__name__}); please report it.")
        else:
            self._set(job_id, status="done", finished_at=_now(), total=result.rows, done=result.built,
                      summary=self.db.sealer.dumps(result.to_dict()))
        finally:
            self._cancel.pop(job_id, None)

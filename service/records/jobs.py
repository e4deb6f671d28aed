"""Batch jobs as records: their progress, cancellation, download and expiry, for whichever
engine builds them (``service.jobs``: in the web process, or Celery workers).

Progress is read from the database (each part's count of meetings built), so any web process
can show any batch, cheaply and often. A job's ZIP is in the file store (``FileStore``), named
by the job's id, only once complete; its parts sit beside it in a folder of their own until
the ZIP is assembled. Finished ZIPs are deleted after ``Settings.job_hours``.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

from sqlalchemy import delete, func, select, update

from ..errors import Conflict, NotFound
from ..store import Database, record
from ..store.models import Case, Job, JobPart, Team
from .access import load_for_team
from .accounts import Actor
from .history import meeting_history

ACTIVE = ("queued", "running")


def _now() -> datetime:
    return datetime.now(timezone.utc)


def job_name(job_id: str) -> str:
    """The finished ZIP's name in the file store."""
    return f"jobs/{job_id}.zip"


def parts_folder(job_id: str) -> str:
    return f"jobs/{job_id}"


def job_file(db: Database, job_id: str) -> Path:
    return db.files.path(job_name(job_id))


def view(db: Database, job: Job, progress: tuple[int | None, int | None] | None = None) -> dict:
    """What a person sees of a job; ``progress``: (meetings built, last row) of its parts, while
    it runs."""
    summary = db.sealer.loads(job.summary) if job.summary else None
    done, row = progress if progress and job.status in ACTIVE else (job.done, job.current_row)
    return {"id": job.id, "pack": job.pack, "status": job.status, "total": job.total, "done": done or 0,
            "current_row": row, "created_at": job.created_at, "finished_at": job.finished_at,
            "error": job.error, "summary": summary, "download": job.status == "done"}


def _progress(s, job_id: str) -> tuple[int | None, int | None]:
    row = s.execute(select(func.sum(JobPart.built), func.max(JobPart.last_row)).where(JobPart.job_id == job_id)).one()
    return row[0], row[1]


def _view(db: Database, s, job: Job) -> dict:
    return view(db, job, _progress(s, job.id) if job.status in ACTIVE else None)


def _load(db: Database, s, actor: Actor, job_id: str, action: str) -> Job:
    return load_for_team(db, s, actor, Job, job_id, action)


def team_case_values(db: Database, team: str, registry=None, pack=None) -> tuple[dict[str, dict], dict[str, dict]]:
    """SU number (as ``case_record.su_key`` compares it) -> latest case values of a team (by
    name), for prefilling a batch from the command line, and (given the forms and the pack) SU
    key -> the last meeting's records and the case's changes since (``history.py``); one audit
    entry says how many cases were made available."""
    with db.session() as s:
        row = s.scalar(select(Team).where(Team.name == " ".join(team.split())))
        if row is None:
            raise NotFound(f"There is no team called {team}.")
        rows = s.scalars(select(Case).where(Case.team_id == row.id)).all()
        cases = {c.su_key: db.sealer.loads(c.values) for c in rows}
        history = meeting_history(db, s, registry, pack, {c.id: c.su_key for c in rows}) if pack else {}
        record(s, db.sealer, user_id=None, username="(command line)", action="case.prefill",
               target=f"team:{row.id}", detail=f"{len(cases)} team cases for a batch")
        return cases, history


def get_job(db: Database, actor: Actor, job_id: str) -> dict:
    """A batch's progress: a read that waits for no writer, so it can be asked often."""
    with db.reading() as s:
        job = _view(db, s, _load(db, s, actor, job_id, "job.read"))
    db.audit_read(user_id=actor.user_id, username=actor.username, action="job.read", target=f"job:{job['id']}")
    return job


def list_jobs(db: Database, actor: Actor, *, page: int = 1, per_page: int = 50) -> dict:
    """A page of the team's batches, newest first (deleted ones left out): ``{"items",
    "total", "page", "pages"}``."""
    per_page = max(1, min(per_page, 500))
    where = (Job.team_id == actor.team_id, Job.status != "deleted")
    with db.reading() as s:
        total = s.scalar(select(func.count()).select_from(Job).where(*where)) or 0
        pages = max(1, -(-total // per_page))
        page = max(1, min(page, pages))
        jobs = [_view(db, s, j) for j in s.scalars(select(Job).where(*where).order_by(Job.created_at.desc(), Job.id)
                                                   .offset((page - 1) * per_page).limit(per_page))]
    db.audit_read(user_id=actor.user_id, username=actor.username, action="job.list",
                  target=f"team:{actor.team_id}", detail=f"{len(jobs)} of {total} jobs, page {page}")
    return {"items": jobs, "total": total, "page": page, "pages": pages}


def cancel_job(db: Database, actor: Actor, job_id: str) -> tuple[dict, list[int]]:
    """Cancel at once: the job is cancelled from now (never served), parts waiting are never
    started, and a part being built stops at its next meeting. Returns the view and the parts
    that had not started (for the engine to withdraw)."""
    with db.session() as s:
        job = _load(db, s, actor, job_id, "job.cancel")
        if job.status not in ACTIVE:
            raise Conflict(f"The batch has already {job.status.replace('done', 'finished')}.", "job_finished")
        progress = _progress(s, job.id)
        job.cancel_requested = True
        job.status, job.finished_at = "cancelled", _now()
        job.done, job.current_row = progress[0] or 0, progress[1]
        waiting = list(s.scalars(select(JobPart.number).where(JobPart.job_id == job.id, JobPart.status == "queued")))
        record(s, db.sealer, user_id=actor.user_id, username=actor.username, action="job.cancel", target=f"job:{job.id}")
        shown = view(db, job)
    db.files.delete_folder(parts_folder(job_id))
    return shown, waiting


def delete_job(db: Database, actor: Actor, job_id: str) -> dict:
    """Delete an ended batch: its ZIP, and the meetings its parts held; it is listed no more
    (its row says "deleted"; the audit log keeps who did it). A running one is cancelled first."""
    with db.session() as s:
        job = _load(db, s, actor, job_id, "job.delete")
        if job.status in ACTIVE:
            raise Conflict("The batch is still being built; cancel it first.", "job_running")
        s.execute(delete(JobPart).where(JobPart.job_id == job.id))
        job.status, job.problems = "deleted", None
        record(s, db.sealer, user_id=actor.user_id, username=actor.username, action="job.delete", target=f"job:{job.id}")
        shown = view(db, job)
    db.files.delete(job_name(job_id))
    db.files.delete_folder(parts_folder(job_id))
    return shown


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


def recover_jobs(db: Database, *, resume_running: bool = True) -> int:
    """At start-up: remove temporary files a crash left, expire old ZIPs and tidy the parts of
    ended jobs. Jobs still active carry on where they were (their parts are in the database);
    ``resume_running`` (the embedded engine, whose builders all stopped with the service)
    makes parts that were being built ready to build again at once, not after their timeout.
    A job from before jobs had parts cannot carry on and is marked failed. Returns how many
    jobs will carry on."""
    db.files.remove_partials("jobs")
    cutoff = _now() - timedelta(hours=db.settings.job_hours)
    with db.session() as s:
        active = s.scalars(select(Job).where(Job.status.in_(ACTIVE))).all()
        carrying = 0
        for job in active:
            if job.problems is None:  # planned before batches had parts: nothing to carry on from
                job.status, job.finished_at = "failed", _now()
                job.error = "The service stopped while this batch was being built; start it again."
            else:
                carrying += 1
        if resume_running:
            s.execute(update(JobPart).where(JobPart.status == "running").values(status="queued", heartbeat=None)
                      .execution_options(synchronize_session=False))
        for job in s.scalars(select(Job).where(Job.status == "done", Job.finished_at < cutoff)):
            job.status = "expired"
            db.files.delete(job_name(job.id))
        folders = [f.name for f in db.files.path("jobs").iterdir() if f.is_dir()] if db.files.path("jobs").is_dir() else []
        kept = set(s.scalars(select(Job.id).where(Job.id.in_(folders), Job.status.in_(ACTIVE)))) if folders else set()
    for job_id in set(folders) - kept:  # the parts of ended jobs
        db.files.delete_folder(parts_folder(job_id))
    return carrying

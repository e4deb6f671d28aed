"""The distributed engine: batches built by Celery workers (``stepdown-forms worker``) on any
number of machines that share the database and the file store, with Redis as the broker.

Celery carries only doorbells: ``stepdown.part(job_id, number)`` and ``stepdown.assemble(job_id)``
(JSON, no child data). The work itself and its state are in the database (``work.py``), so:

- tasks are acknowledged late, and a task whose worker process died is given back to the
  broker (``task_reject_on_worker_lost``); a whole worker killed leaves its task unacknowledged,
  and Redis hands it out again after the visibility timeout;
- besides that, every worker runs a sweeper: a part whose builder has gone quiet for
  ``part_timeout`` seconds, a part whose message was lost (Redis restarted without it) and a
  job whose every part is in but which was never assembled are sent again. A part sent twice
  is claimed once; one built twice is the same bytes and is recorded once;
- a part that keeps failing fails its batch, with the reason, after ``part_attempts`` runs;
- cancelling withdraws the parts not started (revoke) and the parts being built stop at
  their next meeting.
"""

from __future__ import annotations

import logging
import threading
import time
from datetime import datetime, timedelta, timezone

from celery import Celery, signals
from celery.utils.nodenames import default_nodename, host_format

from ..isolation import die_with_parent, settle
from ..packs.loader import packs_in
from ..records.accounts import Actor
from ..records.jobs import cancel_job, recover_jobs
from ..settings import Settings
from ..spec.registry import default_registry
from ..store import Database
from .work import Outcome, Workshop, assemble, mark_sent, plan, run_part, unassembled_jobs, waiting_parts

log = logging.getLogger(__name__)
PART, ASSEMBLE = "stepdown.part", "stepdown.assemble"
QUEUE = "stepdown-batches"
RETRY_AFTER = 2  # seconds before a failed part is run again


def task_id(job_id: str, number: int | None = None) -> str:
    return f"{job_id}.{number}" if number is not None else f"{job_id}.assemble"


def make_celery(settings: Settings) -> Celery:
    app = Celery("stepdown", broker=settings.broker_url, set_as_current=False)
    app.conf.update(
        task_serializer="json", accept_content=["json"], task_ignore_result=True, result_backend=None,
        task_default_queue=QUEUE,
        task_acks_late=True, task_reject_on_worker_lost=True, worker_prefetch_multiplier=1,
        broker_transport_options={"visibility_timeout": max(3 * settings.part_timeout, 60),
                                  "socket_connect_timeout": 3, "socket_timeout": 10},
        broker_connection_retry_on_startup=True, broker_connection_max_retries=None,
        broker_connection_timeout=3,
        task_publish_retry=True,
        task_publish_retry_policy={"max_retries": 2, "interval_start": 0.2, "interval_step": 0.5, "interval_max": 1},
        worker_hijack_root_logger=False, worker_send_task_events=False, worker_enable_remote_control=True,
        worker_cancel_long_running_tasks_on_connection_loss=False,
    )
    return app


class CeleryEngine:
    """The web process's side: plan a job in the database, then ring the workers' doorbell."""

    def __init__(self, db: Database, registry, packs) -> None:
        self.db, self.registry, self.packs = db, registry, packs
        self.app = make_celery(db.settings)
        self._checked: tuple[float, bool] = (0.0, False)

    def submit(self, actor: Actor, pack_id: str, raw: bytes | None) -> dict:
        shown, numbers = plan(self.db, self.registry, self.packs, actor, pack_id, raw)
        send(self.app, self.db, [(shown["id"], n) for n in numbers], assemble_jobs=[] if numbers else [shown["id"]])
        return shown

    def cancel(self, actor: Actor, job_id: str) -> dict:
        shown, waiting = cancel_job(self.db, actor, job_id)
        try:
            self.app.control.revoke([task_id(job_id, n) for n in waiting])
        except Exception:  # the broker is away: the parts see the job cancelled when they start
            log.warning("could not withdraw a cancelled batch's parts from the broker", exc_info=True)
        return shown

    def start(self) -> None:
        """Nothing runs here: the workers build."""

    def stop(self) -> None:
        self.app.pool.force_close_all()

    def alive(self) -> bool:
        """Whether the broker can be reached (asked at most every 5 seconds)."""
        at, ok = self._checked
        if time.monotonic() - at > 5:
            try:
                with self.app.connection_for_write() as connection:
                    connection.ensure_connection(max_retries=1, timeout=2)
                ok = True
            except Exception:
                ok = False
            self._checked = (time.monotonic(), ok)
        return ok


def send(app: Celery, db: Database, parts: list[tuple[str, int]], assemble_jobs: list[str] = ()) -> int:
    """Publish doorbells; what cannot be sent now (the broker is away) is left to the sweeper.
    Returns how many were sent."""
    sent = []
    try:
        for job_id, number in parts:
            app.send_task(PART, args=[job_id, number], task_id=task_id(job_id, number), queue=QUEUE)
            sent.append((job_id, number))
        for job_id in assemble_jobs:
            app.send_task(ASSEMBLE, args=[job_id], task_id=task_id(job_id), queue=QUEUE)
    except Exception:
        log.warning("the broker could not be reached; %d batch parts will be sent later", len(parts) - len(sent))
    if sent:
        mark_sent(db, sent)
    return len(sent)


# -- the worker's side ------------------------------------------------------------------------

_workshop: dict = {}


def _shop() -> Workshop:
    """This worker process's database and forms, made at its first task."""
    if "w" not in _workshop:
        settings = Settings.from_env()
        registry = default_registry()
        _workshop["w"] = Workshop(Database(settings), registry, packs_in(str(registry.folder)))
        settle()  # the forms and packs it keeps, out of the collector's way
    return _workshop["w"]


def register(app: Celery) -> Celery:
    @app.task(name=PART, bind=True, acks_late=True, reject_on_worker_lost=True, max_retries=None)
    def part(self, job_id: str, number: int) -> None:
        outcome = run_part(_shop(), str(job_id), int(number))
        if outcome is Outcome.COMPLETE:
            app.send_task(ASSEMBLE, args=[job_id], task_id=task_id(job_id), queue=QUEUE)
        elif outcome is Outcome.RETRY:
            raise self.retry(countdown=RETRY_AFTER)

    @app.task(name=ASSEMBLE, acks_late=True, reject_on_worker_lost=True)
    def assemble_job(job_id: str) -> None:
        assemble(_shop(), str(job_id))

    return app


@signals.worker_process_init.connect
def _child_started(**_) -> None:
    die_with_parent()  # a worker killed outright leaves no pool process behind
    _workshop.clear()  # a database connection is never shared with the parent


class Sweeper:
    """In each worker's main process: every few seconds, send again what was lost. Doorbells
    sent twice are harmless (a part is claimed once), so this errs towards sending."""

    def __init__(self, app: Celery, settings: Settings) -> None:
        self.app, self.settings = app, settings
        self.every = max(1.0, settings.part_timeout / 4)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="stepdown-sweeper", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()

    def _loop(self) -> None:
        db = Database(self.settings)
        try:
            while not self._stop.wait(self.every):
                try:
                    self.sweep(db)
                except Exception:
                    log.warning("the batch sweeper could not look for lost work", exc_info=True)
        finally:
            db.dispose()

    def sweep(self, db: Database) -> int:
        """Parts whose builder went quiet; parts waiting in the database while the broker's
        queue is empty (their doorbell was lost) for longer than a sweep; finished but
        unassembled jobs. Returns how many parts were sent."""
        grace = datetime.now(timezone.utc) - timedelta(seconds=self.every)
        lost = waiting_parts(db, limit=500, queued=not self._queue_busy(), sent_before=grace)
        return send(self.app, db, lost, unassembled_jobs(db))

    def _queue_busy(self) -> bool:
        """Whether doorbells are waiting in the broker (then the parts waiting are not lost)."""
        try:
            with self.app.connection_for_write() as connection:
                return connection.default_channel.client.llen(QUEUE) > 0
        except Exception:
            return True


def run_worker(settings: Settings, concurrency: int, name: str | None = None, loglevel: str = "INFO") -> None:
    """``stepdown-forms worker``: a Celery worker (prefork pool, ``concurrency`` processes) for
    this service's batches, with the sweeper beside it (started once the pool has forked)."""
    app = register(make_celery(settings))
    for noisy in ("fontTools", "pikepdf"):  # their INFO lines say nothing an operator needs
        logging.getLogger(noisy).setLevel(logging.WARNING)
    db = Database(settings)
    db.migrate()
    recover_jobs(db, resume_running=False)  # tidy only: other workers may be building
    db.dispose()
    sweeper = Sweeper(app, settings)
    signals.worker_ready.connect(lambda **_: sweeper.start(), weak=False)
    try:
        app.Worker(concurrency=concurrency, pool="prefork", loglevel=loglevel, queues=[QUEUE],
                   hostname=host_format(default_nodename(name)),  # "builder1@%h" expanded as Celery's -n does
                   without_mingle=True, without_gossip=True, optimization="fair").start()
    finally:
        sweeper.stop()

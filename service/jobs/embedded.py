"""The embedded engine: batches built by the web process itself, with no other service to run
(the README's one command). A thread looks in the database for parts that need building (or
jobs ready to assemble) and hands them to this process's builder processes, one part each.

Because the work is in the database, not in this process, nothing is lost when the service
stops: at the next start the parts carry on (``recover_jobs``), and with several server
processes any of them builds any job's parts (a claim lets one at a time build a part).
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import threading
import time
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool

from sqlalchemy import update

from ..isolation import die_with_parent, settle
from ..packs.loader import packs_in
from ..records.accounts import Actor
from ..records.jobs import cancel_job
from ..settings import Settings
from ..spec.registry import registry_for
from ..store import Database
from ..store.models import JobPart
from .work import Workshop, assemble, plan, run_part, unassembled_jobs, waiting_parts

log = logging.getLogger(__name__)
IDLE = 0.5  # seconds between looks at the database when nothing is being built
POOL_IDLE = 30.0  # builder processes are let go after this long with nothing to build


class EmbeddedEngine:
    def __init__(self, db: Database, registry, packs) -> None:
        self.db, self.registry, self.packs = db, registry, packs
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self.start()

    # -- the interface every engine has ---------------------------------------------------
    def submit(self, actor: Actor, pack_id: str, raw: bytes | None) -> dict:
        shown, _ = plan(self.db, self.registry, self.packs, actor, pack_id, raw)
        self._wake.set()
        return shown

    def cancel(self, actor: Actor, job_id: str) -> dict:
        return cancel_job(self.db, actor, job_id)[0]  # builders see it at their next meeting

    def start(self) -> None:
        """Run (again, after ``stop``: an application started a second time)."""
        if self._thread is None or not self._thread.is_alive():
            self._stopping.clear()
            self._thread = threading.Thread(target=self._loop, name="stepdown-jobs", daemon=True)
            self._thread.start()

    def alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def stop(self) -> None:
        self._stopping.set()
        self._wake.set()
        if self.alive():
            self._thread.join(30)

    # -- the loop ---------------------------------------------------------------------------
    def _loop(self) -> None:
        slots = self.db.settings.job_workers
        here = Workshop(self.db, self.registry, self.packs) if slots <= 0 else None
        pool: ProcessPoolExecutor | None = None
        running: dict[Future, tuple] = {}
        last_work = time.monotonic()
        try:
            while not self._stopping.is_set():
                try:
                    todo = self._todo(max(1, slots) - len(running), {key for key in running.values()})
                except Exception:  # the database is away for a moment: look again shortly
                    log.warning("could not look for batch work", exc_info=True)
                    todo = []
                if here is not None:
                    for key in todo:
                        self._run_here(here, key)
                        if self._stopping.is_set():
                            break
                    if not todo:
                        self._idle()
                    continue
                if todo:
                    last_work = time.monotonic()
                    pool = pool or _pool(self.db.settings, self.registry.folder, slots)
                    for key in todo:
                        running[pool.submit(_in_builder, *key)] = key
                if running:
                    finished, _ = wait(list(running), timeout=IDLE, return_when=FIRST_COMPLETED)
                    broken = False
                    for future in finished:
                        key = running.pop(future)
                        try:
                            future.result()
                        except BrokenProcessPool:
                            broken = True
                            self._release(key)
                        except Exception:
                            log.exception("a batch part could not be built")
                    if broken:  # a builder died (killed, or out of memory): a new pool for what is left
                        for key in running.values():
                            self._release(key)
                        running.clear()
                        pool.shutdown(wait=False, cancel_futures=True)
                        pool = None
                    continue
                if pool is not None and time.monotonic() - last_work > POOL_IDLE:
                    pool.shutdown(wait=True)
                    pool = None
                self._idle()
        finally:
            if pool is not None:
                pool.shutdown(wait=False, cancel_futures=True)

    def _idle(self) -> None:
        self._wake.wait(IDLE)
        self._wake.clear()

    def _todo(self, free: int, busy: set) -> list[tuple]:
        if free <= 0:
            return []
        keys = [("assemble", job_id) for job_id in unassembled_jobs(self.db)]
        keys += [("part", job_id, number) for job_id, number in waiting_parts(self.db, limit=free + len(busy))]
        return [k for k in keys if k not in busy][:free]

    def _run_here(self, here: Workshop, key: tuple) -> None:
        try:
            _do(here, *key)
        except Exception:
            log.exception("a batch part could not be built")

    def _release(self, key: tuple) -> None:
        """A part whose builder died is ready to build again now (the death counts as a try)."""
        if key[0] != "part":
            return
        with self.db.session() as s:
            s.execute(update(JobPart).where(JobPart.job_id == key[1], JobPart.number == key[2],
                                            JobPart.status == "running").values(status="queued", heartbeat=None)
                      .execution_options(synchronize_session=False))


def _do(w: Workshop, kind: str, job_id: str, number: int | None = None) -> None:
    if kind == "assemble":
        assemble(w, job_id)
    else:
        run_part(w, job_id, number)


# -- builder processes ------------------------------------------------------------------------

_builder: dict = {}


def _pool(settings: Settings, specs_folder, workers: int) -> ProcessPoolExecutor:
    context = multiprocessing.get_context("spawn")  # never fork a process that may hold threads and locks
    return ProcessPoolExecutor(max_workers=workers, mp_context=context, initializer=_init_builder,
                               initargs=(settings, str(specs_folder), os.getpid()))


def _init_builder(settings: Settings, specs_folder: str, parent: int) -> None:
    die_with_parent(parent)  # a kill -9 of the service leaves no builder behind
    registry = registry_for(specs_folder)
    _builder["workshop"] = Workshop(Database(settings), registry, packs_in(specs_folder))
    settle()  # the forms and packs it keeps, out of the collector's way


def _in_builder(kind: str, job_id: str, number: int | None = None) -> None:
    _do(_builder["workshop"], kind, job_id, number)

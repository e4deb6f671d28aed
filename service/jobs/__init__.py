"""Batch jobs: one interface, two engines. With no broker configured, batches are built in the
web process (``embedded``); with ``STEPDOWN_BROKER_URL`` they are Celery tasks built by
``stepdown-forms worker`` processes (``distributed``). Both run the same work (``work``), whose
state is in the database, so pages, API and command line do not know which is in use.

An engine has ``submit(actor, pack_id, raw) -> view``, ``cancel(actor, job_id) -> view``,
``start()``, ``stop()`` and ``alive()``.
"""

from __future__ import annotations

from ..store import Database
from .embedded import EmbeddedEngine


def engine_for(db: Database, registry, packs):
    """The engine the settings ask for."""
    if db.settings.broker_url:
        from .distributed import CeleryEngine  # deferred: Celery takes 0.3 s to load, and only a broker needs it

        return CeleryEngine(db, registry, packs)
    return EmbeddedEngine(db, registry, packs)

"""The audit log's own checks, as the service and its command line run them: verifying the
chain against the published checkpoints (admins only; every check and every refusal audited),
and publishing a checkpoint of the chain's head on start, every hour and on shutdown."""

from __future__ import annotations

import threading

from ..errors import AccessError
from ..store import Database, read_checkpoints, record, verify_audit, write_checkpoint
from ..store.audit import AuditCheck
from .access import log_refusal
from .accounts import Actor

CHECKPOINT_EVERY = 3600.0  # seconds


def check_audit(db: Database, actor: Actor | None) -> AuditCheck:
    """Recompute the chain and compare it with every checkpoint; ``actor`` None: the command
    line, which the machine's owner runs."""
    if actor is not None:
        try:
            actor.require("admin")
        except AccessError:
            log_refusal(db, actor, "audit.verify", "audit", "denied")
            raise
    points = read_checkpoints(db.settings.data_dir)
    with db.session() as s:
        check = verify_audit(s, db.sealer, points)
        record(s, db.sealer, user_id=actor.user_id if actor else None, username=actor.username if actor else
               "(command line)", action="audit.verify", outcome="ok" if check.ok else "failed",
               detail=f"{check.entries} entries, {len(points)} checkpoints")
    return check


def publish_checkpoint(db: Database) -> dict:
    with db.session() as s:
        return write_checkpoint(s, db.sealer, db.settings.data_dir)


class Checkpointer:
    """Publishes a checkpoint now, every ``every`` seconds, and when stopped."""

    def __init__(self, db: Database, every: float = CHECKPOINT_EVERY) -> None:
        self.db, self.every = db, every
        self._stop = threading.Event()
        publish_checkpoint(db)
        self._thread = threading.Thread(target=self._loop, name="stepdown-audit-checkpoints", daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        while not self._stop.wait(self.every):
            publish_checkpoint(self.db)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(10)
        publish_checkpoint(self.db)

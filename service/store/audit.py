"""The append-only audit log of every access to child data: who, what, when, outcome.

Entries form a hash chain: each entry's hash covers its fields and the hash before it (an HMAC
keyed from STEPDOWN_DATA_KEY when one is set, so nobody without the key can rebuild a chain
after editing it). The database refuses UPDATE and DELETE on the table (triggers, from the
migrations). ``verify_audit`` recomputes the chain and names the first entry that does not fit.
Targets are record ids ("case:<uuid>"); field values never go into the log.

The database alone cannot show that its newest entries were deleted together with the head
that points at them. So the chain's head is also published outside it, as **checkpoints**:
its sequence number and hash, signed (HMAC with the chain's key), appended to a file beside the
service's data and written to the application log — on start, every hour and on shutdown.
``verify_audit`` given the checkpoints says when the chain is shorter than one of them, or
differs from it.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import os
import queue
import threading
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from ..errors import AuditUnavailable
from .models import AuditEntry, AuditHead
from .seal import Sealer

GENESIS = "0" * 64


def _digest(entry: AuditEntry, key: bytes | None) -> str:
    body = json.dumps([entry.seq, entry.at.astimezone(timezone.utc).isoformat(timespec="microseconds"), entry.user_id,
                       entry.username, entry.action, entry.target, entry.outcome, entry.detail, entry.prev_hash],
                      separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    if key is None:
        return hashlib.sha256(body).hexdigest()
    return hmac.new(key, body, hashlib.sha256).hexdigest()


_HEAD = select(AuditHead.seq, AuditHead.hash).where(AuditHead.id == 1).with_for_update()
_APPEND = insert(AuditEntry)
_START = insert(AuditHead).values(id=1)
_MOVE = update(AuditHead).where(AuditHead.id == 1)


def record(session: Session, sealer: Sealer, *, user_id: int | None, username: str, action: str, target: str = "",
           outcome: str = "ok", detail: str = "") -> AuditEntry:
    """Append one entry in the caller's transaction (so it commits or rolls back with the action).
    The head row is locked from here to the commit (FOR UPDATE; on SQLite the transaction holds
    the write lock from its start), so call this last. Plain statements, built once, not the
    ORM's unit of work: this runs in nearly every request."""
    head = session.execute(_HEAD).first()
    seq, prev = (head.seq, head.hash) if head is not None else (0, GENESIS)
    entry = AuditEntry(seq=seq + 1, at=datetime.now(timezone.utc), user_id=user_id, username=username[:80],
                       action=action[:40], target=target[:100], outcome=outcome[:20], detail=detail[:200],
                       prev_hash=prev)
    entry.hash = _digest(entry, sealer.chain_key())
    session.execute(_APPEND, {c: getattr(entry, c) for c in _COLUMNS})
    session.execute(_START if head is None else _MOVE, {"seq": entry.seq, "hash": entry.hash})
    return entry


_COLUMNS = ("seq", "at", "user_id", "username", "action", "target", "outcome", "detail", "prev_hash", "hash")


class ReadLog:
    """Audit entries for reads (a case viewed, a batch's progress polled), written together.

    A read changes nothing but the log, so its entry needs a transaction of its own; one each
    meant one write turn and one fsync per request, every request queued behind the last
    (SQLite has one writer; on PostgreSQL they queue on the chain's head row). Here a thread
    writes every entry waiting at that moment in one transaction, in the order they came, and
    only then lets their requests answer: nothing is shown before its entry is durable, the
    chain is the same, and a busy service writes dozens of entries a commit."""

    MOST = 256  # entries in one transaction

    def __init__(self, database) -> None:
        self.db = database
        self._queue: queue.SimpleQueue = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._start = threading.Lock()

    def record(self, **entry) -> None:
        """Write ``entry`` (``record``'s arguments) and return once it is committed; raises if
        it could not be (the read must then not be answered)."""
        if self._thread is None or not self._thread.is_alive():
            with self._start:
                if self._thread is None or not self._thread.is_alive():
                    self._thread = threading.Thread(target=self._loop, name="stepdown-audit-reads", daemon=True)
                    self._thread.start()
        waiter = _Waiter()
        self._queue.put((entry, waiter))
        waiter.done.wait()
        if waiter.failed is not None:
            raise AuditUnavailable("The access could not be recorded, so it was not allowed; "
                                   "try again, or tell the service's administrator.") from waiter.failed

    def stop(self) -> None:
        if self._thread is not None and self._thread.is_alive():
            self._queue.put(None)
            self._thread.join(10)

    def _loop(self) -> None:
        while (item := self._queue.get()) is not None:
            batch = [item]
            while len(batch) < self.MOST:
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
                if item is None:
                    self._queue.put(None)  # stop after this batch
                    break
                batch.append(item)
            failed = None
            try:
                with self.db.session() as s:
                    for entry, _ in batch:
                        record(s, self.db.sealer, **entry)
            except Exception as exc:  # the database refused or is gone: every waiting read is refused
                failed = exc
            for _, waiter in batch:
                waiter.failed = failed
                waiter.done.set()


class _Waiter:
    __slots__ = ("done", "failed")

    def __init__(self) -> None:
        self.done = threading.Event()
        self.failed: Exception | None = None


@dataclass
class AuditCheck:
    ok: bool
    entries: int
    first_bad: int | None = None
    problem: str = ""


def verify_audit(session: Session, sealer: Sealer, checkpoints: list[dict] | None = None) -> AuditCheck:
    """Recompute the chain; and, given ``checkpoints`` (``read_checkpoints``), check it still
    holds every entry a checkpoint saw, with the hash it saw."""
    key = sealer.chain_key()
    prev, expected_seq, count = GENESIS, 1, 0
    hashes: dict[int, str] = {}
    wanted = {int(c["seq"]) for c in checkpoints or []}
    for entry in session.execute(select(AuditEntry).order_by(AuditEntry.seq)).scalars():
        count += 1
        if entry.seq != expected_seq:
            return AuditCheck(False, count, expected_seq, f"entry {expected_seq} is missing")
        if entry.prev_hash != prev or _digest(entry, key) != entry.hash:
            return AuditCheck(False, count, entry.seq, f"entry {entry.seq} was changed")
        if entry.seq in wanted:
            hashes[entry.seq] = entry.hash
        prev, expected_seq = entry.hash, expected_seq + 1
    head = session.get(AuditHead, 1)
    if head is not None and (head.seq != expected_seq - 1 or head.hash != prev):
        return AuditCheck(False, count, expected_seq, "entries after the last one were removed")
    for point in checkpoints or []:
        seq = int(point["seq"])
        if not _checkpoint_signed(point, key):
            return AuditCheck(False, count, seq, f"the checkpoint of {point.get('at', '?')} was altered")
        if seq > expected_seq - 1:
            return AuditCheck(False, count, expected_seq, f"entries {expected_seq} to {seq} were removed (the checkpoint "
                              f"of {point['at']} saw entry {seq})")
        if seq and hashes.get(seq) != point["hash"]:
            return AuditCheck(False, count, seq, f"entry {seq} differs from the checkpoint of {point['at']}")
    return AuditCheck(True, count)


# -- checkpoints ----------------------------------------------------------------------------

CHECKPOINTS = "audit-checkpoints.jsonl"
log = logging.getLogger("stepdown.audit")


def _checkpoint_mac(point: dict, key: bytes | None) -> str:
    body = f"{point['seq']}|{point['hash']}|{point['at']}".encode()
    return hmac.new(key, body, hashlib.sha256).hexdigest() if key else hashlib.sha256(body).hexdigest()


def _checkpoint_signed(point: dict, key: bytes | None) -> bool:
    return isinstance(point.get("mac"), str) and hmac.compare_digest(point["mac"], _checkpoint_mac(point, key))


def write_checkpoint(session: Session, sealer: Sealer, folder: str | Path) -> dict:
    """Publish the chain's head: appended to the checkpoint file (flushed to disk) and logged."""
    head = session.get(AuditHead, 1)
    point = {"seq": head.seq if head else 0, "hash": head.hash if head else GENESIS,
             "at": datetime.now(timezone.utc).isoformat(timespec="seconds")}
    point["mac"] = _checkpoint_mac(point, sealer.chain_key())
    path = Path(folder) / CHECKPOINTS
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a", encoding="utf-8") as f:
        f.write(json.dumps(point) + "\n")
        f.flush()
        os.fsync(f.fileno())
    log.info("audit checkpoint: entry %s, hash %s", point["seq"], point["hash"])
    return point


def read_checkpoints(folder: str | Path) -> list[dict]:
    """The published checkpoints, oldest first (none if the file is not there). A line that is
    not a checkpoint at all counts as an altered one."""
    path = Path(folder) / CHECKPOINTS
    if not path.is_file():
        return []
    points = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            point = json.loads(line)
            int(point["seq"]), str(point["hash"]), str(point["at"])
        except (ValueError, KeyError, TypeError):
            point = {"seq": 0, "hash": "", "at": "(unreadable line)", "mac": ""}
        points.append(point)
    return points

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
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from sqlalchemy import Connection, select
from sqlalchemy.orm import Session

from ..errors import AuditUnavailable
from . import plain
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


_ENTRIES, _HEADS = AuditEntry.__table__, AuditHead.__table__  # Core tables: no ORM bookkeeping per statement
_HEAD = select(_HEADS.c.seq, _HEADS.c.hash).where(_HEADS.c.id == 1).with_for_update()
_APPEND = _ENTRIES.insert()
_START = _HEADS.insert().values(id=1)
_MOVE = _HEADS.update().where(_HEADS.c.id == 1)


def record(session: Session | Connection, sealer: Sealer, *, user_id: int | None, username: str, action: str, target: str = "",
           outcome: str = "ok", detail: str = "") -> AuditEntry:
    """Append one entry in the caller's transaction (so it commits or rolls back with the action).
    The head row is locked from here to the commit (FOR UPDATE; on SQLite the transaction holds
    the write lock from its start), so call this last. Statements built once and run on the
    driver (``plain``), not the ORM's unit of work: this runs in nearly every request. In a
    transaction that appends many entries (``Tail``), the head is read once and moved once."""
    connection = session.connection() if isinstance(session, Session) else session
    tail = _tails.get(connection)
    if tail is None:
        head = plain.first(connection, _HEAD)
        seq, prev = (head.seq, head.hash) if head is not None else (0, GENESIS)
    else:
        seq, prev = tail.head()
    entry = AuditEntry(seq=seq + 1, at=datetime.now(timezone.utc), user_id=user_id, username=username[:80],
                       action=action[:40], target=target[:100], outcome=outcome[:20], detail=detail[:200],
                       prev_hash=prev)
    entry.hash = _digest(entry, sealer.chain_key())
    plain.execute(connection, _APPEND, {c: getattr(entry, c) for c in _COLUMNS})
    if tail is None:
        plain.execute(connection, _START if head is None else _MOVE, {"seq": entry.seq, "hash": entry.hash})
    else:
        tail.moved_to(entry.seq, entry.hash)
    return entry


class Tail:
    """The chain's head for one transaction that appends many entries (``GroupCommit``'s): read,
    and locked, at the first entry, kept here as entries are appended, and written back once by
    ``close`` before the commit. ``mark`` and ``back_to`` follow a savepoint that is undone."""

    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        self._head: tuple[int, str] | None = None
        self._stored = False  # whether the head row exists (else it is inserted)
        self._written: tuple[int, str] | None = None

    def __enter__(self) -> "Tail":
        _tails[self.connection] = self
        return self

    def __exit__(self, *exc) -> None:
        _tails.pop(self.connection, None)

    def head(self) -> tuple[int, str]:
        if self._head is None:
            row = plain.first(self.connection, _HEAD)
            self._stored = row is not None
            self._head = self._written = (row.seq, row.hash) if row is not None else (0, GENESIS)
        return self._head

    def moved_to(self, seq: int, hash_: str) -> None:
        self._head = (seq, hash_)

    def mark(self) -> tuple[int, str] | None:
        return self._head

    def back_to(self, mark: tuple[int, str] | None) -> None:
        self._head = mark

    def close(self) -> None:
        """Write the head where the entries left it (nothing if none were appended)."""
        if self._head is not None and self._head != self._written:
            plain.execute(self.connection, _MOVE if self._stored else _START,
                          {"seq": self._head[0], "hash": self._head[1]})
            self._stored, self._written = True, self._head


_tails: dict[Connection, Tail] = {}  # a connection -> the Tail of the transaction it is in, while it appends

_COLUMNS = ("seq", "at", "user_id", "username", "action", "target", "outcome", "detail", "prev_hash", "hash")


def record_read(commits, sealer: Sealer, **entry) -> None:
    """The audit entry of a read (a case viewed, a batch's progress polled), written with the
    other writes waiting (``commits.GroupCommit``) and committed before this returns; raises
    AuditUnavailable if it could not be, and the read must then not be answered."""
    try:
        commits.run(lambda s: record(s, sealer, **entry))
    except Exception as exc:
        raise unrecorded() from exc


def unrecorded() -> AuditUnavailable:
    """The error of a read whose access could not be recorded (the read is not answered)."""
    return AuditUnavailable("The access could not be recorded, so it was not allowed; "
                            "try again, or tell the service's administrator.")


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

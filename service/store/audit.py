"""The append-only audit log of every access to child data: who, what, when, outcome.

Entries form a hash chain: each entry's hash covers its fields and the hash before it (an HMAC
keyed from STEPDOWN_DATA_KEY when one is set, so nobody without the key can rebuild a chain
after editing it). The database refuses UPDATE and DELETE on the table (triggers, from the
migrations). ``verify_audit`` recomputes the chain and names the first entry that does not fit.
Targets are record ids ("case:<uuid>"); field values never go into the log.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass
from datetime import datetime, timezone

from sqlalchemy import select
from sqlalchemy.orm import Session

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


def record(session: Session, sealer: Sealer, *, user_id: int | None, username: str, action: str, target: str = "",
           outcome: str = "ok", detail: str = "") -> AuditEntry:
    """Append one entry in the caller's transaction (so it commits or rolls back with the action)."""
    head = session.execute(select(AuditHead).where(AuditHead.id == 1).with_for_update()).scalar_one_or_none()
    if head is None:
        head = AuditHead(id=1, seq=0, hash=GENESIS)
        session.add(head)
    entry = AuditEntry(seq=head.seq + 1, at=datetime.now(timezone.utc), user_id=user_id, username=username[:80],
                       action=action[:40], target=target[:100], outcome=outcome[:20], detail=detail[:200],
                       prev_hash=head.hash)
    entry.hash = _digest(entry, sealer.chain_key())
    head.seq, head.hash = entry.seq, entry.hash
    session.add(entry)
    session.flush()
    return entry


@dataclass
class AuditCheck:
    ok: bool
    entries: int
    first_bad: int | None = None
    problem: str = ""


def verify_audit(session: Session, sealer: Sealer) -> AuditCheck:
    key = sealer.chain_key()
    prev, expected_seq, count = GENESIS, 1, 0
    for entry in session.execute(select(AuditEntry).order_by(AuditEntry.seq)).scalars():
        count += 1
        if entry.seq != expected_seq:
            return AuditCheck(False, count, expected_seq, f"entry {expected_seq} is missing")
        if entry.prev_hash != prev or _digest(entry, key) != entry.hash:
            return AuditCheck(False, count, entry.seq, f"entry {entry.seq} was changed")
        prev, expected_seq = entry.hash, expected_seq + 1
    head = session.get(AuditHead, 1)
    if head is not None and (head.seq != expected_seq - 1 or head.hash != prev):
        return AuditCheck(False, count, expected_seq, "entries after the last one were removed")
    return AuditCheck(True, count)

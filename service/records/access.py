"""Team boundaries on stored records, in one place: load a record of the acting user's team,
or refuse as "not found" — another team's record looks exactly like no record — with the
refusal audited in its own transaction (the request's own work is rolled back)."""

from __future__ import annotations

from typing import TypeVar

from ..errors import NotFound
from ..store import Database, record
from .accounts import Actor

Row = TypeVar("Row")
MAX_ID = 36  # our ids are UUIDs; anything longer cannot be one


def log_refusal(db: Database, actor: Actor, action: str, target: str, outcome: str, detail: str = "") -> None:
    """An audit entry in its own transaction, for a request whose own work is rolled back."""
    with db.session() as s:
        record(s, db.sealer, user_id=actor.user_id, username=actor.username, action=action, target=target[:100],
               outcome=outcome, detail=detail)


def deny(db: Database, actor: Actor, action: str, target: str) -> NotFound:
    """Log a refused access and return the error to raise."""
    log_refusal(db, actor, action, target, "denied")
    return NotFound("There is no such record, or it belongs to another team.")


def load_for_team(db: Database, s, actor: Actor, model: type[Row], record_id: object, action: str) -> Row:
    """The ``model`` row with ``record_id`` if it belongs to the actor's team; else the session
    is rolled back and NotFound raised (audited as ``action`` on ``<table>:<id>``)."""
    row = s.get(model, record_id) if isinstance(record_id, str) and len(record_id) <= MAX_ID else None
    if row is None or row.team_id != actor.team_id:
        s.rollback()
        raise deny(db, actor, action, f"{model.__tablename__[:-1]}:{record_id}")  # cases -> case:<id>
    return row

"""A child's case record: entered once, used to prefill any form, updated by accepted
submissions. Values are keyed by the case attributes of ``service.case_record`` (child_name,
su_number, date_of_birth, social_worker_name, ...), which also cleans them. Every change is
kept in the history with its old and new value, who made it and from where."""

from __future__ import annotations

import unicodedata
import uuid
from datetime import datetime, timezone
from typing import Callable, Literal

from sqlalchemy import bindparam, select

from ..case_mapping import left_out, prefill_from_case
from ..case_record import clean_values, su_key
from ..dates import read_date
from ..errors import Conflict, NotFound, RecordInvalid, Unreadable
from ..spec.model import FormSpec
from ..store import Database, record, unrecorded
from ..store.models import Case, CaseChange, CaseUse, User
from .access import MAX_ID, load_for_team
from .accounts import Actor


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _view(db: Database, case: Case) -> dict:
    return {"id": case.id, "su_number": case.su_number, "values": db.sealer.loads(case.values),
            "created_at": case.created_at, "updated_at": case.updated_at, "closed_at": case.closed_at}


def load_case(db: Database, s, actor: Actor, case_id: str, action: str) -> Case:
    return load_for_team(db, s, actor, Case, case_id, action)


def create_case(db: Database, actor: Actor, values: object) -> dict:
    clean = {k: v for k, v in clean_values(values).items() if v is not None}
    su = clean.get("su_number")
    if not su:
        raise RecordInvalid("A case needs its SU number ('su_number').")
    with db.session() as s:
        _no_other_case(s, actor, su)
        now = _now()
        case = Case(id=str(uuid.uuid4()), team_id=actor.team_id, su_number=su, su_key=su_key(su),
                    values=db.sealer.dumps(clean), created_at=now, updated_at=now)
        s.add(case)
        s.flush()
        for key, value in clean.items():
            s.add(CaseChange(case_id=case.id, key=key, change=db.sealer.dumps({"old": None, "new": value}),
                             source="entered", submission_id=None, user_id=actor.user_id, at=now))
        record(s, db.sealer, user_id=actor.user_id, username=actor.username, action="case.create",
               target=f"case:{case.id}")
        return _view(db, case)


def _no_other_case(s, actor: Actor, su: str, but: str | None = None) -> None:
    """One child, one case: another case of the team with this SU number (compared without case
    or spaces) is refused, naming it so the person can go to it."""
    other = s.scalar(select(Case.id).where(Case.team_id == actor.team_id, Case.su_key == su_key(su),
                                           *([Case.id != but] if but else [])))
    if other is not None:
        clash = Conflict("Your team already has a case with this SU number (SU numbers are compared without "
                         "capitals or spaces).", "case_exists", {"case_id": other})
        clash.field = "su_number"
        raise clash


def get_case(db: Database, actor: Actor, case_id: str) -> dict:
    with db.reading() as s:
        view = _view(db, load_case(db, s, actor, case_id, "case.read"))
    db.audit_read(user_id=actor.user_id, username=actor.username, action="case.read", target=f"case:{view['id']}")
    return view


_CASE = select(*(Case.__table__.c[k] for k in ("id", "team_id", "su_number", "values", "created_at", "updated_at",
                                               "closed_at"))).where(Case.id == bindparam("id"))


async def get_case_async(db: Database, actor: Actor, case_id: str) -> dict:
    """``get_case`` for a caller on the event loop: the row read and the access recorded with the
    other small writes waiting (``Database.read_then_write``), answered once the entry is
    durable; another team's case (or none) not found, and recorded as refused, as there."""
    def audited(connection, row):
        allowed = row is not None and row.team_id == actor.team_id
        record(connection, db.sealer, user_id=actor.user_id, username=actor.username, action="case.read",
               target=f"case:{case_id}"[:100], outcome="ok" if allowed else "denied")
        return row if allowed else None

    try:
        row = await db.read_then_write(_CASE if len(case_id) <= MAX_ID else None, {"id": case_id}, audited)
    except Exception as exc:  # not recorded, so not answered
        raise unrecorded() from exc
    if row is None:
        raise NotFound("There is no such record, or it belongs to another team.")
    return _view(db, row)


def _folded(text: object) -> str:
    """Text as a search compares it: no accents ("Ŵyn" is "wyn"), no case, single spaces."""
    plain = "".join(ch for ch in unicodedata.normalize("NFKD", str(text or "")) if not unicodedata.combining(ch))
    return " ".join(plain.split()).casefold()


def _matches(search: str) -> Callable[[dict], bool]:
    """What a search finds: a date (DD/MM/YYYY, or as ``dates.read_date`` reads one) finds the
    children born that day; anything else, the SU numbers (without case or spaces) and the
    children's names (without accents or case) that contain it."""
    try:
        born = read_date(search).isoformat() if any(ch.isdigit() for ch in search) else None
    except Unreadable:
        born = None
    words, key = _folded(search), su_key(search)
    if born:
        return lambda c: c["values"].get("date_of_birth") == born or key in su_key(c["su_number"])
    return lambda c: key in su_key(c["su_number"]) or words in _folded(c["values"].get("child_name"))


def list_cases(db: Database, actor: Actor, *, search: str | None = None, closed: bool = False) -> list[dict]:
    """The team's open cases (``closed``: the closed ones instead) by SU number; ``search``
    keeps those it matches (``_matches``). Names and dates of birth are sealed, so the search
    runs here, not in SQL."""
    search = " ".join((search or "").split())
    with db.reading() as s:
        state = Case.closed_at.is_not(None) if closed else Case.closed_at.is_(None)
        cases = [_view(db, c) for c in
                 s.scalars(select(Case).where(Case.team_id == actor.team_id, state).order_by(Case.su_number))]
    if search:
        cases = list(filter(_matches(search), cases))
    db.audit_read(user_id=actor.user_id, username=actor.username, action="case.list",
                  target=f"team:{actor.team_id}", detail=f"{len(cases)} cases" + (" (search)" if search else ""))
    return cases


def apply_changes(db: Database, s, actor: Actor, case: Case, changes: dict, *, source: str,
                  submission_id: str | None = None) -> list[str]:
    """Write ``changes`` (key -> new value, None to clear) into the case with a history row each;
    the keys that really changed."""
    current = db.sealer.loads(case.values)
    changed, now = [], _now()
    for key, new in changes.items():
        old = current.get(key)
        if old == new:
            continue
        if new is None:
            current.pop(key, None)
        else:
            current[key] = new
        s.add(CaseChange(case_id=case.id, key=key, change=db.sealer.dumps({"old": old, "new": new}), source=source,
                         submission_id=submission_id, user_id=actor.user_id, at=now))
        changed.append(key)
    if changed:
        if "su_number" in changed:
            if not current.get("su_number"):
                raise RecordInvalid("A case cannot lose its SU number.")
            _no_other_case(s, actor, current["su_number"], but=case.id)
            case.su_number, case.su_key = current["su_number"], su_key(current["su_number"])
        case.values = db.sealer.dumps(current)
        case.updated_at = now
    return changed


def update_case(db: Database, actor: Actor, case_id: str, values: object) -> dict:
    changes = clean_values(values)
    with db.session() as s:
        case = load_case(db, s, actor, case_id, "case.update")
        changed = apply_changes(db, s, actor, case, changes, source="entered")
        record(s, db.sealer, user_id=actor.user_id, username=actor.username, action="case.update",
               target=f"case:{case.id}", detail=f"{len(changed)} values changed")
        return _view(db, case)


def case_history(db: Database, actor: Actor, case_id: str) -> list[dict]:
    with db.session() as s:
        case = load_case(db, s, actor, case_id, "case.history")
        rows = s.execute(select(CaseChange, User.username).join(User, User.id == CaseChange.user_id)
                         .where(CaseChange.case_id == case.id).order_by(CaseChange.id)).all()
        record(s, db.sealer, user_id=actor.user_id, username=actor.username, action="case.history",
               target=f"case:{case.id}")
        return [{"key": c.key, **db.sealer.loads(c.change), "source": c.source, "submission_id": c.submission_id,
                 "by": username, "at": c.at} for c, username in rows]


def prefill_for_case(db: Database, actor: Actor, spec: FormSpec, case_id: str, *,
                     use: Literal["always", "if_complete"] = "always") -> tuple[dict, list[dict]]:
    """The form's data from the case, and the fields left empty because the case's value does
    not fit them (``case_mapping.left_out``: path and message each). The case page lists the
    form as made from the case (``use``): always, or only if nothing was left out (a page that
    first warns the person, who may then not download it)."""
    with db.session() as s:
        case = load_case(db, s, actor, case_id, "case.prefill")
        values = db.sealer.loads(case.values)
        data, skipped = prefill_from_case(spec, values)
        if use == "always" or not skipped:
            s.add(CaseUse(case_id=case.id, kind="form", what=spec.id, user_id=actor.user_id, at=_now()))
        record(s, db.sealer, user_id=actor.user_id, username=actor.username, action="case.prefill",
               target=f"case:{case.id}", detail=f"form {spec.id}")
        return data, left_out(spec, values, skipped)


def case_uses(db: Database, actor: Actor, case_id: str) -> list[dict]:
    """What was made from the case, newest first: forms downloaded prefilled, packs built."""
    with db.reading() as s:
        case = load_case(db, s, actor, case_id, "case.uses")
        rows = s.execute(select(CaseUse, User.username).join(User, User.id == CaseUse.user_id)
                         .where(CaseUse.case_id == case.id).order_by(CaseUse.at.desc(), CaseUse.id.desc())
                         .limit(200)).all()
    return [{"kind": u.kind, "what": u.what, "job_id": u.job_id, "by": name, "at": u.at} for u, name in rows]


def set_closed(db: Database, actor: Actor, case_id: str, closed: bool) -> dict:
    """Close (archive) a case, or reopen it. A closed case is kept whole, with its history; it
    leaves the lists and the choice of cases to prefill from until it is reopened."""
    with db.session() as s:
        case = load_case(db, s, actor, case_id, "case.close" if closed else "case.reopen")
        if closed != (case.closed_at is not None):
            case.closed_at = _now() if closed else None
            record(s, db.sealer, user_id=actor.user_id, username=actor.username,
                   action="case.close" if closed else "case.reopen", target=f"case:{case.id}")
        return _view(db, case)

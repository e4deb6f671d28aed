"""A child's case record: entered once, used to prefill any form, updated by accepted
submissions. Values are keyed by the case attributes the specs name (``CASE_KEYS``: child_name,
su_number, date_of_birth, social_worker_name, ...). Every change is kept in the history with
its old and new value, who made it and from where."""

from __future__ import annotations

import uuid
from datetime import date, datetime, timezone

from sqlalchemy import select

from ..convert import choice_value
from ..errors import NotFound, RecordInvalid
from ..shape import set_at
from ..spec.model import CASE_KEYS, ChoiceField, DateField, FormSpec, IntegerField
from ..store import Database, record
from ..store.models import Case, CaseChange, User
from ..validation import validate
from .accounts import Actor

MAX_VALUE_CHARS = 1000


def clean_values(values: object) -> dict:
    """Case values as stored: known keys only, text trimmed, age a whole number, date of birth
    an ISO date. An empty value removes the key. Raises RecordInvalid naming the key."""
    if not isinstance(values, dict):
        raise RecordInvalid("Case values must be an object of case attributes.")
    out: dict[str, object] = {}
    for key, value in values.items():
        if key not in CASE_KEYS:
            raise RecordInvalid(f"'{key}' is not a case attribute; known: {', '.join(sorted(CASE_KEYS))}.")
        if value is None or (isinstance(value, str) and not value.strip()):
            out[key] = None
        elif key == "age":
            if isinstance(value, str) and value.strip().isdigit():
                value = int(value.strip())
            if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= 30:
                raise RecordInvalid("'age' must be a whole number from 0 to 30.")
            out[key] = value
        elif key == "date_of_birth":
            try:
                out[key] = date.fromisoformat(str(value).strip()).isoformat()
            except ValueError:
                raise RecordInvalid("'date_of_birth' must be a date written YYYY-MM-DD.") from None
        elif isinstance(value, str):
            text = " ".join(value.split()) if key != "foster_carer_names" else value.strip()
            if len(text) > MAX_VALUE_CHARS:
                raise RecordInvalid(f"'{key}' is longer than {MAX_VALUE_CHARS} characters.")
            out[key] = text
        else:
            raise RecordInvalid(f"'{key}' must be text.")
    return out


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _view(db: Database, case: Case) -> dict:
    return {"id": case.id, "su_number": case.su_number, "values": db.sealer.loads(case.values),
            "created_at": case.created_at, "updated_at": case.updated_at}


def log_refusal(db: Database, actor: Actor, action: str, target: str, outcome: str, detail: str = "") -> None:
    """An audit entry in its own transaction, for a request whose own work is rolled back."""
    with db.session() as s:
        record(s, db.sealer, user_id=actor.user_id, username=actor.username, action=action, target=target,
               outcome=outcome, detail=detail)


def deny(db: Database, actor: Actor, action: str, target: str) -> NotFound:
    """Log a refused access (in its own transaction, so it stays when the request's is rolled
    back) and return the error to raise: another team's record looks the same as no record."""
    log_refusal(db, actor, action, target, "denied")
    return NotFound("There is no such record, or it belongs to another team.")


def load_case(db: Database, s, actor: Actor, case_id: str, action: str) -> Case:
    case = s.get(Case, case_id) if isinstance(case_id, str) and len(case_id) <= 36 else None
    if case is None or case.team_id != actor.team_id:
        s.rollback()
        raise deny(db, actor, action, f"case:{case_id}"[:100])
    return case


def create_case(db: Database, actor: Actor, values: object) -> dict:
    clean = {k: v for k, v in clean_values(values).items() if v is not None}
    su = clean.get("su_number")
    if not su:
        raise RecordInvalid("A case needs its SU number ('su_number').")
    with db.session() as s:
        if s.scalar(select(Case).where(Case.team_id == actor.team_id, Case.su_number == su)) is not None:
            from ..errors import Conflict

            raise Conflict("Your team already has a case with this SU number.", "case_exists")
        now = _now()
        case = Case(id=str(uuid.uuid4()), team_id=actor.team_id, su_number=su, values=db.sealer.dumps(clean),
                    created_at=now, updated_at=now)
        s.add(case)
        s.flush()
        for key, value in clean.items():
            s.add(CaseChange(case_id=case.id, key=key, change=db.sealer.dumps({"old": None, "new": value}),
                             source="entered", submission_id=None, user_id=actor.user_id, at=now))
        record(s, db.sealer, user_id=actor.user_id, username=actor.username, action="case.create",
               target=f"case:{case.id}")
        return _view(db, case)


def get_case(db: Database, actor: Actor, case_id: str) -> dict:
    with db.session() as s:
        case = load_case(db, s, actor, case_id, "case.read")
        record(s, db.sealer, user_id=actor.user_id, username=actor.username, action="case.read", target=f"case:{case.id}")
        return _view(db, case)


def list_cases(db: Database, actor: Actor, *, search: str | None = None) -> list[dict]:
    """The team's cases by SU number; ``search`` keeps those whose SU number or child's name
    contains it (any case and spacing). Names are sealed, so the search runs here, not in SQL."""
    words = " ".join((search or "").split()).casefold()
    with db.session() as s:
        cases = [_view(db, c) for c in
                 s.scalars(select(Case).where(Case.team_id == actor.team_id).order_by(Case.su_number))]
        if words:
            cases = [c for c in cases if words in c["su_number"].casefold()
                     or words in " ".join(str(c["values"].get("child_name") or "").split()).casefold()]
        record(s, db.sealer, user_id=actor.user_id, username=actor.username, action="case.list",
               target=f"team:{actor.team_id}", detail=f"{len(cases)} cases" + (" (search)" if words else ""))
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
            case.su_number = current["su_number"]
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


def prefill_from_values(spec: FormSpec, values: dict) -> tuple[dict, list[str]]:
    """Form data from case values, for every field outside tables that names a case attribute;
    and the paths of fields whose case value does not fit them (left empty)."""
    data: dict = {}
    skipped: list[str] = []
    for ref in spec.walk():
        f = ref.field
        key = getattr(f, "case", None)
        if key is None or ref.in_repeat is not None or values.get(key) in (None, ""):
            continue
        value = values[key]
        if isinstance(f, ChoiceField):
            value = choice_value(f, str(value))
        elif isinstance(f, IntegerField):
            value = value if isinstance(value, int) else None
        elif isinstance(f, DateField):
            value = str(value)
        else:
            value = str(value)
        if value is None:
            skipped.append(ref.path)
            continue
        set_at(data, ref.path, value)
    for issue in validate(spec, data, partial=True).errors:
        if issue.path in {r.path for r in spec.walk()}:
            set_at(data, issue.path, None)
            skipped.append(issue.path)
    return data, sorted(set(skipped))


def prefill_for_case(db: Database, actor: Actor, spec: FormSpec, case_id: str) -> tuple[dict, list[str]]:
    with db.session() as s:
        case = load_case(db, s, actor, case_id, "case.prefill")
        record(s, db.sealer, user_id=actor.user_id, username=actor.username, action="case.prefill",
               target=f"case:{case.id}", detail=f"form {spec.id}")
        return prefill_from_values(spec, db.sealer.loads(case.values))

"""Completed forms uploaded, read, stored and accepted into a case.

We keep what was read (data, sources, errors, warnings: sealed) and the file's SHA-256 and
size, never the file. Reading happens under a limit on how many uploads are parsed at once,
and on how many of one person's (one: a user sending file after file, by mistake or to attack,
holds one parser and never all of them); an upload that cannot be read stores nothing. Accepting copies the form's case values into the
child's case: new values are added, equal ones left, and a value that differs from the case is
a conflict the user must settle (take the form's or keep the case's) — never taken silently.
"""

from __future__ import annotations

import asyncio
import hashlib
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone
from types import SimpleNamespace

from sqlalchemy import bindparam, func, select

from ..case_mapping import case_values_from, compare
from ..case_record import su_key
from .duplicates import check_acceptable, earlier_uploads
from ..documents import extract_document_async, is_pdf
from ..errors import Conflict, DocumentError, NotFound, RecordInvalid
from ..extract import up_to_date
from ..spec.model import FormSpec
from ..store import Database, plain, record
from ..store.models import Case, Submission, User
from .access import MAX_ID, deny, load_for_team, log_refusal
from .accounts import Actor
from .cases import apply_changes, load_case
from .reading import reading_slot_async

def _now() -> datetime:
    return datetime.now(timezone.utc)


def _summary(sub: Submission, uploader: str | None = None) -> dict:
    return {"id": sub.id, "form": sub.form, "spec_version": sub.spec_version, "document_version": sub.document_version,
            "document_id": sub.document_id, "format": sub.format, "sha256": sub.sha256, "size": sub.size,
            "status": sub.status, "case_id": sub.case_id, "errors": sub.error_count, "warnings": sub.warning_count,
            "uploaded_at": sub.uploaded_at, "uploaded_by": uploader, "accepted_at": sub.accepted_at}


async def receive_submission_async(db: Database, actor: Actor, registry, raw: bytes, *, case_id: str | None = None,
                                   form: str | None = None) -> dict:
    """Read an uploaded .docx or .pdf (the format decided by its content), store what was read
    and link it to a case of the user's team (the one given, or the one whose SU number the
    form carries). For a caller on an event loop: the parser's answer and the commit are each
    awaited there, so no thread is handed the request and none waits for it (the case is read in
    place on SQLite, inside the commit's transaction on PostgreSQL: ``read_then_write``; only a
    worker that must be started, or a read SQLite cannot make in place, takes a thread)."""
    digest = hashlib.sha256(raw).hexdigest()
    try:
        if not raw:
            raise DocumentError("The file is empty.", "not_a_zip")
        async with reading_slot_async(actor.user_id, db.settings.parse_concurrency):
            extraction = await extract_document_async(raw, registry, form=form)
    except DocumentError as exc:
        code = exc.code
        await db.write_together_async(lambda s: record(s, db.sealer, user_id=actor.user_id, username=actor.username,
                                                       action="submission.upload", target=f"sha256:{digest[:16]}",
                                                       outcome="refused", detail=code))
        raise
    spec = registry.get(extraction.form)
    result = extraction.to_dict()
    row = dict(id=str(uuid.uuid4()), team_id=actor.team_id, case_id=None, form=extraction.form,
               spec_version=extraction.spec_version, document_version=extraction.document_version,
               document_id=extraction.document_id, format="pdf" if is_pdf(raw) else "docx", sha256=digest,
               size=len(raw), result=db.sealer.dumps(result), error_count=len(extraction.errors),
               warning_count=len(extraction.warnings), status="received", uploaded_by=actor.user_id,
               uploaded_at=_now())

    def store(connection, case):
        """The upload's row and audit entry, in the case found; or, for a case asked for that is
        not one of the team's, only the refusal (NotFound, as ``load_for_team``)."""
        if case_id and (case is None or case.team_id != actor.team_id):
            record(connection, db.sealer, user_id=actor.user_id, username=actor.username, action="submission.upload",
                   target=f"case:{case_id}"[:100], outcome="denied")
            return _DENIED
        row["case_id"] = case.id if case else None
        plain.execute(connection, _INSERT, row)
        record(connection, db.sealer, user_id=actor.user_id, username=actor.username, action="submission.upload",
               target=f"submission:{row['id']}", detail=f"form {row['form']}")
        return case

    statement, params = _case_query(actor, spec, extraction.data, case_id)
    case = await db.read_then_write(statement, params, store)  # committed with the others waiting: durable now
    if case is _DENIED:
        raise NotFound("There is no such record, or it belongs to another team.")
    return {**_summary(SimpleNamespace(**row, accepted_at=None), actor.username), "result": result,
            "case_values": _case_comparison(db, spec, extraction.data, case)}


def receive_submission(db: Database, actor: Actor, registry, raw: bytes, *, case_id: str | None = None,
                       form: str | None = None) -> dict:
    """``receive_submission_async`` for a caller that is not a coroutine (a script, a test): on a
    loop of its own, in a thread of its own if this thread is already running one."""
    def run() -> dict:
        return asyncio.run(receive_submission_async(db, actor, registry, raw, case_id=case_id, form=form))

    try:
        asyncio.get_running_loop()
    except RuntimeError:  # no loop here: the usual case
        return run()
    with ThreadPoolExecutor(1) as thread:
        return thread.submit(run).result()


# Core statements built once: an upload runs them in nearly every request, without the ORM's bookkeeping
_CASES = Case.__table__
_CASE_FIELDS = (_CASES.c.id, _CASES.c.team_id, _CASES.c["values"])
_CASE_BY_SU = select(*_CASE_FIELDS).where(_CASES.c.team_id == bindparam("team"), _CASES.c.su_key == bindparam("su"))
_CASE_BY_ID = select(*_CASE_FIELDS).where(_CASES.c.id == bindparam("id"))
_INSERT = Submission.__table__.insert()


_DENIED = object()  # what ``store`` gives for a case of another team's


def _case_query(actor: Actor, spec: FormSpec, data: dict, case_id: str | None):
    """The read that finds an upload's case (statement, parameters), or (None, {}) for none:
    the case asked for, else the team's case with the form's SU number."""
    if case_id:
        return (_CASE_BY_ID, {"id": case_id}) if len(case_id) <= MAX_ID else (None, {})
    su = case_values_from(spec, data).get("su_number")
    return (_CASE_BY_SU, {"team": actor.team_id, "su": su_key(su)}) if su else (None, {})


def _case_comparison(db: Database, spec: FormSpec, data: dict, case) -> list[dict]:
    """``case``: a Case, or a row with its ``values``, or None."""
    return compare(db.sealer.loads(case.values) if case else {}, case_values_from(spec, data))


def _load(db: Database, s, actor: Actor, submission_id: str, action: str) -> Submission:
    return load_for_team(db, s, actor, Submission, submission_id, action)


def get_submission(db: Database, actor: Actor, registry, submission_id: str) -> dict:
    with db.reading() as s:
        sub = _load(db, s, actor, submission_id, "submission.read")
        result = up_to_date(registry, db.sealer.loads(sub.result), sub.spec_version)
        case = s.get(Case, sub.case_id) if sub.case_id else None
        uploader = s.get(User, sub.uploaded_by)
        view = {**_summary(sub, uploader.username if uploader else None), "result": result,  # + uploads, acceptance
                "case_values": _case_comparison(db, registry.get(sub.form), result["data"], case),
                **earlier_uploads(db, s, sub)}
    db.audit_read(user_id=actor.user_id, username=actor.username, action="submission.read",
                  target=f"submission:{view['id']}")
    return view


PER_PAGE = 50
STATUSES = ("received", "accepted", "discarded")


def list_submissions(db: Database, actor: Actor, *, form: str | None = None, status: str | None = None,
                     case_id: str | None = None, page: int = 1, per_page: int = PER_PAGE) -> dict:
    """A page of the team's submissions, newest first: ``{"items", "total", "page", "pages"}``.
    Each item has the child's SU number and name from its case, if it has one. Filters: the
    form, the status (by default every status but discarded) and the case."""
    per_page = max(1, min(per_page, 500))
    with db.session() as s:
        where = [Submission.team_id == actor.team_id]
        if form:
            where.append(Submission.form == form)
        where.append(Submission.status == status if status else Submission.status != "discarded")
        if case_id:
            where.append(Submission.case_id == case_id)
        total = s.scalar(select(func.count()).select_from(Submission).where(*where)) or 0
        pages = max(1, -(-total // per_page))
        page = max(1, min(page, pages))
        rows = s.execute(select(Submission, User.username, Case.su_number, Case.values)
                         .join(User, User.id == Submission.uploaded_by).outerjoin(Case, Case.id == Submission.case_id)
                         .where(*where).order_by(Submission.uploaded_at.desc(), Submission.id)
                         .offset((page - 1) * per_page).limit(per_page)).all()
        record(s, db.sealer, user_id=actor.user_id, username=actor.username, action="submission.list",
               target=f"team:{actor.team_id}", detail=f"{len(rows)} of {total} submissions, page {page}")
        items = [{**_summary(sub, name), "su_number": su,
                  "child_name": db.sealer.loads(values).get("child_name") if values else None}
                 for sub, name, su, values in rows]
    return {"items": items, "total": total, "page": page, "pages": pages}


def discard_submission(db: Database, actor: Actor, submission_id: str) -> dict:
    """Set aside an upload that could not be used: what was read from it is removed (only the
    form, the file's hash and size and who uploaded it when stay, with the audit entry); an
    accepted one cannot be discarded."""
    with db.session() as s:
        sub = _load(db, s, actor, submission_id, "submission.discard")
        if sub.status != "received":
            raise Conflict(f"Only an upload waiting for review can be discarded; this one is {sub.status}.",
                           "not_discardable")
        sub.status = "discarded"
        sub.result = db.sealer.dumps({"data": {}, "sources": {}, "errors": [], "warnings": [], "discarded": True})
        record(s, db.sealer, user_id=actor.user_id, username=actor.username, action="submission.discard",
               target=f"submission:{sub.id}")
        return _summary(sub, None)


def accept_submission(db: Database, actor: Actor, registry, submission_id: str, *, case_id: str | None = None,
                      create_case: bool = False, resolutions: dict[str, str] | None = None) -> dict:
    """Accept a submission into a case. ``resolutions``: case key -> "form" (take the form's
    value) or "case" (keep the case's) for every conflict; any conflict left unsettled is
    refused with the list of conflicts (code ``unresolved_conflicts``). A refusal is audited."""
    try:
        return _accept(db, actor, registry, submission_id, case_id=case_id, create_case=create_case,
                       resolutions=resolutions)
    except (Conflict, RecordInvalid) as exc:
        log_refusal(db, actor, "submission.accept", f"submission:{submission_id}", "refused", exc.code)
        raise


def _accept(db: Database, actor: Actor, registry, submission_id: str, *, case_id: str | None,
            create_case: bool, resolutions: dict[str, str] | None) -> dict:
    resolutions = resolutions or {}
    if any(v not in ("form", "case") for v in resolutions.values()):
        raise RecordInvalid('Each resolution is "form" (take the form\'s value) or "case" (keep the case\'s).')
    with db.session() as s:
        sub = _load(db, s, actor, submission_id, "submission.accept")
        if sub.status == "accepted":
            raise Conflict("This submission has already been accepted.", "already_accepted")
        result = up_to_date(registry, db.sealer.loads(sub.result), sub.spec_version)
        if sub.error_count:
            raise Conflict(f"The form has {sub.error_count} errors; correct the document and upload it again "
                           "before accepting it.", "submission_invalid")
        revises = check_acceptable(db, s, sub)  # one document, one acceptance (a newer revision may follow)
        spec = registry.get(sub.form)
        form_values = case_values_from(spec, result["data"])
        case = None
        if case_id or sub.case_id:
            case = load_case(db, s, actor, case_id or sub.case_id, "submission.accept")
        elif form_values.get("su_number"):
            case = s.scalar(select(Case).where(Case.team_id == actor.team_id,
                                               Case.su_key == su_key(form_values["su_number"])))
        if case is None and not create_case:
            raise Conflict("No case of your team matches this form; choose one or create a new case.", "no_case")
        if case is None:
            if not form_values.get("su_number"):
                raise RecordInvalid("A new case needs the SU number, and the form does not give one.")
            now = _now()
            case = Case(id=str(uuid.uuid4()), team_id=actor.team_id, su_number=form_values["su_number"],
                        su_key=su_key(form_values["su_number"]), values=db.sealer.dumps({}), created_at=now,
                        updated_at=now)
            s.add(case)
            s.flush()
            record(s, db.sealer, user_id=actor.user_id, username=actor.username, action="case.create",
                   target=f"case:{case.id}", detail=f"from submission {sub.id}")
        rows = compare(db.sealer.loads(case.values), form_values)
        unsettled = [r for r in rows if r["status"] == "conflict" and r["key"] not in resolutions]
        if unsettled:
            raise Conflict(f"{len(unsettled)} values in the form differ from the case; choose which to keep.",
                           "unresolved_conflicts", details=unsettled)
        changes = {r["key"]: r["form_value"] for r in rows
                   if r["status"] == "new" or (r["status"] == "conflict" and resolutions[r["key"]] == "form")}
        changed = apply_changes(db, s, actor, case, changes, source="submission", submission_id=sub.id)
        sub.status, sub.case_id, sub.accepted_by, sub.accepted_at = "accepted", case.id, actor.user_id, _now()
        record(s, db.sealer, user_id=actor.user_id, username=actor.username, action="submission.accept",
               target=f"submission:{sub.id}", detail=f"case {case.id}; {len(changed)} values changed"
                                                      + (f"; revises submission {revises}" if revises else ""))
        return {**_summary(sub, None), "case_id": case.id, "changed": changed, "revises": revises}

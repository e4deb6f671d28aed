"""What a recurring meeting's pack needs from the child's record (``packs.history``): the last
accepted record of each form the pack starts from the last meeting, in the form's current
version, and every change to the case since the first of them was accepted (who, when, from
which document; never the values).

Read in the caller's transaction (a batch part's claim), which audits the use of the cases.
"""

from __future__ import annotations

from sqlalchemy import or_, select

from ..case_record import LABELS
from ..extract import up_to_date
from ..packs import PackSpec
from ..store import Database
from ..store.models import CaseChange, Submission, User

MAX_CHANGES = 200  # per case: the cover sheet lists 40 and counts the rest


def meeting_history(db: Database, s, registry, pack: PackSpec, cases: dict[str, str]) -> dict[str, dict]:
    """``cases``: case id -> the key the caller files it under (its SU key); returns key ->
    ``{"records": {form: {...}}, "changes": [...]}`` for the cases that have a last record."""
    main = pack.last_meeting_form
    forms = sorted({f.form for f in pack.forms if f.from_last is not None})
    if main is None or not cases:
        return {}
    out: dict[str, dict] = {}
    rows = s.execute(select(Submission.id, Submission.case_id, Submission.form, Submission.result,
                            Submission.spec_version, Submission.accepted_at, Submission.document_id)
                     .where(Submission.case_id.in_(list(cases)), Submission.status == "accepted",
                            Submission.form.in_(forms))
                     .order_by(Submission.accepted_at.desc(), Submission.id)).all()
    since: dict[str, tuple] = {}  # case id -> (the main form's last record accepted at, its id)
    for row in rows:
        entry = out.setdefault(cases[row.case_id], {"records": {}, "changes": []})
        if row.form in entry["records"]:
            continue  # an older record of the form
        result = up_to_date(registry, db.sealer.loads(row.result), row.spec_version)
        entry["records"][row.form] = {"data": result["data"], "accepted_at": row.accepted_at.isoformat(),
                                      "document_id": row.document_id, "submission_id": row.id}
        if row.form == main.form:
            since[row.case_id] = (row.accepted_at, row.id)
    for case_id, (accepted_at, submission_id) in since.items():
        changes = s.execute(
            select(CaseChange.key, CaseChange.at, User.username, Submission.form, Submission.document_id)
            .join(User, User.id == CaseChange.user_id)
            .outerjoin(Submission, Submission.id == CaseChange.submission_id)
            .where(CaseChange.case_id == case_id, CaseChange.at >= accepted_at,
                   or_(CaseChange.submission_id.is_(None), CaseChange.submission_id != submission_id))
            .order_by(CaseChange.at, CaseChange.id).limit(MAX_CHANGES)).all()
        out[cases[case_id]]["changes"] = [
            {"key": c.key, "label": LABELS.get(c.key, c.key), "at": c.at.isoformat(), "by": c.username,
             "form": c.form, "document_id": c.document_id} for c in changes]
    return out

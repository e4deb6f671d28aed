"""One document, one acceptance. Two uploads are of the same document when their files are the
same bytes (SHA-256) or carry the same document id (stamped into every form we make, kept
through Word, LibreOffice and PDF readers). The review shows the earlier uploads of the
document; accepting is refused when

- the same file was accepted already, or the same document with the same answers;
- a later upload of the document was accepted already (this one is an older revision: accepting
  it would undo the newer one's answers).

A later upload of an accepted document with different answers is a **newer revision**: it may
be accepted, and the acceptance says which one it revises. The check runs in the accepting
transaction with the document's uploads locked (PostgreSQL ``FOR UPDATE``, in id order; SQLite
writers take turns), so two people accepting the same document at once cannot both succeed.
"""

from __future__ import annotations

from sqlalchemy import or_, select

from ..errors import Conflict
from ..store import Database
from ..store.models import Submission


def _same_document(sub: Submission):
    same = Submission.sha256 == sub.sha256
    if sub.document_id:
        same = or_(same, Submission.document_id == sub.document_id)
    return select(Submission).where(Submission.team_id == sub.team_id, same)


def earlier_uploads(db: Database, s, sub: Submission) -> dict:
    """The team's other uploads of this document, oldest first, each with how it relates, and
    what accepting this one would be: ``{"uploads": [...], "acceptance": {"code", "message",
    "revises"}}`` (code "first", "revision", or a refusal's code)."""
    uploads = list(s.scalars(_same_document(sub).order_by(Submission.uploaded_at, Submission.id)))
    others = [{"id": o.id, "uploaded_at": o.uploaded_at, "status": o.status, "accepted_at": o.accepted_at,
               "same_file": o.sha256 == sub.sha256, "before": (o.uploaded_at, o.id) < (sub.uploaded_at, sub.id)}
              for o in uploads if o.id != sub.id]
    code, message, revises = _verdict(db, sub, uploads)
    return {"uploads": others, "acceptance": {"code": code, "message": message, "revises": revises}}


def _verdict(db: Database, sub: Submission, uploads: list[Submission]) -> tuple[str, str, str | None]:
    accepted = [o for o in uploads if o.id != sub.id and o.status == "accepted"]
    if not accepted:
        return "first", "", None
    when = lambda o: o.accepted_at.strftime("%d/%m/%Y")  # noqa: E731 - a date for the message
    for other in accepted:
        if other.sha256 == sub.sha256:
            return ("already_accepted", f"This file was already accepted (on {when(other)}); a document is accepted "
                    "once.", other.id)
    latest = max(accepted, key=lambda o: (o.uploaded_at, o.id))
    if db.sealer.loads(latest.result)["data"] == db.sealer.loads(sub.result)["data"]:
        return "already_accepted", f"The same answers from this document were already accepted (on {when(latest)}).", \
            latest.id
    if (latest.uploaded_at, latest.id) > (sub.uploaded_at, sub.id):
        return ("older_revision", f"A later upload of this document was accepted on {when(latest)}; this one is an "
                "older revision, and accepting it would undo the newer answers.", latest.id)
    return ("revision", f"This is a newer revision of the document accepted on {when(latest)}: its answers differ, "
            "and accepting it updates the case from them.", latest.id)


def check_acceptable(db: Database, s, sub: Submission) -> str | None:
    """Raise Conflict if ``sub`` may not be accepted (see the module); otherwise the id of the
    accepted upload it revises, or None. The document's uploads are locked first."""
    uploads = list(s.scalars(_same_document(sub).order_by(Submission.id).with_for_update()
                             .execution_options(populate_existing=True)))
    code, message, other = _verdict(db, sub, uploads)
    if code in ("first", "revision"):
        return other
    raise Conflict(message, code, {"submission_id": other})

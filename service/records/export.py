"""The register: a form's accepted submissions as an XLSX workbook, one row per submission.

Cells are safe to open and to edit: every text cell is stored as text (never a formula), and
one that starts with = + - @ or a control character is also marked "quote prefix", Excel's own
flag for text typed after an apostrophe, so it stays text even when someone edits the cell.
Control characters that XLSX cannot hold are replaced with U+FFFD.

Dates are real date cells (shown DD/MM/YYYY, times HH:MM, in UK time), so they sort and
filter as dates; the header row has an autofilter and stays in view.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from io import BytesIO

from sqlalchemy import select

from ..convert import display
from ..dates import in_uk
from ..errors import StepDownError
from ..extract import up_to_date
from ..shape import value_at
from ..spec.model import DateField, DateTimeField, FormSpec, GroupField, RepeatField
from ..store import Database, record
from ..store.models import Case, Submission, User
from .access import log_refusal
from .accounts import Actor

RISKY_START = ("=", "+", "-", "@", "\t", "\r", "\n")
_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
DATE_FORMAT, DATETIME_FORMAT = "DD/MM/YYYY", "DD/MM/YYYY HH:MM"


def _uk(moment: datetime) -> datetime:
    """A moment as the wall-clock time in England and Wales (Excel cells hold no time zone)."""
    return in_uk(moment).replace(tzinfo=None)


def _columns(spec: FormSpec) -> list[tuple[str, str, object]]:
    """(header, path, field) for each top-level or grouped field; a table is one column."""
    out = []

    def walk(fields, prefix: str, heading: str) -> None:
        for f in fields:
            if isinstance(f, GroupField):
                walk(f.fields, prefix + f.key + ".", f"{heading}{f.label}: ")
            else:
                out.append((heading + f.label, prefix + f.key, f))

    walk(spec.fields, "", "")
    return out


def _cell_text(f, value: object) -> object:
    if isinstance(value, str) and isinstance(f, (DateField, DateTimeField)):
        try:  # stored as ISO 8601; a real date cell, not text
            return date.fromisoformat(value) if isinstance(f, DateField) else datetime.fromisoformat(value)
        except ValueError:
            pass
    if isinstance(f, RepeatField):
        rows = value or []
        return "\n".join(f"{i}) " + "; ".join(display(sub, row.get(sub.key)) for sub in f.fields
                                               if row.get(sub.key) not in (None, "", [], False))
                         for i, row in enumerate(rows, 1)) or None
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, int):
        return value
    text = display(f, value) if value not in (None, "", []) else None
    return text


def write_cell(ws, row: int, column: int, value: object) -> None:
    cell = ws.cell(row=row, column=column)
    if isinstance(value, str):
        value = _ILLEGAL.sub("\ufffd", value)
        cell.value = value
        cell.data_type = "s"  # text, whatever it looks like
        if value.startswith(RISKY_START) or value[:1] == "\ufffd":
            cell.quotePrefix = True
    elif isinstance(value, datetime):
        cell.value = _uk(value) if value.tzinfo else value
        cell.number_format = DATETIME_FORMAT
    elif isinstance(value, date):
        cell.value = value
        cell.number_format = DATE_FORMAT
    else:
        cell.value = value


def register_xlsx(db: Database, actor: Actor, registry, form_id: str) -> bytes:
    """Accepted submissions of the form in the actor's team (managers and admins only), in the
    columns of its current version; a submission accepted under an earlier version has its
    answers moved by the versions' migrations (the version it was accepted in is listed)."""
    spec = registry.get(form_id)
    from openpyxl import Workbook  # deferred: it takes 0.17 s to load, and only registers need it
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    try:
        actor.require("manager")
    except StepDownError:
        log_refusal(db, actor, "export.register", f"team:{actor.team_id}", "denied", f"form {spec.id}")
        raise
    columns = _columns(spec)
    with db.session() as s:
        rows = s.execute(select(Submission, Case.su_number, User.username)
                         .join(Case, Case.id == Submission.case_id)
                         .join(User, User.id == Submission.accepted_by)
                         .where(Submission.team_id == actor.team_id, Submission.form == spec.id,
                                Submission.status == "accepted")
                         .order_by(Submission.accepted_at)).all()
        wb = Workbook()
        ws = wb.active
        ws.title = spec.id[:31]
        fixed = ["Submission", "Document", "SU number", "Accepted (UK time)", "Accepted by", "Spec version"]
        for c, header in enumerate(fixed + [h for h, _, _ in columns], 1):
            write_cell(ws, 1, c, header)
            ws.cell(row=1, column=c).font = Font(bold=True)
        for r, (sub, su, accepted_by) in enumerate(rows, 2):
            result = db.sealer.loads(sub.result)
            data = up_to_date(registry, result, sub.spec_version)["data"]
            values = [sub.id, sub.document_id or "", su, _uk(sub.accepted_at), accepted_by,
                      sub.spec_version]
            values += [_cell_text(f, value_at(data, path)) for _, path, f in columns]
            for c, value in enumerate(values, 1):
                if value is not None:
                    write_cell(ws, r, c, value)
        ws.freeze_panes = "B2"
        ws.auto_filter.ref = f"A1:{get_column_letter(len(fixed) + len(columns))}{len(rows) + 1}"
        record(s, db.sealer, user_id=actor.user_id, username=actor.username, action="export.register",
               target=f"team:{actor.team_id}", detail=f"form {spec.id}; {len(rows)} rows")
    out = BytesIO()
    wb.save(out)
    return out.getvalue()

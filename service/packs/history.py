"""A recurring meeting's pack starts from the last one: what the child's last accepted record of
a form gives the next meeting, and what the cover sheet says about the time between.

``history`` (made by ``records.history.meeting_history``, plain data so it can cross to a
worker process) is ``{"records": {form id: {"data", "accepted_at", "document_id",
"submission_id"}}, "changes": [{"key", "label", "at", "by", "form", "document_id"}]}``: the last
accepted record of each ``from_last`` form, in the form's current version, and the case's
changes since the first one was accepted.
"""

from __future__ import annotations

import copy
from datetime import date, datetime

from ..convert import display
from ..dates import in_uk, iso_date, iso_datetime, long_date
from ..shape import set_at, value_at
from ..spec.audiences import visible_paths
from ..spec.model import FormSpec
from .model import FromLast, PackSpec

MAX_CHANGES = 40  # listed on a cover sheet; more are counted


def as_date(value: object) -> date | None:
    """A stored date or date-time (ISO text) as a date; None if it is neither."""
    moment = iso_datetime(value)
    return moment.date() if moment else iso_date(value)


def _filled(value: object) -> bool:
    return value not in (None, "", [], False)


def start_from_last(spec: FormSpec, rule: FromLast, record: dict) -> tuple[dict, list[str]]:
    """This meeting's starting data from the last record, and the cover sheet's lines about the
    last meeting's actions (each with its status)."""
    last, data = record["data"], {}
    when = as_date(value_at(last, rule.date))
    if rule.into and when:
        set_at(data, rule.into, when.isoformat())
    for path in [f.key for f in spec.fields] if rule.copy_fields == "all" else rule.copy_fields:
        value = value_at(last, path)
        if _filled(value):
            set_at(data, path, copy.deepcopy(value))
    lines: list[str] = []
    if rule.actions:
        a = rule.actions
        cells = spec.field_at(a.rows).field.fields
        status = next(f for f in cells if f.key == a.status)
        carried = []
        for row in value_at(last, a.rows) or []:
            said = " – ".join(display(f, row.get(f.key)) for f in cells if f.key != a.status and row.get(f.key))
            state = status.label_for(row.get(a.status)) if row.get(a.status) else "no status given"
            if row.get(a.status) not in a.done:
                carried.append({**copy.deepcopy(row), a.status: a.carried})
                state += f"; carried forward as {status.label_for(a.carried)}"
            lines.append(f"{said} ({state})")
        set_at(data, a.rows, carried)
        if a.summary and lines:
            set_at(data, a.summary, "Actions of the last meeting:\n" + "\n".join(lines))
    return data, lines


def merge(base: dict, over: dict) -> dict:
    """``over``'s filled values on top of ``base`` (groups merged key by key)."""
    out = copy.deepcopy(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = merge(out[key], value)
        elif _filled(value) or key not in out:
            out[key] = copy.deepcopy(value)
    return out


def last_meeting_date(pack: PackSpec, history: dict | None) -> date | None:
    item = pack.last_meeting_form
    record = (history or {}).get("records", {}).get(item.form) if item else None
    return as_date(value_at(record["data"], item.from_last.date)) if record else None


def cover_sections(pack: PackSpec, registry, history: dict | None, action_lines: list[str],
                   audience: str = "professionals") -> list[tuple[str, list[str]]]:
    """The cover sheet's "last meeting" and "changed since" sections (none for a pack that does
    not start from the last meeting). Another audience than professionals gets the last
    meeting's actions only if its version of the form has them, and not the case's changes."""
    item = pack.last_meeting_form
    if item is None:
        return []
    rule = item.from_last
    if audience != "professionals" and (rule.actions is None or
                                        rule.actions.rows not in visible_paths(registry.get(item.form), audience)):
        action_lines = []
    record = (history or {}).get("records", {}).get(item.form)
    title = registry.get(item.form).title
    if record is None:
        return [("The last meeting", [f"No earlier {title} record has been accepted for this child: this pack "
                                      "starts from the child's case only."])]
    when = last_meeting_date(pack, history)
    accepted = in_uk(datetime.fromisoformat(record["accepted_at"]))
    last = [f"Held {long_date(when) if when else 'on a date not recorded'}; its {title} record was accepted on "
            f"{long_date(accepted.date())} (document {str(record.get('document_id') or record['submission_id'])[:8]})."]
    if action_lines:
        last.append("Its actions, and their status:")
        last += [f"• {line}" for line in action_lines]
    if audience != "professionals":
        return [("The last meeting", last)]
    changes = (history or {}).get("changes", [])
    said = [_change_line(c, registry) for c in changes[:MAX_CHANGES]]
    if len(changes) > MAX_CHANGES:
        said.append(f"… and {len(changes) - MAX_CHANGES} more changes (see the case's history).")
    return [("The last meeting", last),
            ("What changed since the last meeting", said or ["Nothing in the child's case has changed since then."])]


def _change_line(change: dict, registry) -> str:
    when = in_uk(datetime.fromisoformat(change["at"]))
    where = "entered on the case page"
    if change.get("form"):
        form = registry.get(change["form"]).title if change["form"] in registry.ids() else change["form"]
        where = f"from the {form} (document {str(change.get('document_id') or '')[:8]})"
    return f"{change['label']}: changed on {long_date(when.date())} at {when:%H:%M} by {change['by']}, {where}."

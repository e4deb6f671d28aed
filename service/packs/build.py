"""One pack: the cover sheet and each form, as fillable Word and PDF, prefilled from the meeting
row and the child's case, plus one combined PDF with a bookmark per document.

Prefill order, later winning: for a recurring meeting, the child's last accepted record of the
form (``history.py``: actions carried forward, the last meeting's date); the child's case
(latest accepted values), the case columns of the row, then the meeting values the pack maps
onto each form. A value that does not fit its
field is left out and reported as a warning; it never stops the pack.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, time

from ..case_mapping import left_out, prefill_from_case
from ..case_record import ATTRIBUTES
from ..convert import choice_value
from ..dates import iso, long_date
from ..documents import check_prefill, generate_document, generate_pdf_with_source
from ..docx.cover import cover_docx
from ..pdf.assemble import combine
from ..pdf.cover import cover_pdf_source
from ..shape import set_at
from ..spec import Registry
from ..spec.audiences import has_fields_for, only_what_it_holds, restricted
from ..spec.durations import breach, elapsed
from ..spec.model import ChoiceField, DateField, DateTimeField, FormSpec, RepeatField
from ..validation import validate
from .history import cover_sections, last_meeting_date, merge, start_from_last
from .meeting import Meeting
from .model import PackForm, PackSpec


@dataclass
class Cover:
    """What the cover sheet says."""

    pack_title: str
    purpose: str
    details: list[tuple[str, str]]  # label, value
    invitees: list[dict[str, str]]
    agenda: list[str]
    documents: list[str]
    warnings: list[str]
    sections: list[tuple[str, list[str]]] = field(default_factory=list)  # heading, lines: the last meeting


@dataclass(frozen=True)
class Stamp:
    """What makes a pack's documents the same bytes when it is built again (a batch part run a
    second time, after its worker died): when they were made and where their ids come from."""

    made: datetime
    seed: str  # a UUID: a document's id is derived from it and the file's place in the batch

    def document_id(self, name: str) -> str:
        return str(uuid.uuid5(uuid.UUID(self.seed), name))


@dataclass
class PackFile:
    name: str
    data: bytes
    form: str | None = None


@dataclass
class BuiltPack:
    folder: str
    files: list[PackFile] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def case_values_for(meeting: Meeting, case_values: dict | None) -> tuple[dict, list[str]]:
    """The child's case values with the row's case columns on top, and a warning for each
    column that differs from the stored case."""
    values = dict(case_values or {})
    warnings = []
    for attribute in ATTRIBUTES:
        if attribute.key in meeting.values:
            new = iso(meeting.values[attribute.key])
            if values.get(attribute.key) not in (None, "", new) and case_values:
                warnings.append(f"The spreadsheet's {attribute.label[0].lower() + attribute.label[1:]} differs from "
                                "the child's case; the spreadsheet's was used.")
            values[attribute.key] = new
    return values, warnings


def form_prefill(spec: FormSpec, item: PackForm, meeting: Meeting, values: dict,
                 start: dict | None = None) -> tuple[dict, list[str]]:
    """``start``: the data the form starts from (the last meeting's), under everything else."""
    data, skipped = prefill_from_case(spec, values)
    if start:
        data = merge(start, data)
    warnings = [f"{spec.title}: {said['message']}" for said in left_out(spec, values, skipped)]
    for path, key in item.prefill.items():
        raw = meeting.get(key)
        if raw in (None, "", []):
            continue
        f = spec.field_at(path).field
        value: object = raw
        if isinstance(f, RepeatField):
            value = [{**{s.key: None for s in f.fields}, **{k: v or None for k, v in person.items()}} for person in raw]
        elif isinstance(f, DateTimeField):
            value = iso(raw if isinstance(raw, datetime) else datetime.combine(raw, time(0, 0)))
        elif isinstance(f, DateField):
            value = iso(raw.date() if isinstance(raw, datetime) else raw)
        elif isinstance(f, ChoiceField):
            value = choice_value(f, str(raw))
            if value is None:
                warnings.append(f"{spec.title}: '{f.label}' has no choice matching the spreadsheet; left blank.")
                continue
        else:
            value = str(iso(raw))
        set_at(data, path, value)
    errors = validate(spec, data, partial=True).errors
    for issue in errors:
        top = issue.path.split("[")[0]
        ref = spec.field_at(top)
        if ref is not None:
            set_at(data, top, None if not isinstance(ref.field, RepeatField) else [])
            warnings.append(f"{spec.title}: '{ref.field.label}' could not take the value given and was left blank.")
    if errors:  # what is left must fit: the pack's files are made from it without checking again
        check_prefill(spec, data)
    return data, warnings


def timescale_warnings(pack: PackSpec, meeting: Meeting, last_meeting: date | None = None) -> list[str]:
    """``last_meeting``: when the child's last meeting of this pack was, if known."""
    def get(key: str) -> object:
        return last_meeting if key == "last_meeting_date" else meeting.get(key)

    out = []
    for t in pack.timescales:
        start, end = get(t.start), get(t.end)
        if t.during is not None:
            since = get(t.during.start)
            if not isinstance(since, date) or not isinstance(end, date) or \
                    breach(since, end, within=t.during.within) is not None:
                continue  # the timescale applies only during that time
        if isinstance(start, date) and isinstance(end, date):
            found = breach(start, end, within=t.within, at_least=t.at_least)
            if found is not None:
                out.append(f"{t.message} {found.briefly()}")
    return out


def agenda_for(pack: PackSpec, registry: Registry) -> list[str]:
    if pack.agenda:
        return list(pack.agenda)
    if pack.agenda_from:
        spec = registry.get(pack.agenda_from)
        for section in spec.sections:
            if section.agenda:
                return list(section.agenda)
    return []


def folder_name(meeting: Meeting, fallback: str) -> str:
    """Date and case reference, made safe: letters, digits, '-' and '_' only."""
    day = meeting.values.get("meeting_date")
    ref = str(meeting.values.get("su_number") or fallback)
    safe = "".join(c if c.isascii() and (c.isalnum() or c in "-_") else "-" for c in ref).strip("-")[:40] or fallback
    return f"{day.isoformat()}_{safe}" if isinstance(day, date) else safe


def _details(pack: PackSpec, meeting: Meeting) -> list[tuple[str, str]]:
    v = meeting.values
    when = v.get("meeting_date")
    shown_date = long_date(when) if isinstance(when, date) else ""
    at = v.get("meeting_time")
    rows = [("Meeting", pack.title), ("Child", str(v.get("child_name") or "")), ("SU number", str(v.get("su_number") or "")),
            ("Date", shown_date), ("Time", at.strftime("%H:%M") if isinstance(at, time) else ""),
            ("Venue", str(v.get("venue") or "")),
            ("Chair", " – ".join(x for x in (str(v.get("chair") or ""), str(v.get("chair_role") or pack.chair)) if x))]
    for item in pack.since:
        start = v.get(item.column)
        if isinstance(start, date) and isinstance(when, date):
            rows.append((item.label, elapsed(start.date() if isinstance(start, datetime) else start, when)))
    return [(label, value) for label, value in rows if value]


def build_pack(pack: PackSpec, registry: Registry, meeting: Meeting, *, case_values: dict | None = None,
               formats: tuple[str, ...] = ("docx", "pdf"), combined: bool = True, stamp: Stamp | None = None,
               history: dict | None = None) -> BuiltPack:
    """``stamp``: build the same bytes as any other build with the same stamp (new ids and now
    by default). ``history``: the child's last accepted records and case changes since
    (``history.py``), for a recurring meeting."""
    built = BuiltPack(folder_name(meeting, f"row-{meeting.row}"))

    def made(name: str) -> dict:
        return {} if stamp is None else {"document_id": stamp.document_id(f"{meeting.row}/{name}"),
                                         "generated": stamp.made}

    if pack.kind == "per_option":
        return _option_pack(pack, registry, meeting, built, formats, made)
    values, built.warnings = case_values_for(meeting, case_values)
    timescales = timescale_warnings(pack, meeting, last_meeting_date(pack, history))
    built.warnings += timescales
    forms, action_lines = [], []
    records = (history or {}).get("records", {})
    for n, item in enumerate(pack.forms, start=1):
        spec = registry.get(item.form)
        start = None
        if item.from_last is not None and item.form in records:
            start, lines = start_from_last(spec, item.from_last, records[item.form])
            if item is pack.last_meeting_form:
                action_lines = lines
        data, warnings = form_prefill(spec, item, meeting, values, start)
        built.warnings += warnings
        forms.append((n, spec, data))
    for audience in pack.audiences:
        _audience_files(pack, registry, meeting, built, forms, formats, combined, made, stamp, audience,
                        cover_sections(pack, registry, history, action_lines, audience),
                        built.warnings if audience == "professionals" else timescales)
    return built


def _audience_files(pack: PackSpec, registry: Registry, meeting: Meeting, built: BuiltPack, forms: list,
                    formats: tuple[str, ...], combined: bool, made, stamp: Stamp | None, audience: str,
                    sections: list, warnings: list[str]) -> None:
    """One audience's cover sheet, forms and combined PDF: professionals' at the top of the
    meeting's folder, each other audience's in a folder of its own, holding only the forms with
    something for it, each made from the form as that audience may have it (audiences.py)."""
    folder = "" if audience == "professionals" else f"{audience}/"
    mine = [(n, restricted(spec, audience), data) for n, spec, data in forms if has_fields_for(spec, audience)]
    cover = Cover(pack.title if not folder else f"{pack.title} – the version for {audience}", pack.purpose,
                  _details(pack, meeting), list(meeting.values.get("invitees") or []), agenda_for(pack, registry),
                  [spec.title for _, spec, _ in mine], list(warnings), sections)
    pdfs = []
    if "docx" in formats:
        built.files.append(PackFile(f"{folder}00-cover-sheet.docx", cover_docx(cover, stamp.made if stamp else None)))
    if "pdf" in formats:
        raw, source = cover_pdf_source(cover)
        built.files.append(PackFile(f"{folder}00-cover-sheet.pdf", raw))
        pdfs.append(("Cover sheet", source))
    for n, spec, data in mine:
        shown = only_what_it_holds(spec, data) if folder else data
        if folder:  # the professionals' data was checked by form_prefill, against this same spec
            check_prefill(spec, shown or None)
        for fmt in formats:
            name = f"{folder}{n:02d}-{spec.id}.{fmt}"
            if fmt == "pdf":  # with its objects, which the combined PDF is assembled from
                raw, source = generate_pdf_with_source(spec, shown or None, shell="auto", checked=True, **made(name))
                pdfs.append((spec.title, source))
            else:
                raw = generate_document(spec, shown or None, format=fmt, shell="auto", checked=True, **made(name))
            built.files.append(PackFile(name, raw, spec.id))
    if combined and pdfs:
        built.files.append(PackFile(f"{folder}meeting-pack.pdf", combine(pdfs)))


def _option_pack(pack: PackSpec, registry: Registry, meeting: Meeting, built: BuiltPack,
                 formats: tuple[str, ...], made) -> BuiltPack:
    """One form per option (no cover sheet): the option set, plus what the row gives."""
    for n, item in enumerate(pack.forms, start=1):
        spec = registry.get(item.form)
        data, built.warnings = form_prefill(spec, item, meeting, {})
        if item.form == pack.per_option.form:
            set_at(data, pack.per_option.field, meeting.values[pack.per_option.field])
        for fmt in formats:
            name = f"{n:02d}-{spec.id}.{fmt}"
            raw = generate_document(spec, data, format=fmt, shell="auto", **made(name))
            built.files.append(PackFile(name, raw, spec.id))
    return built

"""Read a completed PDF form back into data, with the same contract as the Word reader.

Fields are found by their names (``safety/fire_setting/answer``, ``actions/2/action``,
``supports_needed/advocate``). Any check box state other than /Off reads as ticked, whatever
name a viewer gave its on-state; a choice's export value maps to the option, and a display
label typed or stored instead is accepted too; repeat rows fold back into lists with empty rows
dropped. Identity comes from the document information dictionary.
"""

from __future__ import annotations

from ..convert import choice_value, parse
from ..errors import DocumentError, Unreadable
from ..extract import Extraction, expected_form, finish, spec_to_read
from ..identity import AUTHOR, NAMES, Identity
from ..limits import check_document_size
from ..shape import complete, empty_value, set_at
from ..spec.model import CheckboxField, ChoiceField, FormSpec, GroupField, MultiChoiceField, RepeatField
from ..validation import Issue
from .names import OFF, field_name, option_segment
from .sandbox import parse_pdf, parse_pdf_async


def extract_pdf(raw: bytes, registry, *, form: str | None = None) -> Extraction:
    check_document_size(raw)
    return read_parsed(parse_pdf(raw), registry, form)  # parsed in a separate process with time and memory limits


async def extract_pdf_async(raw: bytes, registry, *, form: str | None = None) -> Extraction:
    """``extract_pdf`` with the worker's answer awaited on the running event loop."""
    check_document_size(raw)
    return read_parsed(await parse_pdf_async(raw), registry, form)


def read_parsed(parsed: dict, registry, form: str | None) -> Extraction:
    """The extraction from what the parser worker found in the file (``sandbox.inspect``)."""
    if parsed["active"]:
        raise DocumentError("The PDF contains " + " and ".join(parsed["active"]) + ", which our forms never do; "
                            "nothing in it was run, and it was refused.", "active_content")
    fields = parsed["fields"]
    identity = Identity.from_properties({name: parsed["info"].get("/" + name) for name in NAMES})
    form_id = expected_form(form, identity.form)
    if parsed["xfa"]:  # with or without AcroForm fields beside it: a viewer may show either
        raise DocumentError("This is an XFA form (a format we do not read); save it as a standard PDF form.", "xfa_form")
    if not fields:
        _refuse_a_word_copy(parsed["info"], registry, identity.form)
    if not form_id:
        raise DocumentError("This PDF was not made by Step Down Forms (it carries no form identity).", "not_our_form")
    spec = spec_to_read(registry, form_id, identity.version, identity.audience)  # its version, for its audience
    if not fields:
        raise DocumentError("The PDF has no form fields left (it was flattened or printed to PDF); the values "
                            "cannot be read from it.", "flattened_pdf")
    data, sources, issues = _read(spec, fields)
    version = identity.version
    if version and version != spec.version:
        issues.append(Issue("$", "other_version", f"This document was made from version {version} of the form and "
                            f"read with version {spec.version}.", "warning"))
    result = Extraction(form=spec.id, spec_version=spec.version, document_version=version,
                        document_id=identity.document_id, generated=identity.generated, data=data, sources=sources)
    return finish(registry, spec, result, issues)


WORD_PROCESSORS = ("word", "libreoffice", "openoffice", "writer", "pages", "google docs")


def _refuse_a_word_copy(info: dict, registry, form_id: str | None) -> None:
    """A PDF with no fields that a word processor made from one of our Word forms ("Save as
    PDF", "Export as PDF", printing to PDF): its text is there, its fields are not. Say so, and
    what to upload instead. Recognised by the producer and the properties our .docx carries (the
    author Step Down Forms, the form's title, or its identity if the word processor kept it)."""
    made_by = f"{info.get('/Producer', '')} {info.get('/Creator', '')}".lower()
    ours = info.get("/Author") == AUTHOR or form_id is not None
    if not ours or not any(name in made_by for name in WORD_PROCESSORS):
        return
    titles = {spec.title: spec.title for spec in registry.all()}
    known = registry.get(form_id).title if form_id and form_id in registry.ids() else titles.get(info.get("/Title", ""))
    what = f"the {known}" if known else "one of our Word forms"
    raise DocumentError(f"This PDF is {what} saved as a PDF from a word processor, which keeps the text but not the "
                        "form's fields, so its answers cannot be read. Upload the Word document (.docx) itself, or "
                        "download the PDF form from the service and fill that in.", "saved_from_word")


def _read(spec: FormSpec, values: dict[str, object]) -> tuple[dict, dict[str, str], list[Issue]]:
    data = complete(spec, {})
    sources: dict[str, str] = {}
    issues: list[Issue] = []

    def read(path: str, name: str, f) -> object:
        if isinstance(f, MultiChoiceField):
            chosen = [o.value for o in f.choices if _ticked(values.get(f"{name}/{option_segment(o.value)}"))]
            present = any(f"{name}/{option_segment(o.value)}" in values for o in f.choices)
            if present:
                sources[path] = "field"
            return chosen
        if name not in values:
            return empty_value(f)
        sources[path] = "field"
        raw = values[name]
        if isinstance(f, CheckboxField):
            return _ticked(raw)
        text = _text(raw)
        if isinstance(f, ChoiceField):
            if not text.strip():
                return None
            value = choice_value(f, text)
            if value is None:
                issues.append(Issue(path, "unknown_choice", f'"{f.label}" holds a choice that is not in its list.'))
            return value
        try:
            return parse(f, text)
        except Unreadable as exc:
            label = f'"{f.label}" ' if exc.code == "unreadable_date" else ""
            issues.append(Issue(path, exc.code, f"{label}{exc}"))
            return None

    def walk(fields: list, prefix: str) -> None:
        for f in fields:
            path = prefix + f.key
            if isinstance(f, GroupField):
                walk(f.fields, path + ".")
            elif isinstance(f, RepeatField):
                rows = []
                for i in range(_row_count(values, field_name(path))):
                    row = {sub.key: read(f"{path}[{len(rows)}].{sub.key}", field_name(f"{path}.{i}.{sub.key}"), sub)
                           for sub in f.fields}
                    if any(v not in (None, [], False) for v in row.values()):
                        rows.append(row)
                    else:
                        for sub in f.fields:
                            sources.pop(f"{path}[{len(rows)}].{sub.key}", None)
                set_at(data, path, rows)
            else:
                set_at(data, path, read(path, field_name(path), f))

    walk(spec.fields, "")
    return data, sources, issues


def _row_count(values: dict, prefix: str) -> int:
    indexes = [name[len(prefix) + 1:].split("/", 1)[0] for name in values if name.startswith(prefix + "/")]
    return max((int(i) + 1 for i in indexes if i.isdigit()), default=0)


def _ticked(raw: object) -> bool:
    return raw is not None and str(raw) not in ("", OFF, "Off")


def _text(raw: object) -> str:
    if raw is None:
        return ""
    if isinstance(raw, (list, tuple)):  # a combo box value pdftk wrote as an array
        return str(raw[0]) if raw else ""
    return str(raw).replace("\r\n", "\n").replace("\r", "\n")

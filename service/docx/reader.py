"""Read a completed .docx back into form data, whichever editor touched it last.

The reading is a pipeline of small parts, each in its own module:

    package.py     open the file without trusting it (sizes, zip bombs, macros, links, DOCTYPE)
    parts.py       the identity properties and the data part (found by namespace)
    controls.py    index the content controls: innermost ones, by tag or binding, their cells
    locate.py      find each table of the layout plan in the document, by labels and headers
    sources.py     each field from the most trusted place it can be read (control, binding,
                   position, cell text, data part), placeholders never taken for values
    rows.py        repeating tables, rows added in Word included
    repairs.py     what LibreOffice does on saving, undone where the evidence allows
    versions.py    a document of another form version: the fields that differ

This module runs them in order and returns the :class:`~service.extract.Extraction`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

from lxml import etree

from ..errors import DocumentError
from ..extract import Extraction, expected_form, finish, spec_to_read
from ..layout import RepeatPlan, TablePlan, plan
from ..shape import complete, set_at
from ..spec.model import FormSpec
from ..validation import Issue
from .controls import ControlIndex
from .locate import align, cell_at, rows, top_tables
from .ns import qn
from .package import DocxPackage
from .parts import data_root_identity, read_custom_props, read_data_part
from .repairs import optional_xml
from .rows import read_repeat
from .sources import FieldReader, Reading
from .versions import part_paths, version_issues

MANY_LOST = 3  # more controls removed than this: one warning for the document, not one each


@dataclass
class DocxExtraction(Extraction):
    stray_text: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict:
        d = super().to_dict()
        d["stray_text"] = self.stray_text
        return d


def extract_docx(raw: bytes, registry, *, form: str | None = None) -> DocxExtraction:
    """Read a .docx; ``registry`` gives the spec (``.get(form_id)``); ``form`` is what the
    caller expects it to be (required for documents without our identity properties)."""
    pkg = DocxPackage(raw)
    pkg.refuse_declarations("customXml/")
    notes: list[Issue] = []
    identity = read_custom_props(optional_xml(pkg, "docProps/custom.xml", notes))
    part = _DataPart(pkg, notes)
    if not identity.complete and part.root is not None:
        identity = identity.or_else(data_root_identity(part.root))
    form_id = expected_form(form, identity.form)
    if not form_id:
        raise DocumentError("This Word document was not made by Step Down Forms (it carries no form identity). "
                            "Say which form it is to read it by its layout.", "not_our_form")
    spec = spec_to_read(registry, form_id, identity.version, identity.audience)  # its version, for its audience
    document = pkg.xml("word/document.xml")
    body = document.find(qn("w:body")) if document is not None else None
    if body is None:
        raise DocumentError("The Word document has no body.", "not_a_word_document")
    part.form = spec.id
    index = ControlIndex(spec, body)
    reading = Reading(issues=notes)
    data = read_body(spec, body, index, FieldReader(index, lambda: part.stored(spec), reading))
    if identity.version and identity.version != spec.version:
        declared = index.declared_paths() | (part_paths(spec, part.root) if part.root is not None else set())
        reading.issues += version_issues(spec, identity.version, {k for k in declared if "[]." not in k})
    result = DocxExtraction(
        form=spec.id, spec_version=spec.version, document_version=identity.version,
        document_id=identity.document_id, generated=identity.generated, data=data, sources=reading.sources,
        stray_text=reading.stray,
    )
    return finish(registry, spec, result, reading.issues)


def read_body(spec: FormSpec, body: etree._Element, index: ControlIndex, reader: FieldReader) -> dict:
    """Every field of ``spec`` from the document body, in the canonical shape."""
    data = complete(spec, {})
    reading = reader.reading
    tables = [b for b in plan(spec) if isinstance(b, (TablePlan, RepeatPlan))]
    if all(_found_by_tags(index, b) for b in tables):
        # every field is tagged: no layout search (a repeat's rows are in the table of its controls)
        aligned = [(b, None if isinstance(b, TablePlan) else _any_column_table(index, b)) for b in tables]
    else:
        aligned = align(tables, top_tables(body))
    # A designer's own layout (tagged controls, none of our tables): fields it leaves out are
    # simply not on it, not "removed".
    reader.own_layout = bool(index.by_key) and not any(t is not None for b, t in aligned if isinstance(b, TablePlan))
    if index.empty:
        reading.issues.append(Issue("$", "no_controls", "This document has no form controls left (it was probably "
                                    "saved through another format); values were read from the text in each field's "
                                    "cell. Check them before accepting.", "warning"))
    for block, table in aligned:
        if isinstance(block, TablePlan):
            table_rows = rows(table) if table is not None else []
            for r, c, slot in block.slots():
                set_at(data, slot.path, reader.simple(slot.path, slot.field, cell_at(table_rows, r, c)))
        else:
            set_at(data, block.path, read_repeat(reader, block, table))
    if len(reading.lost_controls) > MANY_LOST:
        reading.issues.append(Issue("$", "controls_removed", f"{len(reading.lost_controls)} form boxes were removed "
                                    "from this document (it was probably saved through another format); their values "
                                    "were read from the text in each field's cell. Check them before accepting.",
                                    "warning"))
    else:
        reading.issues += reading.lost_controls
    for name in index.unclaimed_strangers():
        reading.issues.append(Issue("$", "unknown_control", f"A control named '{name[:80]}' is not part of this form; "
                                    "it was ignored.", "warning"))
    return data


def _found_by_tags(index: ControlIndex, block) -> bool:
    """Every field of a planned table has a control identified as it (a repeat: any column)."""
    if isinstance(block, RepeatPlan):
        return _any_column_table(index, block) is not None
    return all(index.has_any(slot.path) for _, _, slot in block.slots())


def _any_column_table(index: ControlIndex, block: RepeatPlan) -> etree._Element | None:
    for f in block.field.fields:
        table = index.table_of(f"{block.path}[].{f.key}")
        if table is not None:
            return table
    return None


class _DataPart:
    """The custom XML data part, found and parsed only if something needs it."""

    def __init__(self, pkg: DocxPackage, notes: list[Issue]) -> None:
        self.pkg, self.notes, self.form = pkg, notes, None

    @cached_property
    def root(self) -> etree._Element | None:
        root = None
        for name in self.pkg.names():
            if name.startswith("customXml/") and name.endswith(".xml") and "itemProps" not in name \
                    and "/_rels/" not in name:
                found = optional_xml(self.pkg, name, self.notes)
                if found is not None and found.tag == qn("sdf:form"):
                    root = found
                    break
        if root is not None and self.form and root.get("form") not in (None, self.form):
            return None  # a data part of another form (a pasted document): ignore it
        return root

    def stored(self, spec: FormSpec) -> dict[str, object]:
        return read_data_part(spec, self.root) if self.root is not None else {}

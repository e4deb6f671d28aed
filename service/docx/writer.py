"""Generate a fillable Word document (.docx) from a spec and optional prefill data.

Every field becomes a native content control, tagged with its field path and titled with its
label; simple fields (outside repeating rows) are also bound to the custom XML data part.
Repeat rows are plain table rows whose cells hold controls tagged ``<repeat>[].<field>``, so a
row copied in Word is read back as a new row (bound controls would mirror each other).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from functools import lru_cache

from ..brand import shell_context
from ..cache import PerObject
from ..convert import display
from ..identity import Identity
from ..shape import complete
from ..spec.model import (
    CheckboxField, ChoiceField, DateField, DateTimeField, FormSpec, ListField, LongTextField, MultiChoiceField,
)
from ..layout import (
    AgendaBlock, HeadingBlock, Label, RepeatPlan, TablePlan, TextBlock, TitleBlock, field_title, plan,
)
from . import oxml, parts
from .branding import branded
from .package import write_package
from .placeholders import placeholder_for

HEADER_SHADE, LABEL_SHADE = oxml.HEADER_SHADE, oxml.LABEL_SHADE


def generate_docx(spec: FormSpec, data: dict | None = None, *, document_id: str | None = None,
                  generated: datetime | None = None, shell: bytes | None = None) -> bytes:
    """The .docx bytes of ``spec`` prefilled with ``data`` (already checked with validate(partial=True)),
    inside an organisation's branded ``shell`` (a .docx, see branding.py) if one is given."""
    values = complete(spec, data)
    identity = Identity.new(spec, document_id, generated)
    store_item_id = "{" + str(uuid.uuid5(uuid.NAMESPACE_URL, f"urn:stepdown:data:{identity.document_id}")).upper() + "}"
    brand, mark = (None, None) if shell is None else branded(shell, shell_context(spec, identity),
                                                                 f"{spec.organisation} logo")
    references = brand.section_references(parts.FOOTER_RID) if brand else (("footer", parts.FOOTER_RID),)
    body = _BODIES.get(spec).render(values, store_item_id)
    document = oxml.document(body + oxml.section(*references))
    package = (parts.base_parts(document, spec.title, identity.generated, form=True)
               + parts.form_parts(spec, values, identity, store_item_id))
    return write_package(brand.add_to(package, mark, identity.document_id) if brand else package)


# -- the body, compiled once per spec ---------------------------------------------------------
# Two documents of a form differ only in their values, their repeating tables' row counts, their
# controls' ids and their data part's id. So a form's body is made once per loaded spec as its
# fixed markup with holes (``_Body.pieces``): a hole for each field's cell and for each repeating
# table's rows. A document fills the holes in order; the controls' fixed parts (alias, tag,
# binding, kind, list items, placeholder) are made once too (oxml.Control).

_HOLE = "\x00"  # where a cell's content goes while a table's fixed markup is made; XML can never hold it


class _Field:
    """One field's cell content: its control(s), filled with a document's value."""

    def __init__(self, spec: FormSpec, path: str, f, *, bind: bool) -> None:
        self.keys = tuple(path.split("."))  # where its value is, outside rows
        self.field = f
        label = field_title(spec, path)  # the control's title: what a screen reader announces
        xpath = (lambda option=None: parts.binding_xpath(path, option)) if bind else (lambda option=None: None)
        if isinstance(f, MultiChoiceField):
            self.options = [(o.value, oxml.CheckboxControl(f"{label}: {o.label}", f"{path}:{o.value}", xpath(i)),
                             oxml.run(" " + o.label)) for i, o in enumerate(f.choices)]
            self.render = self._options
        elif isinstance(f, CheckboxField):
            self.control, self.render = oxml.CheckboxControl(label, path, xpath()), self._box
        elif isinstance(f, ChoiceField):
            self.control = oxml.DropdownControl(label, path, xpath(), placeholder_for(f), items_xml=_ITEMS.get(f))
            self.render = self._shown
        elif isinstance(f, (DateField, DateTimeField)):
            self.control = oxml.DateControl(label, path, xpath(), placeholder_for(f),
                                            with_time=isinstance(f, DateTimeField))
            self.render = self._shown
        else:
            self.control = oxml.TextControl(label, path, xpath(), placeholder_for(f),
                                            multiline=isinstance(f, (LongTextField, ListField)))
            self.render = self._text

    def value(self, values: dict) -> object:
        node: object = values
        for key in self.keys:
            node = node.get(key) if isinstance(node, dict) else None
        return node

    # One of these becomes the field's ``render`` (value, ids, store_item_id) -> its cell's paragraphs.
    def _options(self, value: object, ids: oxml.SdtIds, store_item_id: str) -> str:
        chosen = set(value or [])
        return "".join(oxml.paragraph(control.render(ids(), store_item_id, option in chosen), label_run)
                       for option, control, label_run in self.options)

    def _box(self, value: object, ids: oxml.SdtIds, store_item_id: str) -> str:
        return oxml.paragraph(self.control.render(ids(), store_item_id, bool(value)))

    def _shown(self, value: object, ids: oxml.SdtIds, store_item_id: str) -> str:
        """A drop-down or date: its stored value and the text it shows."""
        return oxml.paragraph(self.control.render(ids(), store_item_id, value, display(self.field, value)))

    def _text(self, value: object, ids: oxml.SdtIds, store_item_id: str) -> str:
        return oxml.paragraph(self.control.render(ids(), store_item_id, display(self.field, value)))


class _Rows:
    """A repeating table's rows: as many as the document's data has (or the spec's blank rows)."""

    def __init__(self, spec: FormSpec, r: RepeatPlan) -> None:
        self.plan, self.keys = r, tuple(r.path.split("."))
        self.fields = [_Field(spec, f"{r.path}[].{f.key}", f, bind=False) for f in r.field.fields]
        cells = ([oxml.Cell(_HOLE, r.widths[0], LABEL_SHADE)] if r.field.numbered else []) + [
            oxml.Cell(_HOLE, w) for w in r.widths[r.offset:r.offset + len(self.fields)]]
        self.fixed = _split(oxml.row(cells), len(cells))

    def render(self, values: dict, ids: oxml.SdtIds, store_item_id: str) -> str:
        node: object = values
        for key in self.keys:
            node = node.get(key) if isinstance(node, dict) else None
        filled = node or []
        out = []
        fixed, numbered = self.fixed, self.plan.field.numbered
        for i in range(self.plan.row_count(filled)):
            row_values = filled[i] if i < len(filled) else {}
            out.append(fixed[0])
            holes = iter(fixed[1:])
            if numbered:
                out += (_label(str(i + 1)), next(holes))
            for f in self.fields:
                out += (f.render(row_values.get(f.field.key), ids, store_item_id), next(holes))
        return "".join(out)


class _Body:
    def __init__(self, spec: FormSpec) -> None:
        self.pieces: list[str | _Field | _Rows] = []
        for block in plan(spec):
            if isinstance(block, TablePlan):
                self._table(spec, block)
            elif isinstance(block, RepeatPlan):
                header = [oxml.Cell(_label(h), w, HEADER_SHADE) for h, w in zip(block.headers, block.widths)]
                self.pieces += [oxml.table_start(block.widths) + oxml.row(header, header=True), _Rows(spec, block),
                                oxml.TABLE_END + oxml.paragraph()]
            else:
                self.pieces.append(_text_block(block))

    def _table(self, spec: FormSpec, t: TablePlan) -> None:
        rows, fields = [], []
        for cells in t.rows:
            row = []
            for c, cell in enumerate(cells):
                width = t.widths[c] if c < len(t.widths) else t.widths[-1]
                if isinstance(cell, Label):
                    shade = HEADER_SHADE if cell.header else (LABEL_SHADE if cell.text else None)
                    row.append(oxml.Cell(_label(cell.text), width, shade))
                else:
                    row.append(oxml.Cell(_HOLE, width))
                    fields.append(_Field(spec, cell.path, cell.field, bind=True))
            rows.append(row)
        fixed = _split(oxml.table(rows, t.widths, header_rows=t.header_rows) + oxml.paragraph(), len(fields))
        self.pieces.append(fixed[0])
        for f, after in zip(fields, fixed[1:]):
            self.pieces += [f, after]

    def render(self, values: dict, store_item_id: str) -> str:
        ids = oxml.SdtIds()
        return "".join([p if p.__class__ is str else
                        p.render(p.value(values), ids, store_item_id) if p.__class__ is _Field else
                        p.render(values, ids, store_item_id) for p in self.pieces])


def _split(xml: str, holes: int) -> list[str]:
    pieces = xml.split(_HOLE)
    if len(pieces) != holes + 1:
        raise ValueError("A form's text holds a NUL character, which Word documents cannot hold.")
    return pieces


def _text_block(block) -> str:
    """A title, heading, guidance or agenda: the spec's text only, the same in every document."""
    if isinstance(block, TitleBlock):
        out = oxml.paragraph(text=block.title, style="Title")
        if block.subtitle:
            out += oxml.paragraph(text=block.subtitle, style="Subtitle")
        return out + oxml.paragraph(text=block.organisation, style="Subtitle")
    if isinstance(block, HeadingBlock):
        return oxml.paragraph(text=block.text, style=f"Heading{block.level}")
    if isinstance(block, TextBlock):
        return oxml.paragraph(text=block.text, style="Guidance")
    if isinstance(block, AgendaBlock):
        return "".join(oxml.paragraph(text=f"{i}.\t{item}") for i, item in enumerate(block.items, 1))
    raise TypeError(type(block).__name__)


_BODIES: PerObject[FormSpec, _Body] = PerObject(_Body)


@lru_cache(maxsize=4096)
def _label(text: str) -> str:
    """A label or header cell's paragraph (a spec's text, or a row's number): made once a process."""
    return oxml.paragraph(text=text, style=None, bold=True)


# A drop-down's list items are the same in every row and document: serialise them once.
_ITEMS: PerObject[ChoiceField, str] = PerObject(
    lambda f: oxml.dropdown_items([(o.value, o.label) for o in f.choices], placeholder_for(f)))



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
from ..shape import complete, value_at
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
    document = _Body(store_item_id).render(spec, values, references)
    package = (parts.base_parts(document, spec.title, identity.generated, form=True)
               + parts.form_parts(spec, values, identity, store_item_id))
    return write_package(brand.add_to(package, mark, identity.document_id) if brand else package)


class _Body:
    def __init__(self, store_item_id: str) -> None:
        self.store_item_id = store_item_id
        self.ids = oxml.SdtIds()

    def render(self, spec: FormSpec, values: dict, references: tuple[tuple[str, str], ...]) -> bytes:
        self.spec = spec
        parts_ = [self._block(block, values) for block in plan(spec)]
        parts_.append(oxml.section(*references))
        return oxml.document("".join(parts_))

    def _block(self, block, values: dict) -> str:
        if isinstance(block, TablePlan):
            return self._table(block, values) + oxml.paragraph()
        if isinstance(block, RepeatPlan):
            return self._repeat(block, values) + oxml.paragraph()
        return _TEXT_BLOCKS.get(block)

    # -- tables -------------------------------------------------------------------------
    def _table(self, t: TablePlan, values: dict) -> str:
        rows = []
        for cells in t.rows:
            row = []
            for c, spec_cell in enumerate(cells):
                width = t.widths[c] if c < len(t.widths) else t.widths[-1]
                if isinstance(spec_cell, Label):
                    shade = HEADER_SHADE if spec_cell.header else (LABEL_SHADE if spec_cell.text else None)
                    row.append(oxml.Cell(_label(spec_cell.text), width, shade))
                else:
                    row.append(oxml.Cell(self._value_cell(spec_cell.path, spec_cell.field, value_at(values, spec_cell.path),
                                                          bind=True), width))
            rows.append(row)
        return oxml.table(rows, t.widths, header_rows=t.header_rows)

    def _repeat(self, r: RepeatPlan, values: dict) -> str:
        header = [oxml.Cell(_label(h), w, HEADER_SHADE) for h, w in zip(r.headers, r.widths)]
        filled = value_at(values, r.path) or []
        count = r.row_count(filled)
        rows = [header]
        for i in range(count):
            row_values = filled[i] if i < len(filled) else {}
            cells = []
            if r.field.numbered:
                cells.append(oxml.Cell(_label(str(i + 1)), r.widths[0], LABEL_SHADE))
            for f, w in zip(r.field.fields, r.widths[r.offset:]):
                cells.append(oxml.Cell(self._value_cell(f"{r.path}[].{f.key}", f, row_values.get(f.key), bind=False), w))
            rows.append(cells)
        return oxml.table(rows, r.widths, header_rows=1)

    # -- controls -----------------------------------------------------------------------
    def _binding(self, path: str, bind: bool, option: int | None = None) -> oxml.Binding | None:
        return oxml.Binding(self.store_item_id, parts.binding_xpath(path, option)) if bind else None

    def _value_cell(self, path: str, f, value: object, *, bind: bool) -> str:
        label = field_title(self.spec, path)  # the control's title: what a screen reader announces
        if isinstance(f, CheckboxField):
            return oxml.paragraph(oxml.checkbox_control(alias=label, tag=path, ids=self.ids, checked=bool(value),
                                                        binding=self._binding(path, bind)))
        if isinstance(f, MultiChoiceField):
            chosen = set(value or [])
            return "".join(
                oxml.paragraph(oxml.checkbox_control(alias=f"{label}: {o.label}", tag=f"{path}:{o.value}", ids=self.ids,
                                                     checked=o.value in chosen, binding=self._binding(path, bind, i)),
                               oxml.run(" " + o.label))
                for i, o in enumerate(f.choices))
        if isinstance(f, ChoiceField):
            ctl = oxml.dropdown_control(alias=label, tag=path, ids=self.ids, items_xml=_ITEMS.get(f), value=value,
                                        shown=display(f, value), placeholder=placeholder_for(f),
                                        binding=self._binding(path, bind))
        elif isinstance(f, (DateField, DateTimeField)):
            ctl = oxml.date_control(alias=label, tag=path, ids=self.ids, iso=value, shown=display(f, value),
                                    placeholder=placeholder_for(f), with_time=isinstance(f, DateTimeField),
                                    binding=self._binding(path, bind))
        else:
            ctl = oxml.text_control(alias=label, tag=path, ids=self.ids, text=display(f, value),
                                    placeholder=placeholder_for(f),
                                    multiline=isinstance(f, (LongTextField, ListField)),
                                    binding=self._binding(path, bind))
        return oxml.paragraph(ctl)


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


# A plan's blocks are made once per spec (layout.plan), so their XML is made once too.
_TEXT_BLOCKS: PerObject[object, str] = PerObject(_text_block)


@lru_cache(maxsize=4096)
def _label(text: str) -> str:
    """A label or header cell's paragraph (a spec's text, or a row's number): made once a process."""
    return oxml.paragraph(text=text, style=None, bold=True)


# A drop-down's list items are the same in every row and document: serialise them once.
_ITEMS: PerObject[ChoiceField, str] = PerObject(
    lambda f: oxml.dropdown_items([(o.value, o.label) for o in f.choices], placeholder_for(f)))



"""WordprocessingML elements: the one place that builds ``w:`` XML (``oxml_read.py`` reads it).

Writers return serialised XML with children in the order the schema requires (ECMA-376
Part 1, 17.x); a wrong order is what makes Word offer to "repair" a file. Content controls
(``w:sdt``, 17.5.2) are built at run level inside table cells, the kind that survives
LibreOffice re-saves best (docs/word.md, measured by the tests).

Specimen of a drop-down this module writes::

    <w:sdt>
      <w:sdtPr>
        <w:alias w:val="Legal Status"/><w:tag w:val="legal_status"/><w:id w:val="1003"/>
        <w:lock w:val="sdtLocked"/><w:showingPlcHdr/>
        <w:dataBinding w:prefixMappings="xmlns:sdf='urn:stepdown-forms:data'"
                       w:xpath="/sdf:form[1]/sdf:legal_status[1]" w:storeItemID="{...}"/>
        <w:dropDownList><w:listItem w:displayText="Choose an item." w:value=""/>...</w:dropDownList>
      </w:sdtPr>
      <w:sdtContent><w:r><w:rPr><w:rStyle w:val="PlaceholderText"/></w:rPr><w:t>Choose an item.</w:t></w:r></w:sdtContent>
    </w:sdt>
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import count

from lxml import etree

from .ns import NS

CHECKED, UNCHECKED = "\u2612", "\u2610"  # ☒ ☐
HEADER_SHADE, LABEL_SHADE = "D9E2F3", "F2F2F2"  # table header rows, label cells
CHECKBOX_FONT = "MS Gothic"


def _text(s: str) -> str:
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _attr(s: str) -> str:
    return _text(s).replace('"', "&quot;")


# -- runs and paragraphs ------------------------------------------------------------------
# The writer emits XML text directly (as XlsxWriter does): building ~1,500 lxml elements per
# document cost four times more than the whole document is allowed to take. Every string of
# w: markup the writer produces comes from the functions below, with text and attribute values
# escaped here and only here.

def run(text: str = "", *, bold: bool = False, style: str | None = None, font: str | None = None) -> str:
    """A run; newlines become ``w:br`` and tabs ``w:tab``."""
    props = ""
    if style:
        props += f'<w:rStyle w:val="{_attr(style)}"/>'
    if font:
        f = _attr(font)
        props += f'<w:rFonts w:ascii="{f}" w:hAnsi="{f}" w:eastAsia="{f}" w:hint="eastAsia"/>'
    if bold:
        props += "<w:b/>"
    return "<w:r>" + (f"<w:rPr>{props}</w:rPr>" if props else "") + _run_text(text) + "</w:r>"


def _run_text(text: str) -> str:
    if "\n" not in text and "\t" not in text and "\r" not in text:  # most values: one line, no tabs
        if not text:
            return ""
        return f'<w:t xml:space="preserve">{_text(text)}</w:t>' if text != text.strip() else f"<w:t>{_text(text)}</w:t>"
    out = []
    for i, line in enumerate(text.replace("\r\n", "\n").replace("\r", "\n").split("\n")):
        if i:
            out.append("<w:br/>")
        for j, chunk in enumerate(line.split("\t")):
            if j:
                out.append("<w:tab/>")
            if chunk:
                space = ' xml:space="preserve"' if chunk != chunk.strip() else ""
                out.append(f"<w:t{space}>{_text(chunk)}</w:t>")
    return "".join(out)


def paragraph(*children: str, style: str | None = None, bold: bool = False, text: str | None = None) -> str:
    """A paragraph of ready-made runs/controls, or of ``text`` as one run."""
    props = ""
    if style:
        props += f'<w:pStyle w:val="{_attr(style)}"/>'
    body = "".join(children) if text is None else run(text, bold=bold)
    return "<w:p>" + (f"<w:pPr>{props}</w:pPr>" if props else "") + body + "</w:p>"


# -- tables -------------------------------------------------------------------------------

@dataclass
class Cell:
    content: str = ""  # paragraphs (or tables), already serialised
    width: int = 0
    shade: str | None = None


def table(rows: list[list[Cell]], widths: list[int], *, header_rows: int = 0) -> str:
    """Table, in schema order: tblPr (style, width, layout, look), tblGrid, rows."""
    return table_start(widths) + "".join(row(cells, header=i < header_rows) for i, cells in enumerate(rows)) + TABLE_END


def table_start(widths: list[int]) -> str:
    """A table's properties and grid: what comes before its first row."""
    return ('<w:tbl><w:tblPr><w:tblStyle w:val="FormTable"/>'
            f'<w:tblW w:w="{sum(widths)}" w:type="dxa"/><w:tblLayout w:type="fixed"/>'
            '<w:tblLook w:val="04A0" w:firstRow="1" w:lastRow="0" w:firstColumn="1" w:lastColumn="0" '
            'w:noHBand="0" w:noVBand="1"/></w:tblPr><w:tblGrid>'
            + "".join(f'<w:gridCol w:w="{w}"/>' for w in widths) + "</w:tblGrid>")


TABLE_END = "</w:tbl>"


def row(cells: list[Cell], *, header: bool = False) -> str:
    """A table row that never splits across pages; a header row repeats on each page."""
    return ("<w:tr><w:trPr><w:cantSplit/>" + ("<w:tblHeader/>" if header else "") + "</w:trPr>"
            + "".join(_cell(c) for c in cells) + "</w:tr>")


def _cell(c: Cell) -> str:
    """Widths come from the fixed-layout grid (tblGrid), so a cell needs properties only when shaded."""
    if c.shade:
        return (f'<w:tc><w:tcPr><w:shd w:val="clear" w:color="auto" w:fill="{_attr(c.shade)}"/></w:tcPr>'
                f"{c.content or '<w:p/>'}</w:tc>")
    return f"<w:tc>{c.content or '<w:p/>'}</w:tc>"


# -- content controls ---------------------------------------------------------------------

@dataclass(frozen=True)
class Binding:
    store_item_id: str
    xpath: str


PREFIX_MAPPINGS = f"xmlns:sdf='{NS['sdf']}'"


class SdtIds:
    """Unique ``w:id`` values within one document."""

    def __init__(self, start: int = 1000) -> None:
        self._next = count(start)

    def __call__(self) -> str:
        return str(next(self._next))


class Control:
    """A content control's markup made once per field: everything but a document's own parts,
    which ``xml`` fills in: the control's id, the data part's id (bound controls only), whether
    the placeholder shows, the kind's state and the content. Escaping happens here once.

    sdtPr children are in schema order: alias, tag, id, lock, showingPlcHdr, dataBinding, then
    the control's kind (text, dropDownList, date, w14:checkbox)."""

    def __init__(self, alias: str, tag: str, xpath: str | None, placeholder: str) -> None:
        self.head = f'<w:sdt><w:sdtPr><w:alias w:val="{_attr(alias[:255])}"/><w:tag w:val="{_attr(tag)}"/><w:id w:val="'
        self.bound = (f'<w:dataBinding w:prefixMappings="{_attr(PREFIX_MAPPINGS)}" w:xpath="{_attr(xpath)}" '
                      'w:storeItemID="') if xpath is not None else ""
        self.placeholder_run = run(placeholder, style="PlaceholderText")

    def xml(self, sdt_id: str, store_item_id: str, showing: bool, kind: str, content: str) -> str:
        return "".join((self.head, sdt_id, '"/><w:lock w:val="sdtLocked"/>', "<w:showingPlcHdr/>" if showing else "",
                        self.bound + _attr(store_item_id) + '"/>' if self.bound else "",
                        kind, "</w:sdtPr><w:sdtContent>", content, "</w:sdtContent></w:sdt>"))


class TextControl(Control):
    def __init__(self, alias: str, tag: str, xpath: str | None, placeholder: str, *, multiline: bool) -> None:
        super().__init__(alias, tag, xpath, placeholder)
        self.kind = '<w:text w:multiLine="1"/>' if multiline else "<w:text/>"

    def render(self, sdt_id: str, store_item_id: str, text: str) -> str:
        return self.xml(sdt_id, store_item_id, not text, self.kind, run(text) if text else self.placeholder_run)


class DropdownControl(Control):
    def __init__(self, alias: str, tag: str, xpath: str | None, placeholder: str, *, items_xml: str) -> None:
        super().__init__(alias, tag, xpath, placeholder)
        self.items = items_xml + "</w:dropDownList>"

    def render(self, sdt_id: str, store_item_id: str, value: str | None, shown: str) -> str:
        kind = ("<w:dropDownList>" if value is None else f'<w:dropDownList w:lastValue="{_attr(value)}">') + self.items
        return self.xml(sdt_id, store_item_id, value is None, kind, run(shown) if shown else self.placeholder_run)


class DateControl(Control):
    def __init__(self, alias: str, tag: str, xpath: str | None, placeholder: str, *, with_time: bool) -> None:
        super().__init__(alias, tag, xpath, placeholder)
        self.kind = (f'><w:dateFormat w:val="{"dd/MM/yyyy HH:mm" if with_time else "dd/MM/yyyy"}"/>'
                     f'<w:lid w:val="en-GB"/><w:storeMappedDataAs w:val="{"dateTime" if with_time else "date"}"/>'
                     '<w:calendar w:val="gregorian"/></w:date>')

    def render(self, sdt_id: str, store_item_id: str, iso: str | None, shown: str) -> str:
        kind = (f'<w:date w:fullDate="{_attr(full_date(iso))}"' if iso else "<w:date") + self.kind
        return self.xml(sdt_id, store_item_id, iso is None, kind, run(shown) if shown else self.placeholder_run)


_BOX_STATES = (f'<w14:checkedState w14:val="2612" w14:font="{CHECKBOX_FONT}"/>'
               f'<w14:uncheckedState w14:val="2610" w14:font="{CHECKBOX_FONT}"/></w14:checkbox>')
_BOX_KIND = {c: f'<w14:checkbox><w14:checked w14:val="{int(c)}"/>' + _BOX_STATES for c in (False, True)}
_BOX_GLYPH = {c: run(CHECKED if c else UNCHECKED, font=CHECKBOX_FONT) for c in (False, True)}


class CheckboxControl(Control):
    def __init__(self, alias: str, tag: str, xpath: str | None) -> None:
        super().__init__(alias, tag, xpath, "")

    def render(self, sdt_id: str, store_item_id: str, checked: bool) -> str:
        return self.xml(sdt_id, store_item_id, False, _BOX_KIND[checked], _BOX_GLYPH[checked])


def binding_element(binding: Binding) -> str:
    """A data binding on its own (a designer's control being bound)."""
    return (f'<w:dataBinding w:prefixMappings="{_attr(PREFIX_MAPPINGS)}" w:xpath="{_attr(binding.xpath)}" '
            f'w:storeItemID="{_attr(binding.store_item_id)}"/>')


# The same controls made in one call, for a control used once (tests, a designer's layout).

def _parts(binding: Binding | None) -> tuple[str | None, str]:
    return (binding.xpath, binding.store_item_id) if binding is not None else (None, "")


def text_control(*, alias: str, tag: str, ids: SdtIds, text: str, placeholder: str, multiline: bool,
                 binding: Binding | None = None) -> str:
    xpath, store = _parts(binding)
    return TextControl(alias, tag, xpath, placeholder, multiline=multiline).render(ids(), store, text)


def dropdown_items(items: list[tuple[str, str]], placeholder: str) -> str:
    """The list items of a drop-down; the first is the empty choice. Cache it per field."""
    return f'<w:listItem w:displayText="{_attr(placeholder)}" w:value=""/>' + "".join(
        f'<w:listItem w:displayText="{_attr(label)}" w:value="{_attr(v)}"/>' for v, label in items)


def dropdown_control(*, alias: str, tag: str, ids: SdtIds, items_xml: str, value: str | None, shown: str,
                     placeholder: str, binding: Binding | None = None) -> str:
    xpath, store = _parts(binding)
    return DropdownControl(alias, tag, xpath, placeholder, items_xml=items_xml).render(ids(), store, value, shown)


def full_date(iso: str) -> str:
    """A date or date-time as ``w:fullDate`` holds it (an ``xsd:dateTime``): a date at midnight
    UTC as Word writes it, a date-time with its seconds and no zone (it is local UK time)."""
    return iso + ":00" if "T" in iso else iso + "T00:00:00Z"


def date_control(*, alias: str, tag: str, ids: SdtIds, iso: str | None, shown: str, placeholder: str,
                 with_time: bool, binding: Binding | None = None) -> str:
    xpath, store = _parts(binding)
    return DateControl(alias, tag, xpath, placeholder, with_time=with_time).render(ids(), store, iso, shown)


def checkbox_control(*, alias: str, tag: str, ids: SdtIds, checked: bool, binding: Binding | None = None) -> str:
    xpath, store = _parts(binding)
    return CheckboxControl(alias, tag, xpath).render(ids(), store, checked)


def document(body: str) -> bytes:
    """The main document part around ``body`` (already serialised blocks and sectPr)."""
    return ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            f'<w:document xmlns:w="{NS["w"]}" xmlns:r="{NS["r"]}" xmlns:w14="{NS["w14"]}" '
            f'xmlns:mc="{NS["mc"]}" mc:Ignorable="w14"><w:body>{body}</w:body></w:document>').encode("utf-8")


def section(*references: tuple[str, str]) -> str:
    """A4 portrait, 2 cm margins, with default headers and footers: (``header`` or ``footer``,
    relationship id), headers first."""
    refs = "".join(f'<w:{kind}Reference w:type="default" r:id="{rid}"/>' for kind, rid in references)
    return (f'<w:sectPr>{refs}'
            '<w:pgSz w:w="11906" w:h="16838"/><w:pgMar w:top="1134" w:right="1134" w:bottom="1134" '
            'w:left="1134" w:header="567" w:footer="567" w:gutter="0"/></w:sectPr>')


def fragment(xml: str) -> etree._Element:
    """Parse a serialised fragment (one element) with our namespaces, e.g. for editing tests."""
    wrapped = f'<x xmlns:w="{NS["w"]}" xmlns:r="{NS["r"]}" xmlns:w14="{NS["w14"]}">{xml}</x>'
    return etree.fromstring(wrapped)[0]

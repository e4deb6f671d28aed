"""WordprocessingML elements: the one place that builds and reads ``w:`` XML.

Writers return serialised XML with children in the order the schema requires (ECMA-376
Part 1, 17.x); a wrong order is what makes Word offer to "repair" a file. Readers work on lxml
elements. Content controls
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

from .ns import NS, qn

CHECKED, UNCHECKED = "\u2612", "\u2610"  # ☒ ☐
HEADER_SHADE, LABEL_SHADE = "D9E2F3", "F2F2F2"  # table header rows, label cells
CHECKBOX_FONT = "MS Gothic"

_W_VAL = qn("w:val")


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
    out = ['<w:tbl><w:tblPr><w:tblStyle w:val="FormTable"/>',
           f'<w:tblW w:w="{sum(widths)}" w:type="dxa"/><w:tblLayout w:type="fixed"/>',
           '<w:tblLook w:val="04A0" w:firstRow="1" w:lastRow="0" w:firstColumn="1" w:lastColumn="0" '
           'w:noHBand="0" w:noVBand="1"/></w:tblPr><w:tblGrid>']
    out += [f'<w:gridCol w:w="{w}"/>' for w in widths]
    out.append("</w:tblGrid>")
    for i, cells in enumerate(rows):
        out.append("<w:tr><w:trPr><w:cantSplit/>" + ("<w:tblHeader/>" if i < header_rows else "") + "</w:trPr>")
        out += [_cell(c) for c in cells]
        out.append("</w:tr>")
    out.append("</w:tbl>")
    return "".join(out)


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


def _sdt_pr(alias: str, tag: str, ids: SdtIds, placeholder: bool, binding: Binding | None, kind: str) -> str:
    """sdtPr children in schema order: alias, tag, id, lock, showingPlcHdr, dataBinding, then the
    control's kind (text, dropDownList, date, w14:checkbox)."""
    out = (f'<w:sdtPr><w:alias w:val="{_attr(alias[:255])}"/><w:tag w:val="{_attr(tag)}"/>'
           f'<w:id w:val="{ids()}"/><w:lock w:val="sdtLocked"/>')
    if placeholder:
        out += "<w:showingPlcHdr/>"
    if binding is not None:
        out += binding_element(binding)
    return out + kind + "</w:sdtPr>"


def binding_element(binding: Binding) -> str:
    return (f'<w:dataBinding w:prefixMappings="{_attr(PREFIX_MAPPINGS)}" w:xpath="{_attr(binding.xpath)}" '
            f'w:storeItemID="{_attr(binding.store_item_id)}"/>')


def _sdt(pr: str, text: str, placeholder: str, font: str | None = None) -> str:
    content = run(text, font=font) if text else run(placeholder, style="PlaceholderText")
    return f"<w:sdt>{pr}<w:sdtContent>{content}</w:sdtContent></w:sdt>"


def text_control(*, alias: str, tag: str, ids: SdtIds, text: str, placeholder: str, multiline: bool,
                 binding: Binding | None = None) -> str:
    kind = '<w:text w:multiLine="1"/>' if multiline else "<w:text/>"
    return _sdt(_sdt_pr(alias, tag, ids, not text, binding, kind), text, placeholder)


def dropdown_items(items: list[tuple[str, str]], placeholder: str) -> str:
    """The list items of a drop-down; the first is the empty choice. Cache it per field."""
    return f'<w:listItem w:displayText="{_attr(placeholder)}" w:value=""/>' + "".join(
        f'<w:listItem w:displayText="{_attr(label)}" w:value="{_attr(v)}"/>' for v, label in items)


def dropdown_control(*, alias: str, tag: str, ids: SdtIds, items_xml: str, value: str | None, shown: str,
                     placeholder: str, binding: Binding | None = None) -> str:
    last = f' w:lastValue="{_attr(value)}"' if value is not None else ""
    kind = f"<w:dropDownList{last}>{items_xml}</w:dropDownList>"
    return _sdt(_sdt_pr(alias, tag, ids, value is None, binding, kind), shown, placeholder)


def full_date(iso: str) -> str:
    """A date or date-time as ``w:fullDate`` holds it (an ``xsd:dateTime``): a date at midnight
    UTC as Word writes it, a date-time with its seconds and no zone (it is local UK time)."""
    return iso + ":00" if "T" in iso else iso + "T00:00:00Z"


def date_control(*, alias: str, tag: str, ids: SdtIds, iso: str | None, shown: str, placeholder: str,
                 with_time: bool, binding: Binding | None = None) -> str:
    full = f' w:fullDate="{_attr(full_date(iso))}"' if iso else ""
    kind = (f'<w:date{full}><w:dateFormat w:val="{"dd/MM/yyyy HH:mm" if with_time else "dd/MM/yyyy"}"/>'
            f'<w:lid w:val="en-GB"/><w:storeMappedDataAs w:val="{"dateTime" if with_time else "date"}"/>'
            '<w:calendar w:val="gregorian"/></w:date>')
    return _sdt(_sdt_pr(alias, tag, ids, iso is None, binding, kind), shown, placeholder)


def checkbox_control(*, alias: str, tag: str, ids: SdtIds, checked: bool, binding: Binding | None = None) -> str:
    kind = (f'<w14:checkbox><w14:checked w14:val="{1 if checked else 0}"/>'
            f'<w14:checkedState w14:val="2612" w14:font="{CHECKBOX_FONT}"/>'
            f'<w14:uncheckedState w14:val="2610" w14:font="{CHECKBOX_FONT}"/></w14:checkbox>')
    return _sdt(_sdt_pr(alias, tag, ids, False, binding, kind), CHECKED if checked else UNCHECKED, "", CHECKBOX_FONT)


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


# -- reading ------------------------------------------------------------------------------

@dataclass
class SdtInfo:
    """What one content control says, whatever wrote it (us, Word, LibreOffice)."""

    element: etree._Element
    kind: str                      # "text", "dropdown", "date", "checkbox", "other"
    tag: str | None
    alias: str | None
    xpath: str | None
    store_item_id: str | None
    showing_placeholder: bool
    text: str                      # the visible content, line breaks as \n
    checked: bool | None = None
    multiline: bool = False
    breaks_beside: int = 0  # line breaks in the control's paragraph but outside it (LibreOffice moves them there)
    breaks_uncertain: bool = False  # moved breaks put back, but where the blank lines were cannot be known
    full_date: str | None = None
    list_element: etree._Element | None = None
    last_value: str | None = None  # a drop-down's stored value (w:lastValue)
    glyph_checked: bool | None = None  # a check box's glyph: ticked, unticked, or neither shown

    @property
    def items(self) -> list[tuple[str, str]]:
        """A drop-down's (value, display text) pairs, read only when needed."""
        if self.list_element is None:
            return []
        return [(li.get(_ITEM_VALUE, ""), li.get(_ITEM_TEXT, "")) for li in self.list_element if li.tag == _LIST_ITEM]


_SDT_PR, _SDT_CONTENT = qn("w:sdtPr"), qn("w:sdtContent")
_TAG, _ALIAS, _BINDING, _SHOWING = qn("w:tag"), qn("w:alias"), qn("w:dataBinding"), qn("w:showingPlcHdr")
_XPATH, _STORE = qn("w:xpath"), qn("w:storeItemID")
_CHECKBOX, _CHECKED_FLAG, _W14_VAL = qn("w14:checkbox"), qn("w14:checked"), qn("w14:val")
_DROPDOWNS = (qn("w:dropDownList"), qn("w:comboBox"))
_LIST_ITEM, _ITEM_VALUE, _ITEM_TEXT, _LAST_VALUE = (qn("w:listItem"), qn("w:value"), qn("w:displayText"),
                                                   qn("w:lastValue"))
_CHECKED_STATE, _UNCHECKED_STATE = qn("w14:checkedState"), qn("w14:uncheckedState")
_DATE, _FULL_DATE, _TEXT, _MULTILINE = qn("w:date"), qn("w:fullDate"), qn("w:text"), qn("w:multiLine")
_OTHER_KINDS = frozenset(qn(f"w:{n}") for n in ("picture", "docPartObj", "docPartList", "equation", "citation",
                                                  "bibliography", "group"))


def read_sdt(sdt: etree._Element) -> SdtInfo:
    """One pass over the control's properties (this runs for every control of every upload)."""
    pr = content = None
    for child in sdt:
        if child.tag == _SDT_PR:
            pr = child
        elif child.tag == _SDT_CONTENT:
            content = child
    info = SdtInfo(element=sdt, kind="text", tag=None, alias=None, xpath=None, store_item_id=None,
                   showing_placeholder=False, text=block_text(content) if content is not None else "")
    if pr is None:
        return info
    for c in pr:
        t = c.tag
        if t == _TAG:
            info.tag = c.get(_W_VAL)
        elif t == _ALIAS:
            info.alias = c.get(_W_VAL)
        elif t == _BINDING:
            info.xpath, info.store_item_id = c.get(_XPATH), c.get(_STORE)
        elif t == _SHOWING:
            info.showing_placeholder = True
        elif t == _CHECKBOX:
            info.kind = "checkbox"
            info.glyph_checked = _glyph_state(c, info.text)
            flag = next((k.get(_W14_VAL) for k in c if k.tag == _CHECKED_FLAG), None)
            info.checked = flag in ("1", "true", "on") if flag is not None else info.glyph_checked is True
        elif t in _DROPDOWNS:
            info.kind = "dropdown"
            info.list_element = c
            info.last_value = c.get(_LAST_VALUE)
        elif t == _DATE:
            info.kind = "date"
            info.full_date = c.get(_FULL_DATE)
        elif t == _TEXT:
            info.multiline = c.get(_MULTILINE) in ("1", "true", "on")
        elif t in _OTHER_KINDS and info.kind == "text":
            info.kind = "other"
    if info.kind == "checkbox":
        info.multiline = False
    elif info.multiline:
        paragraph_ = sdt.getparent()
        if paragraph_ is not None:
            info.breaks_beside = sum(1 for br in paragraph_.iter(_BR) if br.getparent().getparent() is paragraph_)
        if "\n" not in info.text:
            info.text, exact = _relinked_lines(content, info.text, info.breaks_beside)
            info.breaks_uncertain = not exact
    return info


def _glyph_state(checkbox: etree._Element, text: str) -> bool | None:
    """Which state the box's glyph shows: the check box declares its two glyphs (☒ and ☐ unless
    it says otherwise); None when the content shows neither."""
    glyphs = {True: CHECKED, False: UNCHECKED}
    for k in checkbox:
        if k.tag in (_CHECKED_STATE, _UNCHECKED_STATE):
            try:
                glyphs[k.tag == _CHECKED_STATE] = chr(int(k.get(_W14_VAL, ""), 16))
            except ValueError:
                pass
    shown = text.strip()
    for state, glyph in glyphs.items():
        if shown == glyph:
            return state
    return None


def _relinked_lines(content: etree._Element | None, text: str, moved: int) -> tuple[str, bool]:
    """Undo LibreOffice 7.4's damage to multi-line controls; and whether the result is exact.

    LibreOffice writes the lines of a multi-line answer as adjacent ``w:t`` siblings inside one
    run, which Word itself never writes, with no ``w:br`` between them; a blank line leaves no
    ``w:t`` of its own. On a re-save without edits, the answer's n breaks stand just before the
    control in the same paragraph (moved out on import); after an edit, those are the old
    answer's. Each boundary between two ``w:t`` siblings is certainly a break: with k
    boundaries, k == n is the whole answer (exact); anything else may have lost blank lines
    (between lines, or at either end), which the body does not tell (not exact). No boundary at
    all leaves the text alone: at most blank lines at its ends can be missing."""
    if content is None:
        return text, True
    boundaries: list[etree._Element] = []
    for r in content.iter(qn("w:r")):
        kids = [k for k in r if k.tag != qn("w:rPr")]
        boundaries += [b for a, b in zip(kids, kids[1:]) if a.tag == _T and b.tag == _T]
    if not boundaries:
        return text, True
    parts, current = [], []
    for r in content.iter(qn("w:r")):
        for k in r:
            if k in boundaries:
                parts.append("".join(current))
                current = []
            if k.tag == _T:
                current.append(k.text or "")
            elif k.tag == _TAB:
                current.append("\t")
    parts.append("".join(current))
    return "\n".join(parts), len(boundaries) == moved


_T, _TAB, _BR, _CR, _P = qn("w:t"), qn("w:tab"), qn("w:br"), qn("w:cr"), qn("w:p")
_NOBREAK = qn("w:noBreakHyphen")


def block_text(el: etree._Element, *, skip: etree._Element | None = None) -> str:
    """Visible text under ``el``: paragraphs joined with \\n, w:br as \\n, w:tab as \\t.
    Deleted (tracked) text is ``w:delText`` and not included; nor is ``skip`` (a content control
    to leave out)."""
    # Hold the skipped elements themselves: lxml hands back the same proxy object only while
    # one is alive, so identity (not id() of a discarded proxy) is what can be compared.
    skipped = set(skip.iter(_T, _TAB, _BR, _CR, _P, _NOBREAK)) if skip is not None else ()
    paragraphs: list[str] = []
    current: list[str] = []
    started = False
    for node in el.iter(_T, _TAB, _BR, _CR, _P, _NOBREAK):
        if skipped and node in skipped:
            continue
        tag = node.tag
        if tag == _T:
            current.append(node.text or "")
        elif tag == _P:
            if started:
                paragraphs.append("".join(current))
            current, started = [], True
        elif tag == _TAB:
            current.append("\t")
        elif tag == _NOBREAK:
            current.append("-")
        else:
            current.append("\n")
    paragraphs.append("".join(current))
    return "\n".join(paragraphs)

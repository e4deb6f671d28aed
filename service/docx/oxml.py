"""WordprocessingML elements: the one place that builds and reads ``w:`` XML.

Builders return lxml elements with children in the order the schema requires (ECMA-376
Part 1, 17.x); a wrong order is what makes Word offer to "repair" a file. Content controls
(``w:sdt``, 17.5.2) are built at run level inside table cells, the kind that survives
LibreOffice re-saves best (see ../shared/ROUNDTRIP.md).

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

from dataclasses import dataclass, field
from itertools import count

from lxml import etree

from .ns import NS, qn

TEXT_WIDTH = 9638  # twips between 2 cm margins on A4
CHECKED, UNCHECKED = "\u2612", "\u2610"  # ☒ ☐
CHECKBOX_FONT = "MS Gothic"

_W_VAL = qn("w:val")


def _el(tag: str, parent: etree._Element | None = None, **attrs: str) -> etree._Element:
    e = etree.Element(qn(tag)) if parent is None else etree.SubElement(parent, qn(tag))
    for k, v in attrs.items():
        e.set(qn(k.replace("_", ":", 1)) if "_" in k else k, v)
    return e


def _val(tag: str, parent: etree._Element, value: str) -> etree._Element:
    e = etree.SubElement(parent, qn(tag))
    e.set(_W_VAL, value)
    return e


# -- runs and paragraphs ------------------------------------------------------------------

def run(text: str = "", *, bold: bool = False, italic: bool = False, style: str | None = None,
        font: str | None = None) -> etree._Element:
    """A run; newlines become ``w:br`` and tabs ``w:tab``."""
    r = _el("w:r")
    if bold or italic or style or font:
        rpr = _el("w:rPr", r)
        if style:
            _val("w:rStyle", rpr, style)
        if font:
            _el("w:rFonts", rpr, w_ascii=font, w_hAnsi=font, w_eastAsia=font, w_hint="eastAsia")
        if bold:
            _el("w:b", rpr)
        if italic:
            _el("w:i", rpr)
    _append_text(r, text)
    return r


def _append_text(r: etree._Element, text: str) -> None:
    for i, line in enumerate(text.split("\n")):
        if i:
            _el("w:br", r)
        for j, chunk in enumerate(line.split("\t")):
            if j:
                _el("w:tab", r)
            if chunk:
                t = _el("w:t", r)
                t.text = chunk
                if chunk != chunk.strip():
                    t.set("{http://www.w3.org/XML/1998/namespace}space", "preserve")


def paragraph(*children: etree._Element | str, style: str | None = None, keep_next: bool = False,
              bold: bool = False) -> etree._Element:
    p = _el("w:p")
    if style or keep_next:
        ppr = _el("w:pPr", p)
        if style:
            _val("w:pStyle", ppr, style)
        if keep_next:
            _el("w:keepNext", ppr)
    for c in children:
        p.append(run(c, bold=bold) if isinstance(c, str) else c)
    return p


# -- tables -------------------------------------------------------------------------------

@dataclass
class Cell:
    content: list[etree._Element] = field(default_factory=list)  # paragraphs, or runs/sdts for one paragraph
    width: int = 0
    shade: str | None = None
    span: int = 1


def table(rows: list[list[Cell]], widths: list[int], *, header_rows: int = 0, caption: str | None = None) -> etree._Element:
    tbl = _el("w:tbl")
    tblpr = _el("w:tblPr", tbl)
    _val("w:tblStyle", tblpr, "FormTable")
    _el("w:tblW", tblpr, w_w=str(sum(widths)), w_type="dxa")
    _el("w:tblLayout", tblpr, w_type="fixed")
    _el("w:tblLook", tblpr, w_val="04A0", w_firstRow="1", w_lastRow="0", w_firstColumn="1",
        w_lastColumn="0", w_noHBand="0", w_noVBand="1")
    if caption:
        _val("w:tblCaption", tblpr, caption)
    grid = _el("w:tblGrid", tbl)
    for w in widths:
        _el("w:gridCol", grid, w_w=str(w))
    for i, cells in enumerate(rows):
        tr = _el("w:tr", tbl)
        trpr = _el("w:trPr", tr)
        _el("w:cantSplit", trpr)
        if i < header_rows:
            _el("w:tblHeader", trpr)
        for c in cells:
            tr.append(_cell(c))
    return tbl


def _cell(c: Cell) -> etree._Element:
    tc = _el("w:tc")
    tcpr = _el("w:tcPr", tc)
    _el("w:tcW", tcpr, w_w=str(c.width), w_type="dxa")
    if c.span > 1:
        _val("w:gridSpan", tcpr, str(c.span))
    if c.shade:
        _el("w:shd", tcpr, w_val="clear", w_color="auto", w_fill=c.shade)
    blocks = [e for e in c.content if e.tag == qn("w:p") or e.tag == qn("w:tbl")]
    inline = [e for e in c.content if e not in blocks]
    if inline:
        p = paragraph()
        for e in inline:
            p.append(e)
        blocks.insert(0, p)
    for b in blocks or [paragraph()]:
        tc.append(b)
    return tc


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


def _sdt_pr(alias: str, tag: str, ids: SdtIds, placeholder: bool, binding: Binding | None) -> etree._Element:
    """sdtPr children in schema order: alias, tag, id, lock, placeholder?, showingPlcHdr, dataBinding."""
    pr = _el("w:sdtPr")
    _val("w:alias", pr, alias[:255])
    _val("w:tag", pr, tag)
    _val("w:id", pr, ids())
    _val("w:lock", pr, "sdtLocked")
    if placeholder:
        _el("w:showingPlcHdr", pr)
    if binding is not None:
        _el("w:dataBinding", pr, w_prefixMappings=PREFIX_MAPPINGS, w_xpath=binding.xpath,
            w_storeItemID=binding.store_item_id)
    return pr


def _sdt(pr: etree._Element, content_runs: list[etree._Element]) -> etree._Element:
    sdt = _el("w:sdt")
    sdt.append(pr)
    content = _el("w:sdtContent", sdt)
    for r in content_runs:
        content.append(r)
    return sdt


def _content(text: str, placeholder: str) -> list[etree._Element]:
    if text:
        return [run(text)]
    return [run(placeholder, style="PlaceholderText")]


def text_control(*, alias: str, tag: str, ids: SdtIds, text: str, placeholder: str, multiline: bool,
                 binding: Binding | None = None) -> etree._Element:
    pr = _sdt_pr(alias, tag, ids, not text, binding)
    t = _el("w:text", pr)
    if multiline:
        t.set(qn("w:multiLine"), "1")
    return _sdt(pr, _content(text, placeholder))


def dropdown_control(*, alias: str, tag: str, ids: SdtIds, items: list[tuple[str, str]], value: str | None,
                     placeholder: str, binding: Binding | None = None) -> etree._Element:
    """``items`` are (value, display text); the first list item is the empty choice."""
    pr = _sdt_pr(alias, tag, ids, value is None, binding)
    dd = _el("w:dropDownList", pr)
    if value is not None:
        dd.set(qn("w:lastValue"), value)
    _el("w:listItem", dd, w_displayText=placeholder, w_value="")
    display = ""
    for v, label in items:
        _el("w:listItem", dd, w_displayText=label, w_value=v)
        if v == value:
            display = label
    return _sdt(pr, _content(display, placeholder))


def date_control(*, alias: str, tag: str, ids: SdtIds, iso: str | None, shown: str, placeholder: str,
                 with_time: bool, binding: Binding | None = None) -> etree._Element:
    pr = _sdt_pr(alias, tag, ids, iso is None, binding)
    d = _el("w:date", pr)
    if iso:
        d.set(qn("w:fullDate"), iso if "T" in iso else iso + "T00:00:00Z")
    _val("w:dateFormat", d, "dd/MM/yyyy HH:mm" if with_time else "dd/MM/yyyy")
    _val("w:lid", d, "en-GB")
    _val("w:storeMappedDataAs", d, "dateTime" if with_time else "date")
    _val("w:calendar", d, "gregorian")
    return _sdt(pr, _content(shown, placeholder))


def checkbox_control(*, alias: str, tag: str, ids: SdtIds, checked: bool,
                     binding: Binding | None = None) -> etree._Element:
    pr = _sdt_pr(alias, tag, ids, False, binding)
    cb = etree.SubElement(pr, qn("w14:checkbox"))
    etree.SubElement(cb, qn("w14:checked")).set(qn("w14:val"), "1" if checked else "0")
    for name, glyph in (("w14:checkedState", "2612"), ("w14:uncheckedState", "2610")):
        st = etree.SubElement(cb, qn(name))
        st.set(qn("w14:val"), glyph)
        st.set(qn("w14:font"), CHECKBOX_FONT)
    return _sdt(pr, [run(CHECKED if checked else UNCHECKED, font=CHECKBOX_FONT)])


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
    full_date: str | None = None
    list_element: etree._Element | None = None

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
_LIST_ITEM, _ITEM_VALUE, _ITEM_TEXT = qn("w:listItem"), qn("w:value"), qn("w:displayText")
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
            flag = next((k.get(_W14_VAL) for k in c if k.tag == _CHECKED_FLAG), None)
            info.checked = flag in ("1", "true", "on") if flag is not None else CHECKED in info.text
        elif t in _DROPDOWNS:
            info.kind = "dropdown"
            info.list_element = c
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
        if info.breaks_beside and "\n" not in info.text:
            info.text = _relinked_lines(content, info.text, info.breaks_beside)
    return info


def _relinked_lines(content: etree._Element | None, text: str, moved: int) -> str:
    """Undo LibreOffice 7.4's damage to multi-line controls.

    On save it moves each line break out of the control (n ``w:br`` just before it in the same
    paragraph) and leaves the lines as adjacent ``w:t`` siblings inside one run, which Word
    itself never writes. Where the two counts agree, the breaks go back between the lines."""
    if content is None:
        return text
    boundaries: list[etree._Element] = []
    for r in content.iter(qn("w:r")):
        kids = [k for k in r if k.tag != qn("w:rPr")]
        boundaries += [b for a, b in zip(kids, kids[1:]) if a.tag == _T and b.tag == _T]
    if not boundaries or len(boundaries) != moved:
        return text
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
    return "\n".join(parts)


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

"""WordprocessingML read back: what a content control says (``read_sdt``) and a block's visible
text (``block_text``), whatever wrote the document — us, Word or LibreOffice. The writing half is
``oxml.py``. Readers work on lxml elements parsed by ``package.parse_xml``."""

from __future__ import annotations

from dataclasses import dataclass

from lxml import etree

from .ns import qn
from .oxml import CHECKED, UNCHECKED

_W_VAL = qn("w:val")


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

"""What LibreOffice does to our Word files on saving, and how each is undone or reported
(measured by tests/docx/test_libreoffice.py; the table is in docs/word.md):

- **Line breaks moved out of a control.** LibreOffice 7.4 writes each ``w:br`` of a multi-line
  answer beside the control, not in it, with the lines as adjacent text elements; the control
  reader (``oxml._relinked_lines``) puts them back where that is certain. Where it is not
  (blank lines among several paragraphs), the bound data part, which keeps the exact text, is
  taken instead — ``line_breaks_from_part``, only when the stored text has the very same
  characters — and failing that the text is kept and the field warned about.
- **A data part it cannot write.** An answer holding ``&`` or ``<`` leaves the data part
  malformed; ``optional_xml`` reads every other part as usual and says, once, that the stored
  copy was not used.
- **Wrapped check boxes.** Each check box gets an outer control with the same binding; the
  control index (``controls.py``) reads the innermost one.
"""

from __future__ import annotations

from lxml import etree

from ..errors import DocumentError
from ..validation import Issue
from .oxml import SdtInfo
from .package import DocxPackage


def damaged_part(name: str) -> Issue:
    return Issue("$", "damaged_part", f"The copy of the answers stored inside the document ({name}) is damaged, so "
                 "it was not used; every value was read from the form itself. (LibreOffice does this when an answer "
                 "contains & or <.)", "warning")


def optional_xml(pkg: DocxPackage, name: str, notes: list[Issue]) -> etree._Element | None:
    """A part we can do without: if it is damaged (not hostile), say so and carry on."""
    if name not in pkg.names():
        return None
    try:
        return pkg.xml(name)
    except DocumentError as exc:
        if exc.code != "xml_malformed":
            raise
        notes.append(damaged_part(name))
        return None


def line_breaks_from_part(info: SdtInfo, stored: list[object]) -> str:
    """The control's text, with its line breaks restored from one of the ``stored`` texts
    (the data part's) when LibreOffice moved them out: only when that damage is visible (n
    breaks beside the control) and a stored text has the same characters and n breaks. A text
    edited since cannot match, so a stale part is never believed."""
    if not info.multiline:
        return info.text
    moved = info.breaks_beside
    if not moved:
        return info.text
    flat = info.text.replace("\n", "")
    for text in stored:
        if isinstance(text, str):
            text = text.replace("\r\n", "\n")
            if text.count("\n") == moved and text.replace("\n", "") == flat:
                return text
    return info.text

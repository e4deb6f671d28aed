"""What LibreOffice does to our Word files on saving, and how each is undone or reported
(measured by tests/docx/test_libreoffice.py; the table is in docs/word.md):

- **Line breaks lost from a control.** LibreOffice 7.4 writes a multi-line answer's lines as
  adjacent text elements with no ``w:br`` (and on a re-save without edits, the old breaks
  stand beside the control instead); the control reader (``oxml._relinked_lines``) puts a break
  at each boundary, which is certain. Blank lines leave no trace in the body, so where they may
  be missing the data part's text is taken instead — ``line_breaks_from_part``, only when it has
  the very same lines — and failing that the text is kept and the field warned about.
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
from .oxml_read import SdtInfo
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
    """The control's text, with its line breaks restored from one of the ``stored`` texts (the
    data part's: LibreOffice writes a bound text control's exact answer there; repeat cells keep
    what was generated) when that text has the very same lines, blank lines apart; or, when
    every break of a re-saved answer stands beside the control (n of them), the very same
    characters with n breaks. A text edited since cannot match, so a stale part is never
    believed."""
    if not info.multiline:
        return info.text
    lines, flat, moved = _lines(info.text), info.text.replace("\n", ""), info.breaks_beside
    for text in stored:
        if not isinstance(text, str):
            continue
        text = text.replace("\r\n", "\n")
        if "\n" in text and _lines(text) == lines:
            return text  # the same lines: only blank lines were missing
        if moved and text.count("\n") == moved and text.replace("\n", "") == flat:
            return text  # a re-save that moved every break out and left the lines glued together
    return info.text


def _lines(text: str) -> list[str]:
    return [line for line in text.replace("\r\n", "\n").split("\n") if line != ""]

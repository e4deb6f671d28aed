"""A meeting pack's cover sheet as a PDF (text only, no fields), drawn like the forms."""

from __future__ import annotations

import hashlib

from . import fonts
from .assemble import PdfSource, source_of
from .canvas import (
    GREY, HEADER_FILL, LABEL_FILL, MARGIN, PAD, SUBTITLE_COLOUR, TEXT_W, TITLE_COLOUR, Canvas, Row, paginate, space,
    text_row, wrap, write_pages,
)
from .names import INFO_CREATOR, INFO_PRODUCER, INFO_TITLE
from .objects import PdfFile, ref, text

SIZE, LINE = 9.5, 12
WARN = (0.6, 0.25, 0.0)


def _cells_row(cells: list[tuple[str, str, tuple | None]], widths: list[float], table: object,
               scope: str | None = None) -> Row:
    """One table row: (text, font, shade) per cell, wrapped to its column; ``scope``: "Column"
    for a header row, "Row" when the first cell labels the row."""
    wrapped = [wrap(t, font, SIZE, w - 2 * PAD) for (t, font, _), w in zip(cells, widths)]
    height = max(len(lines) for lines in wrapped) * LINE + 2 * PAD + 2

    def draw(c: Canvas, y_top: float) -> None:
        x = MARGIN
        tr = c.structure.open("TR")
        for n, ((t, font, shade), w, lines) in enumerate(zip(cells, widths, wrapped)):
            heads = scope == "Column" or (scope == "Row" and n == 0)
            c.structure.open("TH" if heads else "TD", f"/A << /O /Table /Scope /{scope} >>" if heads else "")
            c.rect(x, y_top - height, w, height, fill=shade, stroke=(0.5, 0.5, 0.5))
            for j, line in enumerate(lines):
                c.text(font, SIZE, x + PAD, y_top - PAD - 9 - j * LINE, line)
            c.structure.close(c.structure.current)
            x += w
        c.structure.close(tr)

    return Row(height, draw, group=table, group_role="Table")


def cover_pdf_source(cover) -> tuple[bytes, PdfSource]:
    """The cover sheet as a PDF, and its objects for a combined PDF (``assemble.combine``).
    ``cover``: a service.packs.build.Cover."""
    details, invited, agenda, documents = object(), object(), object(), object()  # a table or list each
    rows = [text_row(cover.pack_title, fonts.BOLD, 17, 0, True, TITLE_COLOUR, roles=("H1",)),
            text_row("Meeting pack – cover sheet", fonts.REGULAR, 11, 0, True, SUBTITLE_COLOUR),
            text_row(cover.purpose, fonts.ITALIC, 9, 4, False, GREY), space(6)]
    widths = [140.0, TEXT_W - 140.0]
    rows += [_cells_row([(label, fonts.BOLD, LABEL_FILL), (value, fonts.REGULAR, None)], widths, details, "Row")
             for label, value in cover.details]
    if cover.warnings:
        rows.append(text_row("Timescales and checks", fonts.BOLD, 13, 10, True, TITLE_COLOUR, roles=("H2",)))
        rows += [text_row("! " + w, fonts.REGULAR, SIZE, 2, False, WARN) for w in cover.warnings]
    for heading, lines in cover.sections:
        rows.append(text_row(heading, fonts.BOLD, 13, 10, True, TITLE_COLOUR, roles=("H2",)))
        rows += [text_row(line, fonts.REGULAR, SIZE, 2, False) for line in lines]
    rows.append(text_row("Invited", fonts.BOLD, 13, 10, True, TITLE_COLOUR, roles=("H2",)))
    if cover.invitees:
        half = [TEXT_W / 2, TEXT_W / 2]
        header = _cells_row([("Name", fonts.BOLD, HEADER_FILL), ("Role", fonts.BOLD, HEADER_FILL)], half, invited,
                            "Column")
        header.keep_with_next = True
        rows.append(header)
        rows += [_cells_row([(p.get("name", ""), fonts.REGULAR, None), (p.get("role", ""), fonts.REGULAR, None)], half,
                            invited) for p in cover.invitees]
    else:
        rows.append(text_row("No invitees were listed.", fonts.REGULAR, SIZE, 0, False))
    item = {"roles": ("LI", "LBody"), "group_role": "L"}
    if cover.agenda:
        rows.append(text_row("Agenda", fonts.BOLD, 13, 10, True, TITLE_COLOUR, roles=("H2",)))
        rows += [text_row(f"{i}.  {a}", fonts.REGULAR, SIZE, 0, False, group=agenda, **item)
                 for i, a in enumerate(cover.agenda, 1)]
    rows.append(text_row("Documents enclosed", fonts.BOLD, 13, 10, True, TITLE_COLOUR, roles=("H2",)))
    rows += [text_row(f"{i}.  {t}", fonts.REGULAR, SIZE, 0, False, group=documents, **item)
             for i, t in enumerate(cover.documents, 1)]
    # the file identifier is a digest of what the sheet says: the same cover is the same bytes
    return _render(cover.pack_title + " – cover sheet", paginate(rows), hashlib.sha256(repr(cover).encode()).hexdigest())


def _render(title: str, pages: list[list[Row]], digest: str) -> tuple[bytes, PdfSource]:
    pdf = PdfFile()
    c = Canvas(pdf)
    root, info = pdf.reserve(), pdf.reserve()
    pages_ref = write_pages(c, pages)
    pdf.put(root, f"<< /Type /Catalog /Pages {ref(pages_ref)} /Lang (en-GB) /ViewerPreferences << /DisplayDocTitle true >> "
                  f"{c.catalog_entries(title)} >>")
    pdf.put(info, f"<< {INFO_TITLE} {text(title)} {INFO_CREATOR} (Step Down Forms) {INFO_PRODUCER} (Step Down Forms) >>")
    source = source_of(pdf, c)
    return pdf.output(root, info, digest[:32].upper()), source

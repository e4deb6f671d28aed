"""A meeting pack's cover sheet as a Word document (no controls: it is read, not filled)."""

from __future__ import annotations

from datetime import datetime

from ..dates import utc_stamp
from ..layout import TEXT_WIDTH
from . import oxml, parts
from .oxml import HEADER_SHADE, LABEL_SHADE
from .package import write_package


def _cell(text: str, width: int, *, bold: bool = False, shade: str | None = None) -> oxml.Cell:
    lines = text.split("\n") or [""]
    return oxml.Cell("".join(oxml.paragraph(text=line, bold=bold) for line in lines), width, shade)


def cover_docx(cover, generated: datetime | None = None) -> bytes:
    """``cover``: a service.packs.build.Cover; ``generated``: when it was made (now by default)."""
    body = [oxml.paragraph(text=cover.pack_title, style="Title"), oxml.paragraph(text="Meeting pack – cover sheet",
                                                                                   style="Subtitle")]
    body.append(oxml.paragraph(text=cover.purpose, style="Guidance"))
    widths = [2800, TEXT_WIDTH - 2800]
    body.append(oxml.table([[_cell(label, widths[0], bold=True, shade=LABEL_SHADE), _cell(value, widths[1])]
                            for label, value in cover.details], widths))
    if cover.warnings:
        body.append(oxml.paragraph(text="Timescales and checks", style="Heading1"))
        body += [oxml.paragraph(text="⚠ " + w) for w in cover.warnings]
    for heading, lines in cover.sections:
        body.append(oxml.paragraph(text=heading, style="Heading1"))
        body += [oxml.paragraph(text=line) for line in lines]
    body.append(oxml.paragraph(text="Invited", style="Heading1"))
    if cover.invitees:
        w2 = [TEXT_WIDTH // 2, TEXT_WIDTH - TEXT_WIDTH // 2]
        rows = [[_cell("Name", w2[0], bold=True, shade=HEADER_SHADE), _cell("Role", w2[1], bold=True, shade=HEADER_SHADE)]]
        rows += [[_cell(p.get("name", ""), w2[0]), _cell(p.get("role", ""), w2[1])] for p in cover.invitees]
        body.append(oxml.table(rows, w2, header_rows=1))
    else:
        body.append(oxml.paragraph(text="No invitees were listed."))
    if cover.agenda:
        body.append(oxml.paragraph(text="Agenda", style="Heading1"))
        body += [oxml.paragraph(text=f"{i}.\t{item}") for i, item in enumerate(cover.agenda, 1)]
    body.append(oxml.paragraph(text="Documents enclosed", style="Heading1"))
    body += [oxml.paragraph(text=f"{i}.\t{title}") for i, title in enumerate(cover.documents, 1)]
    body.append(oxml.section(("footer", parts.FOOTER_RID)))
    document = oxml.document("".join(body))
    return write_package(parts.base_parts(document, f"{cover.pack_title} – cover sheet", utc_stamp(generated), form=False))

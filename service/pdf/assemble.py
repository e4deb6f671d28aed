"""One PDF of several of our documents (a meeting pack's combined PDF), assembled from the
objects our writer made for each, with a bookmark at each document's first page.

Each page is copied with what it draws: its content stream, its fonts and pictures, and in place
of each field the appearance the field shows now, drawn into the page as a form XObject (the
"flattening" a viewer does when it prints), so every value prints and no two documents' fields
share a name. Objects that are the same bytes once their references are renumbered are written
once: the font files, their glyph maps and a form's check box appearances, which every
document embeds, appear once in the file. Fields, widgets, tooltips and the documents' structure
trees are left out (the combined PDF is for reading and printing; each document stays in the
pack as its own fillable, tagged file).

This replaced pikepdf (qpdf) opening each document, flattening its fields and saving the whole,
which cost about 13 ms for a five-document pack; reading our own objects costs a fraction of that,
and a pack worker no longer loads pikepdf.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

from .canvas import PAGE_H, PAGE_W, PageRecord
from .objects import PdfFile, num, ref, text

# References are renumbered in dictionaries only, never in stream data (where a value is drawn);
# the dictionaries copied (appearance forms, fonts, pictures) hold no text strings.
_REF = re.compile(rb"(\d+) 0 R")
_STREAM = b">>\nstream\n"  # where a stream's dictionary ends (the writer writes every stream so)


@dataclass(frozen=True)
class PdfSource:
    """What the assembler needs of one generated document: its objects before they were packed,
    its pages, and the names and objects of the resources every page uses."""

    objects: PdfFile
    pages: tuple[PageRecord, ...]
    fonts: tuple[tuple[str, int], ...]  # (resource name, object): F1, F2, F3
    pictures: tuple[tuple[str, int], ...]  # (resource name, object): the Logo, if any


def source_of(pdf: PdfFile, canvas) -> PdfSource:
    """A document's source, taken once its objects are all written and before ``output``."""
    return PdfSource(pdf.frozen(), *canvas.source())


class _Copier:
    """Copies objects from the documents into one file, renumbered, each distinct object once."""

    def __init__(self, out: PdfFile) -> None:
        self.out = out
        self.written: dict[tuple[bool, bytes], int] = {}

    def document(self, source: PdfSource):
        mapping: dict[int, int | None] = {}

        def copy(number: int) -> int:
            known = mapping.get(number, 0)
            if known is None:
                raise ValueError(f"PDF object {number} refers back to itself; it cannot be copied")
            if known:
                return known
            mapping[number] = None  # being copied
            body = source.objects.body(number)
            stream = source.objects.is_stream(number)
            end = body.index(_STREAM) if stream else len(body)
            head = _REF.sub(lambda m: b"%d 0 R" % copy(int(m.group(1))), body[:end])
            key = (stream, head + body[end:])
            new = self.written.get(key)
            if new is None:
                new = self.written[key] = self.out.add(key[1])
                if stream:
                    self.out.mark_stream(new)
            mapping[number] = new
            return new

        return copy


def combine(documents: list[tuple[str, PdfSource]]) -> bytes:
    """``documents``: (bookmark title, source) in order; the file's title is the first
    document's. The same documents give the same bytes."""
    out = PdfFile()
    copier = _Copier(out)
    root, info, pages_ref, outline = out.reserve(), out.reserve(), out.reserve(), out.reserve()
    opening = out.stream("", b"q\n", compress=False)  # the page's own state saved, then restored before the fields
    kids: list[int] = []
    starts: list[int] = []
    for _, source in documents:
        copy = copier.document(source)
        fonts = "/Font << " + " ".join(f"/{name} {ref(copy(n))}" for name, n in source.fonts) + " >>"
        pictures = [f"/{name} {ref(copy(n))}" for name, n in source.pictures]
        starts.append(len(kids))
        for page in source.pages:
            drawn = [(x, y, copy(form)) for x, y, form in page.drawn]
            contents = [opening, copy(page.content)]
            if drawn:
                ops = "Q\n" + "\n".join(f"q 1 0 0 1 {num(x)} {num(y)} cm /W{i} Do Q" for i, (x, y, _) in enumerate(drawn))
                contents.append(out.stream("", ops.encode("latin-1")))
            xobjects = pictures + [f"/W{i} {ref(form)}" for i, (_, _, form) in enumerate(drawn)]
            entries = fonts + (f" /XObject << {' '.join(xobjects)} >>" if xobjects else "")
            page_ref = out.add(f"<< /Type /Page /Parent {ref(pages_ref)} /MediaBox [0 0 {num(PAGE_W)} {num(PAGE_H)}] "
                               f"/Resources << {entries} >> /Contents [{' '.join(ref(c) for c in contents)}] >>")
            kids.append(page_ref)
    out.put(pages_ref, f"<< /Type /Pages /Kids [{' '.join(ref(k) for k in kids)}] /Count {len(kids)} >>")
    items = [out.reserve() for _ in documents]
    for i, ((name, _), first) in enumerate(zip(documents, starts)):
        links = (f" /Prev {ref(items[i - 1])}" if i else "") + (f" /Next {ref(items[i + 1])}" if i + 1 < len(items) else "")
        dest = f" /Dest [{ref(kids[first])} /Fit]" if first < len(kids) else ""
        out.put(items[i], f"<< /Title {text(name)} /Parent {ref(outline)}{links}{dest} >>")
    ends = f" /First {ref(items[0])} /Last {ref(items[-1])}" if items else ""
    out.put(outline, f"<< /Type /Outlines{ends} /Count {len(items)} >>")
    out.put(root, f"<< /Type /Catalog /Pages {ref(pages_ref)} /Outlines {ref(outline)} /PageMode /UseOutlines "
                  f"/Lang (en-GB) >>")
    name = documents[0][0] if documents else "Meeting pack"
    out.put(info, f"<< /Title {text(name)} /Creator (Step Down Forms) /Producer (Step Down Forms) >>")
    digest = hashlib.sha256(b"".join(out.body(n) for n in range(1, out.count + 1))).hexdigest()
    return out.output(root, info, digest[:32].upper())

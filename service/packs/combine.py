"""One PDF of a whole pack, with a bookmark per document: pages copied with pikepdf (qpdf),
fields flattened into the page (so every value prints and no two documents' fields share a
name), the documents' identical font files kept once, then an outline entry at each
document's first page."""

from __future__ import annotations

import hashlib
from io import BytesIO


def _share_fonts(pdf) -> None:
    """Each document embeds the same font subsets; keep one copy of each font file and
    ToUnicode map (qpdf writes only what is still referenced)."""
    import pikepdf  # deferred: it takes 0.15 s to load, and only combined PDFs need it

    seen: dict[bytes, object] = {}

    def shared(stream):
        key = hashlib.sha256(bytes(stream.read_raw_bytes())).digest()
        return seen.setdefault(key, stream)

    for obj in pdf.objects:
        if not isinstance(obj, pikepdf.Dictionary):
            continue
        if obj.get("/Type") == "/FontDescriptor" and "/FontFile2" in obj:
            obj.FontFile2 = shared(obj.FontFile2)
        elif obj.get("/Subtype") == "/Type0" and "/ToUnicode" in obj:
            obj.ToUnicode = shared(obj.ToUnicode)


def combine_pdfs(documents: list[tuple[str, bytes]]) -> bytes:
    """``documents``: (bookmark title, PDF bytes) in order."""
    import pikepdf  # deferred: it takes 0.15 s to load, and only combined PDFs need it

    out = pikepdf.new()
    starts: list[tuple[str, int]] = []
    for title, raw in documents:
        with pikepdf.open(BytesIO(raw)) as src:
            src.flatten_annotations(mode="all")  # also drops the form's field list
            if "/AcroForm" in src.Root:
                del src.Root["/AcroForm"]
            starts.append((title, len(out.pages)))
            out.pages.extend(src.pages)
    _share_fonts(out)
    with out.open_outline() as outline:
        for title, first in starts:
            outline.root.append(pikepdf.OutlineItem(title, first))
    out.Root.PageMode = pikepdf.Name.UseOutlines
    out.docinfo["/Title"] = documents[0][0] if documents else "Meeting pack"
    out.docinfo["/Creator"] = "Step Down Forms"
    buf = BytesIO()
    out.save(buf, compress_streams=True, object_stream_mode=pikepdf.ObjectStreamMode.generate,
             deterministic_id=True)  # the same documents make the same bytes
    return buf.getvalue()

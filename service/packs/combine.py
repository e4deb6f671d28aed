"""One PDF of a whole pack, with a bookmark per document: pages copied with pikepdf (qpdf),
fields flattened into the page (so every value prints and no two documents' fields share a
name), then an outline entry at each document's first page."""

from __future__ import annotations

from io import BytesIO


def combine_pdfs(documents: list[tuple[str, bytes]]) -> bytes:
    """``documents``: (bookmark title, PDF bytes) in order."""
    import pikepdf

    out = pikepdf.new()
    starts: list[tuple[str, int]] = []
    for title, raw in documents:
        with pikepdf.open(BytesIO(raw)) as src:
            src.flatten_annotations(mode="all")  # also drops the form's field list
            if "/AcroForm" in src.Root:
                del src.Root["/AcroForm"]
            starts.append((title, len(out.pages)))
            out.pages.extend(src.pages)
    with out.open_outline() as outline:
        for title, first in starts:
            outline.root.append(pikepdf.OutlineItem(title, first))
    out.Root.PageMode = pikepdf.Name.UseOutlines
    out.docinfo["/Title"] = documents[0][0] if documents else "Meeting pack"
    out.docinfo["/Creator"] = "Step Down Forms"
    buf = BytesIO()
    out.save(buf, compress_streams=True, object_stream_mode=pikepdf.ObjectStreamMode.generate)
    return buf.getvalue()

"""A combined PDF assembled from our documents' own objects (service.pdf.assemble): it prints
exactly what each document shows, holds no fields, keeps one copy of what the documents share,
and is the same bytes for the same documents."""

from __future__ import annotations

import glob
import subprocess
from io import BytesIO
from pathlib import Path

import pikepdf
import pytest

from service.brand import Brand
from service.pdf.assemble import PdfSource, combine
from service.pdf.objects import PdfFile
from service.pdf.writer import generate_pdf_source
from tests.conftest import REGISTRY, load_sample
from tests.pdf.test_pdf import _png
from tests.tools import require

LOGO = _png(2, 1, 2, [(0, bytes([200, 30, 30, 30, 30, 200]))])
BRAND = Brand(("Example Council", "Children's services"), ("OFFICIAL-SENSITIVE",), LOGO, "png")


def _documents() -> list[tuple[str, bytes, PdfSource]]:
    """Two forms, full samples (ticked and empty boxes, choices, long text), one branded."""
    out = []
    for form, brand in (("ramp", None), ("key-criteria", BRAND)):
        data = load_sample(form)
        if form == "ramp":  # what looks like PDF syntax in a value is drawn, never renumbered
            data["completed_by"] = "Morgan 3 0 R (Sample) \\ >> stream"
        raw, source = generate_pdf_source(REGISTRY.get(form), data, brand=brand)
        out.append((REGISTRY.get(form).title, raw, source))
    return out


def _pages(pdf: bytes, folder, name: str) -> list[bytes]:
    path = folder / f"{name}.pdf"
    path.write_bytes(pdf)
    subprocess.run(["pdftoppm", "-r", "50", "-gray", str(path), str(folder / name)], check=True)
    return [Path(p).read_bytes() for p in sorted(glob.glob(str(folder / f"{name}-*.pgm")))]


def test_the_combined_pdf_prints_every_page_as_its_document_shows_it(tmp_path):
    """Rendered by poppler, each combined page is pixel for pixel the document's own page with
    its fields drawn (their values, boxes, ticks, the logo and the margins)."""
    require("pdftoppm", "poppler-utils")
    documents = _documents()
    alone = [page for i, (_, raw, _) in enumerate(documents) for page in _pages(raw, tmp_path, f"doc{i}")]
    combined = _pages(combine([(title, source) for title, _, source in documents]), tmp_path, "combined")
    assert len(combined) == len(alone) >= 3
    assert [i for i, (a, b) in enumerate(zip(alone, combined)) if a != b] == []


def test_the_combined_pdf_has_no_fields_and_a_bookmark_at_each_document():
    documents = _documents()
    raw = combine([(title, source) for title, _, source in documents])
    with pikepdf.open(BytesIO(raw)) as pdf:
        assert pdf.check_pdf_syntax() == []
        assert "/AcroForm" not in pdf.Root and all("/Annots" not in page.obj for page in pdf.pages)
        with pdf.open_outline() as outline:
            marks = [(item.title, pdf.pages.index(pikepdf.Page(item.destination[0]))) for item in outline.root]
        lengths = []
        for _, alone, _ in documents:
            with pikepdf.open(BytesIO(alone)) as one:
                lengths.append(len(one.pages))
        assert marks == [(documents[0][0], 0), (documents[1][0], lengths[0])]
        assert str(pdf.docinfo["/Title"]) == documents[0][0] and pdf.Root.PageMode == "/UseOutlines"
        fonts = [bytes(o.read_raw_bytes()) for o in pdf.objects
                 if isinstance(o, pikepdf.Stream) and "/Length1" in o]
        assert len(fonts) == len(set(fonts)) == 3  # each face once, shared by both documents


def test_the_same_documents_make_the_same_bytes_and_differ_from_others():
    first = _documents()
    again = _documents()
    pairs = lambda docs: [(title, source) for title, _, source in docs]  # noqa: E731
    assert combine(pairs(first)) == combine(pairs(again))
    assert combine(pairs(first)) != combine(pairs(first)[::-1])


def test_an_object_that_refers_to_itself_is_refused():
    objects = PdfFile()
    loop = objects.reserve()
    objects.put(loop, f"<< /Next {loop} 0 R >>")
    page = objects.stream("", b"")
    from service.pdf.canvas import PageRecord

    source = PdfSource(objects.frozen(), (PageRecord(page, [(0, 0, loop)]),), (), ())
    with pytest.raises(ValueError, match="refers back to itself"):
        combine([("Loop", source)])

"""Our blank PDF forms filled by real PDF libraries through their own form-filling APIs, as a
person filling them in that viewer does — pdf.js (the viewer in Firefox and many web apps),
MuPDF (mutool) and PDFium (Chrome's engine, through pypdfium2) — then saved by that library,
and read back by our reader: every value comes back exactly. The fillers are in tests/clients/."""

from __future__ import annotations

import pytest

from service.pdf import extract_pdf, generate_pdf
from service.shape import complete
from tests.conftest import REGISTRY, load_sample
from tests.pdf.values import flat_values
from tests.tools import fill_pdf

CLIENTS = ["pdfjs", "mupdf", "pdfium"]
WELSH = "Siân Ŵyn – Ελένη Жанна"


def _cases():
    """A sample of every kind of field: text (Welsh, Greek, Cyrillic), multi-line text and
    lists, dates and date-times, numbers, choices, check boxes and multiple choices, and rows of
    growing tables."""
    psm = {**load_sample("placement-stability-meeting"), "child_name": WELSH}
    psm["present"] = psm["present"][:2]
    ramp = load_sample("ramp")
    prep = load_sample("preparation-plan")
    return [("placement-stability-meeting", psm), ("ramp", ramp), ("preparation-plan", prep)]


def _blank_with_rows(spec, data) -> dict:
    """A blank form with as many (empty) rows in each table as the data needs."""
    return {f.key: [{} for _ in data.get(f.key) or []] for f in spec.fields if f.type == "repeat"}


@pytest.mark.parametrize("client", CLIENTS)
@pytest.mark.parametrize("form_id, data", _cases(), ids=[c[0] for c in _cases()])
def test_a_form_filled_by_a_real_viewer_reads_back_exactly(tmp_path, client, form_id, data):
    spec = REGISTRY.get(form_id)
    blank = tmp_path / "blank.pdf"
    blank.write_bytes(generate_pdf(spec, _blank_with_rows(spec, data)))
    values = {name: value for name, value in flat_values(spec, data).items() if value not in ("", False)}
    filled = tmp_path / f"{client}.pdf"
    fill_pdf(client, blank, filled, values)
    result = extract_pdf(filled.read_bytes(), REGISTRY)
    assert result.data == complete(spec, data)
    assert result.errors == []


@pytest.mark.parametrize("client", CLIENTS)
def test_a_box_unticked_and_a_value_cleared_by_a_viewer_read_back_so(tmp_path, client):
    spec = REGISTRY.get("ramp")
    sample = load_sample("ramp")
    filled = tmp_path / "filled.pdf"
    filled.write_bytes(generate_pdf(spec, sample))
    box = next(name for name, value in flat_values(spec, sample).items() if value is True)
    out = tmp_path / f"{client}.pdf"
    fill_pdf(client, filled, out, {box: False, "completed_by": ""})
    data = extract_pdf(out.read_bytes(), REGISTRY).data
    node = data
    for part in box.split("/"):
        node = node[part] if isinstance(node, dict) else node
    assert node is False
    assert data["completed_by"] is None


def test_pdfjs_draws_welsh_typed_in_a_viewer_with_the_forms_own_font(tmp_path):
    """The default appearance is the embedded DejaVu Sans, so pdf.js writes an appearance for
    a Welsh value (with Helvetica it could not, and left every field for the next viewer to
    redraw); the glyphs it draws are those of the value."""
    import re

    import pikepdf

    from service.pdf import fonts

    blank = tmp_path / "blank.pdf"
    blank.write_bytes(generate_pdf(REGISTRY.get("ramp")))
    out = tmp_path / "pdfjs.pdf"
    fill_pdf("pdfjs", blank, out, {"completed_by": "Ŵyn ap Siôn"})
    with pikepdf.open(out) as pdf:
        assert "/NeedAppearances" not in pdf.Root.AcroForm or not pdf.Root.AcroForm.NeedAppearances
        widget = next(a for p in pdf.pages for a in p.get("/Annots", []) if str(a.get("/T")) == "completed_by")
        stream = widget.AP.N.read_bytes()
        used = re.search(rb"/(F\d+) [\d.]+ Tf", stream).group(1).decode()
        assert str(widget.AP.N.Resources.Font[f"/{used}"].BaseFont).endswith("DejaVuSans")
    assert extract_pdf(out.read_bytes(), REGISTRY).data["completed_by"] == "Ŵyn ap Siôn"
    assert fonts.face(fonts.REGULAR).hexes.get("Ŵ")  # the glyph the subset holds

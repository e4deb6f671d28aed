"""PDF forms: every sample round-trips; a blank form filled by pypdf (as a viewer would) and by
pdftk-java from XFDF reads back exactly; broken, flattened, encrypted and foreign PDFs are
refused with a reason."""

from __future__ import annotations

from io import BytesIO
from xml.sax.saxutils import escape

import pytest
from pypdf import PdfReader, PdfWriter
from pypdf.generic import NameObject

import service
from service.pdf import extract_pdf, generate_pdf
from service.shape import complete
from tests.conftest import FORM_IDS, REGISTRY, SAMPLES, load_sample
from tests.pdf.values import flat_values as _flat_values
from tests.tools import pdftk


@pytest.mark.parametrize("form_id", FORM_IDS)
def test_sample_round_trips(form_id):
    spec, sample = REGISTRY.get(form_id), load_sample(form_id)
    result = extract_pdf(generate_pdf(spec, sample, document_id="aaaaaaaa-0000-4000-8000-000000000001"), REGISTRY)
    assert result.data == complete(spec, sample)
    assert result.errors == []
    assert (result.form, result.document_version, result.document_id) == (
        form_id, spec.version, "aaaaaaaa-0000-4000-8000-000000000001")


@pytest.mark.parametrize("form_id", FORM_IDS)
def test_blank_form_reads_empty(form_id):
    spec = REGISTRY.get(form_id)
    result = extract_pdf(generate_pdf(spec), REGISTRY)
    assert result.data == complete(spec, {})
    assert {e.path for e in result.errors} == {e.path for e in service.validate(spec, {}).errors}


def test_fields_are_named_by_path_with_tooltips_and_no_length_cap():
    reader = PdfReader(BytesIO(generate_pdf(REGISTRY.get("key-criteria"))))
    fields = reader.get_fields()
    assert {"child_name", "safety/fire_setting/answer", "matching_criteria/0/criterion",
            "characteristics/caring"} <= set(fields)
    assert not [n for n in fields if "." in n], "a dot would be read as PDF nesting"
    assert fields["safety/fire_setting/answer"]["/TU"] == "Has the child or young person set fires? – Answer"
    assert fields["matching_criteria/2/comment"]["/TU"].startswith("Key Matching Criteria, row 3: Please include")
    assert all("/MaxLen" not in f for f in fields.values())
    assert len(reader.pages) >= 2


SPEC = REGISTRY.get("preparation-plan")
TEXT = {
    "child_name": "Siân Ŵyn ap Llŷr",
    "su_number": "SU-EX-9",
    "social_worker": "Ελένη Жанна",
    "wishes_and_feelings": "Wants a dog – and £5 pocket money.\nLikes ‘quiet’ evenings.",
    "suitability_confirmed_date": "19/01/2026",
    "meeting_date": "30/01/2026",
    "attendees/0/name": "Ana Example",
    "attendees/0/role": "Social worker",
    "attendees/2/name": "Ben Sample",
    "attendees/2/role": "IRO",
}
EXPECTED = {
    "child_name": "Siân Ŵyn ap Llŷr", "su_number": "SU-EX-9", "social_worker": "Ελένη Жанна",
    "wishes_and_feelings": "Wants a dog – and £5 pocket money.\nLikes ‘quiet’ evenings.",
    "suitability_confirmed_date": "2026-01-19", "meeting_date": "2026-01-30",
    "attendees": [{"name": "Ana Example", "role": "Social worker", "organisation": None},
                  {"name": "Ben Sample", "role": "IRO", "organisation": None}],
    "child_aware": "partly", "care_plan_ratified": True, "supports_needed": ["advocate", "written_information"],
}


def _check(result):
    for key, value in EXPECTED.items():
        assert result.data[key] == value, key
    assert not [e for e in result.errors if e.code != "required"]


def test_filled_by_pypdf_like_a_viewer():
    writer = PdfWriter(clone_from=PdfReader(BytesIO(generate_pdf(SPEC))))
    for page in writer.pages:
        writer.update_page_form_field_values(page, {**TEXT, "child_aware": "partly"}, auto_regenerate=False)
        for ref in page.get("/Annots") or []:
            w = ref.get_object()
            if w.get("/T") in ("care_plan_ratified", "supports_needed/advocate", "supports_needed/written_information"):
                on = next(k for k in w["/AP"]["/N"] if k != "/Off")
                w[NameObject("/V")] = w[NameObject("/AS")] = NameObject(on)
    out = BytesIO()
    writer.write(out)
    _check(extract_pdf(out.getvalue(), REGISTRY))


def test_filled_by_pdftk_from_xfdf(tmp_path):
    blank = tmp_path / "blank.pdf"
    blank.write_bytes(generate_pdf(SPEC))
    values = {**TEXT, "child_aware": "partly", "care_plan_ratified": "Yes", "supports_needed/advocate": "Yes",
              "supports_needed/written_information": "Yes"}
    xfdf = ('<?xml version="1.0" encoding="UTF-8"?><xfdf xmlns="http://ns.adobe.com/xfdf/"><fields>'
            + "".join(f'<field name="{escape(k)}"><value>{escape(v)}</value></field>' for k, v in values.items())
            + "</fields></xfdf>")
    (tmp_path / "values.xfdf").write_text(xfdf, encoding="utf-8")
    filled = tmp_path / "filled.pdf"
    pdftk(str(blank), "fill_form", str(tmp_path / "values.xfdf"), "output", str(filled))
    dump = pdftk(str(filled), "dump_data_fields_utf8").decode("utf-8")
    assert "FieldValue: Siân Ŵyn ap Llŷr" in dump and "FieldValue: Ελένη Жанна" in dump
    _check(extract_pdf(filled.read_bytes(), REGISTRY))


def test_refusals(tmp_path):
    spec = REGISTRY.get("ramp")
    good = generate_pdf(spec, load_sample("ramp"))
    cases = {}
    flat = PdfWriter(clone_from=PdfReader(BytesIO(good)))
    for page in flat.pages:
        page.pop(NameObject("/Annots"), None)
    flat._root_object.pop(NameObject("/AcroForm"), None)
    cases["flattened_pdf"] = flat
    locked = PdfWriter(clone_from=PdfReader(BytesIO(good)))
    locked.encrypt("secret")
    cases["encrypted"] = locked
    for code, writer in cases.items():
        out = BytesIO()
        writer.write(out)
        with pytest.raises(service.DocumentError) as info:
            extract_pdf(out.getvalue(), REGISTRY)
        assert info.value.code == code
    with pytest.raises(service.DocumentError) as info:
        extract_pdf(good, REGISTRY, form="key-criteria")
    assert info.value.code == "wrong_form"
    with pytest.raises(service.DocumentError) as info:
        extract_pdf(good[: len(good) // 3], REGISTRY)
    assert info.value.code == "corrupt_pdf"  # a third of the file: its objects and cross-references are cut


def test_cli_generates_and_reads_pdf(tmp_path, capsys):
    import json

    from service.cli import main

    out = tmp_path / "kc.pdf"
    assert main(["generate", "key-criteria", "--format", "pdf", "--data", str(SAMPLES / "key-criteria.json"),
                 "--out", str(out)]) == 0
    capsys.readouterr()
    assert main(["extract", str(out)]) == 0
    assert json.loads(capsys.readouterr().out)["data"]["child_name"] == "Kai Example"


def _ink(pixels: bytes) -> int:
    return sum(1 for p in pixels if p < 230)


@pytest.mark.parametrize("form_id", FORM_IDS)
def test_prefilled_values_show_when_rendered(tmp_path, form_id):
    """poppler draws a field's appearance stream when it has one. The same filled form rendered
    with its text and choice appearances, and with each replaced by an empty one, must differ:
    the values show from our appearances, without any viewer regenerating anything."""
    from pypdf.generic import DecodedStreamObject, DictionaryObject

    from tests.tools import render_gray

    spec = REGISTRY.get(form_id)
    filled = tmp_path / "filled.pdf"
    filled.write_bytes(generate_pdf(spec, load_sample(form_id)))
    bare = PdfWriter(clone_from=PdfReader(filled))
    for page in bare.pages:
        for ref in page.get("/Annots") or []:
            widget = ref.get_object()
            if widget.get("/FT") in ("/Tx", "/Ch"):
                empty = DecodedStreamObject()
                empty.update({NameObject("/Type"): NameObject("/XObject"), NameObject("/Subtype"): NameObject("/Form"),
                              NameObject("/BBox"): widget["/AP"]["/N"].get_object()["/BBox"]})
                widget[NameObject("/AP")] = DictionaryObject({NameObject("/N"): bare._add_object(empty)})
    without = tmp_path / "without.pdf"
    with open(without, "wb") as out:
        bare.write(out)
    shown, hidden = _ink(render_gray(filled, dpi=72)), _ink(render_gray(without, dpi=72))
    assert shown > hidden + 500, (shown, hidden)


def test_unicode_appearances_use_the_embedded_font():
    spec = REGISTRY.get("ramp")
    raw = generate_pdf(spec, {"child_name": "Siân Ŵyn – Ελένη Жанна £5"})
    reader = PdfReader(BytesIO(raw))
    widget = next(a.get_object() for p in reader.pages for a in p.get("/Annots") or []
                  if a.get_object().get("/T") == "child_name")
    appearance = widget["/AP"]["/N"].get_object()
    fonts_used = [f.get_object()["/BaseFont"] for f in appearance["/Resources"]["/Font"].values()]
    assert any("DejaVuSans" in str(name) for name in fonts_used)
    assert widget["/V"] == "Siân Ŵyn – Ελένη Жанна £5"


def test_choice_appearance_shows_the_label():
    spec = REGISTRY.get("key-criteria")
    raw = generate_pdf(spec, {"safety": {"fire_setting": {"answer": "yes_past"}}})
    reader = PdfReader(BytesIO(raw))
    widget = next(a.get_object() for p in reader.pages for a in p.get("/Annots") or []
                  if a.get_object().get("/T") == "safety/fire_setting/answer")
    assert widget["/V"] == "yes_past"
    stream = widget["/AP"]["/N"].get_object().get_data()
    assert b"yes_past" not in stream and len(stream) > 40  # drawn as glyphs of the label, not the value


@pytest.mark.parametrize("form_id", FORM_IDS)
def test_the_writer_fills_exactly_what_a_person_would(form_id):
    from service.pdf.writer import field_values

    spec, sample = REGISTRY.get(form_id), load_sample(form_id)
    assert field_values(spec, sample) == _flat_values(spec, sample)


def _empty_rows(spec, sample) -> dict:
    """A blank form with as many (empty) rows in each table as the sample needs."""
    return {f.key: [{} for _ in sample.get(f.key) or []] for f in spec.fields if f.type == "repeat"}


def _on_state(raw: bytes) -> str:
    reader = PdfReader(BytesIO(raw))
    for page in reader.pages:
        for ref in page.get("/Annots") or []:
            w = ref.get_object()
            if w.get("/FT") == "/Btn":
                return next(k for k in w["/AP"]["/N"] if k != "/Off").lstrip("/")
    return "Yes"


@pytest.mark.parametrize("form_id", FORM_IDS)
def test_every_field_filled_by_pdftk_reads_back(tmp_path, form_id):
    spec, sample = REGISTRY.get(form_id), load_sample(form_id)
    blank = tmp_path / "blank.pdf"
    blank.write_bytes(generate_pdf(spec, _empty_rows(spec, sample)))
    on = _on_state(blank.read_bytes())
    values = {k: (on if v is True else "Off") if isinstance(v, bool) else v
              for k, v in _flat_values(spec, sample).items()}
    xfdf = ('<?xml version="1.0" encoding="UTF-8"?><xfdf xmlns="http://ns.adobe.com/xfdf/"><fields>'
            + "".join(f'<field name="{escape(k)}"><value>{escape(str(v))}</value></field>' for k, v in values.items())
            + "</fields></xfdf>")
    (tmp_path / "v.xfdf").write_text(xfdf, encoding="utf-8")
    filled = tmp_path / "filled.pdf"
    pdftk(str(blank), "fill_form", str(tmp_path / "v.xfdf"), "output", str(filled))
    result = extract_pdf(filled.read_bytes(), REGISTRY)
    assert result.data == complete(spec, sample)
    assert result.errors == []


@pytest.mark.parametrize("form_id", FORM_IDS)
def test_every_field_filled_by_pypdf_reads_back(form_id):
    spec, sample = REGISTRY.get(form_id), load_sample(form_id)
    raw = generate_pdf(spec, _empty_rows(spec, sample))
    writer = PdfWriter(clone_from=PdfReader(BytesIO(raw)))
    values = _flat_values(spec, sample)
    texts = {k: v for k, v in values.items() if not isinstance(v, bool)}
    for page in writer.pages:
        writer.update_page_form_field_values(page, {k: v for k, v in texts.items() if v}, auto_regenerate=False)
        for ref in page.get("/Annots") or []:
            w = ref.get_object()
            if isinstance(values.get(w.get("/T")), bool):
                state = next(k for k in w["/AP"]["/N"] if k != "/Off") if values[w["/T"]] else "/Off"
                w[NameObject("/V")] = w[NameObject("/AS")] = NameObject(state)
    out = BytesIO()
    writer.write(out)
    result = extract_pdf(out.getvalue(), REGISTRY)
    assert result.data == complete(spec, sample)


@pytest.mark.parametrize("form_id", FORM_IDS)
def test_tab_order_follows_reading_order(form_id):
    """Viewers tab through widgets in /Annots order: it must run down the page, and left to
    right along a row, and every field must sit inside the page's margins."""
    reader = PdfReader(BytesIO(generate_pdf(REGISTRY.get(form_id), load_sample(form_id))))
    for page in reader.pages:
        boxes = [[float(v) for v in a.get_object()["/Rect"]] for a in page.get("/Annots") or []]
        for a, b in zip(boxes, boxes[1:]):
            # the next widget is not above this one, unless it is the next cell along the same row
            assert b[3] <= a[3] + 1 or b[0] > a[0], f"{form_id}: widgets out of reading order"
        width, height = float(page.mediabox.width), float(page.mediabox.height)
        assert all(40 <= b[0] and b[2] <= width - 40 and 40 <= b[1] and b[3] <= height - 40 for b in boxes)


def _ink_in(pdf, page: int, rect, dpi: int = 144) -> int:
    """Dark pixels inside ``rect`` (PDF points, [x0 y0 x1 y1]) of a page rendered by poppler."""
    import subprocess

    from tests.tools import require

    out = subprocess.run([require("pdftoppm", "poppler-utils"), "-gray", "-r", str(dpi), "-f", str(page), "-l",
                          str(page), str(pdf)], capture_output=True, timeout=120, check=True).stdout
    head = out.split(b"\n", 3)
    width, height = map(int, head[1].split())
    pixels = head[3]
    scale = dpi / 72
    x0, y0, x1, y1 = (float(v) * scale for v in rect)
    top, bottom = int(height - y1), int(height - y0)
    return sum(1 for row in range(max(top, 0), min(bottom + 1, height))
               for p in pixels[row * width + int(x0): row * width + int(x1) + 1] if p < 200)


def test_boxes_stay_visible_when_a_viewer_redraws_the_fields(tmp_path):
    """pdf.js sets /NeedAppearances after saving a value outside Latin-1, and poppler then draws
    every field from its /DA and /MK instead of its appearance: an unticked box must still show."""
    import pikepdf

    spec = REGISTRY.get("getting-to-know-you-plan")
    path = tmp_path / "redraw.pdf"
    with pikepdf.open(BytesIO(generate_pdf(spec))) as pdf:
        pdf.Root.AcroForm.NeedAppearances = True
        widgets = [(n + 1, a) for n, page in enumerate(pdf.pages) for a in page.get("/Annots", [])
                   if a.get("/FT") == "/Btn"]
        assert widgets and all("/MK" in a and "/BC" in a.MK for _, a in widgets)
        pdf.save(path)
    page, box = widgets[0]
    assert _ink_in(path, page, [float(v) for v in box.Rect]) > 20  # its border, drawn


@pytest.mark.parametrize("value", ["gwenllian.very-long-address.example@example-council.gov.uk",
                                   "Director of Social Services and Housing, Ceredigion"])
def test_a_long_one_line_value_is_never_cut_off(value):
    """Shrunk to fit down to a readable size, then wrapped onto more lines as the row grows: every
    character of it is drawn, inside its field."""
    import re

    from service.pdf import fonts

    char_of = {hexes: ch for ch, hexes in fonts.face(fonts.REGULAR).hexes.items()}
    raw = generate_pdf(REGISTRY.get("susd-expression-of-interest"), {"lead_email": value, "lead_role": value})
    reader = PdfReader(BytesIO(raw))
    for name in ("lead_email", "lead_role"):
        widget = next(a.get_object() for p in reader.pages for a in p.get("/Annots") or []
                      if a.get_object().get("/T") == name)
        assert widget["/V"] == value
        stream = widget["/AP"]["/N"].get_object().get_data().decode("latin-1")
        sizes = [float(x) for x in re.findall(r"/F1 ([\d.]+) Tf", stream)]
        assert sizes and min(sizes) >= 6.5  # readable
        lines = ["".join(char_of[h[i:i + 4].upper()] for i in range(0, len(h), 4))
                 for h in re.findall(r"<([0-9A-Fa-f]+)> Tj", stream)]
        assert "".join("".join(lines).split()) == "".join(value.split()), (name, lines)
        x0, y0, x1, y1 = (float(v) for v in widget["/Rect"])
        w, h = x1 - x0, y1 - y0
        face = fonts.face(fonts.REGULAR)
        assert all(face.width(line, min(sizes)) <= w - 6 for line in lines)
        assert len(lines) * 11 <= h  # every line inside the box


def test_a_branded_pdf_carries_the_shells_logo_header_and_marking():
    """The same shell as the Word form: its logo, its header lines, and its footer (the
    protective marking and this document's id) on every page."""
    from pypdf import PdfReader as Reader

    spec = REGISTRY.get("ramp")
    raw = service.generate_document(spec, load_sample("ramp"), format="pdf", shell="auto")
    reader = Reader(BytesIO(raw))
    document_id = reader.metadata["/StepDownDocumentId"]
    for page in reader.pages:
        text = page.extract_text()
        assert spec.organisation in text and "OFFICIAL-SENSITIVE" in text and document_id in text
        images = page["/Resources"]["/XObject"]
        assert images["/Logo"].get_object()["/Subtype"] == "/Image"
    plain = Reader(BytesIO(service.generate_document(spec, load_sample("ramp"), format="pdf", shell=None)))
    assert "OFFICIAL-SENSITIVE" not in plain.pages[0].extract_text()
    assert extract_pdf(raw, REGISTRY).data == complete(spec, load_sample("ramp"))


def _png(width: int, height: int, colour: int, rows: list[tuple[int, bytes]]) -> bytes:
    import struct
    import zlib

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    raw = b"".join(bytes([f]) + line for f, line in rows)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, colour, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def test_logos_with_an_alpha_channel_are_unfiltered_and_masked():
    """An RGBA PNG, its rows filtered with Sub and Up as encoders do: the colours and the alpha
    come out as they were drawn."""
    import zlib

    from service.pdf import images

    pixels = [bytes([10, 20, 30, 255, 40, 50, 60, 128]), bytes([15, 25, 35, 0, 45, 55, 65, 64])]
    sub = bytes(b - (pixels[0][i - 4] if i >= 4 else 0) & 0xFF for i, b in enumerate(pixels[0]))
    up = bytes((b - pixels[0][i]) & 0xFF for i, b in enumerate(pixels[1]))
    image = images.load(_png(2, 2, 6, [(1, sub), (2, up)]), "png")
    assert zlib.decompress(image.data) == bytes([10, 20, 30, 40, 50, 60, 15, 25, 35, 45, 55, 65])
    assert zlib.decompress(image.mask.data) == bytes([255, 128, 0, 64])
    with pytest.raises(service.DocumentError) as info:
        images.load(b"GIF89a...", "png")
    assert info.value.code == "template_invalid"


def test_our_word_form_saved_as_pdf_is_refused_with_advice(tmp_path):
    """LibreOffice's "Export as PDF" (and Word's "Save as PDF", which also keeps the author, the
    title and, in Word, the custom properties) keeps the text and loses the fields."""
    import pikepdf

    from tests.tools import soffice_convert

    source = tmp_path / "ramp.docx"
    source.write_bytes(service.generate_document(REGISTRY.get("ramp"), load_sample("ramp")))
    exported = soffice_convert([source], "pdf", tmp_path / "out")[0]
    with pytest.raises(service.DocumentError) as info:
        extract_pdf(exported.read_bytes(), REGISTRY)
    assert info.value.code == "saved_from_word"
    assert "Reducing Anxiety Management Plan (RAMP)" in info.value.message and "(.docx)" in info.value.message

    def variant(**info_items) -> bytes:
        with pikepdf.open(exported) as pdf:
            for key, value in info_items.items():
                if value is None:
                    del pdf.docinfo[f"/{key}"]
                else:
                    pdf.docinfo[f"/{key}"] = value
            out = BytesIO()
            pdf.save(out)
            return out.getvalue()

    word = variant(Producer="Microsoft® Word for Microsoft 365", Creator="Microsoft® Word for Microsoft 365",
                   Title="Document1", StepDownForm="key-criteria")  # Word kept our custom properties
    with pytest.raises(service.DocumentError) as info:
        extract_pdf(word, REGISTRY)
    assert info.value.code == "saved_from_word" and REGISTRY.get("key-criteria").title in info.value.message
    with pytest.raises(service.DocumentError) as info:  # someone else's Word document: not ours at all
        extract_pdf(variant(Author="A. Person", Producer="Microsoft® Word 2019"), REGISTRY)
    assert info.value.code == "not_our_form"

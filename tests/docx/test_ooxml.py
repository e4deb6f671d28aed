"""Every Word file we write is valid Office Open XML (ISO/IEC 29500 transitional, after setting
aside mc:Ignorable markup as Word does), and other programs' readers find every value in it:
mammoth (Word to HTML) and docx2python (text of every part)."""

from __future__ import annotations

import io

import mammoth
import pytest
from docx2python import docx2python

import service
from service.convert import display
from service.docx.designer import fill_layout
from service.packs import default_packs
from service.packs.build import build_pack
from service.packs.meeting import read_row
from tests.conftest import FORM_IDS, REGISTRY, load_sample
from tests.docx.designer_layout import SPEC as DESIGNED, build as designer_layout
from tests.ooxml import part_problems, problems

W_PARTS = ("word/document.xml", "word/styles.xml", "word/settings.xml", "word/footer1.xml")


@pytest.mark.parametrize("form_id", FORM_IDS)
@pytest.mark.parametrize("shell", ["auto", None], ids=["branded", "plain"])
@pytest.mark.parametrize("filled", [True, False], ids=["prefilled", "blank"])
def test_every_form_is_valid_office_open_xml(form_id, shell, filled):
    raw = service.generate_document(REGISTRY.get(form_id), load_sample(form_id) if filled else None, shell=shell)
    assert problems(raw) == []


def test_cover_sheets_and_designer_layouts_after_filling_are_valid():
    pack = default_packs().get("placement-stability-meeting")
    meeting, _ = read_row(pack, 2, {"su_number": "SU-EX-1", "meeting_date": "02/12/2026", "meeting_time": "10:30",
                                    "invitees": "Jo Sample – Social worker", "requested_at": "01/12/2026 09:00"})
    built = build_pack(pack, REGISTRY, meeting, formats=("docx",), combined=False)
    assert [f.name for f in built.files][0] == "00-cover-sheet.docx"
    for f in built.files:
        assert problems(f.data) == [], f.name
    # A designer's file may bring problems of its own (this one, made with python-docx's template,
    # has a w:zoom without its percent): filling it adds none, and every part it writes is valid.
    layout = designer_layout()
    filled = fill_layout(DESIGNED, layout, load_sample("placement-stability-meeting"))
    assert problems(filled) == problems(layout) == [problems(layout)[0]]
    assert "settings.xml" in problems(layout)[0]


def test_the_validator_finds_what_is_wrong():
    """A part that breaks the schema is caught (so an empty list means something)."""
    bad = b'<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body><w:p><w:tbl/>' \
          b'</w:p></w:body></w:document>'
    assert part_problems("word/document.xml", bad)
    date = (b'<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body><w:sdt>'
            b'<w:sdtPr><w:date w:fullDate="2026-03-09T16:20"/></w:sdtPr><w:sdtContent><w:p/></w:sdtContent></w:sdt>'
            b'</w:body></w:document>')
    assert any("fullDate" in p for p in part_problems("word/document.xml", date))
    ignorable = (b'<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main" '
                 b'xmlns:mc="http://schemas.openxmlformats.org/markup-compatibility/2006" xmlns:x="urn:x" '
                 b'mc:Ignorable="x"><w:body><x:anything/><w:p x:attr="1"/></w:body></w:document>')
    assert part_problems("word/document.xml", ignorable) == []


@pytest.mark.parametrize("form_id", FORM_IDS)
def test_wordprocessing_parts_declare_the_namespaces_readers_expect(form_id):
    import zipfile

    from lxml import etree

    raw = service.generate_document(REGISTRY.get(form_id), load_sample(form_id))
    with zipfile.ZipFile(io.BytesIO(raw)) as z:
        for name in W_PARTS:
            root = etree.fromstring(z.read(name))
            assert {"w", "r"} <= set(root.nsmap), name


def _shown_values(spec, data) -> list[str]:
    """Every filled simple value as a person sees it, line by line."""
    out = []
    for ref in spec.walk():
        f = ref.field
        if f.type in ("group", "repeat", "checkbox", "multichoice") or ref.in_repeat is not None:
            continue
        value = service.shape.value_at(data, ref.path)
        if value not in (None, "", []):
            out += [line.strip() for line in display(f, value).split("\n") if line.strip()]
    return out


@pytest.mark.parametrize("form_id", FORM_IDS)
def test_mammoth_and_docx2python_read_every_prefilled_value(form_id):
    spec, sample = REGISTRY.get(form_id), load_sample(form_id)
    raw = service.generate_document(spec, sample, shell="auto")
    html = mammoth.convert_to_html(io.BytesIO(raw))
    assert not [m for m in html.messages if m.type == "error"]
    text = mammoth.extract_raw_text(io.BytesIO(raw)).value
    with docx2python(io.BytesIO(raw)) as d:
        other = d.text
    for value in _shown_values(spec, sample):
        assert value in " ".join(text.split()) or value in text, ("mammoth", value)
        assert value in " ".join(other.split()) or value in other, ("docx2python", value)


@pytest.mark.parametrize("form_id", FORM_IDS)
def test_word_forms_say_their_title_language_header_rows_and_logo(form_id):
    """What a screen reader needs from a Word form: its title, its language, table header rows
    repeated and marked as headers, and a description of the logo."""
    import zipfile

    from lxml import etree

    spec = REGISTRY.get(form_id)
    raw = service.generate_document(spec, load_sample(form_id), shell="auto")
    w = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
    with zipfile.ZipFile(io.BytesIO(raw)) as z:
        core = etree.fromstring(z.read("docProps/core.xml"))
        assert core.findtext("{http://purl.org/dc/elements/1.1/}title") == spec.title
        styles = etree.fromstring(z.read("word/styles.xml"))
        assert styles.find(f".//{w}rPrDefault//{w}lang").get(f"{w}val") == "en-GB"
        document = etree.fromstring(z.read("word/document.xml"))
        from service.layout import RepeatPlan, TablePlan, plan

        headed = sum(1 for b in plan(spec) if isinstance(b, RepeatPlan) or (isinstance(b, TablePlan) and b.header_rows))
        marked = sum(1 for t in document.iter(f"{w}tbl") if t.find(f"{w}tr/{w}trPr/{w}tblHeader") is not None)
        assert marked == headed
        headers = [n for n in z.namelist() if n.startswith("word/brand-header")]
        pictures = [pr for n in headers for pr in etree.fromstring(z.read(n)).iter(
            "{http://schemas.openxmlformats.org/drawingml/2006/wordprocessingDrawing}docPr")]
        assert pictures and all(pr.get("descr") == f"{spec.organisation} logo" for pr in pictures)

"""The PDF writer's own parts: strings that cannot break out of an object, word wrapping that
stays linear, and font subsets that hold every character a document uses."""

from __future__ import annotations

import subprocess
import zlib
from io import BytesIO

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pypdf import PdfReader

from service.pdf import fonts, generate_pdf
from service.pdf.objects import _PDFDOC, text
from service.pdf.canvas import wrap
from tests.conftest import REGISTRY
from tests.tools import require


def _read_back(literal: str):
    """Parse a literal string the way a reader does (pypdf's own string reader)."""
    from pypdf.generic._utils import read_string_from_stream

    return read_string_from_stream(BytesIO(literal.encode("latin-1")))


def test_pdfdoc_encoding_matches_the_standard_table():
    from pypdf.generic._utils import decode_pdfdocencoding

    assert all(decode_pdfdocencoding(bytes([code])) == ch for ch, code in _PDFDOC.items())


@given(st.text(max_size=200))
@settings(max_examples=300, deadline=None)
def test_any_text_survives_as_a_pdf_string(value):
    literal = text(value)
    assert literal.startswith("(") and literal.endswith(")")
    assert str(_read_back(literal)) == value


@pytest.mark.parametrize("value", ["a) /V (evil", "back\\slash", "line\r\nbreak", "(((", "ŵ – ’ Жанна"])
def test_hostile_and_unicode_strings_round_trip(value):
    assert str(_read_back(text(value))) == value


def test_wrap_is_linear_in_the_length_of_a_word(monkeypatch):
    """A word longer than the line is cut in one pass: the characters measured grow with the
    word's length, not with its square (cutting by measuring ever longer prefixes took minutes
    for a 200,000-character word). Counted, not timed."""
    face = fonts.face(fonts.REGULAR)
    measured = [0]
    width = type(face).width

    def counting(self, s: str, size: float) -> float:
        measured[0] += len(s)
        return width(self, s, size)

    monkeypatch.setattr(type(face), "width", counting)
    for n in (20_000, 200_000):
        measured[0] = 0
        lines = wrap("x" * n + " tail", fonts.REGULAR, 9, 150)
        assert "".join(lines[:-1]) + lines[-1].split(" ")[0] == "x" * n
        assert measured[0] <= 2 * n + 100, (n, measured[0])  # the word, its last piece and the tail
    assert all(width(face, line, 9) <= 150 for line in lines)


def test_wrap_keeps_blank_lines_and_breaks_at_spaces():
    assert wrap("one two\n\nthree", fonts.REGULAR, 9, 1000) == ["one two", "", "three"]
    narrow = wrap("alpha beta gamma delta", fonts.REGULAR, 9, 60)
    assert " ".join(narrow) == "alpha beta gamma delta" and len(narrow) > 1


def test_characters_beyond_the_usual_blocks_are_embedded(tmp_path):
    """Armenian and Hebrew letters (in DejaVu Sans, outside the blocks every subset carries) are
    drawn from the embedded subset and come back out as text."""
    require("pdftotext", "poppler-utils")
    value = "Անի Example שלום"
    raw = generate_pdf(REGISTRY.get("ramp"), {"child_name": value})
    path = tmp_path / "f.pdf"
    path.write_bytes(raw)
    page_text = subprocess.run(["pdftotext", "-f", "1", "-l", "1", str(path), "-"], capture_output=True,
                               text=True, check=True).stdout
    assert "Example" in page_text
    widget = next(a.get_object() for p in PdfReader(BytesIO(raw)).pages for a in p.get("/Annots") or []
                  if a.get_object().get("/T") == "child_name")
    assert widget["/V"] == value
    font = widget["/AP"]["/N"].get_object()["/Resources"]["/Font"]["/F1"].get_object()
    cid = font["/DescendantFonts"][0].get_object()
    gid = fonts.face(fonts.REGULAR).gid_of[ord("Ա")]
    widths = cid["/W"]
    covered = any(isinstance(widths[i + 1], list) and widths[i] <= gid < widths[i] + len(widths[i + 1])
                  for i in range(0, len(widths) - 1, 2))
    assert covered, "the subset's widths must include the Armenian glyph"


def test_subsets_are_made_once_and_shared():
    fonts.embedding.cache_clear()
    spec = REGISTRY.get("susd-expression-of-interest")
    generate_pdf(spec, {})
    made = fonts.embedding.cache_info().misses
    generate_pdf(spec, {})
    assert fonts.embedding.cache_info().misses == made


def _subset_characters(name: str, blocks: frozenset) -> set[str]:
    from fontTools.ttLib import TTFont

    font = TTFont(BytesIO(zlib.decompress(fonts.embedding(name, blocks).font_file)))
    return {chr(cp) for cp in font.getBestCmap()}


def test_a_subset_holds_the_common_characters_and_only_the_other_blocks_a_document_uses():
    # an en dash, curly quotes and a pound sign need no block of their own (the whole
    # punctuation block came in for one dash before)
    assert fonts.blocks_of(fonts.BOLD, set("Key criteria – the child’s “needs” £5")) == frozenset()
    assert fonts.blocks_of(fonts.BOLD, set("per mille ‰")) == {0x2030 >> fonts.BLOCK}
    bold = _subset_characters(fonts.BOLD, frozenset())
    assert set("AZaz09–’“”£€") <= bold and "‰" not in bold and "é" not in bold
    assert "‰" in _subset_characters(fonts.BOLD, frozenset({0x2030 >> fonts.BLOCK}))
    # the regular face, which viewers draw typed values in, holds Latin-1 and Latin Extended-A
    regular = _subset_characters(fonts.REGULAR, fonts.blocks_of(fonts.REGULAR, set("Siân Ŵyn Łukasz Ştefan")))
    assert set("âŴŵŷŶŁłŞşéñüß–’") <= regular and "‰" not in regular


@pytest.mark.parametrize("form_id", sorted(REGISTRY.ids()))
def test_generated_files_pass_qpdfs_syntax_check(form_id):
    """qpdf decodes every stream and parses every page's content: no warnings, no problems."""
    import json
    from pathlib import Path

    import pikepdf

    sample = json.loads((Path(__file__).parents[2] / "samples" / f"{form_id}.json").read_text())
    with pikepdf.open(BytesIO(generate_pdf(REGISTRY.get(form_id), sample))) as pdf:
        assert pdf.check_pdf_syntax() == []
        assert len(pdf.Root.AcroForm.Fields) == sum(len(p.obj.get("/Annots", [])) for p in pdf.pages)


@given(st.lists(st.tuples(st.floats(5, 300), st.booleans()), min_size=1, max_size=60))
@settings(max_examples=200, deadline=None)
def test_a_heading_never_ends_a_page(rows):
    """A row kept with the next (a heading, a table's header row) never ends a page unless it
    ends the document; rows keep their order and every one is placed once."""
    from service.pdf.canvas import BOTTOM, TOP, Row, paginate

    made = [Row(h, lambda c, y: None, keep) for h, keep in rows]
    pages = paginate(made)
    assert [r for page in pages for r in page] == made
    for page in pages[:-1]:
        assert not page[-1].keep_with_next or sum(r.height for r in page) > TOP - BOTTOM


def test_a_specs_text_is_laid_out_once_and_no_value_is_kept():
    from service.pdf.canvas import wrap_spec_text

    spec = REGISTRY.get("key-criteria")
    generate_pdf(spec, {"child_name": "Example Child"})
    kept = wrap_spec_text.cache_info().currsize
    hits = wrap_spec_text.cache_info().hits
    long_value = "A long example answer that wraps over several lines of its box. " * 6
    generate_pdf(spec, {"child_name": "Another Example", "preferred_area": long_value,
                        "matching_criteria": [{"criterion": "same_school", "comment": long_value}]})
    assert wrap_spec_text.cache_info().hits > hits  # the labels and headings came from the cache
    assert wrap_spec_text.cache_info().currsize == kept  # and nothing of the second document's values was added


def test_tooltips_are_made_once_from_the_spec_and_no_value_is_kept():
    """Field tooltips (``_TITLES``, ``_spec_string``) are the spec's text: made once a process,
    never holding a value; a value wrapped for its row's height is wrapped once for drawing too."""
    from service.pdf import writer

    spec = REGISTRY.get("key-criteria")
    generate_pdf(spec, {"child_name": "Example Child"})
    strings, titles = writer._spec_string.cache_info().currsize, dict(writer._TITLES.get(spec))
    long_value = "A distinctive answer that wraps over several lines of its box. " * 6
    wraps = []
    real = writer.wrap
    writer.wrap = lambda value, *a: wraps.append(value) or real(value, *a)
    try:
        generate_pdf(spec, {"child_name": "Another Example", "preferred_area": long_value})
    finally:
        writer.wrap = real
    assert writer._spec_string.cache_info().currsize == strings and writer._TITLES.get(spec) == titles
    assert not any("distinctive" in key for key in writer._TITLES.get(spec).values())
    assert wraps.count(long_value) == 1  # measured for the layout, drawn from the same lines


def test_numbers_are_formatted_the_same_whatever_was_formatted_before():
    """num() keeps what it formatted: the answer must not depend on what came first (-0.0 and
    0.0 are one key; 3 and 3.0 are one key) nor on the table having been emptied."""
    from service.pdf import objects

    objects._NUMBERS.clear()
    assert [objects.num(v) for v in (-0.0, 0.0, 3, 3.0, 12.5, 12.25, 12.255, 0.004, -1.5)] == \
        ["0", "0", "3", "3", "12.5", "12.25", "12.26", "0", "-1.5"]
    objects._NUMBERS.clear()
    assert [objects.num(v) for v in (0.0, -0.0, 3.0, 3)] == ["0", "0", "3", "3"]
    shown = [objects.num(i / 100) for i in range(20_000)]  # past the table's size: emptied, still right
    assert len(objects._NUMBERS) <= 8193 and shown[12_345] == "123.45" and shown[100] == "1"

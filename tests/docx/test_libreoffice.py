"""Real LibreOffice: a re-save as .docx, and a trip through .odt and back, keep every value.

One headless LibreOffice run converts all seven forms at once (about a second per run)."""

from __future__ import annotations

import pytest

from service.docx import extract_docx, generate_docx
from service.shape import complete
from tests.conftest import FORM_IDS, REGISTRY, load_sample
from tests.docx.edits import WordEdit
from tests.tools import soffice_convert


@pytest.fixture(scope="module")
def originals(tmp_path_factory):
    folder = tmp_path_factory.mktemp("generated")
    paths = []
    for form_id in FORM_IDS:
        p = folder / f"{form_id}.docx"
        p.write_bytes(generate_docx(REGISTRY.get(form_id), load_sample(form_id)))
        paths.append(p)
    return paths


@pytest.fixture(scope="module")
def resaved(originals, tmp_path_factory):
    out = soffice_convert(originals, "docx", tmp_path_factory.mktemp("resaved") / "out")
    return {p.stem: p.read_bytes() for p in out}


@pytest.fixture(scope="module")
def via_odt(originals, tmp_path_factory):
    base = tmp_path_factory.mktemp("odt")
    odts = soffice_convert(originals, "odt", base / "odt")
    back = soffice_convert(odts, "docx", base / "back")
    return {p.stem: p.read_bytes() for p in back}


@pytest.mark.parametrize("form_id", FORM_IDS)
def test_libreoffice_resave_keeps_every_value(resaved, form_id):
    spec = REGISTRY.get(form_id)
    result = extract_docx(resaved[form_id], REGISTRY)
    assert result.data == complete(spec, load_sample(form_id))
    assert result.errors == []
    assert not [w for w in result.warnings if w.rule is None], "a clean re-save raises no reading warnings"
    assert "binding" in result.sources.values(), "LibreOffice drops tags; bindings must carry identity"


@pytest.mark.parametrize("form_id", FORM_IDS)
def test_odt_round_trip_reads_visible_text(via_odt, form_id):
    spec = REGISTRY.get(form_id)
    result = extract_docx(via_odt[form_id], REGISTRY)
    assert result.data == complete(spec, load_sample(form_id))
    assert result.errors == []
    assert (result.form, result.document_version) == (form_id, REGISTRY.get(form_id).version), "custom properties survive .odt"
    assert "text" in result.sources.values()
    assert [w.code for w in result.warnings if w.rule is None] == ["controls_removed"]


def test_user_edits_survive_a_libreoffice_resave(tmp_path):
    """Edits a person makes in Word, then the file passes through LibreOffice."""
    spec = REGISTRY.get("preparation-plan")
    raw = generate_docx(spec, load_sample("preparation-plan", prefill=True))
    edited = (WordEdit(raw)
              .type_text("suitability_confirmed_date", "19/01/2026")
              .type_text("meeting_date", "30/01/2026")
              .type_text("attendees[].name", "Ana Example").type_text("attendees[].role", "Social worker")
              .copy_row("attendees[].name", {"attendees[].name": "Ben Sample", "attendees[].role": "IRO"})
              .choose("child_aware", "Partly")
              .tick("care_plan_ratified")
              .type_text("care_plan_ratified_date", "20/11/2025")
              .tick("supports_needed:advocate")
              .type_text("wishes_and_feelings", "Wants a dog.\nAnd to stay at school.")
              .save())
    path = tmp_path / "edited.docx"
    path.write_bytes(edited)
    [back] = soffice_convert([path], "docx", tmp_path / "out")
    for raw_doc in (edited, back.read_bytes()):
        result = extract_docx(raw_doc, REGISTRY)
        d = result.data
        assert d["suitability_confirmed_date"] == "2026-01-19" and d["meeting_date"] == "2026-01-30"
        assert d["attendees"] == [{"name": "Ana Example", "role": "Social worker", "organisation": None},
                                  {"name": "Ben Sample", "role": "IRO", "organisation": None}]
        assert d["child_aware"] == "partly"
        assert d["care_plan_ratified"] is True and d["care_plan_ratified_date"] == "2025-11-20"
        assert d["supports_needed"] == ["advocate"]
        assert d["wishes_and_feelings"] == "Wants a dog.\nAnd to stay at school."
        assert result.errors == [], result.errors


def test_ampersand_damages_the_data_part_but_not_the_values(tmp_path):
    """Measured: LibreOffice 7.4 writes bound text unescaped, so an answer with & or < leaves an
    empty data part, and moves every line break of a multi-line answer out of its box. Every
    value still reads back from the controls. Where a blank line was cannot be told from the body
    once the part that knew it is damaged: the text is kept with each line break that is certain
    put back, and the reader says so at that field (never a silent guess)."""
    spec = REGISTRY.get("ramp")
    plain = {**load_sample("ramp"), "child_name": "Kai & friends"}
    lines = {**plain, "attachment_disorder": "One.\nTwo.\nThree."}
    blank_line = {**plain, "attachment_disorder": "First paragraph.\n\nSecond paragraph."}
    for name, value in (("plain", plain), ("lines", lines), ("blank", blank_line)):
        (tmp_path / f"{name}.docx").write_bytes(generate_docx(spec, value))
    back = soffice_convert([tmp_path / f"{n}.docx" for n in ("plain", "lines", "blank")], "docx", tmp_path / "out")
    assert extract_docx(back[0].read_bytes(), REGISTRY).data == complete(spec, plain)
    exact = extract_docx(back[1].read_bytes(), REGISTRY)
    assert exact.data == complete(spec, lines)  # one break per line: certain from the body alone
    assert "line_breaks_uncertain" not in {w.code for w in exact.warnings}
    unsure = extract_docx(back[2].read_bytes(), REGISTRY)
    assert unsure.data["attachment_disorder"] == "First paragraph.\nSecond paragraph."
    assert [(w.path, w.code) for w in unsure.warnings if w.code == "line_breaks_uncertain"] == [
        ("attachment_disorder", "line_breaks_uncertain")]
    assert "damaged_part" in {w.code for w in unsure.warnings}  # the part was needed, and could not help

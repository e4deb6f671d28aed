"""Every form: sample -> .docx -> data, identical; blank and prefilled forms read back right."""

from __future__ import annotations

import zipfile
from io import BytesIO

import pytest
from lxml import etree

import service
from service.docx import extract_docx, generate_docx
from service.docx.ns import NS
from service.shape import complete
from tests.conftest import FORM_IDS, REGISTRY, load_sample


@pytest.mark.parametrize("form_id", FORM_IDS)
def test_full_sample_round_trips(form_id):
    spec, sample = REGISTRY.get(form_id), load_sample(form_id)
    result = extract_docx(generate_docx(spec, sample), REGISTRY)
    assert result.data == complete(spec, sample)
    assert result.errors == []
    assert set(result.sources.values()) == {"control"}
    current = REGISTRY.get(form_id).version
    assert (result.form, result.spec_version, result.document_version) == (form_id, current, current)


@pytest.mark.parametrize("form_id", FORM_IDS)
def test_blank_form_reads_as_empty_with_required_errors(form_id):
    spec = REGISTRY.get(form_id)
    result = extract_docx(generate_docx(spec), REGISTRY)
    assert result.data == complete(spec, {}), "placeholder text must never come back as a value"
    required = {e.path for e in service.validate(spec, {}).errors}
    assert {e.path for e in result.errors} == required


@pytest.mark.parametrize("form_id", FORM_IDS)
def test_prefill_round_trips(form_id):
    spec, prefill = REGISTRY.get(form_id), load_sample(form_id, prefill=True)
    result = extract_docx(generate_docx(spec, prefill), REGISTRY)
    assert result.data == complete(spec, prefill)


def test_identity_is_in_custom_properties_and_data_part():
    spec = REGISTRY.get("ramp")
    raw = generate_docx(spec, load_sample("ramp"), document_id="00000000-0000-4000-8000-000000000001")
    z = zipfile.ZipFile(BytesIO(raw))
    props = etree.fromstring(z.read("docProps/custom.xml"))
    names = {p.get("name"): p[0].text for p in props}
    assert names["StepDownForm"] == "ramp" and names["StepDownSpecVersion"] == "1.0.0"
    assert names["StepDownDocumentId"] == "00000000-0000-4000-8000-000000000001"
    assert names["StepDownGenerated"].endswith("Z")
    part = etree.fromstring(z.read("customXml/item1.xml"))
    assert part.tag == f"{{{NS['sdf']}}}form" and part.get("form") == "ramp"
    result = extract_docx(raw, REGISTRY)
    assert result.document_id == "00000000-0000-4000-8000-000000000001"


def test_every_simple_control_is_tagged_titled_locked_and_bound():
    spec = REGISTRY.get("key-criteria")
    z = zipfile.ZipFile(BytesIO(generate_docx(spec, load_sample("key-criteria"))))
    doc = etree.fromstring(z.read("word/document.xml"))
    w = NS["w"]
    sdts = doc.findall(f".//{{{w}}}sdt")
    tags = [s.find(f"{{{w}}}sdtPr/{{{w}}}tag").get(f"{{{w}}}val") for s in sdts]
    assert "child_name" in tags and "safety.fire_setting.answer" in tags and "matching_criteria[].criterion" in tags
    for s in sdts:
        pr = s.find(f"{{{w}}}sdtPr")
        assert pr.find(f"{{{w}}}lock").get(f"{{{w}}}val") == "sdtLocked"
        assert pr.find(f"{{{w}}}alias") is not None
        tag = pr.find(f"{{{w}}}tag").get(f"{{{w}}}val")
        bound = pr.find(f"{{{w}}}dataBinding") is not None
        assert bound == ("[]" not in tag), tag  # rows are never bound: copied rows would mirror each other
    titles = {s.find(f"{{{w}}}sdtPr/{{{w}}}tag").get(f"{{{w}}}val"): s.find(f"{{{w}}}sdtPr/{{{w}}}alias").get(f"{{{w}}}val")
              for s in sdts}
    assert titles["safety.fire_setting.details"] == "Has the child or young person set fires? – Details"
    assert titles["matching_criteria[].comment"].startswith("Key Matching Criteria: Please include")
    order = [etree.QName(c).localname for c in sdts[0].find(f"{{{w}}}sdtPr")]
    assert order[:4] == ["alias", "tag", "id", "lock"]


def test_blank_form_shows_the_specs_number_of_empty_rows():
    spec = REGISTRY.get("key-criteria")
    doc = etree.fromstring(zipfile.ZipFile(BytesIO(generate_docx(spec))).read("word/document.xml"))
    w = NS["w"]
    criteria = [s for s in doc.iter(f"{{{w}}}tag") if s.get(f"{{{w}}}val") == "matching_criteria[].criterion"]
    assert len(criteria) == 5


def test_document_is_a4_with_heading_styles():
    raw = generate_docx(REGISTRY.get("placement-stability-meeting"))
    doc = etree.fromstring(zipfile.ZipFile(BytesIO(raw)).read("word/document.xml"))
    w = NS["w"]
    size = doc.find(f".//{{{w}}}pgSz")
    assert (size.get(f"{{{w}}}w"), size.get(f"{{{w}}}h")) == ("11906", "16838")
    styles = [p.get(f"{{{w}}}val") for p in doc.iter(f"{{{w}}}pStyle")]
    assert styles.count("Heading1") >= 10 and "Title" in styles
    text = "".join(t.text or "" for t in doc.iter(f"{{{w}}}t"))
    assert "8. Plan/Actions to be taken" in text and "Overview – Brief history" in text


def test_python_docx_opens_generated_documents():
    import docx

    for form_id in FORM_IDS:
        d = docx.Document(BytesIO(generate_docx(REGISTRY.get(form_id), load_sample(form_id))))
        assert d.paragraphs[0].text == REGISTRY.get(form_id).title
        assert d.tables


def test_invalid_prefill_is_refused():
    spec = REGISTRY.get("key-criteria")
    with pytest.raises(service.DataError, match="age"):
        service.generate_document(spec, {"age": 400})
    with pytest.raises(service.DataError, match="unknown document format"):
        service.generate_document(spec, None, format="odt")

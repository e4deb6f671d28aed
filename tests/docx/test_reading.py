"""What the reader reports for the things people do to forms."""

from __future__ import annotations

import zipfile
from io import BytesIO

import pytest

import service
from service.docx import extract_docx, generate_docx
from service.shape import complete
from tests.conftest import REGISTRY, load_sample
from tests.docx.edits import WordEdit


def codes(result):
    return {(i.path, i.code) for i in result.errors + result.warnings}


def kc_doc():
    return generate_docx(REGISTRY.get("key-criteria"), load_sample("key-criteria"))


def test_text_typed_beside_a_text_control_is_kept_and_flagged():
    raw = WordEdit(kc_doc()).type_beside("religion", "(attends church at Christmas)").save()
    result = extract_docx(raw, REGISTRY)
    assert result.data["religion"] == "None stated (attends church at Christmas)"
    assert ("religion", "text_outside_control") in codes(result)


def test_text_beside_a_drop_down_goes_to_stray_text():
    raw = WordEdit(kc_doc()).type_beside("safety.fire_setting.answer", "not sure").save()
    result = extract_docx(raw, REGISTRY)
    assert result.data["safety"]["fire_setting"]["answer"] == "no"
    assert result.stray_text == {"safety.fire_setting.answer": "not sure"}
    assert ("safety.fire_setting.answer", "text_outside_control") in codes(result)


def test_removed_control_keeps_its_text():
    raw = WordEdit(kc_doc()).remove_control("ethnicity", keep_text=True).save()
    result = extract_docx(raw, REGISTRY)
    assert result.data["ethnicity"] == "White and Black Caribbean"
    assert result.sources["ethnicity"] == "text"
    assert ("ethnicity", "control_missing") in codes(result)


def test_deleted_control_falls_back_to_the_data_part():
    raw = WordEdit(kc_doc()).remove_control("primary_language", keep_text=False).save()
    result = extract_docx(raw, REGISTRY)
    assert result.data["primary_language"] == "English"
    assert result.sources["primary_language"] == "customxml"
    assert ("primary_language", "control_missing") in codes(result)


def test_other_drop_down_item_and_typed_numbers():
    raw = (WordEdit(kc_doc()).choose("safety.fire_setting.answer", "Yes - in the past")
           .type_text("safety.fire_setting.details", "Lit a bin in 2024.").type_text("age", "14").save())
    result = extract_docx(raw, REGISTRY)
    assert result.data["safety"]["fire_setting"] == {"answer": "yes_past", "details": "Lit a bin in 2024."}
    assert result.data["age"] == 14


@pytest.mark.parametrize(("tag", "text", "code"), [
    ("age", "thirteen", "unreadable_number"),
    ("safety.self_harm.answer", "Maybe", "unknown_choice"),
])
def test_unreadable_values_are_errors_not_guesses(tag, text, code):
    raw = WordEdit(kc_doc()).type_text(tag, text).save()
    result = extract_docx(raw, REGISTRY)
    assert (tag, code) in codes(result)
    assert not result.valid


def test_unreadable_date():
    spec = REGISTRY.get("placement-stability-meeting")
    raw = WordEdit(generate_docx(spec, load_sample("placement-stability-meeting"))) \
        .type_text("next_meeting_date", "31/02/2026").save()
    result = extract_docx(raw, REGISTRY)
    assert ("next_meeting_date", "unreadable_date") in codes(result)
    assert ("next_meeting_date", "required") not in codes(result), "one clear error, not two"


def test_copied_rows_become_new_rows():
    raw = WordEdit(kc_doc()).copy_row("matching_criteria[].criterion", {
        "matching_criteria[].comment": "A sixth, copied row"}).save()
    result = extract_docx(raw, REGISTRY)
    rows = result.data["matching_criteria"]
    assert len(rows) == 6 and rows[5]["comment"] == "A sixth, copied row"
    assert ("matching_criteria", "too_many_rows") in codes(result), "the spec allows five"


def test_document_of_another_form_is_refused():
    with pytest.raises(service.DocumentError) as info:
        extract_docx(kc_doc(), REGISTRY, form="ramp")
    assert info.value.code == "wrong_form" and "'key-criteria' form, not 'ramp'" in str(info.value)


def _with_version(raw: bytes, version: str, extra_field: str | None = None) -> bytes:
    z = zipfile.ZipFile(BytesIO(raw))
    out = BytesIO()
    with zipfile.ZipFile(out, "w") as w:
        for info in z.infolist():
            data = z.read(info)
            if info.filename == "docProps/custom.xml":
                data = data.replace(b">1.0.0<", f">{version}<".encode())
            if info.filename == "customXml/item1.xml" and extra_field:
                data = data.replace(b"</sdf:form>", f"<sdf:{extra_field}>x</sdf:{extra_field}></sdf:form>".encode())
            w.writestr(info, data)
    return out.getvalue()


def test_other_version_with_matching_fields_is_read_with_a_warning():
    result = extract_docx(_with_version(kc_doc(), "0.9.0"), REGISTRY)
    assert result.document_version == "0.9.0" and result.spec_version == "1.0.0"
    assert ("$", "other_version") in codes(result)
    assert result.data == complete(REGISTRY.get("key-criteria"), load_sample("key-criteria"))


def test_other_version_with_different_fields_says_what_differs():
    result = extract_docx(_with_version(kc_doc(), "2.0.0", extra_field="placement_type"), REGISTRY)
    [issue] = [i for i in result.errors if i.code == "version_mismatch"]
    assert "placement_type" in issue.message and "2.0.0" in issue.message


def test_foreign_word_document_needs_a_form_name():
    import docx

    buf = BytesIO()
    d = docx.Document()
    d.add_paragraph("Minutes of a meeting")
    d.save(buf)
    with pytest.raises(service.DocumentError) as info:
        extract_docx(buf.getvalue(), REGISTRY)
    assert info.value.code == "not_our_form"
    result = extract_docx(buf.getvalue(), REGISTRY, form="ramp")
    assert not result.valid and "child_name" in {e.path for e in result.errors}


def test_controls_that_are_not_part_of_the_form_are_reported_and_ignored():
    import copy

    edit = WordEdit(kc_doc())
    original = edit.controls("religion")[0]
    extra = copy.deepcopy(original)
    extra.find(".//{*}tag").set("{http://schemas.openxmlformats.org/wordprocessingml/2006/main}val", "favourite_colour")
    extra.find(".//{*}sdtPr").remove(extra.find(".//{*}dataBinding"))
    original.getparent().addnext(copy.deepcopy(original.getparent()))
    para = original.getparent().getnext()
    para.replace(para.find("{*}sdt"), extra)
    result = extract_docx(edit.save(), REGISTRY)
    assert ("$", "unknown_control") in codes(result)
    assert "favourite_colour" in " ".join(w.message for w in result.warnings)
    assert result.data["religion"] == "None stated"

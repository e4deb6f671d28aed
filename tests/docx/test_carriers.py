"""Controls that carry their answer twice, or keep a stale flag: what the reader takes and says.

The rules (docs/word.md): what the person sees wins — the glyph of a check box over its
``w14:checked``, the text of a date over its ``w:fullDate``, the text of a drop-down over its
``w:lastValue`` — and the field is warned about whenever the two disagree. Text that cannot be
read is an error, never replaced by what the box stored. A control still flagged "showing
placeholder" that holds an answer is read, with a warning."""

from __future__ import annotations

import pytest

from service.docx import extract_docx, generate_docx, oxml
from service.docx.ns import qn
from tests.conftest import REGISTRY, load_sample
from tests.docx.edits import WordEdit

PR = qn("w:sdtPr")


def warnings(result) -> set[tuple[str, str]]:
    return {(w.path, w.code) for w in result.warnings}


def _first_box(spec) -> str:
    return next(ref.path for ref in spec.walk() if ref.field.type == "checkbox" and ref.in_repeat is None)


def _form_with_a_box():
    form_id = next(f for f in ("preparation-plan", "getting-to-know-you-plan", "ramp")
                   if any(r.field.type == "checkbox" and r.in_repeat is None for r in REGISTRY.get(f).walk()))
    return REGISTRY.get(form_id), form_id


@pytest.mark.parametrize("flag, glyph", [(True, False), (False, True)])
def test_a_check_box_whose_glyph_and_flag_disagree_is_read_as_shown(flag, glyph):
    spec, form_id = _form_with_a_box()
    box = _first_box(spec)
    edit = WordEdit(generate_docx(spec, load_sample(form_id)))
    sdt = edit.controls(box)[0]
    sdt.find(f".//{qn('w14:checked')}").set(qn("w14:val"), "1" if flag else "0")
    sdt.find(f".//{qn('w:t')}").text = oxml.CHECKED if glyph else oxml.UNCHECKED
    result = extract_docx(edit.save(), REGISTRY)
    value = result.data
    for part in box.split("."):
        value = value[part]
    assert value is glyph
    assert (box, "checkbox_disagrees") in warnings(result)


def test_boxes_that_agree_say_nothing():
    spec, form_id = _form_with_a_box()
    box = _first_box(spec)
    result = extract_docx(WordEdit(generate_docx(spec, load_sample(form_id))).tick(box, True).save(), REGISTRY)
    assert not {c for _, c in warnings(result)} & {"checkbox_disagrees", "date_disagrees", "choice_disagrees"}


def test_a_date_whose_text_and_stored_date_disagree_is_read_as_shown():
    spec = REGISTRY.get("placement-stability-meeting")
    edit = WordEdit(generate_docx(spec, load_sample("placement-stability-meeting")))
    sdt = edit.controls("next_meeting_date")[0]
    edit._content(sdt, "04/04/2026")  # the text changed, the stored date left as it was
    result = extract_docx(edit.save(), REGISTRY)
    assert result.data["next_meeting_date"] == "2026-04-04"
    assert ("next_meeting_date", "date_disagrees") in warnings(result)


def test_an_unreadable_date_is_an_error_even_when_the_box_stored_one():
    spec = REGISTRY.get("placement-stability-meeting")
    edit = WordEdit(generate_docx(spec, load_sample("placement-stability-meeting")))
    edit._content(edit.controls("next_meeting_date")[0], "sometime in April")
    result = extract_docx(edit.save(), REGISTRY)
    assert result.data["next_meeting_date"] is None
    assert ("next_meeting_date", "unreadable_date") in {(e.path, e.code) for e in result.errors}


def test_a_drop_down_showing_another_item_than_it_stores_is_read_as_shown():
    spec = REGISTRY.get("key-criteria")
    edit = WordEdit(generate_docx(spec, load_sample("key-criteria")))
    tag = "safety.fire_setting.answer"
    sdt = edit.controls(tag)[0]
    stored = sdt.find(f"{PR}/{qn('w:dropDownList')}").get(qn("w:lastValue"))
    other = next(o for o in spec.field_at(tag).field.choices if o.value != stored)
    edit._content(sdt, other.label)  # text changed, w:lastValue not
    result = extract_docx(edit.save(), REGISTRY)
    assert result.data["safety"]["fire_setting"]["answer"] == other.value
    assert (tag, "choice_disagrees") in warnings(result)


def test_a_drop_down_showing_none_of_its_items_is_an_error_naming_its_stored_choice():
    spec = REGISTRY.get("key-criteria")
    tag = "safety.fire_setting.answer"
    edit = WordEdit(generate_docx(spec, load_sample("key-criteria")))
    sdt = edit.controls(tag)[0]
    stored = spec.field_at(tag).field.label_for(sdt.find(f"{PR}/{qn('w:dropDownList')}").get(qn("w:lastValue")))
    edit._content(sdt, "Perhaps")
    result = extract_docx(edit.save(), REGISTRY)
    error = next(e for e in result.errors if e.path == tag)
    assert error.code == "unknown_choice" and stored in error.message and "Perhaps" not in error.message


@pytest.mark.parametrize("tag, typed, expected", [
    ("religion", "Quaker", "Quaker"),                                      # plain text
    ("safety.self_harm.answer", "No", "no"),                               # a drop-down's label
])
def test_a_control_still_flagged_as_placeholder_that_holds_an_answer_is_read(tag, typed, expected):
    spec = REGISTRY.get("key-criteria")
    edit = WordEdit(generate_docx(spec, {}))
    sdt = edit.controls(tag)[0]
    edit._content(sdt, typed)
    sdt.find(PR).append(oxml.fragment("<w:showingPlcHdr/>"))  # as a script or LibreOffice's API leaves it
    result = extract_docx(edit.save(), REGISTRY)
    value = result.data
    for part in tag.split("."):
        value = value[part]
    assert value == expected
    assert (tag, "placeholder_flag_left") in warnings(result)


def test_a_flagged_date_with_a_readable_date_is_read():
    spec = REGISTRY.get("placement-stability-meeting")
    edit = WordEdit(generate_docx(spec, {}))
    sdt = edit.controls("next_meeting_date")[0]
    edit._content(sdt, "05/05/2026")
    sdt.find(PR).append(oxml.fragment("<w:showingPlcHdr/>"))
    result = extract_docx(edit.save(), REGISTRY)
    assert result.data["next_meeting_date"] == "2026-05-05"
    assert ("next_meeting_date", "placeholder_flag_left") in warnings(result)


def test_placeholder_text_with_its_flag_is_empty_and_quiet():
    spec = REGISTRY.get("key-criteria")
    result = extract_docx(generate_docx(spec, {}), REGISTRY)
    assert not {c for _, c in warnings(result)} & {"placeholder_flag_left"}

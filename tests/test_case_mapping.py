"""Between a form's data and a case, both ways: what a completed form says about the child
prefills the same fields again, a value that does not fit is skipped, and the comparison on
accepting says new, same or conflict."""

from __future__ import annotations

import pytest

import service
from service.case_mapping import case_values_from, compare, prefill_from_case
from tests.conftest import FORM_IDS, REGISTRY, load_sample


@pytest.mark.parametrize("form_id", FORM_IDS)
def test_a_forms_case_values_prefill_it_back(form_id):
    """What a completed form says about the child, stored in a case, prefills the same fields."""
    spec = REGISTRY.get(form_id)
    values = case_values_from(spec, service.shape.complete(spec, load_sample(form_id)))
    assert values.get("su_number") or form_id == "susd-expression-of-interest"
    data, skipped = prefill_from_case(spec, values)
    assert skipped == []
    assert service.validate(spec, data, partial=True).errors == []
    assert case_values_from(spec, service.shape.complete(spec, data)) == values


def test_a_value_that_does_not_fit_a_form_is_skipped_not_forced():
    spec = REGISTRY.get("susd-expression-of-interest")
    data, skipped = prefill_from_case(spec, {"local_authority": "Atlantis"})
    assert skipped == ["local_authority"] and data.get("local_authority") is None
    data, skipped = prefill_from_case(spec, {"local_authority": "Cardiff"})  # a label reads as its option
    assert skipped == [] and data["local_authority"] == "cardiff"


def test_compare_says_new_same_or_conflict():
    rows = compare({"child_name": "A", "iro_name": "B"}, {"child_name": "A", "iro_name": "C", "age": 9})
    assert [(r["key"], r["status"]) for r in rows] == [("child_name", "same"), ("iro_name", "conflict"), ("age", "new")]


def test_a_choice_travels_as_its_label_and_back_as_its_option():
    spec = REGISTRY.get("susd-expression-of-interest")
    assert case_values_from(spec, {"local_authority": "cardiff"}) == {"local_authority": "Cardiff Council"}
    assert prefill_from_case(spec, {"local_authority": "Cardiff Council"})[0]["local_authority"] == "cardiff"


def test_a_form_value_the_case_cannot_hold_is_left_out():
    spec = REGISTRY.get("ramp")
    linked = {ref.field.case: ref.path for ref in spec.walk() if getattr(ref.field, "case", None)}
    data = service.shape.complete(spec, {linked["child_name"]: "Ana\x00", linked["su_number"]: "SU-EX-1"})
    assert case_values_from(spec, data) == {"su_number": "SU-EX-1"}

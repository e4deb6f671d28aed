"""Case values as the core checks them (the pages and the command line rely on this, not on the
API's schema), and prefill from a case into each form."""

from __future__ import annotations

import pytest

import service
from service.errors import RecordInvalid
from service.records.cases import clean_values, prefill_from_values
from service.records.submissions import case_values_from, compare
from tests.conftest import FORM_IDS, REGISTRY, load_sample


@pytest.mark.parametrize("values, problem", [
    ({"shoe_size": "4"}, "shoe_size"), ({"age": 99}, "age"), ({"age": True}, "age"), ({"date_of_birth": "1/2/2012"},
                                                                                     "date_of_birth"),
    ({"child_name": "x" * 1001}, "child_name"), ({"child_name": 5}, "child_name"), ([], "object"),
])
def test_bad_values_are_named(values, problem):
    with pytest.raises(RecordInvalid, match=problem):
        clean_values(values)


def test_values_are_tidied():
    assert clean_values({"child_name": "  Ana   Example ", "age": "12", "date_of_birth": "2014-03-09",
                         "iro_name": "  "}) == {"child_name": "Ana Example", "age": 12, "date_of_birth": "2014-03-09",
                                                "iro_name": None}


@pytest.mark.parametrize("form_id", FORM_IDS)
def test_a_forms_case_values_prefill_it_back(form_id):
    """What a completed form says about the child, stored in a case, prefills the same fields."""
    spec = REGISTRY.get(form_id)
    values = case_values_from(spec, service.shape.complete(spec, load_sample(form_id)))
    assert values.get("su_number") or form_id == "susd-expression-of-interest"
    data, skipped = prefill_from_values(spec, values)
    assert skipped == []
    assert service.validate(spec, data, partial=True).errors == []
    assert case_values_from(spec, service.shape.complete(spec, data)) == values


def test_a_value_that_does_not_fit_a_form_is_skipped_not_forced():
    spec = REGISTRY.get("susd-expression-of-interest")
    data, skipped = prefill_from_values(spec, {"local_authority": "Atlantis"})
    assert skipped == ["local_authority"] and data.get("local_authority") is None
    data, skipped = prefill_from_values(spec, {"local_authority": "Cardiff"})  # a label reads as its option
    assert skipped == [] and data["local_authority"] == "cardiff"


def test_compare_says_new_same_or_conflict():
    rows = compare({"child_name": "A", "iro_name": "B"}, {"child_name": "A", "iro_name": "C", "age": 9})
    assert [(r["key"], r["status"]) for r in rows] == [("child_name", "same"), ("iro_name", "conflict"), ("age", "new")]

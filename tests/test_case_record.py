"""The case record's attributes: one definition cleans every case value, whichever way it comes
in (the API, a page's form, an accepted form, a spreadsheet), and the API's schema is derived
from it, so the two can never disagree again."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from service.case_record import ATTRIBUTES, BY_KEY, CASE_KEYS, clean_values, values_from_text
from service.errors import RecordInvalid
from service.packs.model import CASE_COLUMNS
from service.web.api.schemas import CaseValues


@pytest.mark.parametrize("values, problem", [
    ({"shoe_size": "4"}, "shoe_size"), ({"age": 99}, "Age"), ({"age": True}, "Age"), ({"age": "12"}, "Age"),
    ({"age": 12.5}, "Age"), ({"date_of_birth": "1/2/2012"}, "Date of birth"), ({"date_of_birth": 20120201},
                                                                              "Date of birth"),
    ({"child_name": "x" * 1001}, "Child's name"), ({"su_number": "S" * 41}, "SU number"),
    ({"child_name": 5}, "Child's name"), ({"child_name": "Ana\x00"}, "Child's name"),
    ({"child_name": "Ana\ufffe"}, "Child's name"), ({"foster_carer_names": "A\x0bB"}, "Foster carers"),
    ([], "object"),
])
def test_bad_values_are_refused_naming_the_attribute(values, problem):
    with pytest.raises(RecordInvalid, match=problem):
        clean_values(values)


def test_values_are_tidied():
    assert clean_values({"child_name": "  Ana   Example ", "age": 12.0, "date_of_birth": "2014-03-09",
                         "foster_carer_names": " Sam Example\nAlex Example ", "iro_name": "  "}) == {
        "child_name": "Ana Example", "age": 12, "date_of_birth": "2014-03-09",
        "foster_carer_names": "Sam Example\nAlex Example", "iro_name": None}


def test_a_page_form_is_read_as_people_type_it():
    assert values_from_text({"age": " 12 ", "date_of_birth": "09/03/2014", "child_name": "Ana"}) == {
        "age": 12, "date_of_birth": "2014-03-09", "child_name": "Ana"}
    assert values_from_text({"date_of_birth": "2014-03-09"}) == {"date_of_birth": "2014-03-09"}
    assert values_from_text({"age": "", "iro_name": " "}) == {"age": None, "iro_name": None}
    for bad in ({"age": "twelve"}, {"age": "-1"}, {"date_of_birth": "31/02/2014"}):
        with pytest.raises(RecordInvalid):
            values_from_text(bad)


@pytest.mark.parametrize("value", ["2014-03-09", "Ana Example", 12, "Sam\nAlex"])
def test_what_a_page_shows_reads_back_unchanged(value):
    attribute = {str: BY_KEY["child_name"], int: BY_KEY["age"]}[type(value)] if value != "2014-03-09" \
        else BY_KEY["date_of_birth"]
    if "\n" in str(value):
        attribute = BY_KEY["foster_carer_names"]
    assert attribute.from_text(attribute.shown(value)) == value


SAMPLES = [None, "", "  ", "Ana", " Ana  B ", "x" * 40, "x" * 41, "x" * 1001, 0, 12, 30, 31, -1, 12.0, 12.5, True, "12",
           "2014-03-09", "2014-02-30", "09/03/2014", 20140309, "A\x00", "A\ufffe", "A\nB", [], {}]


@pytest.mark.parametrize("attribute", ATTRIBUTES, ids=lambda a: a.key)
def test_the_api_accepts_exactly_what_the_core_stores(attribute):
    for value in SAMPLES:
        try:
            expected = attribute.clean(value)
        except RecordInvalid:
            expected = RecordInvalid
        try:
            got = CaseValues(**{attribute.key: value}).given()[attribute.key]
        except ValidationError:
            got = RecordInvalid
        assert got == expected, (attribute.key, value)


def test_every_consumer_derives_from_the_one_definition():
    assert CASE_KEYS == {a.key for a in ATTRIBUTES} == set(CaseValues.model_fields)
    for column in CASE_COLUMNS:
        assert column.label == BY_KEY[column.key].label
    schema = CaseValues.model_json_schema()["properties"]
    assert schema["su_number"]["anyOf"][0]["maxLength"] == BY_KEY["su_number"].limit == 40
    assert schema["age"]["anyOf"][0]["maximum"] == BY_KEY["age"].limit


def test_the_schemas_spelling_of_whitespace_is_pythons():
    """The API schema names whitespace characters one by one (regex engines disagree about
    \\s); the list must be exactly what the code strips."""
    import re
    import sys

    from service.characters import WHITESPACE

    spaces = {chr(c) for c in range(sys.maxunicode + 1) if chr(c).isspace()}
    listed = {chr(c) for c in range(sys.maxunicode + 1) if re.fullmatch(f"[{WHITESPACE}]", chr(c))}
    assert listed == spaces

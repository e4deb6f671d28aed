"""Each kind of value error, with its code, path and a plain message."""

from __future__ import annotations

import pytest

import service
from tests.spec.test_loader import GOOD

EXTRA_FIELDS = """\
      - {key: score, label: Score, type: integer, minimum: 0, maximum: 40}
      - {key: agreed, label: Agreed, type: checkbox}
      - {key: sure, label: I confirm, type: checkbox, required: true}
      - {key: notes, label: Notes, type: longtext, max_length: 20}
      - {key: steps, label: Steps, type: list, max_items: 2}
      - {key: at, label: At, type: datetime}
      - {key: email, label: E-mail, type: text, format: email}
      - key: tags
        label: Tags
        type: multichoice
        options: [{value: a, label: A}, {value: b, label: B}]
      - key: people
        label: People
        type: repeat
        min_rows: 1
        max_rows: 2
        blank_rows: 2
        fields:
          - {key: name, label: Name, type: text, required: true}
          - {key: role, label: Role, type: text}
      - key: box
        label: Box
        type: group
        fields:
          - {key: inner, label: Inner, type: date}
"""
SPEC = service.load_spec_text(GOOD + EXTRA_FIELDS, file="demo.yaml")

BASE = {"child_name": "A", "sure": True, "people": [{"name": "B"}]}


def errors(**changes):
    data = {**BASE, **changes}
    return [(e.path, e.code) for e in service.validate(SPEC, data).errors]


def test_base_is_valid():
    assert errors() == []


@pytest.mark.parametrize(("changes", "expected"), [
    ({"child_name": None}, [("child_name", "required")]),
    ({"child_name": "  "}, [("child_name", "required")]),
    ({"child_name": 7}, [("child_name", "wrong_type")]),
    ({"child_name": "two\nlines"}, [("child_name", "line_break")]),
    ({"child_name": "bell\x07"}, [("child_name", "control_character")]),
    ({"notes": "x" * 21}, [("notes", "too_long")]),
    ({"notes": "line one\nline two"}, []),
    ({"when": "2026-02-30"}, [("when", "bad_date")]),
    ({"when": "30/01/2026"}, [("when", "bad_date")]),
    ({"when": ""}, []),
    ({"at": "2026-01-30 10:00"}, [("at", "bad_datetime")]),
    ({"at": "2026-01-30T10:00"}, []),
    ({"colour": "blue"}, [("colour", "not_an_option")]),
    ({"score": 41}, [("score", "out_of_range")]),
    ({"score": -1}, [("score", "out_of_range")]),
    ({"score": True}, [("score", "wrong_type")]),
    ({"score": 12.0}, []),
    ({"score": 12.5}, [("score", "wrong_type")]),
    ({"score": float("nan")}, [("score", "wrong_type")]),  # JSON bodies may spell NaN and Infinity
    ({"score": float("inf")}, [("score", "wrong_type")]),
    ({"score": "12"}, [("score", "wrong_type")]),
    ({"agreed": "yes"}, [("agreed", "wrong_type")]),
    ({"sure": False}, [("sure", "required")]),
    ({"steps": ["a", "b", "c"]}, [("steps", "too_many_items")]),
    ({"steps": ["a", " "]}, [("steps[1]", "empty_item")]),
    ({"steps": "a"}, [("steps", "wrong_type")]),
    ({"email": "not an address"}, [("email", "bad_email")]),
    ({"tags": ["a", "a"]}, [("tags", "duplicate_option")]),
    ({"tags": ["a", "z"]}, [("tags[1]", "not_an_option")]),
    ({"people": []}, [("people", "too_few_rows")]),
    ({"people": [{"name": "x"}] * 3}, [("people", "too_many_rows")]),
    ({"people": [{"name": "x"}, {"name": None, "role": ""}]}, [("people[1]", "empty_row")]),
    ({"people": [{"role": "chair"}]}, [("people[0].name", "required")]),
    ({"people": [{"name": "x", "age": 3}]}, [("people[0].age", "unknown_field")]),
    ({"people": ["x"]}, [("people[0]", "wrong_type")]),
    ({"box": {"inner": "soon"}}, [("box.inner", "bad_date")]),
    ({"box": None}, []),
    ({"box": []}, [("box", "wrong_type")]),
    ({"surprise": 1}, [("surprise", "unknown_field")]),
])
def test_value_errors(changes, expected):
    assert errors(**changes) == expected


def test_partial_skips_required_and_minimums_only():
    report = service.validate(SPEC, {"score": 99}, partial=True)
    assert [(e.path, e.code) for e in report.errors] == [("score", "out_of_range")]


@pytest.mark.parametrize("data", [None, [], "text", 3])
def test_data_must_be_an_object(data):
    report = service.validate(SPEC, data)
    assert [(e.path, e.code) for e in report.errors] == [("$", "wrong_type")]


def test_report_json_shape():
    d = service.validate(SPEC, {**BASE, "score": 50}).to_dict()
    assert d["form"] == "demo" and d["spec_version"] == "1.0.0" and d["valid"] is False
    assert d["errors"] == [{"path": "score", "code": "out_of_range", "message": '"Score" must be from 0 to 40.',
                            "severity": "error"}]

"""Malformed specs are refused with the file, the line and the place of the problem."""

from __future__ import annotations

import textwrap

import pytest

from service import Registry, SpecError, load_spec_file, load_spec_text
from tests.conftest import FORM_IDS, ROOT

GOOD = textwrap.dedent("""\
    id: demo
    title: Demo form
    version: 1.0.0
    organisation: Nowhere Council
    source: {document: none}
    sections:
      - id: one
        heading: One
        fields:
          - {key: child_name, label: Child Name, type: text, required: true}
          - {key: when, label: When, type: date}
          - {key: then, label: Then, type: date}
          - key: colour
            label: Colour
            type: choice
            options: [{value: red, label: Red}]
    """)


def load(text: str):
    return load_spec_text(text, file="demo.yaml")


def test_minimal_spec_loads():
    spec = load(GOOD)
    assert [f.key for f in spec.fields] == ["child_name", "when", "then", "colour"]


VERSION_FILES = sorted((ROOT / "form_specs").glob("*/[0-9]*.yaml"))


@pytest.mark.parametrize("path", VERSION_FILES, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_every_shipped_spec_version_loads(path):
    spec = load_spec_file(path)
    assert (spec.id, spec.version) == (path.parent.name, path.stem)


def test_every_form_has_a_version_file():
    assert {p.parent.name for p in VERSION_FILES} == set(FORM_IDS)


CASES = [
    # (description, edit to GOOD, expected line, expected words in the message)
    ("not YAML", lambda t: t.replace("heading: One", "heading: [One"), None, "not valid YAML"),
    ("duplicate YAML key", lambda t: t.replace("title: Demo form", "title: Demo form\ntitle: Again"), 3, "duplicate key 'title'"),
    ("unknown field type", lambda t: t.replace("label: When, type: date}", "label: When, type: calendar}"), 11,
     "sections[0].fields[1]: unknown type 'calendar'"),
    ("unknown setting", lambda t: t.replace("required: true}", "requried: true}"), 10, "unknown setting 'requried'"),
    ("bad key", lambda t: t.replace("key: child_name", "key: Child Name"), 10, "keys are lower-case"),
    ("key with a dot", lambda t: t.replace("key: child_name", "key: child.name"), 10, "no dots"),
    ("repeated key", lambda t: t.replace("key: then", "key: when"), None, "key 'when' is used twice"),
    ("missing title", lambda t: t.replace("title: Demo form\n", ""), 1, "missing required setting 'title'"),
    ("bad version", lambda t: t.replace("version: 1.0.0", "version: 1.0"), 3, "semantic"),
    ("option value 'no' stays a string", lambda t: t.replace("value: red", "value: no"), None, None),
    ("option value not text", lambda t: t.replace("value: red", "value: [1]"), 16, "options"),
    ("unknown option set", lambda t: t.replace("options: [{value: red, label: Red}]", "options: colours"), None,
     "option set 'colours'"),
    ("empty section", lambda t: t + "  - {id: two, heading: Two}\n", None, "needs fields, an agenda or guidance"),
    ("unknown case key", lambda t: t.replace("required: true}", "required: true, case: favourite_food}"), None,
     "case attribute 'favourite_food'"),
    ("rule on missing field", lambda t: t + "rules:\n  - {id: r, rule: interval, from: when, to: later, max: 3d, message: m}\n",
     None, "no field 'later'"),
    ("rule on wrong type", lambda t: t + "rules:\n  - {id: r, rule: interval, from: when, to: colour, max: 3d, message: m}\n",
     None, "'colour', which is not a date"),
    ("hours on dates", lambda t: t + "rules:\n  - {id: r, rule: interval, from: when, to: then, max: 48h, message: m}\n",
     None, "date-and-time"),
    ("bad duration", lambda t: t + "rules:\n  - {id: r, rule: interval, from: when, to: then, max: 3 fortnights, message: m}\n",
     18, "not a duration"),
    ("condition option unknown", lambda t: t + "rules:\n  - {id: r, rule: when, when: {field: colour, in: [blue]}, message: m}\n",
     None, "not options of 'colour'"),
    ("condition with two tests", lambda t: t + "rules:\n  - {id: r, rule: when, when: {field: colour, in: [red], filled: true}, message: m}\n",
     None, "exactly one test"),
    ("unknown rule kind", lambda t: t + "rules:\n  - {id: r, rule: sometimes, message: m}\n", 18, "unknown rule 'sometimes'"),
    ("top level not a mapping", lambda t: "- just\n- a list\n", 1, "a spec is a YAML mapping"),
]


@pytest.mark.parametrize(("edit", "line", "words"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_malformed_spec_is_rejected_with_place(edit, line, words):
    text = edit(GOOD)
    if words is None:  # a case that must load
        spec = load(text)
        assert spec.fields[3].choices[0].value == "no"
        return
    with pytest.raises(SpecError) as info:
        load(text)
    err = info.value
    assert err.file == "demo.yaml"
    assert words in str(err), str(err)
    if line is not None:
        assert err.line == line, str(err)
    assert str(err).startswith("demo.yaml"), "the message names the file first"


def test_oversized_and_binary_specs_are_refused():
    with pytest.raises(SpecError, match="larger than"):
        load_spec_text(b"#" * 2_000_000, file="big.yaml")
    with pytest.raises(SpecError, match="not UTF-8"):
        load_spec_text(b"id: \xff\xfe", file="bin.yaml")


def test_yaml_tags_cannot_build_objects():
    with pytest.raises(SpecError, match="not valid YAML"):
        load("!!python/object/apply:os.system ['true']\n")


def test_registry_requires_file_name_to_match_id(tmp_path):
    (tmp_path / "other.yaml").write_text(GOOD)
    with pytest.raises(SpecError, match="named 'other' but its id is 'demo'"):
        Registry(tmp_path)


def test_registry_missing_folder(tmp_path):
    with pytest.raises(SpecError, match="does not exist"):
        Registry(tmp_path / "nope")

"""Property tests: random valid data from each spec passes; random corruption is caught at its path.

Both judges are asked each time: our validator and the generated JSON Schema, so they cannot
drift apart.
"""

from __future__ import annotations

import copy
import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import service
from service.spec.model import (
    CheckboxField, ChoiceField, DateField, DateTimeField, IntegerField, ListField, LongTextField,
    MultiChoiceField, TextField,
)
from tests.conftest import FORM_IDS, REGISTRY, schema_error_paths
from tests.strategies import data_for

SETTINGS = settings(max_examples=40, deadline=None, derandomize=False,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


@pytest.mark.parametrize("form_id", FORM_IDS)
@SETTINGS
@given(data=st.data())
def test_generated_data_is_valid(form_id, data):
    spec = REGISTRY.get(form_id)
    value = data.draw(data_for(spec))
    value = json.loads(json.dumps(value))  # what a client would actually send
    report = service.validate(spec, value)
    assert report.errors == [], [e.to_dict() for e in report.errors]
    assert schema_error_paths(spec, value) == []


def bad_values(f) -> st.SearchStrategy:
    """Values that break field ``f`` in a way both judges must see."""
    if isinstance(f, CheckboxField):
        options = [st.sampled_from(["yes", 1, 0, "true", [True]])]
        if f.required:
            options.append(st.just(False))
        return st.one_of(*options)
    common = [st.sampled_from([{"nested": "object"}, 3.5])]
    if isinstance(f, (TextField, LongTextField)):
        breakers = ["bell\x07", "nul\x00char", "x" * (f.max_length + 1), 12, True]
        if isinstance(f, TextField):
            breakers.append("two\nlines")
        return st.sampled_from(breakers)
    if isinstance(f, ListField):
        return st.sampled_from(["one string", [1, 2], ["ok", "two\nlines"], ["x" * (f.item_max_length + 1)],
                                ["item"] * (f.max_items + 1)])
    if isinstance(f, IntegerField):
        options = ["12", 1.5, True]
        if f.maximum is not None:
            options.append(f.maximum + 1)
        if f.minimum is not None:
            options.append(f.minimum - 1)
        return st.sampled_from(options)
    if isinstance(f, DateField):
        return st.sampled_from(["31/12/2026", "2026-02-30", "2026-1-5", 20260101, "next Tuesday"])
    if isinstance(f, DateTimeField):
        return st.sampled_from(["10:00 2026-01-01", "2026-01-01", 5, "2026-01-01 10:00"])
    if isinstance(f, ChoiceField):
        return st.sampled_from(["definitely-not-an-option", 3, ["a"], True])
    if isinstance(f, MultiChoiceField):
        first = f.choices[0].value
        return st.sampled_from([["definitely-not-an-option"], first, [first, first], [7]])
    return st.one_of(*common)


def _targets(spec, value):
    """(path, field, container dict, key) for every simple field we can reach in ``value``."""
    out = []
    for ref in spec.walk():
        if ref.field.is_container:
            continue
        if ref.in_repeat is None:
            *parents, key = ref.path.split(".")
            node = value
            for p in parents:
                node = node[p]
            out.append((ref.path, ref.field, node, key))
        else:
            rows = value.get(ref.in_repeat) or []
            sub = ref.path.split("[].", 1)[1]
            for i, row in enumerate(rows):
                out.append((f"{ref.in_repeat}[{i}].{sub}", ref.field, row, sub))
    return out


@pytest.mark.parametrize("form_id", FORM_IDS)
@SETTINGS
@given(data=st.data())
def test_mutation_is_rejected_at_its_path(form_id, data):
    spec = REGISTRY.get(form_id)
    value = copy.deepcopy(data.draw(data_for(spec)))
    path, field, container, key = data.draw(st.sampled_from(_targets(spec, value)))
    container[key] = data.draw(bad_values(field))

    ours = [e.path for e in service.validate(spec, value).errors]
    theirs = schema_error_paths(spec, value)
    assert any(p == path or p.startswith(path + "[") for p in ours), (path, ours)
    assert any(p == path or p.startswith(path + "[") for p in theirs), (path, theirs)


@pytest.mark.parametrize("form_id", FORM_IDS)
@SETTINGS
@given(data=st.data())
def test_required_field_emptied_is_reported(form_id, data):
    spec = REGISTRY.get(form_id)
    value = copy.deepcopy(data.draw(data_for(spec)))
    required = [t for t in _targets(spec, value)
                if t[1].required and "[" not in t[0] and not isinstance(t[1], CheckboxField)]
    if not required:
        return
    path, field, container, key = data.draw(st.sampled_from(required))
    container[key] = data.draw(st.sampled_from([None, "", "   "] if isinstance(field, (TextField, LongTextField)) else [None]))
    errors = service.validate(spec, value).errors
    assert any(e.path == path and e.code == "required" for e in errors), (path, errors)
    assert path in schema_error_paths(spec, value)


@pytest.mark.parametrize("form_id", FORM_IDS)
@SETTINGS
@given(data=st.data())
def test_unknown_key_is_rejected(form_id, data):
    spec = REGISTRY.get(form_id)
    value = data.draw(data_for(spec))
    value["zz_not_in_spec"] = data.draw(st.text(max_size=5))
    assert "zz_not_in_spec" in [e.path for e in service.validate(spec, value).errors]
    assert schema_error_paths(spec, value)  # additionalProperties: false

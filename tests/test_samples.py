"""Every sample is valid, and every prefill holds only what a case record knows."""

import pytest

import service
from tests.conftest import FORM_IDS, SAMPLES, load_sample, schema_error_paths


def test_every_form_has_both_samples():
    for form_id in FORM_IDS:
        assert (SAMPLES / f"{form_id}.json").is_file(), form_id
        assert (SAMPLES / "prefill" / f"{form_id}.json").is_file(), form_id
    assert len(FORM_IDS) == 7


def test_full_sample_validates_without_errors(spec, sample):
    report = service.validate(spec, sample)
    assert report.errors == [], [e.to_dict() for e in report.errors]
    assert schema_error_paths(spec, sample) == []


def test_full_sample_is_rich(spec, sample):
    """A 'complete' example fills every required field and most of the rest, including every row table."""
    filled = total = 0
    for ref in spec.walk():
        if ref.in_repeat or ref.field.is_container:
            continue
        total += 1
        node = sample
        for part in ref.path.split("."):
            node = node.get(part) if isinstance(node, dict) else None
        filled += node not in (None, "", [])
    assert filled / total >= 0.75, f"{spec.id}: only {filled}/{total} fields filled"
    for f in spec.fields:
        if f.type == "repeat":
            assert sample.get(f.key), f"{spec.id}: repeat {f.key} has no rows in the sample"


def test_prefill_is_partial_valid_and_case_only(spec):
    prefill = load_sample(spec.id, prefill=True)
    report = service.validate(spec, prefill, partial=True)
    assert report.errors == [] and report.warnings == []
    case_fields = {ref.path for ref in spec.walk() if ref.field.case}
    assert set(prefill) <= case_fields, set(prefill) - case_fields
    assert prefill, "a prefill example holds at least one value"


@pytest.mark.parametrize("form_id", FORM_IDS)
def test_prefill_agrees_with_full_sample(form_id):
    full, prefill = load_sample(form_id), load_sample(form_id, prefill=True)
    for key, value in prefill.items():
        assert full.get(key) == value, (form_id, key)


def test_messages_never_repeat_values(spec, sample):
    """Reports may be logged or shown to other people: they name fields, never the data in them."""
    broken = {k: ("x" * 100_001 if isinstance(v, str) else v) for k, v in sample.items()}
    secret = "Zqx-canary-Ω-1234"
    broken["child_name"] = secret + "\n" + secret
    broken["unexpected_" + "field"] = secret
    report = service.validate(spec, broken)
    assert report.errors
    for issue in report.errors + report.warnings:
        assert secret not in issue.message

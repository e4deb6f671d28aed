"""A designer's own Word layout: checked against the spec, then filled and read back."""

from __future__ import annotations

import pytest

import service
from service.docx import extract_docx
from service.docx.designer import check_layout, fill_layout
from tests.conftest import SAMPLES, load_sample
from tests.docx.designer_layout import SPEC, build


def codes(check):
    return {(i.path, i.code) for i in check.errors + check.warnings}


def test_a_good_layout_passes_with_warnings_for_optional_fields():
    check = check_layout(SPEC, build())
    assert check.ok, check.errors
    assert ("minutes_circulated_date", "missing_control") in codes(check)
    assert all(w.severity == "warning" for w in check.warnings)


@pytest.mark.parametrize(("kwargs", "expected"), [
    ({"skip": {"child_name"}}, ("child_name", "missing_control")),
    ({"extra": [("Pet", "favourite_pet")]}, ("favourite_pet", "unknown_tag")),
    ({"kinds": {"next_meeting_date": "text"}}, ("next_meeting_date", "wrong_control")),
    ({"extra": [("Again", "chair")]}, ("chair", "duplicate_control")),
])
def test_layout_problems_are_named(kwargs, expected):
    check = check_layout(SPEC, build(**kwargs))
    assert not check.ok and expected in codes(check)


def test_filled_layout_reads_back():
    sample = load_sample("placement-stability-meeting")
    raw = fill_layout(SPEC, build(), sample, document_id="99999999-0000-4000-8000-000000000000")
    result = extract_docx(raw, service.default_registry())
    d = result.data
    assert result.document_id == "99999999-0000-4000-8000-000000000000"
    for key in ("child_name", "requested_at", "requested_by", "meeting_at", "overview", "next_meeting_date"):
        assert d[key] == sample[key], key
    assert d["present"] == [{"name": r["name"], "role": r["role"]} for r in sample["present"]]
    # the designer's table has no status column (a 1.1.0 addition): it stays empty
    assert d["actions"] == [{**r, "status": None} for r in sample["actions"]]
    assert d["support_in_place"] is None, "not in the layout, so not carried in the document either"
    assert set(result.sources.values()) == {"control"}
    assert not [w for w in result.warnings if w.code == "control_missing"], "absent fields are not 'removed'"


def test_a_layout_that_does_not_fit_is_refused():
    with pytest.raises(service.DocumentError) as info:
        fill_layout(SPEC, build(skip={"overview"}), {})
    assert info.value.code == "layout_invalid" and "overview" in str(info.value)


def test_cli_check_layout_and_generate_from_it(tmp_path, capsys):
    import json

    from service.cli import main

    good, bad = tmp_path / "good.docx", tmp_path / "bad.docx"
    good.write_bytes(build())
    bad.write_bytes(build(skip={"child_name"}))
    assert main(["check-layout", "placement-stability-meeting", str(good)]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["ok"] is True and report["controls"] > 10
    assert main(["check-layout", "placement-stability-meeting", str(bad)]) == 1
    assert "child_name" in capsys.readouterr().out
    out = tmp_path / "filled.docx"
    assert main(["generate", "placement-stability-meeting", "--layout", str(good), "--data",
                 str(SAMPLES / "placement-stability-meeting.json"), "--out", str(out)]) == 0
    capsys.readouterr()
    assert main(["extract", str(out)]) == 0
    assert json.loads(capsys.readouterr().out)["data"]["chair"] == "Ruth Example"

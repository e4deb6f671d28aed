"""Pack definitions that start a form from the last meeting are checked against the form when
they are loaded: a field, table, status or option that is not there is named, as is a timescale
on the last meeting's date in a pack that does not know it."""

from __future__ import annotations

import pytest

from service.errors import SpecError
from service.packs.loader import load_pack_file
from tests.conftest import REGISTRY, ROOT

SOURCE = (ROOT / "form_specs" / "packs" / "placement-stability-meeting.yaml").read_text()


def _load(tmp_path, text: str):
    path = tmp_path / "placement-stability-meeting.yaml"
    path.write_text(text)
    return load_pack_file(path, REGISTRY)


def test_the_shipped_definition_loads(tmp_path):
    pack = _load(tmp_path, SOURCE)
    assert pack.last_meeting_form.form == "placement-stability-meeting"


@pytest.mark.parametrize("old, new, message", [
    ("date: meeting_at", "date: overview", "has no date field 'overview'"),
    ("into: last_meeting_date", "into: last_meeting", "has no date field 'last_meeting'"),
    ("copy: [overview]", "copy: [overveiw]", "has no field 'overveiw' to copy"),
    ("rows: actions,", "rows: present,", "'present' has no choice column 'status'"),
    ("carried: carried,", "carried: moved,", "'status' has no option 'moved'"),
    ("summary: last_meeting_decisions", "summary: last_meeting_date", "has no text field 'last_meeting_date'"),
])
def test_a_wrong_from_last_is_named(tmp_path, old, new, message):
    assert old in SOURCE
    with pytest.raises(SpecError, match=message) as err:
        _load(tmp_path, SOURCE.replace(old, new))
    assert "forms[0].from_last" in str(err.value)


def test_the_last_meetings_date_needs_a_form_that_starts_from_it(tmp_path):
    start = SOURCE.index("    # a stability meeting follows on")
    end = SOURCE.index("  - form: ramp")
    with pytest.raises(SpecError, match="no form of the pack starts from the last record"):
        _load(tmp_path, SOURCE[:start] + SOURCE[end:])

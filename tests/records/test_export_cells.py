"""Register cells: whatever a value starts with, it is stored as text and stays text."""

from __future__ import annotations

from io import BytesIO

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from openpyxl import Workbook, load_workbook

from service.records.export import write_cell

# What a spreadsheet program may take for a formula or a command at the start of a cell (OWASP's
# list for CSV injection), written out here rather than taken from the code under test.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\n")


def _round_trip(value):
    wb = Workbook()
    write_cell(wb.active, 1, 1, value)
    out = BytesIO()
    wb.save(out)
    return load_workbook(BytesIO(out.getvalue())).active.cell(1, 1)


@pytest.mark.parametrize("value", ["=1+1", "+44 7700 900000", "-2", "@SUM(A1)", "\tindented", "\rcr", "\nnew line",
                                   "=cmd|' /C calc'!A0"])
def test_risky_starts_stay_text(value):
    cell = _round_trip(value)
    assert cell.data_type == "s" and cell.quotePrefix and cell.value == value


def test_control_characters_are_replaced_and_the_cell_marked():
    cell = _round_trip("\x07ring")
    assert cell.value == "\ufffdring" and cell.quotePrefix


@given(st.text(max_size=60))
@settings(max_examples=200, deadline=None)
def test_any_text_is_stored_as_text(value):
    cell = _round_trip(value)
    if value == "":
        return
    assert cell.data_type == "s"
    assert bool(cell.quotePrefix) == (value.startswith(FORMULA_STARTS) or cell.value[:1] == "\ufffd")

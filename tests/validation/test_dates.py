"""Reading dates people type: the DD/MM/YYYY spelling (every document shows it) is read without
strptime, and must give exactly what the formats give, for good dates and bad ones alike."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from service import dates
from service.errors import Unreadable


def _by_formats(text: str, formats: tuple[str, ...]) -> datetime | None:
    text = " ".join(text.split())
    for fmt in formats:
        try:
            return datetime.strptime(text, fmt)
        except ValueError:
            continue
    return None


def _spellings() -> set[str]:
    out = {"29/02/2024", "29/02/2023", " 01/02/2026 ", "01/02/2026  10:30", "01/ 2/2026", "1/2/2026 10:30:15",
           "\u0661\u0662/\u0660\u0663/\u0662\u0660\u0662\u0666", "\uff11/\uff12/\uff12\uff10\uff12\uff16", "3 March 2026",
           "2026-03-04", "04-03-2026", "2026-03-04T10:30", ""}
    for d in ["0", "00", "1", "01", "09", "12", "13", "28", "29", "30", "31", "32", "001"]:
        for m in ["0", "1", "01", "02", "12", "13"]:
            for y in ["2026", "2024", "0000", "9999", "26", "20260"]:
                out.add(f"{d}/{m}/{y}")
                for h, mi in [("0", "0"), ("09", "05"), ("23", "59"), ("24", "00"), ("12", "60"), ("7", "3")]:
                    out.add(f"{d}/{m}/{y} {h}:{mi}")
    return out


@pytest.mark.parametrize("formats", [dates.DATE_FORMATS, dates.DATETIME_FORMATS], ids=["date", "datetime"])
def test_the_shown_spelling_reads_exactly_as_the_formats_do(formats):
    differ = [t for t in _spellings() if dates._first(t, formats) != _by_formats(t, formats)]
    assert differ == []


def test_dates_in_the_shown_spelling_and_their_errors():
    assert dates.read_date("4/3/2026") == date(2026, 3, 4)
    assert dates.read_datetime("04/03/2026 9:05") == datetime(2026, 3, 4, 9, 5)
    with pytest.raises(Unreadable, match="DD/MM/YYYY"):
        dates.read_date("31/02/2026")
    with pytest.raises(Unreadable):
        dates.read_datetime("04/03/2026 24:00")

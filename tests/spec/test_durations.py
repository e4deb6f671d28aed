from datetime import date, datetime

import pytest

from service.spec.durations import Duration, add, add_months, add_working_days, describe_gap


@pytest.mark.parametrize(("text", "amount", "unit", "words"), [
    ("48h", 48, "h", "48 hours"), ("14d", 14, "d", "14 days"), ("1mo", 1, "mo", "1 month"),
    ("3wd", 3, "wd", "3 working days"), (" 6w ", 6, "w", "6 weeks"),
])
def test_parse(text, amount, unit, words):
    d = Duration.parse(text)
    assert (d.amount, d.unit, d.describe()) == (amount, unit, words)


@pytest.mark.parametrize("bad", ["", "48", "h48", "3 fortnights", "-3d", 3, None, "1.5d"])
def test_parse_rejects(bad):
    with pytest.raises(ValueError):
        Duration.parse(bad)


def test_month_ends_clamp():
    assert add_months(date(2026, 1, 31), 1) == date(2026, 2, 28)
    assert add_months(date(2028, 1, 31), 1) == date(2028, 2, 29)
    assert add_months(date(2026, 11, 30), 3) == date(2027, 2, 28)


def test_working_days_skip_weekends_and_bank_holidays():
    assert add_working_days(date(2026, 3, 13), 1) == date(2026, 3, 16)        # Fri -> Mon
    assert add_working_days(date(2026, 4, 2), 1) == date(2026, 4, 7)         # Good Friday, Easter Monday
    assert add_working_days(date(2026, 4, 7), -1) == date(2026, 4, 2)


def test_hours_keep_time_and_dates_count_as_midnight():
    assert add(datetime(2026, 3, 9, 16, 20), Duration.parse("48h")) == datetime(2026, 3, 11, 16, 20)
    assert add(date(2026, 3, 9), Duration.parse("2h")) == datetime(2026, 3, 9, 2, 0)
    assert add(datetime(2026, 3, 9, 23, 59), Duration.parse("1d")) == date(2026, 3, 10)


def test_describe_gap():
    assert describe_gap(datetime(2026, 3, 9, 16, 20), datetime(2026, 3, 11, 17, 20), "h") == "49 hours"
    assert describe_gap(datetime(2026, 3, 9, 16, 20), datetime(2026, 3, 11, 16, 50), "h") == "48.5 hours"
    assert describe_gap(date(2026, 3, 11), date(2026, 3, 17), "wd") == "4 working days"
    assert describe_gap(date(2026, 1, 1), date(2026, 1, 15), "w") == "2 weeks"
    assert describe_gap(date(2026, 1, 1), date(2026, 1, 2), "d") == "1 day"

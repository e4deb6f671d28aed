"""Policy durations ("48h", "14d", "6w", "3mo", "3wd") and calendar arithmetic on them.

A duration is a whole number and a unit:

    h   hours            exact clock time (dates count as midnight)
    d   days             calendar days
    w   weeks            7 calendar days
    mo  months           calendar months; the 31st plus one month is the last day of the next month
    wd  working days     Monday to Friday, less the bank holidays of England and Wales

Adding is the only operation the rules need: "is B later than A + max?" is exact for every unit,
where "how many units between A and B?" is not (months have no fixed length).
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta

UNITS = {"h": "hour", "d": "day", "w": "week", "mo": "month", "wd": "working day"}
_DURATION = re.compile(r"^\s*(\d{1,4})\s*(h|d|w|mo|wd)\s*$")

# Bank holidays in England and Wales (the two nations whose forms we carry), from the published
# lists. Working-day arithmetic outside these years counts weekends only; extend the list yearly.
BANK_HOLIDAYS = frozenset(
    date.fromisoformat(d)
    for d in (
        "2022-01-03", "2022-04-15", "2022-04-18", "2022-05-02", "2022-06-02", "2022-06-03",
        "2022-08-29", "2022-09-19", "2022-12-26", "2022-12-27",
        "2023-01-02", "2023-04-07", "2023-04-10", "2023-05-01", "2023-05-08", "2023-05-29",
        "2023-08-28", "2023-12-25", "2023-12-26",
        "2024-01-01", "2024-03-29", "2024-04-01", "2024-05-06", "2024-05-27", "2024-08-26",
        "2024-12-25", "2024-12-26",
        "2025-01-01", "2025-04-18", "2025-04-21", "2025-05-05", "2025-05-26", "2025-08-25",
        "2025-12-25", "2025-12-26",
        "2026-01-01", "2026-04-03", "2026-04-06", "2026-05-04", "2026-05-25", "2026-08-31",
        "2026-12-25", "2026-12-28",
        "2027-01-01", "2027-03-26", "2027-03-29", "2027-05-03", "2027-05-31", "2027-08-30",
        "2027-12-27", "2027-12-28",
    )
)


@dataclass(frozen=True)
class Duration:
    amount: int
    unit: str  # one of UNITS

    @classmethod
    def parse(cls, text: object) -> "Duration":
        if isinstance(text, Duration):
            return text
        if not isinstance(text, str):
            raise ValueError("a duration is written like 48h, 14d, 6w, 3mo or 3wd")
        m = _DURATION.match(text)
        if not m:
            raise ValueError(f"{text!r} is not a duration; write it like 48h, 14d, 6w, 3mo or 3wd")
        return cls(int(m.group(1)), m.group(2))

    def __str__(self) -> str:
        return f"{self.amount}{self.unit}"

    def describe(self) -> str:
        """Plain English: '48 hours', '1 month', '3 working days'."""
        name = UNITS[self.unit]
        return f"{self.amount} {name}{'' if self.amount == 1 else 's'}"

    @property
    def is_clock(self) -> bool:
        return self.unit == "h"


def add_months(d: date, months: int) -> date:
    month0 = d.month - 1 + months
    year = d.year + month0 // 12
    month = month0 % 12 + 1
    day = min(d.day, calendar.monthrange(year, month)[1])
    return d.replace(year=year, month=month, day=day)


def is_working_day(d: date) -> bool:
    return d.weekday() < 5 and d not in BANK_HOLIDAYS


def add_working_days(d: date, n: int) -> date:
    step = 1 if n >= 0 else -1
    remaining = abs(n)
    while remaining:
        d += timedelta(days=step)
        if is_working_day(d):
            remaining -= 1
    return d


def add(start: date | datetime, duration: Duration) -> date | datetime:
    """``start`` moved on by ``duration``. Hours keep the time of day; other units act on dates."""
    if duration.unit == "h":
        if not isinstance(start, datetime):
            start = datetime.combine(start, datetime.min.time())
        return start + timedelta(hours=duration.amount)
    day = start.date() if isinstance(start, datetime) else start
    if duration.unit == "d":
        return day + timedelta(days=duration.amount)
    if duration.unit == "w":
        return day + timedelta(weeks=duration.amount)
    if duration.unit == "mo":
        return add_months(day, duration.amount)
    return add_working_days(day, duration.amount)


def describe_gap(start: date | datetime, end: date | datetime, unit: str) -> str:
    """How far ``end`` is after ``start``, in the unit a rule speaks in, for messages."""
    if unit == "h":
        s = start if isinstance(start, datetime) else datetime.combine(start, datetime.min.time())
        e = end if isinstance(end, datetime) else datetime.combine(end, datetime.min.time())
        hours = (e - s).total_seconds() / 3600
        shown = f"{hours:g}" if hours == int(hours) else f"{hours:.1f}"
        return f"{shown} hours"
    s = start.date() if isinstance(start, datetime) else start
    e = end.date() if isinstance(end, datetime) else end
    if unit == "wd":
        count, day = 0, s
        while day < e:
            day += timedelta(days=1)
            count += is_working_day(day)
        return f"{count} working day{'' if count == 1 else 's'}"
    days = (e - s).days
    if unit == "w" and days % 7 == 0:
        return f"{days // 7} week{'' if days == 7 else 's'}"
    return f"{days} day{'' if days == 1 else 's'}"

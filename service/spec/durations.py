"""Policy durations ("48h", "14d", "6w", "3mo", "3wd") and calendar arithmetic on them.

A duration is a whole number and a unit:

    h   hours            exact clock time (dates count as midnight)
    d   days             calendar days
    w   weeks            7 calendar days
    mo  months           calendar months; the 31st plus one month is the last day of the next month
    wd  working days     Monday to Friday, less the bank holidays of England and Wales

Adding is the only operation the rules need: "is B later than A + max?" is exact for every unit,
where "how many units between A and B?" is not (months have no fixed length).

This is also the one home of the wording about gaps: a policy rule's message ("is 52 hours
after ..., more than 48 hours"), a cover sheet's timescale check, and how long ago something
happened ("3 weeks and 2 days").
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Literal

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


def _day(v: date | datetime) -> date:
    return v.date() if isinstance(v, datetime) else v


def _like(v: date | datetime, other: date | datetime) -> date | datetime:
    """Compare like with like: a date-time only against another date-time."""
    return v if isinstance(v, datetime) and isinstance(other, datetime) else _day(v)


@dataclass(frozen=True)
class Breach:
    """How the gap from a start to an end breaks a bound, and the words for it."""

    kind: Literal["negative", "too_long", "too_short"]
    gap: str = ""  # in the bound's unit: "52 hours", "3 working days"
    bound: Duration | None = None

    def compared(self, later: str, earlier: str) -> str:
        """A rule's sentence: '"Date" is 52 hours after "Requested", more than 48 hours.'"""
        if self.kind == "negative":
            return f"{later} is before {earlier}."
        if self.kind == "too_long":
            return f"{later} is {self.gap} after {earlier}, more than {self.bound.describe()}."
        return f"{later} is only {self.gap} after {earlier}, less than {self.bound.describe()}."

    def briefly(self) -> str:
        """After a policy's own message, on a cover sheet: 'Here it is 52 hours after.'"""
        return "Here it is before." if self.kind == "negative" else f"Here it is {self.gap} after."


def breach(start: date | datetime, end: date | datetime, *, within: Duration | None = None,
           at_least: Duration | None = None) -> Breach | None:
    """None when ``end`` is no earlier than ``start`` and the gap lies within the bounds (hours
    count on the clock, other units on the calendar); else how it breaks them."""
    if _like(end, start) < _like(start, end):
        return Breach("negative")
    for bound, too_far in ((within, True), (at_least, False)):
        if bound is None:
            continue
        limit = add(start, bound)
        moment = end if bound.is_clock and isinstance(end, datetime) else _day(end)
        limit = limit if isinstance(moment, datetime) else _day(limit)
        if (moment > limit) if too_far else (moment < limit):
            return Breach("too_long" if too_far else "too_short", describe_gap(start, end, bound.unit), bound)
    return None


def elapsed(start: date, end: date) -> str:
    """How long from ``start`` to ``end`` in words a person uses: '5 days', '3 weeks and 2 days',
    '4 months and 1 week'; '' if the end is not after the start."""
    days = (end - start).days
    if days <= 0:
        return ""

    def plural(n: int, unit: str) -> str:
        return f"{n} {unit}{'' if n == 1 else 's'}"

    if days < 7:
        return plural(days, "day")
    if days < 63:
        weeks, rest = divmod(days, 7)
        return plural(weeks, "week") + (f" and {plural(rest, 'day')}" if rest else "")
    months = (end.year - start.year) * 12 + end.month - start.month - (end.day < start.day)
    weeks = (end - add_months(start, months)).days // 7
    return plural(months, "month") + (f" and {plural(weeks, 'week')}" if weeks else "")

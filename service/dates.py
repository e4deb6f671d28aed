"""Dates and times: the one place they are read and written.

Three ways a date travels here:

- **Data** (JSON, the case record, the data part of a Word file): ISO text, strict —
  ``2026-03-04``, and ``2026-03-04T14:30`` for a date-time (seconds allowed, no zone: local UK
  time). ``iso_date`` / ``iso_datetime`` read it, ``iso`` writes it.
- **What a person types** (a document's field, a spreadsheet cell, a page's form):
  DD/MM/YYYY first, as people in the UK write it, with the other common spellings accepted
  (``04-03-2026``, ``4.3.2026``, ``4 March 2026``, ISO). ``read_date``, ``read_datetime`` and
  ``read_time`` read it and raise :class:`~service.errors.Unreadable` naming the expected form.
- **What a person sees**: ``shown_date`` (04/03/2026), ``shown_datetime`` (04/03/2026 14:30),
  ``long_date`` (Wednesday 04 March 2026) for cover sheets, ``uk_moment`` for a stored moment
  on a page (UK time), and ``utc_stamp`` for the moment a
  document was made (``2026-03-04T14:30:00Z``).
"""

from __future__ import annotations

import re
from datetime import date, datetime, time, timezone
from zoneinfo import ZoneInfo

from .errors import Unreadable

_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_ISO_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2})?$")

DATE_FORMATS = ("%d/%m/%Y", "%d-%m-%Y", "%d.%m.%Y", "%Y-%m-%d", "%d %B %Y", "%d %b %Y")
DATETIME_FORMATS = ("%d/%m/%Y %H:%M", "%d/%m/%Y %H:%M:%S", "%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S",
                    "%d-%m-%Y %H:%M", "%d.%m.%Y %H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S")
TIME_FORMATS = ("%H:%M", "%H.%M", "%H:%M:%S")

DATE_HINT, DATETIME_HINT, TIME_HINT = "DD/MM/YYYY", "DD/MM/YYYY HH:MM", "HH:MM"


# -- data: strict ISO -------------------------------------------------------------------------

def iso_date(value: object) -> date | None:
    """The date of ISO text ``YYYY-MM-DD``; None for anything else (a number, a real date in
    another spelling, 2026-02-30)."""
    if isinstance(value, str) and _ISO_DATE.match(value):
        try:
            return date.fromisoformat(value)
        except ValueError:
            return None
    return None


def iso_datetime(value: object) -> datetime | None:
    """The date-time of ISO text ``YYYY-MM-DDTHH:MM[:SS]``; None for anything else."""
    if isinstance(value, str) and _ISO_DATETIME.match(value):
        try:
            return datetime.fromisoformat(value)
        except ValueError:
            return None
    return None


def iso(value: object) -> object:
    """Dates, date-times (to the minute) and times as ISO text; anything else unchanged."""
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%dT%H:%M")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, time):
        return value.strftime("%H:%M")
    return value


# -- what people type -------------------------------------------------------------------------

# The spelling every document we make shows (and most people type): read without strptime,
# which costs ten times as much. Anything else, or a date these numbers cannot make, goes
# through the formats as before, so the answer is the same either way.
_SHOWN = re.compile(r"([0-9]{1,2})/([0-9]{1,2})/([0-9]{4})(?: ([0-9]{1,2}):([0-9]{1,2}))?")


def _shown(text: str, with_time: bool) -> datetime | None:
    m = _SHOWN.fullmatch(text)
    if m is None or (m[4] is not None) != with_time:
        return None
    try:
        return datetime(int(m[3]), int(m[2]), int(m[1]), int(m[4] or 0), int(m[5] or 0))
    except ValueError:
        return None


def _first(text: str, formats: tuple[str, ...]) -> datetime | None:
    text = " ".join(text.split())
    if formats is DATE_FORMATS or formats is DATETIME_FORMATS:
        found = _shown(text, formats is DATETIME_FORMATS)
        if found is not None:
            return found
    for fmt in formats:
        try:
            return datetime.strptime(text, fmt)
        except ValueError:
            continue
    return None


def read_date(text: str) -> date:
    found = _first(text, DATE_FORMATS)
    if found is None:
        raise Unreadable(f"is not a date that can be read; write it as {DATE_HINT}.", "unreadable_date")
    return found.date()


def read_datetime(text: str) -> datetime:
    found = _first(text, DATETIME_FORMATS)
    if found is None:
        raise Unreadable(f"is not a date and time that can be read; write it as {DATETIME_HINT}.", "unreadable_date")
    return found.replace(second=0)


def read_time(text: str) -> time:
    found = _first(text, TIME_FORMATS)
    if found is None:
        raise Unreadable(f"is not a time that can be read; write it as {TIME_HINT} (24-hour clock).",
                         "unreadable_date")
    return found.time().replace(second=0)


# -- what people see --------------------------------------------------------------------------

def shown_date(d: date) -> str:
    return d.strftime("%d/%m/%Y")


def shown_datetime(dt: datetime) -> str:
    return dt.strftime("%d/%m/%Y %H:%M")


def long_date(d: date) -> str:
    return d.strftime("%A %d %B %Y")


def utc_stamp(when: datetime | None = None) -> str:
    """The moment (now by default) in UTC, to the second: ``2026-03-04T14:30:00Z``."""
    return (when or datetime.now(timezone.utc)).astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


UK = ZoneInfo("Europe/London")


def in_uk(moment: datetime) -> datetime:
    """A stored moment (UTC, aware or naive) as the wall-clock time in England and Wales."""
    return (moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)).astimezone(UK)


def uk_moment(moment: datetime | str | None) -> str:
    """A stored moment (or its ISO text) as people here read it: UK time, DD/MM/YYYY HH:MM.
    Nothing: ''."""
    if moment is None or moment == "":
        return ""
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment.replace("Z", "+00:00"))
    return in_uk(moment).strftime("%d/%m/%Y %H:%M")

"""One meeting row, read and checked: values typed by column, and problems named by row and
column (never quoting what was typed). Rows come from a spreadsheet, a CSV file or JSON, so a
cell may be text, a number, a date or a time; every column accepts what those give it."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, time

from ..characters import bad_character
from ..dates import read_date, read_datetime, read_time
from ..errors import Unreadable
from .model import Column, PackSpec

MAX_CELL_CHARS = 10_000
MAX_PEOPLE = 60
_PERSON_SPLIT = re.compile(r"\s+[–—-]\s+|\s*:\s+")


@dataclass(frozen=True)
class RowProblem:
    row: int
    column: str  # the column's heading as the user sees it
    message: str

    def __str__(self) -> str:
        return f"row {self.row}, {self.column}: {self.message}"


@dataclass
class Meeting:
    row: int
    values: dict[str, object] = field(default_factory=dict)

    @property
    def meeting_at(self) -> date | datetime | None:
        day, at = self.values.get("meeting_date"), self.values.get("meeting_time")
        if isinstance(day, date) and isinstance(at, time):
            return datetime.combine(day, at)
        return day if isinstance(day, date) else None

    def get(self, key: str) -> object:
        return self.meeting_at if key == "meeting_at" else self.values.get(key)

    def to_plain(self) -> dict:
        """JSON-ready: dates and times as ISO text (``from_plain`` types them again by column)."""
        return {"row": self.row, "values": {k: v.isoformat() if isinstance(v, (date, time)) else v
                                            for k, v in self.values.items()}}

    @classmethod
    def from_plain(cls, pack: PackSpec, plain: dict) -> "Meeting":
        kinds = {c.key: c.type for c in pack.all_columns}
        read = {"date": date.fromisoformat, "datetime": datetime.fromisoformat, "time": time.fromisoformat}
        values = {k: read[kinds[k]](v) if kinds.get(k) in read and isinstance(v, str) else v
                  for k, v in plain["values"].items()}
        return cls(int(plain["row"]), values)


def header_index(pack: PackSpec, headers: list[object]) -> tuple[dict[int, Column], list[str]]:
    """Column position -> Column, by key or heading (any case and spacing); and the headings
    that match no column (reported, not fatal)."""
    by_name: dict[str, Column] = {}
    for c in pack.all_columns:
        by_name[normalise(c.key)] = c
        by_name[normalise(c.label)] = c
    found: dict[int, Column] = {}
    unknown: list[str] = []
    for i, h in enumerate(headers):
        if h is None or str(h).strip() == "":
            continue
        column = by_name.get(normalise(str(h)))
        if column is None:
            unknown.append(str(h)[:60])
        elif column not in found.values():
            found[i] = column
    return found, unknown


def normalise(text: str) -> str:
    """Headings and choices compared in any case and spacing."""
    return " ".join(text.replace("_", " ").split()).casefold()


def read_row(pack: PackSpec, row: int, cells: dict[str, object]) -> tuple[Meeting, list[RowProblem]]:
    """``cells``: column key -> raw cell value."""
    meeting, problems = Meeting(row), []
    for column in pack.all_columns:
        raw = cells.get(column.key)
        if raw is None or (isinstance(raw, str) and not raw.strip()):
            if column.required:
                problems.append(RowProblem(row, column.label, "is required"))
            continue
        try:
            meeting.values[column.key] = parse_cell(column, raw)
        except Unreadable as exc:
            problems.append(RowProblem(row, column.label, str(exc)))
    return meeting, problems


def parse_cell(column: Column, raw: object) -> object:
    kind = column.type
    if isinstance(raw, str) and len(raw) > MAX_CELL_CHARS:
        raise Unreadable(f"is longer than {MAX_CELL_CHARS} characters")
    if kind == "date":
        return _date(raw)
    if kind == "datetime":
        return _datetime(raw)
    if kind == "time":
        return _time(raw)
    text = _text(raw)
    if kind == "choice":
        match = next((o for o in column.options or [] if normalise(o) == normalise(text)), None)
        if match is None:
            raise Unreadable("is not one of the choices in the template")
        return match
    if kind == "people":
        return _people(text)
    if kind == "text":
        return " ".join(text.split())
    return text.strip()


def _text(raw: object) -> str:
    if isinstance(raw, bool):
        raise Unreadable("should be text")
    if isinstance(raw, float) and raw.is_integer():
        return str(int(raw))  # a spreadsheet number such as an SU number typed without letters
    if isinstance(raw, (int, float)):
        return str(raw)
    if isinstance(raw, (datetime, date, time)):
        raise Unreadable("should be text, not a date or time")
    if not isinstance(raw, str):
        raise Unreadable("should be text")
    if bad_character(raw, single_line=False) is not None:  # the one rule for text (service/characters.py)
        raise Unreadable("contains a character a document cannot hold (a control character or a non-character)")
    return raw


def _date(raw: object) -> date:
    if isinstance(raw, datetime):
        if raw.time() != time(0, 0):
            raise Unreadable("should be a date without a time")
        return raw.date()
    if isinstance(raw, date):
        return raw
    if isinstance(raw, str):
        return read_date(raw)
    raise Unreadable("is not a date (write DD/MM/YYYY)")


def _datetime(raw: object) -> datetime:
    if isinstance(raw, datetime):
        return raw.replace(tzinfo=None, second=0, microsecond=0)
    if isinstance(raw, str):
        return read_datetime(raw)
    raise Unreadable("is not a date and time (write DD/MM/YYYY HH:MM)")


def _time(raw: object) -> time:
    if isinstance(raw, time):
        return raw.replace(second=0, microsecond=0)
    if isinstance(raw, datetime) and raw.date() in (date(1899, 12, 30), date(1899, 12, 31), date(1900, 1, 1)):
        return raw.time().replace(second=0, microsecond=0)  # a time cell some programs store as a date-time
    if isinstance(raw, str):
        return read_time(raw)
    raise Unreadable("is not a time (write HH:MM, 24-hour clock)")


def _people(text: str) -> list[dict[str, str]]:
    people = []
    for line in re.split(r"[\n;]", text):
        line = " ".join(line.split())
        if not line:
            continue
        m = re.match(r"^(.*?)\s*\((.+)\)$", line)
        if m:
            name, role = m.group(1), m.group(2)
        else:
            parts = _PERSON_SPLIT.split(line, maxsplit=1)
            name, role = (parts[0], parts[1]) if len(parts) == 2 else (line, "")
        people.append({"name": name.strip()[:200], "role": role.strip()[:200]})
    if len(people) > MAX_PEOPLE:
        raise Unreadable(f"lists more than {MAX_PEOPLE} people")
    return people

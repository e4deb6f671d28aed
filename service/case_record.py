"""What a child's case record holds: one definition per attribute, and everything that checks,
labels or documents a case value derives from it (the spec check of a field's ``case``, the
API's request schema, the pages' form, the meeting spreadsheet's case columns, the review).

Each attribute has a key (what a field's ``case:`` names), the label people see, a kind and a
limit. Two ways in, one rule:

- ``clean`` takes a typed value, as JSON and the API carry it: text, a whole number for the
  age, ISO ``YYYY-MM-DD`` text for the date of birth. ``json_schema`` says the same in JSON
  Schema, for the API.
- ``from_text`` takes what a person typed in a page (every value is text there): an age in
  digits, a date of birth as DD/MM/YYYY (or ISO), then cleans it the same way.

Both raise :class:`~service.errors.RecordInvalid` naming the attribute by its label, never
repeating the value. An empty value (None, blank text) means "clear it" and cleans to None.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Literal

from .characters import ALLOWED_NON_BLANK, ALLOWED_TEXT, bad_character
from .dates import DATE_HINT, iso_date, read_date, shown_date
from .errors import RecordInvalid, Unreadable

Kind = Literal["text", "lines", "date", "age"]
MAX_AGE = 30


@dataclass(frozen=True)
class Attribute:
    key: str
    label: str
    kind: Kind = "text"
    limit: int = 1000  # characters for text; the greatest age for an age
    in_rows: bool = False  # a meeting spreadsheet may carry it as a column
    help: str = ""

    def clean(self, value: object) -> object:
        """The value as the case stores it (None: clear it)."""
        if value is None or (isinstance(value, str) and not value.strip()):
            return None
        if self.kind == "age":
            if isinstance(value, float) and value.is_integer():
                value = int(value)  # JSON allows 13.0 for 13
            if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= self.limit:
                raise RecordInvalid(f"{self.label} must be a whole number from 0 to {self.limit}.")
            return value
        if self.kind == "date":
            day = value if isinstance(value, date) else iso_date(value)
            if day is None:
                raise RecordInvalid(f"{self.label} must be a date written YYYY-MM-DD.")
            return day.isoformat()
        if not isinstance(value, str):
            raise RecordInvalid(f"{self.label} must be text.")
        if len(value) > self.limit:
            raise RecordInvalid(f"{self.label} is longer than {self.limit} characters.")
        if bad_character(value, single_line=False) is not None:
            raise RecordInvalid(f"{self.label} contains a character that cannot be kept in a document "
                                "(a control character or a non-character).")
        return value.strip() if self.kind == "lines" else " ".join(value.split())

    def json_schema(self, *, required: bool = False) -> dict:
        """What ``clean`` accepts, as JSON Schema: the API documents and checks exactly this."""
        if self.kind == "age":
            typed = {"type": "integer", "minimum": 0, "maximum": self.limit}
        elif self.kind == "date":
            typed = {"type": "string", "format": "date"}
        else:
            typed = {"type": "string", "maxLength": self.limit,
                     "pattern": ALLOWED_NON_BLANK if required else ALLOWED_TEXT}
        schema = {"description": self.label + (f" ({self.help})" if self.help else "")}
        if required:
            return {**schema, **typed}
        empty = [{"type": "string", "pattern": r"^\s*$"}] if self.kind in ("age", "date") else []
        return {**schema, "anyOf": [typed, *empty, {"type": "null"}]}

    def from_text(self, text: str) -> object:
        """What a person typed into a page's form, as the case stores it."""
        if not text.strip():
            return None
        if self.kind == "age":
            if not text.strip().isdigit():
                raise RecordInvalid(f"{self.label} must be a whole number from 0 to {self.limit}.")
            return self.clean(int(text.strip()))
        if self.kind == "date":
            try:
                return read_date(text).isoformat()
            except Unreadable:
                raise RecordInvalid(f"{self.label} must be a date written {DATE_HINT}.") from None
        return self.clean(text)

    def shown(self, value: object) -> str:
        """A stored value as a page's form shows it; ``from_text`` reads it back unchanged."""
        if value is None:
            return ""
        if self.kind == "date" and (day := iso_date(value)) is not None:
            return shown_date(day)
        return str(value)

    @property
    def hint(self) -> str:
        """How to write it, for a page's form."""
        return {"date": DATE_HINT, "age": f"0 to {self.limit}"}.get(self.kind, "")


ATTRIBUTES: tuple[Attribute, ...] = (
    Attribute("su_number", "SU number", limit=40, help="The child's reference number in the council's records"),
    Attribute("child_name", "Child's name"),
    Attribute("date_of_birth", "Date of birth", "date", in_rows=True),
    Attribute("age", "Age", "age", MAX_AGE),
    Attribute("legal_status", "Legal status"),
    Attribute("ethnicity", "Ethnicity"),
    Attribute("primary_language", "Primary language"),
    Attribute("religion", "Religion"),
    Attribute("local_authority", "Local authority"),
    Attribute("residential_home", "Residential home", in_rows=True),
    Attribute("key_worker_name", "Key worker", in_rows=True),
    Attribute("social_worker_name", "Social worker", in_rows=True),
    Attribute("supervising_social_worker_name", "Supervising social worker", in_rows=True),
    Attribute("team_manager_name", "Team manager", in_rows=True),
    Attribute("iro_name", "Independent reviewing officer", in_rows=True),
    Attribute("advocate_name", "Advocate", in_rows=True),
    Attribute("foster_carer_names", "Foster carers", "lines", in_rows=True,
              help="One carer per line, or both on one line"),
)
BY_KEY: dict[str, Attribute] = {a.key: a for a in ATTRIBUTES}
CASE_KEYS = frozenset(BY_KEY)
LABELS: dict[str, str] = {a.key: a.label for a in ATTRIBUTES}


def attribute(key: str) -> Attribute:
    try:
        return BY_KEY[key]
    except KeyError:
        raise RecordInvalid(f"'{str(key)[:64]}' is not a case attribute; known: {', '.join(BY_KEY)}.") from None


def clean_values(values: object) -> dict:
    """Typed case values as stored: known keys only, each cleaned by its attribute; an empty
    value becomes None (remove it). Raises RecordInvalid naming the first unusable one."""
    if not isinstance(values, dict):
        raise RecordInvalid("Case values must be an object of case attributes.")
    return {key: attribute(key).clean(value) for key, value in values.items()}


def values_from_text(form: dict[str, str]) -> dict:
    """The case values a person typed into a page's form (only the attributes it holds). The
    error names the attribute by its label and carries its key as ``field``, for the page to
    show it at the field."""
    values = {}
    for a in ATTRIBUTES:
        if a.key in form:
            try:
                values[a.key] = a.from_text(str(form[a.key]))
            except RecordInvalid as exc:
                exc.field = a.key
                raise
    return values


def su_key(su_number: object) -> str:
    """How SU numbers are compared: without case or spaces ("su 12 ab" is "SU12AB"), so one
    child cannot get two cases in a team by a change of spelling."""
    return "".join(str(su_number).split()).casefold()

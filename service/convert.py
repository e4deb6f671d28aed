"""Values to and from what a person sees in a document, shared by the Word and PDF layers.

Dates show as DD/MM/YYYY (UK), date-times as DD/MM/YYYY HH:MM, choices by their label, lists
one item per line, check boxes as ticked or not. Reading accepts the common ways people type
those back. Nothing here knows about XML or PDF objects.
"""

from __future__ import annotations

import re
from datetime import date, datetime

from .cache import PerObject
from .spec.model import (
    CheckboxField, ChoiceField, DateField, DateTimeField, IntegerField, ListField, MultiChoiceField,
)
from .validation.values import parse_date, parse_datetime

_DATE_FORMATS = ("%d/%m/%Y", "%d-%m-%Y", "%d.%m.%Y", "%Y-%m-%d", "%d %B %Y", "%d %b %Y")
_DATETIME_FORMATS = ("%d/%m/%Y %H:%M", "%d/%m/%Y %H:%M:%S", "%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S",
                     "%d-%m-%Y %H:%M", "%d.%m.%Y %H:%M", "%Y-%m-%d %H:%M")
_INTEGER = re.compile(r"^[+-]?\d{1,15}$")


def display(field, value: object) -> str:
    """The text a person sees for a simple field's value ('' when empty)."""
    if value is None or value == "" or value == []:
        return ""
    if isinstance(field, DateField):
        d = parse_date(value)
        return d.strftime("%d/%m/%Y") if d else str(value)
    if isinstance(field, DateTimeField):
        dt = parse_datetime(value)
        return dt.strftime("%d/%m/%Y %H:%M") if dt else str(value)
    if isinstance(field, ChoiceField):
        return field.label_for(value) or str(value)
    if isinstance(field, ListField):
        return "\n".join(value) if isinstance(value, list) else str(value)
    if isinstance(field, CheckboxField):
        return "Yes" if value else "No"
    return str(value)


class Unreadable(ValueError):
    """Text that cannot be read as the field's type. ``code`` says which kind."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


def parse(field, text: str) -> object:
    """The value for a simple field from its visible text; None when empty.

    Raises Unreadable for a date, number or choice that cannot be read."""
    if isinstance(field, ListField):
        return [line for line in text.split("\n") if line.strip()]
    if not text.strip():
        return None
    if isinstance(field, DateField):
        return _parse_date(text.strip()).isoformat()
    if isinstance(field, DateTimeField):
        return _parse_datetime(text.strip()).isoformat(timespec="minutes")
    if isinstance(field, IntegerField):
        if not _INTEGER.match(text.strip()):
            raise Unreadable("unreadable_number", f'"{field.label}" is not a whole number.')
        return int(text.strip())
    if isinstance(field, ChoiceField):
        value = choice_value(field, text)
        if value is None:
            raise Unreadable("unknown_choice", f'"{field.label}" shows a choice that is not in its list.')
        return value
    return text


def choice_value(field: ChoiceField | MultiChoiceField, text: str) -> str | None:
    """The option whose label (or value) the text shows, ignoring case and spacing."""
    return _choice_index(field).get(" ".join(text.split()).casefold())


def _index(field) -> dict[str, str]:
    index = {o.value.casefold(): o.value for o in field.choices}
    index.update({" ".join(o.label.split()).casefold(): o.value for o in field.choices})
    return index


_choice_index = PerObject(_index).get


def _parse_date(text: str) -> date:
    for fmt in _DATE_FORMATS:
        try:
            return datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    raise Unreadable("unreadable_date", "is not a date that can be read; write it as DD/MM/YYYY.")


def _parse_datetime(text: str) -> datetime:
    for fmt in _DATETIME_FORMATS:
        try:
            return datetime.strptime(text, fmt)
        except ValueError:
            continue
    raise Unreadable("unreadable_date", "is not a date and time that can be read; write it as DD/MM/YYYY HH:MM.")

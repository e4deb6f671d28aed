"""Values to and from what a person sees in a document, shared by the Word and PDF layers.

Dates show as DD/MM/YYYY (UK), date-times as DD/MM/YYYY HH:MM, choices by their label, lists
one item per line, check boxes as ticked or not. Reading accepts the common ways people type
those back. Nothing here knows about XML or PDF objects.
"""

from __future__ import annotations

import re

from .cache import PerObject
from .dates import iso_date, iso_datetime, read_date, read_datetime, shown_date, shown_datetime
from .errors import Unreadable
from .spec.model import (
    CheckboxField, ChoiceField, DateField, DateTimeField, IntegerField, ListField, MultiChoiceField,
)

_INTEGER = re.compile(r"^[+-]?\d{1,15}$")


def display(field, value: object) -> str:
    """The text a person sees for a simple field's value ('' when empty)."""
    if value is None or value == "" or value == []:
        return ""
    if isinstance(field, DateField):
        d = iso_date(value)
        return shown_date(d) if d else str(value)
    if isinstance(field, DateTimeField):
        dt = iso_datetime(value)
        return shown_datetime(dt) if dt else str(value)
    if isinstance(field, ChoiceField):
        return field.label_for(value) or str(value)
    if isinstance(field, ListField):
        return "\n".join(value) if isinstance(value, list) else str(value)
    if isinstance(field, CheckboxField):
        return "Yes" if value else "No"
    return str(value)


def parse(field, text: str) -> object:
    """The value for a simple field from its visible text; None when empty.

    Raises Unreadable for a date, number or choice that cannot be read."""
    if isinstance(field, ListField):
        return [line for line in text.split("\n") if line.strip()]
    if not text.strip():
        return None
    if isinstance(field, DateField):
        return read_date(text).isoformat()
    if isinstance(field, DateTimeField):
        return read_datetime(text).isoformat(timespec="minutes")
    if isinstance(field, IntegerField):
        if not _INTEGER.match(text.strip()):
            raise Unreadable(f'"{field.label}" is not a whole number.', "unreadable_number")
        return int(text.strip())
    if isinstance(field, ChoiceField):
        value = choice_value(field, text)
        if value is None:
            raise Unreadable(f'"{field.label}" shows a choice that is not in its list.', "unknown_choice")
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


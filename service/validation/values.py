"""Check each value in a data set against its field: type, required, options, range, rows.

Data is the JSON object a form carries: top-level keys are the form's field keys, a ``group``
is an object, a ``repeat`` an array of row objects. Dates are ISO text (``2026-03-04``),
date-times ``2026-03-04T14:30``; empty means missing, null, blank text or an empty list.

Messages name the field by its label and never repeat the value (it may be a child's data).
"""

from __future__ import annotations

import math
import re

from ..dates import iso_date, iso_datetime
from ..spec.model import (
    CheckboxField, ChoiceField, DateField, DateTimeField, GroupField, IntegerField, ListField,
    LongTextField, MultiChoiceField, RepeatField, TextField,
)
from .report import Issue
from ..characters import EMAIL, PHONE, bad_character

_FORMATS = {"email": (re.compile(EMAIL), "an e-mail address"), "phone": (re.compile(PHONE), "a telephone number")}


def join_path(prefix: str, key: str) -> str:
    return f"{prefix}.{key}" if prefix else key


class ValueChecker:
    """Walks data beside the spec's fields and collects issues. ``partial`` skips the checks a
    half-filled form is allowed to fail: required fields, minimum rows and minimum items."""

    def __init__(self, partial: bool = False) -> None:
        self.partial = partial
        self.issues: list[Issue] = []

    def _issue(self, path: str, code: str, message: str) -> None:
        self.issues.append(Issue(path=path, code=code, message=message))

    # -- containers ------------------------------------------------------------------
    def check_object(self, fields: list, obj: object, prefix: str, what: str = "The form data") -> None:
        if obj is None:
            obj = {}
        if not isinstance(obj, dict):
            self._issue(prefix or "$", "wrong_type", f"{what} should be an object of named fields.")
            return
        known = {f.key for f in fields}
        for key in obj:
            if key not in known:
                self._issue(join_path(prefix, str(key)), "unknown_field", "This field is not part of the form.")
        for f in fields:
            self.check_field(f, obj.get(f.key), join_path(prefix, f.key))

    def check_field(self, f, value: object, path: str) -> None:
        kind = type(f)
        if kind is GroupField:
            self.check_object(f.fields, value, path, f'"{f.label}"')
        elif kind is RepeatField:
            self._check_rows(f, value, path)
        elif kind is CheckboxField:
            self._check_checkbox(f, value, path)
        elif _is_empty(f, value):
            if f.required and not self.partial:
                self._issue(path, "required", f'"{f.label}" is required but empty.')
        else:
            _HANDLERS[kind](self, f, value, path)

    def _check_rows(self, f: RepeatField, value: object, path: str) -> None:
        rows = [] if value is None else value
        if not isinstance(rows, list):
            self._issue(path, "wrong_type", f'"{f.label}" should be a list of rows.')
            return
        need = max(f.min_rows, 1 if f.required else 0)
        if not self.partial and len(rows) < need:
            self._issue(path, "too_few_rows", f'"{f.label}" needs at least {need} row{"s" if need > 1 else ""}; it has {len(rows)}.')
        if f.max_rows is not None and len(rows) > f.max_rows:
            self._issue(path, "too_many_rows", f'"{f.label}" allows at most {f.max_rows} rows; it has {len(rows)}.')
        for i, row in enumerate(rows):
            row_path = f"{path}[{i}]"
            if isinstance(row, dict) and all(_is_empty(sub, row.get(sub.key)) for sub in f.fields) \
                    and set(row) <= {sub.key for sub in f.fields}:
                self._issue(row_path, "empty_row", f'Row {i + 1} of "{f.label}" is empty; leave it out.')
                continue
            self.check_object(f.fields, row, row_path, f'Row {i + 1} of "{f.label}"')

    # -- simple values ---------------------------------------------------------------
    def _check_checkbox(self, f: CheckboxField, value: object, path: str) -> None:
        if value is None:
            value = False
        if not isinstance(value, bool):
            self._issue(path, "wrong_type", f'"{f.label}" is a tick box: true or false.')
        elif f.required and not value and not self.partial:
            self._issue(path, "required", f'"{f.label}" must be ticked.')

    def _check_text(self, f: TextField | LongTextField, value: object, path: str) -> None:
        if not isinstance(value, str):
            self._issue(path, "wrong_type", f'"{f.label}" should be text.')
            return
        self._check_string(f.label, value, path, f.max_length, single_line=isinstance(f, TextField))
        fmt = f.format if isinstance(f, TextField) else None  # (getattr of a missing attribute: a pydantic exception)
        if fmt and value.strip():
            rx, what = _FORMATS[fmt]
            if not rx.match(value.strip()):
                self._issue(path, f"bad_{fmt}", f'"{f.label}" does not look like {what}.')

    def _check_string(self, label: str, value: str, path: str, max_length: int, single_line: bool) -> None:
        bad = bad_character(value, single_line)
        if bad == "line_break":
            self._issue(path, "line_break", f'"{label}" is a single line; it contains a line break.')
        elif bad:
            self._issue(path, "control_character", f'"{label}" contains a control character that documents cannot hold.')
        if len(value) > max_length:
            self._issue(path, "too_long", f'"{label}" is {len(value)} characters long; the limit is {max_length}.')

    def _check_list(self, f: ListField, value: object, path: str) -> None:
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            self._issue(path, "wrong_type", f'"{f.label}" should be a list of short texts, one per line.')
            return
        if len(value) > f.max_items:
            self._issue(path, "too_many_items", f'"{f.label}" allows at most {f.max_items} items; it has {len(value)}.')
        for i, item in enumerate(value):
            if not item.strip():
                self._issue(f"{path}[{i}]", "empty_item", f'Item {i + 1} of "{f.label}" is empty; leave it out.')
            else:
                self._check_string(f"{f.label}, item {i + 1}", item, f"{path}[{i}]", f.item_max_length, single_line=True)

    def _check_integer(self, f: IntegerField, value: object, path: str) -> None:
        if (isinstance(value, bool) or not isinstance(value, (int, float))
                or isinstance(value, float) and (not math.isfinite(value) or not value.is_integer())):
            self._issue(path, "wrong_type", f'"{f.label}" should be a whole number.')
            return
        if f.minimum is not None and value < f.minimum or f.maximum is not None and value > f.maximum:
            lo = "" if f.minimum is None else f"{f.minimum}"
            hi = "" if f.maximum is None else f"{f.maximum}"
            span = f"from {lo} to {hi}" if lo and hi else (f"at least {lo}" if lo else f"at most {hi}")
            self._issue(path, "out_of_range", f'"{f.label}" must be {span}.')

    def _check_date(self, f: DateField, value: object, path: str) -> None:
        if iso_date(value) is None:
            self._issue(path, "bad_date", f'"{f.label}" is not a real date written as YYYY-MM-DD.')

    def _check_datetime(self, f: DateTimeField, value: object, path: str) -> None:
        if iso_datetime(value) is None:
            self._issue(path, "bad_datetime", f'"{f.label}" is not a real date and time written as YYYY-MM-DDTHH:MM.')

    def _check_choice(self, f: ChoiceField, value: object, path: str) -> None:
        if not isinstance(value, str) or f.label_for(value) is None:
            self._issue(path, "not_an_option", f'"{f.label}" must be one of: {_options(f)}.')

    def _check_multichoice(self, f: MultiChoiceField, value: object, path: str) -> None:
        if not isinstance(value, list):
            self._issue(path, "wrong_type", f'"{f.label}" should be a list of options.')
            return
        for i, item in enumerate(value):
            if not isinstance(item, str) or f.label_for(item) is None:
                self._issue(f"{path}[{i}]", "not_an_option", f'Item {i + 1} of "{f.label}" must be one of: {_options(f)}.')
        if len({v for v in value if isinstance(v, str)}) != len(value):
            self._issue(path, "duplicate_option", f'"{f.label}" lists the same option twice.')
        if not self.partial and len(value) < f.min_items:
            self._issue(path, "too_few_items", f'"{f.label}" needs at least {f.min_items} choices.')
        if f.max_items is not None and len(value) > f.max_items:
            self._issue(path, "too_many_items", f'"{f.label}" allows at most {f.max_items} choices.')


_HANDLERS = {
    TextField: ValueChecker._check_text,
    LongTextField: ValueChecker._check_text,
    ListField: ValueChecker._check_list,
    IntegerField: ValueChecker._check_integer,
    DateField: ValueChecker._check_date,
    DateTimeField: ValueChecker._check_datetime,
    ChoiceField: ValueChecker._check_choice,
    MultiChoiceField: ValueChecker._check_multichoice,
}


def _options(f) -> str:
    values = [o.value for o in f.choices]
    shown = ", ".join(values[:12])
    return shown + (f" (and {len(values) - 12} more)" if len(values) > 12 else "")


def _is_empty(f, value: object) -> bool:
    """Missing, null, blank text; an empty list for list-valued fields; an unticked box."""
    if value is None:
        return True
    if isinstance(f, CheckboxField):
        return value is False
    if isinstance(f, (ListField, MultiChoiceField)):
        return value == []
    return isinstance(value, str) and not value.strip()

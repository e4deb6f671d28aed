"""JSON Schema (draft 2020-12) for a form's data, generated from its spec.

The schema and :func:`service.validation.validate` agree on what is valid, with two
differences a schema cannot express: a row whose fields are all empty (the validator rejects
it, the schema allows it) and the policy rules (the validator's warnings). Text fields forbid
the characters Word and PDF cannot carry with ``not: {pattern}``, which behaves the same in
Python and JavaScript regex engines.
"""

from __future__ import annotations

from ..characters import EMAIL, FORBIDDEN_ANYWHERE, FORBIDDEN_SINGLE_LINE, PHONE
from .model import (
    CheckboxField, ChoiceField, DateField, DateTimeField, FormSpec, GroupField, IntegerField,
    ListField, LongTextField, MultiChoiceField, RepeatField, TextField,
)

DRAFT = "https://json-schema.org/draft/2020-12/schema"
DATE_PATTERN = r"^\d{4}-\d{2}-\d{2}$"
DATETIME_PATTERN = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2})?$"
_NOT_BLANK = {"pattern": r"\S"}


def json_schema(spec: FormSpec) -> dict:
    schema = {
        "$schema": DRAFT,
        "$id": f"urn:stepdown-forms:{spec.id}:{spec.version}",
        "title": spec.title,
        "description": f"Data of the form '{spec.title}' ({spec.organisation}), spec version {spec.version}.",
    }
    schema.update(_object(spec.fields))
    return schema


def _object(fields: list) -> dict:
    props = {f.key: _field(f) for f in fields}
    required = [f.key for f in fields if _must_be_present(f)]
    out: dict = {"type": "object", "properties": props, "additionalProperties": False}
    if required:
        out["required"] = required
    return out


def _must_be_present(f) -> bool:
    if isinstance(f, GroupField):
        return any(_must_be_present(sub) for sub in f.fields)
    if isinstance(f, RepeatField):
        return f.required or f.min_rows > 0
    return f.required


_BLANK_STRING = {"type": "string", "pattern": r"^\s*$"}


def _nullable(schema: dict, f) -> dict:
    """Optional fields may also be empty: null, and for non-text scalars a blank string."""
    if f.required:
        return schema
    empties: list[dict] = [{"type": "null"}]
    if isinstance(f, (IntegerField, DateField, DateTimeField, ChoiceField)):
        empties.append(_BLANK_STRING)
    return {"anyOf": [schema, *empties]}


def _annotate(schema: dict, f) -> dict:
    schema = dict(schema)
    schema["title"] = f.label
    if f.help:
        schema["description"] = f.help
    return schema


def _text(max_length: int, single_line: bool, required: bool) -> dict:
    s: dict = {"type": "string", "maxLength": max_length,
               "not": {"pattern": FORBIDDEN_SINGLE_LINE if single_line else FORBIDDEN_ANYWHERE}}
    if required:
        s["allOf"] = [_NOT_BLANK]
    return s


def _field(f) -> dict:
    # Optional containers take null through a type list, not anyOf, so that errors inside them
    # are reported at the inner field's path.
    if isinstance(f, GroupField):
        obj = _object(f.fields)
        if not _must_be_present(f):
            obj["type"] = ["object", "null"]
        return _annotate(obj, f)
    if isinstance(f, RepeatField):
        rows: dict = {"type": "array", "items": _object(f.fields)}
        need = max(f.min_rows, 1 if f.required else 0)
        if need:
            rows["minItems"] = need
        else:
            rows["type"] = ["array", "null"]
        if f.max_rows is not None:
            rows["maxItems"] = f.max_rows
        return _annotate(rows, f)
    if isinstance(f, CheckboxField):
        s: dict = {"const": True} if f.required else {"type": ["boolean", "null"]}
        return _annotate(s, f)
    if isinstance(f, (TextField, LongTextField)):
        s = _text(f.max_length, isinstance(f, TextField), f.required)
        fmt = getattr(f, "format", None)
        if fmt:
            s.setdefault("allOf", []).append({"anyOf": [{"pattern": EMAIL if fmt == "email" else PHONE},
                                                        {"pattern": r"^\s*$"}]})
            s["format"] = "email" if fmt == "email" else "phone"
        return _annotate(_nullable(s, f), f)
    if isinstance(f, ListField):
        item = _text(f.item_max_length, True, True)
        s = {"type": "array", "items": item, "maxItems": f.max_items}
        if f.required:
            s["minItems"] = 1
        return _annotate(_nullable(s, f), f)
    if isinstance(f, IntegerField):
        s = {"type": "integer"}
        if f.minimum is not None:
            s["minimum"] = f.minimum
        if f.maximum is not None:
            s["maximum"] = f.maximum
        return _annotate(_nullable(s, f), f)
    if isinstance(f, DateField):
        return _annotate(_nullable({"type": "string", "format": "date", "pattern": DATE_PATTERN}, f), f)
    if isinstance(f, DateTimeField):
        return _annotate(_nullable({"type": "string", "pattern": DATETIME_PATTERN,
                                    "description": "Local UK date and time, YYYY-MM-DDTHH:MM"}, f), f)
    if isinstance(f, ChoiceField):
        s = {"enum": [o.value for o in f.choices], "x-labels": {o.value: o.label for o in f.choices}}
        return _annotate(_nullable(s, f), f)
    if isinstance(f, MultiChoiceField):
        s = {"type": "array", "items": {"enum": [o.value for o in f.choices]}, "uniqueItems": True,
             "x-labels": {o.value: o.label for o in f.choices}}
        if f.max_items is not None:
            s["maxItems"] = f.max_items
        if f.required:
            s["minItems"] = max(f.min_items, 1)
        elif f.min_items:  # empty is allowed; once something is chosen, the minimum applies
            s = {"anyOf": [{"type": "array", "maxItems": 0}, {**s, "minItems": f.min_items}]}
        return _annotate(_nullable(s, f), f)
    raise TypeError(f"no JSON Schema for field type {type(f).__name__}")

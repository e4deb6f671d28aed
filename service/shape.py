"""The canonical shape of a form's data: every field present, empties made uniform,
multi-choice answers in the spec's option order, line breaks as \\n.

Extraction returns data in this shape, so a round trip can be compared with ``==``:
empty text and missing values are None, unticked boxes False, empty lists [], groups are
objects with all their keys, repeat rows keep their order. Date-times lose ':00' seconds.
"""

from __future__ import annotations

from .spec.model import (
    CheckboxField, DateTimeField, FormSpec, GroupField, ListField, MultiChoiceField, RepeatField,
)


def complete(spec: FormSpec, data: dict | None) -> dict:
    return _object(spec.fields, data or {})


def empty_value(f) -> object:
    if isinstance(f, GroupField):
        return _object(f.fields, {})
    if isinstance(f, (RepeatField, ListField, MultiChoiceField)):
        return []
    if isinstance(f, CheckboxField):
        return False
    return None


def _object(fields: list, obj: dict) -> dict:
    obj = obj if isinstance(obj, dict) else {}
    return {f.key: _value(f, obj.get(f.key)) for f in fields}


def _value(f, v: object) -> object:
    if isinstance(f, GroupField):
        return _object(f.fields, v if isinstance(v, dict) else {})
    if isinstance(f, RepeatField):
        return [_object(f.fields, row) for row in v] if isinstance(v, list) else []
    if v is None or (isinstance(v, str) and not v.strip()) or v == []:
        return empty_value(f)
    if isinstance(f, CheckboxField):
        return bool(v)
    if isinstance(f, MultiChoiceField) and isinstance(v, list):
        order = {o.value: i for i, o in enumerate(f.choices)}
        return sorted(v, key=lambda x: order.get(x, len(order)) if isinstance(x, str) else len(order))
    if isinstance(f, DateTimeField) and isinstance(v, str) and len(v) == 19 and v.endswith(":00"):
        return v[:16]
    if isinstance(v, str) and "\r" in v:
        return v.replace("\r\n", "\n").replace("\r", "\n")  # documents keep one kind of line break
    return v


def value_at(data: dict, path: str) -> object:
    """The value at a dotted path outside rows ('safety.fire_setting.answer'); None if absent."""
    node: object = data
    for key in path.split("."):
        node = node.get(key) if isinstance(node, dict) else None
    return node


def set_at(data: dict, path: str, value: object) -> None:
    """Set the value at a dotted path, making the groups on the way."""
    *parents, last = path.split(".")
    node = data
    for key in parents:
        node = node.setdefault(key, {})
    node[last] = value

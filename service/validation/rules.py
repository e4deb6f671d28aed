"""Evaluate a spec's policy rules (``service.spec.rules``) on a data set.

Rules read typed values (dates, numbers, options) by path. A rule whose fields are empty, or
already have an error, says nothing: it cannot judge what it cannot read, and the error is
reported already.
"""

from __future__ import annotations

from datetime import date, datetime

from ..dates import iso_date, iso_datetime, shown_date
from ..spec.durations import breach
from ..spec.model import CheckboxField, DateField, DateTimeField, FormSpec, IntegerField, MultiChoiceField
from ..spec.rules import Condition, DateLimitRule, IntervalRule, RequiredIfRule, WhenRule
from .report import Issue

_UNKNOWN = object()


class _Values:
    """Typed look-up of simple fields, skipping any that failed validation.

    For a rule with ``each``, one _Values per row: ``data`` is the row, ``scope`` the row's
    field-path prefix (``actions[].``) and ``at`` the prefix of issue paths (``actions[2].``).
    """

    def __init__(self, spec: FormSpec, data: dict, error_paths: set[str], scope: str = "", at: str = "",
                 partial: bool = False) -> None:
        self.spec, self.data, self.scope, self.at, self.partial = spec, data, scope, at, partial
        self.error_paths = {e[len(at):] for e in error_paths if e.startswith(at)} if at else error_paths

    def field(self, path: str):
        ref = self.spec.field_at(self.scope + path)
        assert ref is not None, path  # rules are checked against the spec on load
        return ref.field

    def get(self, path: str):
        """The typed value, None when empty, or _UNKNOWN when it had an error."""
        if any(_related(path, e) for e in self.error_paths):
            return _UNKNOWN
        node: object = self.data
        for part in path.split("."):
            if not isinstance(node, dict):
                return None
            node = node.get(part)
        f = self.field(path)
        if isinstance(f, CheckboxField):
            # In a draft an absent box is unanswered; in a finished form it is unticked.
            return None if node is None and self.partial else bool(node)
        if node is None or (isinstance(node, str) and not node.strip()) or node == []:
            return None
        if isinstance(f, DateField):
            return iso_date(node)
        if isinstance(f, DateTimeField):
            return iso_datetime(node)
        if isinstance(f, IntegerField):
            return int(node)
        return node

    def label(self, path: str) -> str:
        return self.field(path).label


def _related(path: str, error_path: str) -> bool:
    """The error is on this field, inside it, or on a group that holds it."""
    return (error_path == path or error_path.startswith((path + ".", path + "["))
            or path.startswith(error_path + "."))


def evaluate(spec: FormSpec, data: dict, error_paths: set[str], partial: bool = False) -> list[Issue]:
    whole = _Values(spec, data, error_paths, partial=partial)
    issues: list[Issue] = []
    for rule in spec.rules:
        if rule.each is None:
            issues += _apply(rule, whole)
            continue
        rows = data.get(rule.each)
        if not isinstance(rows, list) or rule.each in error_paths:
            continue
        for i, row in enumerate(rows):
            at = f"{rule.each}[{i}]."
            if isinstance(row, dict) and at.rstrip(".") not in error_paths:
                issues += _apply(rule, _Values(spec, row, error_paths, scope=f"{rule.each}[].", at=at,
                                                 partial=partial))
    return issues


def _apply(rule, values: _Values) -> list[Issue]:
    if isinstance(rule, IntervalRule):
        return _interval(rule, values)
    if isinstance(rule, DateLimitRule):
        return _date_limit(rule, values)
    if _test(rule.when, values) is not True:
        return []
    if isinstance(rule, WhenRule):
        path = rule.path or rule.when.fields()[0]
        return [_issue(rule, values.at + path, "policy", rule.message)]
    assert isinstance(rule, RequiredIfRule)
    return [
        _issue(rule, values.at + path, "expected_field", f'"{values.label(path)}" is empty. {rule.message}')
        for path in rule.fields
        if values.get(path) in (None, False)
    ]


def _issue(rule, path: str, code: str, message: str) -> Issue:
    return Issue(path=path, code=code, message=message, severity=rule.severity, rule=rule.id)


def _interval(rule: IntervalRule, values: _Values) -> list[Issue]:
    start, end = values.get(rule.from_), values.get(rule.to)
    if start in (None, _UNKNOWN) or end in (None, _UNKNOWN):
        return []
    found = breach(start, end, within=rule.max, at_least=rule.min)
    if found is None:
        return []
    words = found.compared(f'"{values.label(rule.to)}"', f'"{values.label(rule.from_)}"')
    code = {"negative": "interval_negative", "too_long": "interval_too_long", "too_short": "interval_too_short"}
    return [_issue(rule, values.at + rule.to, code[found.kind], f"{words} {rule.message}")]


def _day(v: date | datetime) -> date:
    return v.date() if isinstance(v, datetime) else v


def _date_limit(rule: DateLimitRule, values: _Values) -> list[Issue]:
    v = values.get(rule.field)
    if v in (None, _UNKNOWN):
        return []
    day, label = _day(v), f'"{values.label(rule.field)}"'
    if rule.not_after and day > rule.not_after:
        return [_issue(rule, values.at + rule.field, "date_too_late", f"{label} is after {shown_date(rule.not_after)}. {rule.message}")]
    if rule.not_before and day < rule.not_before:
        return [_issue(rule, values.at + rule.field, "date_too_early", f"{label} is before {shown_date(rule.not_before)}. {rule.message}")]
    return []


def _test(c: Condition, values: _Values) -> bool | None:
    """True, False, or None when a field it needs could not be read."""
    if c.all is not None or c.any is not None:
        results = [_test(sub, values) for sub in (c.all or c.any)]
        if c.all is not None:
            return False if False in results else (None if None in results else True)
        return True if True in results else (None if None in results else False)
    v = values.get(c.field)
    if v is _UNKNOWN:
        return None
    if c.filled is not None:
        return (v not in (None, False)) == c.filled
    if v is None:
        return False
    chosen = v if isinstance(values.field(c.field), MultiChoiceField) else [v]
    if c.in_ is not None:
        return any(x in c.in_ for x in chosen)
    if c.not_in is not None:
        return all(x not in c.not_in for x in chosen)
    if c.equals is not None:
        return c.equals in chosen
    return (c.min is None or v >= c.min) and (c.max is None or v <= c.max)

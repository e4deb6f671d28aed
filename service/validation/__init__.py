"""Validate a data set against a form spec: errors from the fields, warnings from the rules."""

from __future__ import annotations

from ..spec.model import FormSpec
from .report import Issue, Report
from .rules import evaluate
from .values import ValueChecker


def validate(spec: FormSpec, data: object, *, partial: bool = False) -> Report:
    """Check ``data`` (the parsed JSON object) against ``spec``.

    ``partial=True`` is for prefill and drafts: required fields, minimum rows and minimum
    choices are not enforced; everything present must still be right.
    """
    report = Report(form=spec.id, spec_version=spec.version)
    checker = ValueChecker(partial=partial)
    if not isinstance(data, dict):
        report.add(Issue(path="$", code="wrong_type", message="The form data should be a JSON object of named fields."))
        return report
    checker.check_object(spec.fields, data, "")
    for issue in checker.issues:
        report.add(issue)
    error_paths = {i.path for i in checker.issues}
    for issue in evaluate(spec, data, error_paths, partial):
        report.add(issue)
    return report


__all__ = ["Issue", "Report", "validate"]

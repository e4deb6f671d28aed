"""What validation found: errors (the data breaks the spec) and warnings (policy rules)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Literal


@dataclass(frozen=True)
class Issue:
    """One problem at one field. ``message`` is plain English and never quotes the value."""

    path: str
    code: str
    message: str
    severity: Literal["error", "warning"] = "error"
    rule: str | None = None

    def to_dict(self) -> dict:
        d = asdict(self)
        if d["rule"] is None:
            del d["rule"]
        return d


@dataclass
class Report:
    form: str
    spec_version: str
    errors: list[Issue] = field(default_factory=list)
    warnings: list[Issue] = field(default_factory=list)

    @property
    def valid(self) -> bool:
        return not self.errors

    def add(self, issue: Issue) -> None:
        (self.errors if issue.severity == "error" else self.warnings).append(issue)

    def to_dict(self) -> dict:
        return {
            "form": self.form,
            "spec_version": self.spec_version,
            "valid": self.valid,
            "errors": [i.to_dict() for i in self.errors],
            "warnings": [i.to_dict() for i in self.warnings],
        }

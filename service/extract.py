"""What reading a completed document gives back, whatever its format (Word or PDF).

    form, spec_version        the spec the data was read with
    document_version          the spec version the document was generated from (if known)
    document_id, generated    from the document's identity properties
    data                      every field of the form, in the canonical shape (service.shape)
    sources                   for each filled field path, where its value came from:
                                control   a content control found by its tag
                                binding   a control found by its data binding (tags lost)
                                position  a control found by its place in the layout
                                text      visible text in the field's cell (no control left)
                                customxml the embedded data part (the control was gone)
    errors, warnings          reading problems first, then validation against the spec
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .errors import DocumentError
from .spec.model import FormSpec
from .validation import Issue, validate


@dataclass
class Extraction:
    form: str
    spec_version: str
    document_version: str | None
    document_id: str | None
    generated: str | None
    data: dict
    sources: dict[str, str] = field(default_factory=dict)
    errors: list[Issue] = field(default_factory=list)
    warnings: list[Issue] = field(default_factory=list)

    @property
    def valid(self) -> bool:
        return not self.errors

    def to_dict(self) -> dict:
        return {
            "form": self.form, "spec_version": self.spec_version, "document_version": self.document_version,
            "document_id": self.document_id, "generated": self.generated, "valid": self.valid,
            "data": self.data, "sources": self.sources,
            "errors": [i.to_dict() for i in self.errors], "warnings": [i.to_dict() for i in self.warnings],
        }

    @classmethod
    def from_dict(cls, d: dict):
        """The extraction ``to_dict`` gave (as a worker process sends it back)."""
        plain = {k: v for k, v in d.items() if k not in ("valid", "errors", "warnings")}
        return cls(**plain, errors=[Issue(**i) for i in d["errors"]], warnings=[Issue(**i) for i in d["warnings"]])


def expected_form(expected: str | None, declared: str | None) -> str | None:
    """The form to read a document as: the one asked for, else the one it declares. A document
    that declares another form than the one asked for is refused."""
    if expected and declared and expected != declared:
        raise DocumentError(f"This document is a '{declared}' form, not '{expected}'.", "wrong_form")
    return expected or declared


def finish(spec: FormSpec, extraction: Extraction, reading_issues: list[Issue]) -> Extraction:
    """Add the reading issues, then validate the data; a field with a reading error is not
    reported again as empty."""
    unreadable = {i.path for i in reading_issues if i.severity == "error"}
    report = validate(spec, extraction.data)
    for issue in reading_issues:
        (extraction.errors if issue.severity == "error" else extraction.warnings).append(issue)
    extraction.errors += [e for e in report.errors if not (e.code == "required" and e.path in unreadable)]
    extraction.warnings += report.warnings
    return extraction

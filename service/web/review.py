"""What a reviewer sees of an extraction: each section's fields as label and value, with the
errors and warnings at each field, in the form's own order; each issue knows the anchor of the
row that shows it, so the summary at the top links to the question."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from ..convert import display
from ..spec.model import CheckboxField, FormSpec, GroupField, MultiChoiceField, RepeatField

def anchor(path: str) -> str:
    """The id of the row showing ``path`` (letters, digits, '-' and '_' only)."""
    return "q-" + re.sub(r"[^A-Za-z0-9_-]", "-", path)


@dataclass
class Row:
    label: str
    value: str
    issues: list[dict] = field(default_factory=list)
    table: list[list[str]] | None = None
    headers: list[str] | None = None
    path: str = ""

    @property
    def anchor(self) -> str:
        return anchor(self.path)

    @property
    def level(self) -> str:
        if any(i["severity"] == "error" for i in self.issues):
            return "error"
        return "warning" if self.issues else ""


@dataclass
class SectionView:
    heading: str
    rows: list[Row]


def _shown(f, value: object) -> str:
    if isinstance(f, CheckboxField):
        return "Yes" if value else "No"
    if isinstance(f, MultiChoiceField):
        labels = {o.value: o.label for o in f.choices}
        return ", ".join(labels.get(v, v) for v in value or [])
    if value in (None, "", []):
        return ""
    return display(f, value)


def review(spec: FormSpec, result: dict) -> list[SectionView]:
    """The sections to show; each issue of ``result`` gains the ``anchor`` of its row."""
    issues: dict[str, list[dict]] = {}
    known = _paths(spec)
    for issue in result.get("errors", []) + result.get("warnings", []):
        path = issue["path"]
        shown_at = path if path in known or path == "$" else path.split("[")[0]  # a table row's issue: the table
        issue["anchor"] = anchor(shown_at)
        issues.setdefault(shown_at, []).append(issue)
    data = result.get("data", {})
    sections = []
    for section in spec.sections:
        rows: list[Row] = []

        def add(fields, values: dict, prefix: str, heading: str) -> None:
            for f in fields:
                path = prefix + f.key
                value = values.get(f.key) if isinstance(values, dict) else None
                if isinstance(f, GroupField):
                    add(f.fields, value or {}, path + ".", f"{heading}{f.label} – ")
                elif isinstance(f, RepeatField):
                    table = [[_shown(sub, row.get(sub.key)) for sub in f.fields] for row in value or []]
                    rows.append(Row(heading + f.label, "" if table else "(no rows)", issues.get(path, []), table,
                                    [sub.label for sub in f.fields], path))
                else:
                    rows.append(Row(heading + f.label, _shown(f, value), issues.get(path, []), path=path))

        add(section.fields, data, "", "")
        sections.append(SectionView(section.heading, rows))
    whole = issues.get("$", [])
    if whole:
        sections.insert(0, SectionView("About the document", [Row("Document", "", whole, path="$")]))
    return sections


def _paths(spec: FormSpec) -> set[str]:
    return {ref.path for ref in spec.walk()}

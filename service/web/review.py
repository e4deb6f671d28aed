"""What a reviewer sees of an extraction: each section's fields as label and value, with the
errors and warnings at each field, in the form's own order."""

from __future__ import annotations

from dataclasses import dataclass, field

from ..convert import display
from ..spec.model import CheckboxField, FormSpec, GroupField, MultiChoiceField, RepeatField

@dataclass
class Row:
    label: str
    value: str
    issues: list[dict] = field(default_factory=list)
    table: list[list[str]] | None = None
    headers: list[str] | None = None

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
    issues: dict[str, list[dict]] = {}
    for issue in result.get("errors", []) + result.get("warnings", []):
        path = issue["path"]
        top = path.split("[")[0]  # an issue inside a table row shows at the table
        issues.setdefault(path if path in _paths(spec) else top, []).append(issue)
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
                                    [sub.label for sub in f.fields]))
                else:
                    rows.append(Row(heading + f.label, _shown(f, value), issues.get(path, [])))

        add(section.fields, data, "", "")
        sections.append(SectionView(section.heading, rows))
    whole = issues.get("$", [])
    if whole:
        sections.insert(0, SectionView("About the document", [Row("Document", "", whole)]))
    return sections


def _paths(spec: FormSpec) -> set[str]:
    return {ref.path for ref in spec.walk()}

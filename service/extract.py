"""What reading a completed document gives back, whatever its format (Word or PDF).

    form, spec_version        the spec the data is given in: the form's current version
    document_version          the spec version the document was generated from (if known)
    migration                 when the document is of an earlier version the service keeps: it
                              was read with that version, then its data moved to the current one
                              by the versions' declared migrations; what each step did, per field,
                              and every value dropped on the way ({"from", "to", "steps",
                              "dropped"}); None when no migration was needed
    audience                  for a version made for one audience (carers, family, child): whose;
                              the fields it could not contain are empty, listed in ``hidden``,
                              not reported as missing, and never taken into the case
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
from .shape import complete
from .spec import migrations
from .spec.audiences import hidden_paths, restricted
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
    migration: dict | None = None
    audience: str | None = None
    hidden: list[str] = field(default_factory=list)

    @property
    def valid(self) -> bool:
        return not self.errors

    def to_dict(self) -> dict:
        return {
            "form": self.form, "spec_version": self.spec_version, "document_version": self.document_version,
            "document_id": self.document_id, "generated": self.generated, "valid": self.valid,
            "data": self.data, "sources": self.sources, "migration": self.migration,
            "audience": self.audience, "hidden": self.hidden,
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


def spec_to_read(registry, form_id: str, version: str | None, audience: str | None = None) -> FormSpec:
    """The spec to read a document with: the version it was made from if the service keeps it,
    else the current one (and the differences are reported by the reader); for a version made
    for one audience, that version's fields only."""
    spec = registry.version(form_id, version) or registry.get(form_id)
    try:
        return restricted(spec, audience)
    except ValueError:
        raise DocumentError(f"This document says it was made for an audience we do not know "
                            f"({str(audience)[:40]!r}).", "unknown_audience") from None


def finish(registry, read_with: FormSpec, extraction: Extraction, reading_issues: list[Issue]) -> Extraction:
    """Bring the data read with ``read_with`` up to the form's current version, add the reading
    issues, then validate against the current version; a field with a reading error is not
    reported again as empty."""
    spec = registry.get(read_with.id)
    audience = read_with.restricted_to
    if audience:  # the full version's shape: what this audience's version could not hold stays empty
        full = registry.version(read_with.id, read_with.version) or spec
        extraction.data = complete(full, extraction.data)
        extraction.audience = audience
    if read_with.version != spec.version:
        reading_issues = _upgrade(registry.chain(read_with.id, read_with.version), extraction, reading_issues)
    hidden = hidden_paths(spec, audience) if audience else []
    extraction.hidden = hidden
    unreadable = {i.path for i in reading_issues if i.severity == "error"}
    report = validate(spec, extraction.data)
    for issue in reading_issues:
        (extraction.errors if issue.severity == "error" else extraction.warnings).append(issue)
    extraction.errors += [e for e in report.errors if not (e.code == "required" and e.path in unreadable)
                          and not _under_any(e.path, hidden)]
    extraction.warnings += [w for w in report.warnings if not _under_any(w.path, hidden)]
    return extraction


def _under_any(path: str, prefixes: list[str]) -> bool:
    generic = _generic(path)
    return any(migrations.under(generic, p) for p in prefixes)


def _upgrade(chain: list[FormSpec], extraction: Extraction, issues: list[Issue]) -> list[Issue]:
    data, sources, steps, dropped, notes = _migrate(chain, extraction.data, extraction.sources, issues)
    current = chain[-1]
    extraction.data, extraction.sources = data, sources
    extraction.form, extraction.spec_version = current.id, current.version
    extraction.migration = {"from": chain[0].version, "to": current.version, "steps": steps, "dropped": dropped}
    notes.insert(0, Issue("$", "migrated", f"This document was made from version {chain[0].version} of the form; it "
                          f"was read with that version and its answers moved to the current version "
                          f"{current.version}.", "warning"))
    return notes


def _migrate(chain: list[FormSpec], data: dict, sources: dict, issues: list[Issue]):
    """Data and sources moved along ``chain`` (oldest first): (data, sources, steps, dropped,
    issues at their new paths plus what each step asks someone to check)."""
    steps, dropped = [], {}
    for old, new in zip(chain, chain[1:]):
        data, sources, step = migrations.apply(old, new, data, sources)
        data = complete(new, data)
        issues = [_moved(i, step) for i in issues] + _step_issues(step)
        dropped.update({f"{step['from']}:{path}": value for path, value in step.pop("dropped").items()})
        steps.append(step)
    return data, sources, steps, dropped, issues


def up_to_date(registry, result: dict, spec_version: str) -> dict:
    """A stored extraction (``Extraction.to_dict``) read when ``spec_version`` was current, in the
    form's current version: a form published since moves its data by the same migrations, the
    steps added to ``migration``; unchanged if it is current (or its version is not kept, or
    its answers were removed when it was discarded)."""
    if "form" not in result or "data" not in result:
        return result
    current = registry.get(result["form"])
    if spec_version == current.version or registry.version(current.id, spec_version) is None:
        return result
    chain = registry.chain(current.id, spec_version)
    issues = [Issue(**i) for i in result["errors"] + result["warnings"]]
    data, sources, steps, dropped, issues = _migrate(chain, result["data"], result.get("sources", {}), issues)
    earlier = result.get("migration") or {"from": spec_version, "steps": [], "dropped": {}}
    return {**result, "spec_version": current.version, "data": data, "sources": sources,
            "errors": [i.to_dict() for i in issues if i.severity == "error"],
            "warnings": [i.to_dict() for i in issues if i.severity != "error"],
            "migration": {"from": earlier["from"], "to": current.version, "steps": earlier["steps"] + steps,
                          "dropped": {**earlier["dropped"], **dropped}}}


def _moved(issue: Issue, step: dict) -> Issue:
    """A reading issue at its field's path in the new version."""
    generic = _generic(issue.path)
    moved = migrations.new_path(generic, {c["path"]: c["to"] for c in step["changes"] if c["change"] == "renamed"})
    if moved is None or moved == generic:
        return issue
    return Issue(migrations.instantiate(moved, migrations.INDEX.findall(issue.path)), issue.code, issue.message,
                 issue.severity, issue.rule)


def _generic(path: str) -> str:
    return migrations.INDEX.sub("[]", path)


def _step_issues(step: dict) -> list[Issue]:
    """What a step did that someone should check: answers dropped, text not split."""
    out = []
    for change in step["changes"]:
        label, to = change.get("label", change["path"]), step["to"]
        if change["change"] == "dropped" and change["values"]:
            out.append(Issue(change["path"], "dropped_in_new_version", f'"{label}" is not in version {to} of the form '
                             f"({change['reason'].rstrip('.')}); its answer was not carried over and is kept with "
                             "this upload.", "warning"))
        elif change["change"] == "options_mapped":
            if any(_generic(p) == change["path"] for p in step["dropped"]):
                out.append(Issue(change["path"], "option_dropped_in_new_version", f'An answer chosen for "{label}" '
                                 f"is no longer an option in version {to}; it was not carried over and is kept "
                                 "with this upload.", "warning"))
        elif change["change"] == "split" and change["not_split"]:
            out.append(Issue(change["path"], "not_split", f'"{label}" could not be split between '
                             f"{', '.join(change['into'])} (the separator was not in it); all of it was put in "
                             f"{change['into'][0]}. Check it.", "warning"))
    return out

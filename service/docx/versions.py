"""A document made from another version of its form: which fields the document declares (its
data part's elements, its controls' tags and bindings) against the fields of the version it is
read with, said in words."""

from __future__ import annotations

from lxml import etree

from ..spec.model import FormSpec, GroupField, RepeatField
from ..validation import Issue
from .ns import NS

SHOWN = 20  # fields named per side, at most


def part_paths(spec: FormSpec, root: etree._Element) -> set[str]:
    """Field paths the data part declares (its element names), whatever spec version wrote it:
    leaves and option lists are fields, elements of rows are repeats, other parents are groups."""
    sdf = "{%s}" % NS["sdf"]
    out: set[str] = set()

    def walk(node: etree._Element, prefix: str) -> None:
        for child in node:
            if not isinstance(child.tag, str) or not child.tag.startswith(sdf):
                continue
            path = prefix + child.tag[len(sdf):]
            kids = {k.tag for k in child if isinstance(k.tag, str)}
            ref = spec.field_at(path)
            if not kids or kids == {sdf + "opt"} or kids == {sdf + "row"} or (
                    ref is not None and isinstance(ref.field, RepeatField)):
                out.add(path)
            else:
                walk(child, path + ".")

    walk(root, "")
    return out


def version_issues(spec: FormSpec, doc_version: str | None, document_paths: set[str]) -> list[Issue]:
    """Nothing when the versions are the same; else a warning that they match field for field,
    or an error listing the fields only one side has. ``document_paths`` excludes row cells."""
    if not doc_version or doc_version == spec.version:
        return []
    spec_paths = {ref.path for ref in spec.walk() if ref.in_repeat is None and not isinstance(ref.field, GroupField)}
    only_doc = sorted(document_paths - spec_paths)
    only_spec = sorted(spec_paths - document_paths) if document_paths else []
    if not only_doc and not only_spec:
        return [Issue("$", "other_version", f"This document was made from version {doc_version} of the form and read "
                      f"with version {spec.version}; their fields match.", "warning")]
    parts = []
    if only_doc:
        parts.append("fields only in the document: " + ", ".join(only_doc[:SHOWN]))
    if only_spec:
        parts.append(f"fields only in version {spec.version}: " + ", ".join(only_spec[:SHOWN]))
    return [Issue("$", "version_mismatch", f"This document was made from version {doc_version} of the form, which "
                  f"differs from the current version {spec.version}: " + "; ".join(parts) + ".")]

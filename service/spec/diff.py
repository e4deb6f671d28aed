"""What changed between two versions of a form, in words (``stepdown-forms spec-diff``).

Between adjacent versions the migration says what was renamed, split, dropped or had options
renamed; everything else is found by comparing the two specs field by field (added, labels,
types, required, options, limits, help), section by section and rule by rule. Between versions
further apart, each step is described in turn.
"""

from __future__ import annotations

from .migrations import Drop, MapOptions, Rename, Split, added_paths, migration_of, moves, new_path
from .model import FormSpec

_LIMITS = ("max_length", "max_items", "min_items", "item_max_length", "minimum", "maximum", "min_rows", "max_rows")


def describe(chain: list[FormSpec]) -> list[str]:
    """Lines describing each step of ``chain`` (oldest first); a single spec has no changes."""
    if len(chain) < 2:
        return [f"{chain[0].title}: version {chain[0].version} only; nothing to compare."]
    lines: list[str] = []
    for old, new in zip(chain, chain[1:]):
        lines.append(f"{new.title}: version {old.version} → {new.version}")
        changes = describe_step(old, new)
        lines += [f"  - {c}" for c in changes] or ["  - no changes to the fields, sections or rules"]
    return lines


def describe_step(old: FormSpec, new: FormSpec) -> list[str]:
    migration = migration_of(old, new)
    moved = moves(migration)
    out: list[str] = []
    for change in migration.changes:
        if isinstance(change, Rename):
            out.append(f"renamed: {_name(old, change.rename)} is now {_name(new, change.to)}")
            if change.map:
                out.append(_options_mapped(old, change.rename, change.map))
        elif isinstance(change, MapOptions):
            out.append(_options_mapped(old, change.field, change.map))
        elif isinstance(change, Drop):
            out.append(f"dropped: {_name(old, change.drop)} ({change.reason.rstrip('.')}); its answers are not "
                       "carried over, and are kept with each upload that had them")
        elif isinstance(change, Split):
            out.append(f"split: {_name(old, change.split)} into " + ", ".join(_name(new, p) for p in change.into)
                       + f", at “{change.on}”")
    added = added_paths(old, new)
    for path in added:
        parent = path.rsplit(".", 1)[0].removesuffix("[]") if "." in path else None
        if parent not in added:  # not inside a container that is itself new
            f = new.field_at(path).field
            out.append(f"added: {_name(new, path)} ({f.type}{', required' if f.required else ''})")
    for ref in old.walk():
        target = new_path(ref.path, moved)
        after = new.field_at(target) if target else None
        if after is not None:
            out += _field_changes(ref.field, after.field, _name(new, target))
    out += _section_changes(old, new) + _rule_changes(old, new)
    if old.title != new.title:
        out.append(f"title: “{old.title}” is now “{new.title}”")
    return out


def _name(spec: FormSpec, path: str) -> str:
    ref = spec.field_at(path)
    return f"“{ref.field.label}” ({path})" if ref else path


def _options_mapped(old: FormSpec, path: str, mapping: dict) -> str:
    field = old.field_at(path).field
    parts = [f"“{field.label_for(a)}” ({a}) becomes {b}" if b else f"“{field.label_for(a)}” ({a}) is dropped"
             for a, b in mapping.items()]
    return f"options of “{field.label}”: " + "; ".join(parts)


def _field_changes(a, b, name: str) -> list[str]:
    out = []
    if a.label != b.label:
        out.append(f"label of {name}: was “{a.label}”")
    if a.type != b.type:
        out.append(f"type of {name}: {a.type} → {b.type}")
    if a.required != b.required:
        out.append(f"{name} is {'now required' if b.required else 'no longer required'}")
    for limit in _LIMITS:
        x, y = getattr(a, limit, None), getattr(b, limit, None)
        if x != y and x is not None and y is not None:
            out.append(f"{limit.replace('_', ' ')} of {name}: {x} → {y}")
    if (a.help or "") != (b.help or ""):
        out.append(f"help text of {name} changed")
    before = {o.value: o.label for o in (getattr(a, "options", None) or []) if hasattr(o, "value")}
    after = {o.value: o.label for o in (getattr(b, "options", None) or []) if hasattr(o, "value")}
    added = [f"“{label}” ({value})" for value, label in after.items() if value not in before]
    if added:
        out.append(f"options added to {name}: " + ", ".join(added))
    relabelled = [f"{value}: “{before[value]}” → “{label}”" for value, label in after.items()
                  if value in before and before[value] != label]
    if relabelled:
        out.append(f"option labels of {name}: " + "; ".join(relabelled))
    return out


def _section_changes(old: FormSpec, new: FormSpec) -> list[str]:
    return _by_id("section", old.sections, new.sections, lambda s: f"“{s.heading}”",
                  lambda a, b: f"section heading: “{a.heading}” is now “{b.heading}”" if a.heading != b.heading else None)


def _rule_changes(old: FormSpec, new: FormSpec) -> list[str]:
    return _by_id("rule", old.rules, new.rules, lambda r: r.message,
                  lambda a, b: f"rule changed: {b.message}" if a.model_dump() != b.model_dump() else None)


def _by_id(noun: str, old_items, new_items, said, changed) -> list[str]:
    """Items (sections, rules) added, removed, and changed (``changed`` gives the line or None)."""
    before = {x.id: x for x in old_items}
    after = {x.id: x for x in new_items}
    out = [f"{noun} added: {said(x)}" for i, x in after.items() if i not in before]
    out += [f"{noun} removed: {said(x)}" for i, x in before.items() if i not in after]
    return out + [line for i, x in after.items() if i in before and (line := changed(before[i], x))]


def describe_applied(migration: dict) -> list[str]:
    """What a migration did to one document's answers (an extraction's ``migration``), in words."""
    lines = []
    for step in migration.get("steps", []):
        for c in step["changes"]:
            label, count = c.get("label", c["path"]), c.get("values", 0)
            answers = f"{count} answer{'s' if count != 1 else ''}"
            if c["change"] == "renamed":
                lines.append(f"{step['to']}: “{label}” is now {c['to']} ({answers} moved)")
            elif c["change"] == "options_mapped":
                pairs = ", ".join(f"{a} → {b or 'not carried over'}" for a, b in c["map"].items())
                lines.append(f"{step['to']}: options of “{label}” renamed: {pairs} ({answers} changed)")
            elif c["change"] == "dropped":
                lines.append(f"{step['to']}: “{label}” is no longer on the form ({c['reason'].rstrip('.')}); "
                             f"{answers} kept with this upload, not in the data")
            elif c["change"] == "split":
                lines.append(f"{step['to']}: “{label}” split into {', '.join(c['into'])}"
                             + (f" ({c['not_split']} not split: all in {c['into'][0]})" if c.get("not_split") else ""))
            elif c["change"] == "added":
                lines.append(f"{step['to']}: “{label}” is new, and empty")
    return lines

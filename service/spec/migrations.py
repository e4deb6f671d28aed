"""Declared migrations between published versions of a form, checked and applied.

A version's spec may say how data of the version before it becomes its own data::

    migration:
      from: 1.0.0
      changes:
        - {rename: minutes_circulated_date, to: minutes_sent_date}
        - {field: requested_by, map: {other: team_around_child}}   # option values renamed
        - {rename: chair_role, to: chair_kind, map: {other: null}}  # null: that answer is dropped
        - {drop: old_question, reason: The question was taken out of the policy.}
        - {split: views, into: [views_good, views_worrying], on: "---"}

Paths are the spec's field paths (``actions[].who`` for a row's cell); renaming a group or a
repeat renames everything inside it. A field of the old version that is not in the new one must
be renamed, split or dropped, and an option that is gone must be mapped (to a new value or to
``null``): :func:`check` refuses a migration that would lose an answer without saying so, when
the registry loads the versions. :func:`apply` moves a document's data and the record of where
each value was read from; every dropped value is kept in the result and reported.
"""

from __future__ import annotations

import copy
import re
from typing import Annotated, Union

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

Path = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]*(\[\])?(\.[a-z][a-z0-9_]*(\[\])?)*$",
                                        max_length=200)]
Value = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$", max_length=64)]
OptionMap = dict[Value, Union[Value, None]]
SemVer = Annotated[str, StringConstraints(pattern=r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)$")]
TEXT_TYPES = ("text", "longtext")
# A value may move between these types without losing anything (a longer box, a wider list).
_WIDENS = {("text", "longtext"), ("date", "datetime"), ("choice", "multichoice")}


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class Rename(_Model):
    rename: Path
    to: Path
    map: OptionMap = Field(default_factory=dict)


class MapOptions(_Model):
    field: Path
    map: OptionMap = Field(min_length=1)


class Drop(_Model):
    drop: Path
    reason: Annotated[str, StringConstraints(min_length=1, max_length=500)]


class Split(_Model):
    split: Path
    into: list[Path] = Field(min_length=2, max_length=8)
    on: Annotated[str, StringConstraints(min_length=1, max_length=40)]


Change = Union[Rename, MapOptions, Drop, Split]


class Migration(_Model):
    from_: SemVer = Field(alias="from")
    changes: list[Change] = Field(default_factory=list)


def _source(change) -> str:
    return getattr(change, "rename", None) or getattr(change, "field", None) or getattr(change, "drop", None) \
        or change.split


def under(path: str, prefix: str) -> bool:
    """``path`` is the field ``prefix`` or inside it (a group's member, a table's cell)."""
    return path == prefix or path.startswith(prefix + ".") or path.startswith(prefix + "[]")


def migration_of(old, new) -> Migration:
    """``new``'s migration from ``old``: the one it declares, or none (only additions)."""
    return new.migration or Migration(**{"from": old.version})


def moves(migration: Migration) -> dict[str, str | None]:
    """Old path (a field, or a container and all in it) -> its new path; None: dropped. A split
    field goes to its first part."""
    out: dict[str, str | None] = {}
    for change in migration.changes:
        if isinstance(change, Rename):
            out[change.rename] = change.to
        elif isinstance(change, Drop):
            out[change.drop] = None
        elif isinstance(change, Split):
            out[change.split] = change.into[0]
    return out


def added_paths(old, new) -> list[str]:
    """The fields of ``new`` that no field of ``old`` becomes, in document order."""
    migration = migration_of(old, new)
    moved = moves(migration)
    targets = {new_path(ref.path, moved) for ref in old.walk()}
    targets |= {p for change in migration.changes if isinstance(change, Split) for p in change.into}
    return [ref.path for ref in new.walk() if ref.path not in targets]


# -- checking a migration against the two versions ------------------------------------------------

def check(old, new) -> None:
    """Raise ValueError naming the problem if migrating ``old`` data to ``new`` could lose an
    answer without saying so, or names a field or option that is not there."""
    migration = migration_of(old, new)
    if migration.from_ != old.version:
        raise ValueError(f"its migration is from version {migration.from_}, but the version before it is {old.version}")
    moved = moves(migration)
    mapped: dict[str, OptionMap] = {}
    for i, change in enumerate(migration.changes):
        where = f"migration.changes[{i}]"
        src = _source(change)
        old_ref = old.field_at(src)
        if old_ref is None:
            raise ValueError(f"{where}: version {old.version} has no field {src!r}")
        if isinstance(change, Rename):
            _check_target(new, change.to, where)
            _check_types(old_ref.field, new.field_at(change.to).field, where)
            if change.map:
                mapped[change.to] = change.map
        elif isinstance(change, MapOptions):
            _check_target(new, src, where)
            mapped[src] = change.map
        elif isinstance(change, Split):
            if old_ref.field.type not in TEXT_TYPES:
                raise ValueError(f"{where}: only text can be split; {src!r} is {old_ref.field.type}")
            for target in change.into:
                _check_target(new, target, where)
                if new.field_at(target).field.type not in TEXT_TYPES:
                    raise ValueError(f"{where}: {target!r} is not a text field")
                if new.field_at(target).in_repeat != old_ref.in_repeat:
                    raise ValueError(f"{where}: {target!r} is not in the same rows as {src!r}")
    for ref in old.walk():
        target = new_path(ref.path, moved)
        if target is None:
            continue  # dropped, said so
        new_ref = new.field_at(target)
        if new_ref is None:
            raise ValueError(f"field {ref.path!r} of version {old.version} is not in version {new.version}; "
                             "declare a rename, split or drop for it in the migration")
        if ref.path not in moved:
            _check_types(ref.field, new_ref.field, f"field {ref.path!r}")
        _check_options(ref, new_ref, mapped.get(target, {}), old.version, new.version)


def _check_target(new, path: str, where: str) -> None:
    if new.field_at(path) is None:
        raise ValueError(f"{where}: version {new.version} has no field {path!r}")


def _check_types(old_field, new_field, where: str) -> None:
    a, b = old_field.type, new_field.type
    if a != b and (a, b) not in _WIDENS:
        raise ValueError(f"{where}: its type changes from {a} to {b}, which could lose answers; "
                         "drop the old field and add a new one instead")


def _check_options(old_ref, new_ref, mapping: OptionMap, v_old: str, v_new: str) -> None:
    old_options = getattr(old_ref.field, "options", None)
    new_options = getattr(new_ref.field, "options", None)
    if not isinstance(old_options, list) or not isinstance(new_options, list):
        return
    before = {o.value for o in old_options}
    after = {o.value for o in new_options}
    for value, to in mapping.items():
        if value not in before:
            raise ValueError(f"field {old_ref.path!r}: version {v_old} has no option {value!r} to map")
        if to is not None and to not in after:
            raise ValueError(f"field {new_ref.path!r}: version {v_new} has no option {to!r} to map {value!r} to")
    lost = sorted(before - after - set(mapping))
    if lost:
        raise ValueError(f"field {old_ref.path!r}: option{'s' if len(lost) > 1 else ''} {', '.join(lost)} of version "
                         f"{v_old} {'are' if len(lost) > 1 else 'is'} not in version {v_new}; map "
                         f"{'them' if len(lost) > 1 else 'it'} to a new value or to null in the migration")


def new_path(path: str, moved: dict[str, str | None]) -> str | None:
    """Where an old field path goes, following renamed or dropped fields and their containers."""
    best = max((p for p in moved if under(path, p)), key=len, default=None)
    if best is None:
        return path
    if moved[best] is None:
        return None
    return moved[best] + path[len(best):]


# -- applying a migration to a document's data ---------------------------------------------------

INDEX = re.compile(r"\[(\d+)\]")


def _pattern(path: str) -> re.Pattern:
    """A spec path as a pattern for concrete paths: ``actions[].who`` matches ``actions[3].who``
    and anything inside it."""
    return re.compile("^" + re.escape(path).replace(r"\[\]", r"\[(\d+)\]") + r"(?=$|[.\[])")


def instantiate(template: str, indices: list[str]) -> str:
    out = template
    for index in indices:
        out = out.replace("[]", f"[{index}]", 1)
    return out


def flatten(data: dict) -> dict[str, object]:
    """Concrete path -> value for every leaf (``actions[0].who``); lists of strings are values."""
    out: dict[str, object] = {}

    def walk(node: object, prefix: str) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                walk(value, f"{prefix}.{key}" if prefix else key)
        elif isinstance(node, list) and node and all(isinstance(r, dict) for r in node):
            for i, row in enumerate(node):
                walk(row, f"{prefix}[{i}]")
        else:
            out[prefix] = node

    walk(data, "")
    return out


def unflatten(flat: dict[str, object]) -> dict:
    root: dict = {}
    for path, value in flat.items():
        node: object = root
        parts = path.split(".")
        for n, part in enumerate(parts):
            key, *index = part.replace("]", "").split("[")
            last = n == len(parts) - 1
            if index:
                rows = node.setdefault(key, [])
                i = int(index[0])
                while len(rows) <= i:
                    rows.append({})
                node = rows[i]
                if last:
                    raise ValueError(f"a row cannot be a value: {path}")
            elif last:
                node[key] = value
            else:
                node = node.setdefault(key, {})
    return root


def _filled(value: object) -> bool:
    return value not in (None, "", [], False)


def apply(old, new, data: dict, sources: dict[str, str]) -> tuple[dict, dict[str, str], dict]:
    """``data`` (canonical for ``old``) moved to ``new``'s fields by ``new``'s migration.
    Returns the new data (not yet completed to ``new``'s shape), the sources under their new
    paths, and the step: ``{"from", "to", "changes": [...], "dropped": {concrete path: value}}``."""
    migration = migration_of(old, new)
    flat = flatten(copy.deepcopy(data))
    srcs = dict(sources)
    changes: list[dict] = []
    dropped: dict[str, object] = {}
    for change in migration.changes:
        src = _source(change)
        label = old.field_at(src).field.label
        if isinstance(change, Rename):
            touched = _move(flat, srcs, src, change.to)
            entry = {"path": src, "change": "renamed", "to": change.to, "label": label, "values": touched}
            changes.append(entry)
            if change.map:
                changes.append({**_map(flat, change.to, change.map, dropped), "label": label})
        elif isinstance(change, MapOptions):
            changes.append({**_map(flat, src, change.map, dropped), "label": label})
        elif isinstance(change, Drop):
            pattern = _pattern(src)
            gone = {p: v for p, v in flat.items() if pattern.match(p)}
            for p, v in gone.items():
                del flat[p]
                srcs.pop(p, None)
                if _filled(v):
                    dropped[p] = v
            changes.append({"path": src, "change": "dropped", "label": label, "reason": change.reason,
                            "values": sum(1 for v in gone.values() if _filled(v))})
        else:
            changes.append(_split(flat, srcs, change, label))
    changes += [{"path": p, "change": "added", "label": new.field_at(p).field.label} for p in added_paths(old, new)]
    return unflatten(flat), srcs, {"from": old.version, "to": new.version, "changes": changes, "dropped": dropped}


def _move(flat: dict, srcs: dict, src: str, to: str) -> int:
    pattern = _pattern(src)
    moved = 0
    for p in [p for p in flat if pattern.match(p)]:
        m = pattern.match(p)
        target = instantiate(to, list(m.groups())) + p[m.end():]
        flat[target] = flat.pop(p)
        moved += _filled(flat[target])
        if p in srcs:
            srcs[target] = srcs.pop(p)
    return moved


def _map(flat: dict, path: str, mapping: OptionMap, dropped: dict) -> dict:
    pattern = re.compile(_pattern(path).pattern + "$")
    count = 0
    for p in [p for p in flat if pattern.match(p)]:
        value = flat[p]
        if isinstance(value, list):
            kept = [mapping.get(v, v) for v in value]
            lost = [v for v, k in zip(value, kept) if k is None]
            if lost:
                dropped[p] = lost
            count += sum(1 for v in value if v in mapping)
            flat[p] = [k for k in kept if k is not None]
        elif isinstance(value, str) and value in mapping:
            count += 1
            if mapping[value] is None:
                dropped[p] = value
            flat[p] = mapping[value]
    return {"path": path, "change": "options_mapped", "map": dict(mapping), "values": count}


def _split(flat: dict, srcs: dict, change: Split, label: str) -> dict:
    pattern = re.compile(_pattern(change.split).pattern + "$")
    split = unsplit = 0
    for p in [p for p in flat if pattern.match(p)]:
        indices = list(pattern.match(p).groups())
        value = flat.pop(p)
        source = srcs.pop(p, None)
        parts = value.split(change.on, len(change.into) - 1) if isinstance(value, str) else [value]
        if _filled(value):
            split, unsplit = split + (len(parts) > 1), unsplit + (len(parts) == 1)
        for n, target in enumerate(change.into):
            concrete = instantiate(target, indices)
            part = parts[n].strip() if n < len(parts) and isinstance(parts[n], str) else None
            flat[concrete] = part or None
            if source and part:
                srcs[concrete] = source
    return {"path": change.split, "change": "split", "into": list(change.into), "on": change.on, "label": label,
            "values": split, "not_split": unsplit}

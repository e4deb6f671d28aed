"""Who may see which fields, and the version of a form made for one audience.

A field's ``audience`` lists who may see it besides professionals (who see everything); a field
without one takes its table's or group's, then its section's, else it is for professionals
only. :func:`restricted` is the form as one audience may have it: the fields it may not see are
not in it at all (no control, no data part element, no PDF field, no rule about them), and each
section that lost some says how many questions are not included in this version. The child's
version uses the plain words a spec gives (``plain_label``, ``plain_heading``,
``plain_guidance``) and leaves out guidance and help written for staff. Documents are
generated from, and read back with, that spec; their identity names the audience.
"""

from __future__ import annotations

from ..cache import PerObject
from .migrations import under
from .model import AUDIENCES, FormSpec

NOT_INCLUDED = "not included in this version"


def _allowed(declared: list[str] | None, inherited: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(declared) if declared is not None else inherited


def visible_paths(spec: FormSpec, audience: str) -> set[str]:
    """Field paths (``actions[].who`` for a cell) that ``audience`` may see."""
    out: set[str] = set()

    def walk(fields, prefix: str, inherited: tuple[str, ...]) -> None:
        for f in fields:
            allowed = _allowed(f.audience, inherited)
            path = prefix + f.key
            if audience == "professionals" or audience in allowed:
                out.add(path)
            if f.is_container:
                walk(f.fields, path + ("[]." if f.type == "repeat" else "."), allowed)

    for section in spec.sections:
        walk(section.fields, "", _allowed(section.audience, ("professionals",)))
    return out


def hidden_paths(spec: FormSpec, audience: str) -> list[str]:
    """Top-level-first paths of the fields ``audience`` may not see (outside rows and groups
    only the outermost one)."""
    shown = visible_paths(spec, audience)
    hidden = [ref.path for ref in spec.walk() if ref.path not in shown]
    return [p for p in hidden if not any(under(p, h) for h in hidden if h != p)]


def _narrowing(audience: str) -> PerObject:
    return PerObject(lambda spec: _narrow(spec, audience), limit=256)


_MADE = {audience: _narrowing(audience) for audience in AUDIENCES}  # each spec's version per audience, made once


def _narrow(spec: FormSpec, audience: str) -> FormSpec:
    shown = visible_paths(spec, audience)
    raw = spec.model_dump(by_alias=True, exclude={"rules", "migration"})

    def prune(fields: list[dict], prefix: str) -> tuple[list[dict], int]:
        kept, lost = [], 0
        for f in fields:
            path = prefix + f["key"]
            if path not in shown:
                lost += 1
                continue
            if f["type"] in ("group", "repeat"):
                inner, gone = prune(f["fields"], path + ("[]." if f["type"] == "repeat" else "."))
                if not inner:
                    lost += 1
                    continue
                f["fields"], lost = inner, lost + (1 if gone else 0)
            kept.append(f)
        return kept, lost

    child = audience == "child"
    for section in raw["sections"]:
        section["fields"], lost = prune(section["fields"], "")
        if child:  # the child's version is in plain words: staff guidance and help are left out
            section["heading"] = section.get("plain_heading") or section["heading"]
            section["guidance"] = section.get("plain_guidance") or ""
            _plain(section["fields"])
        if lost:
            note = (f"This section is {NOT_INCLUDED}." if not section["fields"] else
                    f"{lost} question{'s' if lost != 1 else ''} of this section {'are' if lost != 1 else 'is'} "
                    f"{NOT_INCLUDED}.")
            section["guidance"] = f"{section['guidance']} {note}".strip() if section["fields"] else note
            if not section["fields"]:
                section["agenda"] = []
    raw["sections"] = [s for s in raw["sections"] if s["fields"] or s["agenda"] or s["guidance"]]
    if child:  # plain and short: only the child's own sections, and one word about the rest
        kept = [s for s in raw["sections"] if s["fields"]]
        if len(kept) < len(raw["sections"]) and kept:
            kept[0]["guidance"] = f"Some parts of the meeting's record are {NOT_INCLUDED}. {kept[0]['guidance']}".strip()
        raw["sections"] = kept or raw["sections"]
    raw["restricted_to"] = audience
    raw["subtitle"] = " – ".join(x for x in (raw.get("subtitle"), f"the version for {_noun(audience)}") if x)
    narrowed = FormSpec.model_validate(raw)
    rules = []
    for rule in spec.rules:
        try:
            rule.check_against(narrowed)
        except ValueError:
            continue  # a rule about a field this audience does not have
        rules.append(rule)
    narrowed.rules = rules
    return narrowed


def _plain(fields: list[dict]) -> None:
    for f in fields:
        f["label"] = f.get("plain_label") or f["label"]
        f["help"] = ""
        if f["type"] in ("group", "repeat"):
            _plain(f["fields"])


def restricted(spec: FormSpec, audience: str | None) -> FormSpec:
    """``spec`` as ``audience`` may have it; professionals (or no audience) get ``spec`` itself."""
    if audience is None or audience == "professionals":
        return spec
    if audience not in AUDIENCES:
        raise ValueError(f"unknown audience {audience!r}; known: {', '.join(AUDIENCES)}")
    return _MADE[audience].get(spec)


def has_fields_for(spec: FormSpec, audience: str) -> bool:
    """Whether ``audience``'s version of the form has anything in it."""
    return audience == "professionals" or bool(visible_paths(spec, audience))


def _noun(audience: str) -> str:
    return {"carers": "carers", "family": "the family", "child": "the child"}.get(audience, audience)


def only_what_it_holds(spec: FormSpec, data: dict | None) -> dict:
    """``data`` with only the fields ``spec`` (an audience's version) has, nothing filled in
    that was not there: a prefill stays a prefill."""
    def keep(fields, obj: object) -> dict:
        if not isinstance(obj, dict):
            return {}
        out = {}
        for f in fields:
            if f.key not in obj:
                continue
            value = obj[f.key]
            if f.type == "group":
                value = keep(f.fields, value)
            elif f.type == "repeat" and isinstance(value, list):
                value = [keep(f.fields, row) for row in value]
            out[f.key] = value
        return out

    return keep(spec.fields, data or {})

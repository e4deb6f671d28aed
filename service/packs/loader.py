"""Loading pack definitions and checking them against the forms they name."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from ..errors import SpecError, UnknownFormError, UnknownPackError
from ..spec.loader import load_model_text  # the same safe YAML reading as the form specs
from ..spec.registry import Catalogue, Registry, default_registry, registry_for
from ..spec.model import ChoiceField, GroupField, RepeatField
from .model import FromLast, PackSpec

PEOPLE_ROW_KEYS = ("name", "role")


def load_pack_file(path: Path, registry: Registry) -> PackSpec:
    pack = load_model_text(path.read_bytes(), PackSpec, file=str(path),
                           shape="a pack is a YAML mapping (id, title, purpose, forms, ...)")
    _check_against_forms(pack, registry, str(path))
    return pack


def _check_against_forms(pack: PackSpec, registry: Registry, file: str) -> None:
    columns = {c.key: c for c in pack.all_columns}
    for i, item in enumerate(pack.forms):
        try:
            spec = registry.get(item.form)
        except UnknownFormError as exc:
            raise SpecError(str(exc), file=file, location=f"forms[{i}].form") from None
        for path, key in item.prefill.items():
            ref = spec.field_at(path)
            where = f"forms[{i}].prefill.{path}"
            if ref is None or ref.in_repeat is not None or isinstance(ref.field, GroupField):
                raise SpecError(f"{item.form} has no field {path!r} outside its tables", file=file, location=where)
            column = columns.get(key)
            if column is not None and column.type == "people":
                f = ref.field
                if not isinstance(f, RepeatField) or not set(PEOPLE_ROW_KEYS) <= {s.key for s in f.fields}:
                    raise SpecError(f"a people column fills a table with name and role columns; {path!r} is not one",
                                    file=file, location=where)
        if item.from_last is not None:
            _check_from_last(item.from_last, spec, file, f"forms[{i}].from_last")
    if pack.agenda_from:
        try:
            registry.get(pack.agenda_from)
        except UnknownFormError as exc:
            raise SpecError(str(exc), file=file, location="agenda_from") from None
    if pack.per_option is not None:
        spec = registry.get(pack.per_option.form)
        ref = spec.field_at(pack.per_option.field)
        if ref is None or not isinstance(ref.field, ChoiceField):
            raise SpecError(f"{pack.per_option.form} has no choice field {pack.per_option.field!r}", file=file,
                            location="per_option.field")


def _check_from_last(rule: FromLast, spec, file: str, where: str) -> None:
    def field(path: str, types: tuple[str, ...], what: str):
        ref = spec.field_at(path)
        if ref is None or ref.in_repeat is not None or ref.field.type not in types:
            raise SpecError(f"{spec.id} has no {what} {path!r} outside its tables", file=file, location=where)
        return ref.field

    field(rule.date, ("date", "datetime"), "date field")
    if rule.into:
        field(rule.into, ("date",), "date field")
    for path in [] if rule.copy_fields == "all" else rule.copy_fields:
        if spec.field_at(path) is None:
            raise SpecError(f"{spec.id} has no field {path!r} to copy", file=file, location=where)
    if rule.actions:
        a = rule.actions
        rows = field(a.rows, ("repeat",), "table")
        status = next((f for f in rows.fields if f.key == a.status), None)
        if not isinstance(status, ChoiceField):
            raise SpecError(f"{a.rows!r} has no choice column {a.status!r}", file=file, location=where)
        values = {o.value for o in status.choices}
        for value in [*a.done, a.carried]:
            if value not in values:
                raise SpecError(f"{a.status!r} has no option {value!r}", file=file, location=where)
        if a.summary:
            field(a.summary, ("text", "longtext"), "text field")


class PackRegistry(Catalogue[PackSpec]):
    """The meeting packs of a forms folder (its ``packs/`` folder; none if it has none)."""

    noun = "pack"
    unknown = UnknownPackError

    def __init__(self, folder: Path, registry: Registry) -> None:
        self.registry = registry
        super().__init__(folder, lambda path: load_pack_file(path, registry), required=False)


def packs_for(registry: Registry) -> PackRegistry:
    return packs_in(str(registry.folder))


@lru_cache(maxsize=8)
def packs_in(folder: str) -> PackRegistry:
    """The packs beside the forms of ``folder``, loaded once per process."""
    return PackRegistry(Path(folder) / "packs", registry_for(folder))


def default_packs() -> PackRegistry:
    return packs_for(default_registry())

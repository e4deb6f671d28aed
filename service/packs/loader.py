"""Loading pack definitions and checking them against the forms they name."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from ..errors import SpecError, UnknownFormError
from ..spec import Registry, default_registry
from ..spec.loader import load_model_text  # the same safe YAML reading as the form specs
from ..spec.model import ChoiceField, GroupField, RepeatField
from .model import PackSpec

PEOPLE_ROW_KEYS = ("name", "role")


def load_pack_file(path: Path, registry: Registry) -> PackSpec:
    pack = load_model_text(path.read_bytes(), PackSpec, file=str(path),
                           shape="a pack is a YAML mapping (id, title, purpose, forms, ...)")
    if pack.id != path.stem:
        raise SpecError(f"the file is named {path.stem!r} but its id is {pack.id!r}", file=str(path), location="id")
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


class PackRegistry:
    def __init__(self, folder: Path, registry: Registry) -> None:
        self.registry = registry
        self._packs: dict[str, PackSpec] = {}
        for path in sorted(Path(folder).glob("*.yaml")):
            pack = load_pack_file(path, registry)
            self._packs[pack.id] = pack

    def ids(self) -> list[str]:
        return list(self._packs)

    def all(self) -> list[PackSpec]:
        return list(self._packs.values())

    def get(self, pack_id: str) -> PackSpec:
        try:
            return self._packs[pack_id]
        except KeyError:
            raise UnknownFormError(f"unknown pack {pack_id!r}; known packs: {', '.join(self._packs) or 'none'}") from None


def packs_for(registry: Registry) -> PackRegistry:
    return _packs_for(str(registry.folder))


@lru_cache(maxsize=8)
def _packs_for(folder: str) -> PackRegistry:
    from ..spec.registry import _registry_for

    return PackRegistry(Path(folder) / "packs", _registry_for(folder))


def default_packs() -> PackRegistry:
    return packs_for(default_registry())

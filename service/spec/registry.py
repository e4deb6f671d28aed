"""Catalogues of definitions loaded from a folder of YAML files, one per id: the forms here,
the meeting packs (``form_specs/packs/<id>.yaml``) in ``service.packs.loader``. Each file's
name must be its id, so a definition can be found without opening every file; an unknown id is
refused naming the known ones.

A form is ``form_specs/<id>/<version>.yaml``, one file per published version (the highest is
the current one), or a single ``form_specs/<id>.yaml``. ``form_specs/PUBLISHED`` lists each
published version's SHA-256 (``sha256sum`` format): a published version is never edited or
deleted (the registry refuses to load one that was), a change is a new version with a declared
migration (``migrations.py``), checked here against the version before it.

The forms folder is ``form_specs/`` beside the package, or ``$STEPDOWN_SPECS_DIR``.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path
from typing import ClassVar, Generic, Protocol, TypeVar

from ..errors import SpecError, StepDownError, UnknownFormError
from . import migrations
from .published import PUBLISHED, read_published
from .loader import load_spec_file, load_spec_text
from .model import FormSpec

DEFAULT_SPECS_DIR = Path(__file__).resolve().parents[2] / "form_specs"
NOT_FORMS = {"packs"}  # folders beside the forms that hold other definitions


class _HasId(Protocol):
    id: str


T = TypeVar("T", bound=_HasId)


def specs_dir() -> Path:
    return Path(os.environ.get("STEPDOWN_SPECS_DIR") or DEFAULT_SPECS_DIR)


class Catalogue(Generic[T]):
    """Definitions by id, in file-name order."""

    noun: ClassVar[str] = "definition"
    unknown: ClassVar[type[StepDownError]] = StepDownError

    def __init__(self, folder: str | Path, load: Callable[[Path], T], *, required: bool = True) -> None:
        self.folder = Path(folder)
        self._items: dict[str, T] = {}
        if not self.folder.is_dir():
            if required:
                raise SpecError(f"the {self.noun}s folder does not exist", file=str(self.folder))
            return
        for path in sorted(self.folder.glob("*.yaml")):
            item = load(path)
            if item.id != path.stem:
                raise SpecError(f"the file is named {path.stem!r} but its id is {item.id!r}", file=str(path),
                                location="id")
            self._items[item.id] = item

    def ids(self) -> list[str]:
        return list(self._items)

    def all(self) -> list[T]:
        return list(self._items.values())

    def get(self, item_id: str) -> T:
        try:
            return self._items[item_id]
        except KeyError:
            known = ", ".join(self._items) or "none"
            raise self.unknown(f"unknown {self.noun} {str(item_id)[:80]!r}; known {self.noun}s: {known}") from None


class Registry(Catalogue[FormSpec]):
    """The forms the service knows: every published version of each, the highest current."""

    noun = "form"
    unknown = UnknownFormError

    def __init__(self, folder: str | Path) -> None:
        super().__init__(folder, load_spec_file)
        self._versions: dict[str, dict[str, FormSpec]] = {i: {s.version: s} for i, s in self._items.items()}
        if not self.folder.is_dir():
            return
        published = read_published(self.folder)
        for sub in sorted(p for p in self.folder.iterdir() if p.is_dir() and p.name not in NOT_FORMS):
            specs = [self._load_version(path, published) for path in sub.glob("*.yaml")]
            if not specs:
                continue
            if sub.name in self._items:
                raise SpecError(f"the form {sub.name!r} is both a file and a folder of versions", file=str(sub))
            specs.sort(key=lambda s: semver(s.version))
            for before, after in zip(specs, specs[1:]):
                try:
                    migrations.check(before, after)
                except ValueError as exc:
                    raise SpecError(str(exc), file=str(sub / f"{after.version}.yaml"), location="migration") from None
            self._versions[sub.name] = {s.version: s for s in specs}
            self._items[sub.name] = specs[-1]
        for name in published:
            if not (self.folder / name).is_file():
                raise SpecError(f"the published version {name} is missing; a published version stays, and a change "
                                "is made as a new version", file=str(self.folder / PUBLISHED))
        self._items = dict(sorted(self._items.items()))

    def _load_version(self, path: Path, published: dict[str, str]) -> FormSpec:
        name = f"{path.parent.name}/{path.name}"
        raw = path.read_bytes()
        if name in published and hashlib.sha256(raw).hexdigest() != published[name]:
            raise SpecError(f"version {path.stem} was changed after it was published; publish the change as a new "
                            "version (with a migration from this one) instead", file=str(path))
        spec = load_spec_text(raw, file=str(path))  # the bytes just checked, not read again
        if spec.id != path.parent.name:
            raise SpecError(f"the folder is {path.parent.name!r} but the spec's id is {spec.id!r}", file=str(path),
                            location="id")
        if spec.version != path.stem:
            raise SpecError(f"the file is named {path.stem!r} but the spec's version is {spec.version!r}",
                            file=str(path), location="version")
        return spec

    def versions(self, form_id: str) -> list[str]:
        """The form's versions, oldest first."""
        self.get(form_id)
        return list(self._versions[form_id])

    def version(self, form_id: str, version: str | None) -> FormSpec | None:
        """That version of the form, or None if the service does not have it."""
        return self._versions.get(form_id, {}).get(version or "")

    def chain(self, form_id: str, version: str) -> list[FormSpec]:
        """The versions from ``version`` to the current one, in order (one spec if current)."""
        known = self._versions[form_id]
        start = list(known).index(version)
        return list(known.values())[start:]


def semver(version: str) -> tuple[int, ...]:
    return tuple(int(n) for n in version.split("."))


@lru_cache(maxsize=8)
def registry_for(folder: str) -> Registry:
    """The forms of a folder, loaded once per process."""
    return Registry(folder)


def default_registry() -> Registry:
    return registry_for(str(specs_dir()))

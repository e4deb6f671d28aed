"""Catalogues of definitions loaded from a folder of YAML files, one per id: the forms
(``form_specs/<id>.yaml``) here, the meeting packs (``form_specs/packs/<id>.yaml``) in
``service.packs.loader``. Each file's name must be its id, so a definition can be found
without opening every file; an unknown id is refused naming the known ones.

The forms folder is ``form_specs/`` beside the package, or ``$STEPDOWN_SPECS_DIR``.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path
from typing import ClassVar, Generic, Protocol, TypeVar

from ..errors import SpecError, StepDownError, UnknownFormError
from .loader import load_spec_file
from .model import FormSpec

DEFAULT_SPECS_DIR = Path(__file__).resolve().parents[2] / "form_specs"


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
    """The forms the service knows."""

    noun = "form"
    unknown = UnknownFormError

    def __init__(self, folder: str | Path) -> None:
        super().__init__(folder, load_spec_file)


@lru_cache(maxsize=8)
def registry_for(folder: str) -> Registry:
    """The forms of a folder, loaded once per process."""
    return Registry(folder)


def default_registry() -> Registry:
    return registry_for(str(specs_dir()))

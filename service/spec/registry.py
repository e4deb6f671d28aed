"""The set of form specs the service knows: every ``<id>.yaml`` in the specs folder.

The folder is ``form_specs/`` beside the package, or ``$STEPDOWN_SPECS_DIR``. Each file's name
must be its form id, so a form can be found without opening every file.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

from ..errors import SpecError, UnknownFormError
from .loader import load_spec_file
from .model import FormSpec

DEFAULT_SPECS_DIR = Path(__file__).resolve().parents[2] / "form_specs"


def specs_dir() -> Path:
    return Path(os.environ.get("STEPDOWN_SPECS_DIR") or DEFAULT_SPECS_DIR)


class Registry:
    def __init__(self, folder: str | Path) -> None:
        self.folder = Path(folder)
        self._specs: dict[str, FormSpec] = {}
        if not self.folder.is_dir():
            raise SpecError("the form specs folder does not exist", file=str(self.folder))
        for path in sorted(self.folder.glob("*.yaml")):
            spec = load_spec_file(path)
            if spec.id != path.stem:
                raise SpecError(f"the file is named {path.stem!r} but its id is {spec.id!r}", file=str(path), location="id")
            self._specs[spec.id] = spec

    def ids(self) -> list[str]:
        return list(self._specs)

    def all(self) -> list[FormSpec]:
        return list(self._specs.values())

    def get(self, form_id: str) -> FormSpec:
        try:
            return self._specs[form_id]
        except KeyError:
            known = ", ".join(self._specs) or "none"
            raise UnknownFormError(f"unknown form {form_id!r}; known forms: {known}") from None


@lru_cache(maxsize=8)
def _registry_for(folder: str) -> Registry:
    return Registry(folder)


def default_registry() -> Registry:
    return _registry_for(str(specs_dir()))

"""``form_specs/PUBLISHED``: the SHA-256 of every published form version, in ``sha256sum``
format (``sha256sum -c PUBLISHED`` checks it from a shell). The registry refuses to load a
published version whose content changed, or a folder that lost one; ``publish`` adds a version
(``stepdown-forms spec-publish FORM VERSION``) after checking it loads and migrates."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from ..errors import SpecError

PUBLISHED = "PUBLISHED"
HEADER = ("# Published form versions: never edit or delete one; publish a change as a new version.\n"
          "# Written by 'stepdown-forms spec-publish'; checked when the forms are loaded.\n")


def read_published(folder: Path) -> dict[str, str]:
    """``form/version.yaml`` -> SHA-256 (empty if the folder has no PUBLISHED file)."""
    path = folder / PUBLISHED
    if not path.is_file():
        return {}
    out: dict[str, str] = {}
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        digest, _, name = line.partition("  ")
        if len(digest) != 64 or not name.strip():
            raise SpecError("each line is a SHA-256 and a file name, as sha256sum writes them", file=str(path), line=n)
        out[name.strip()] = digest
    return out


def publish(folder: str | Path, form_id: str, version: str) -> str:
    """Record ``form_id/version.yaml`` as published; returns what was done, in words. The forms
    are loaded first (with the new version's migration checked); a version already published
    with the same content is left as it is, one with other content refused."""
    from .registry import Registry  # deferred: registry imports this module

    folder = Path(folder)
    name = f"{form_id}/{version}.yaml"
    path = folder / name
    if not path.is_file():
        raise SpecError("there is no such version file", file=str(path))
    Registry(folder)  # refuses a broken spec, a bad migration or an edited published version
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    published = read_published(folder)
    if published.get(name) == digest:
        return f"{name} was already published"
    published[name] = digest
    lines = "".join(f"{d}  {n}\n" for n, d in sorted(published.items()))
    tmp = folder / f".{PUBLISHED}.{os.getpid()}.tmp"
    tmp.write_text(HEADER + lines, encoding="utf-8")
    os.replace(tmp, folder / PUBLISHED)
    return f"published {name} (SHA-256 {digest[:16]}…)"

"""The file store: batch parts and finished ZIPs, in a directory every web process and worker
reaches (one machine's disk, or a shared mount such as NFS; see docs/deploy.md).

A file appears whole or not at all: it is written under a temporary name in the same folder,
flushed to disk, then renamed into place, so a reader never sees half of one and two writers
of the same name (a part built twice) leave one whole file. Names are relative paths of safe
characters only; nothing here follows a name outside the store.
"""

from __future__ import annotations

import os
import re
import shutil
import uuid
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO, Iterator

_SAFE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
PARTIAL = ".partial"


class FileStore:
    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)

    def path(self, name: str) -> Path:
        """Where ``name`` ("jobs/<id>.zip") lives; a name with anything but safe parts is refused."""
        pieces = name.split("/")
        if not all(_SAFE.match(p) and not p.endswith(PARTIAL) for p in pieces):
            raise RuntimeError(f"not a file store name: {name!r}")  # names are ours, never a user's
        return self.root.joinpath(*pieces)

    def exists(self, name: str) -> bool:
        return self.path(name).is_file()

    @contextmanager
    def writing(self, name: str) -> Iterator[BinaryIO]:
        """A file to write ``name`` into; it is moved into place, durably, only if the block ends
        without an exception (otherwise nothing is left)."""
        target = self.path(name)
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(f".{target.name}.{os.getpid()}.{uuid.uuid4().hex[:12]}{PARTIAL}")  # one per writer
        try:
            with open(tmp, "wb") as out:
                yield out
                out.flush()
                os.fsync(out.fileno())
            os.replace(tmp, target)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        _sync_folder(target.parent)

    def delete(self, name: str) -> None:
        self.path(name).unlink(missing_ok=True)

    def delete_folder(self, name: str) -> None:
        shutil.rmtree(self.path(name), ignore_errors=True)

    def remove_partials(self, folder: str) -> int:
        """Temporary files a crash left in ``folder`` and its subfolders; how many were removed."""
        found = list(self.path(folder).rglob(f".*{PARTIAL}")) if self.path(folder).is_dir() else []
        for tmp in found:
            tmp.unlink(missing_ok=True)
        return len(found)


def _sync_folder(folder: Path) -> None:
    """The rename itself survives a power cut once the folder is flushed too."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:  # some shared file systems cannot open a folder; the rename is still atomic
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)

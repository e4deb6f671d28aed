"""A batch: many meetings' packs in one ZIP, built on every core, with progress and cancellation.

Rows are read and checked first (a bad row is reported by row and column and skipped; it never
stops the others). Packs are built in worker processes, a few at a time, and written into the
ZIP in row order as they arrive, so memory stays flat however long the batch. The ZIP is written
under a temporary name beside the target and moved into place only when complete: a cancelled
or failed batch leaves nothing behind and never a partial ZIP.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import multiprocessing
import os
import shutil
import tempfile
import threading
import zipfile
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable

from ..errors import Cancelled, InputMissing
from ..isolation import die_with_parent, settle
from ..spec.registry import Registry, registry_for
from .build import BuiltPack, build_pack
from .inputs import Rows, read_rows
from .loader import packs_in
from .meeting import Meeting, RowProblem, normalise, read_row
from .model import PackSpec

IN_FLIGHT_PER_WORKER = 3


@dataclass
class BatchResult:
    pack: str
    rows: int = 0
    built: int = 0
    problems: list[RowProblem] = field(default_factory=list)
    warnings: int = 0
    out: str = ""

    def to_dict(self) -> dict:
        return {"pack": self.pack, "rows": self.rows, "built": self.built, "failed": self.rows - self.built,
                "warnings": self.warnings, "problems": [p.__dict__ for p in self.problems]}


Progress = Callable[[int, int, int | None], None]  # done, total, current row


def meetings_for(pack: PackSpec, registry: Registry, raw: bytes | None) -> tuple[list[Meeting], list[RowProblem], int]:
    """The rows that can be built, the problems of those that cannot, and the number of rows."""
    if pack.kind == "per_option":
        return _option_meetings(pack, registry, raw)
    if raw is None:
        raise InputMissing("this pack needs an input file of meetings (see its template)")
    rows: Rows = read_rows(pack, raw)
    meetings, problems = [], list(rows.problems)
    for number, cells in rows.rows:
        meeting, row_problems = read_row(pack, number, cells)
        problems += row_problems
        if not row_problems:
            meetings.append(meeting)
    return meetings, problems, len(rows.rows)


def _option_meetings(pack: PackSpec, registry: Registry, raw: bytes | None):
    spec = registry.get(pack.per_option.form)
    f = spec.field_at(pack.per_option.field).field
    extra: dict[str, dict] = {}
    problems: list[RowProblem] = []
    if raw is not None:
        for number, cells in read_rows(pack, raw).rows:
            meeting, row_problems = read_row(pack, number, cells)
            problems += row_problems
            extra[normalise(str(cells.get(pack.per_option.field) or ""))] = meeting.values
    meetings = []
    for i, option in enumerate(f.choices, start=1):
        values = dict(extra.get(normalise(option.label)) or extra.get(normalise(option.value)) or {})
        values[pack.per_option.field] = option.value
        values["folder"] = option.value
        meetings.append(Meeting(i, values))
    return meetings, problems, len(meetings)


# -- workers ----------------------------------------------------------------------------------

_worker_state: dict = {}


def _init_worker(specs_folder: str, parent: int) -> None:
    die_with_parent(parent)  # a kill -9 of the service leaves no builder behind
    _worker_state["registry"] = registry_for(specs_folder)
    _worker_state["packs"] = packs_in(specs_folder)
    settle()  # the forms and packs it keeps, out of the collector's way


def _build_in_worker(pack_id: str, meeting: Meeting, case_values: dict | None, formats: tuple[str, ...],
                     history: dict | None = None) -> BuiltPack:
    registry, packs = _worker_state["registry"], _worker_state["packs"]
    return build_pack(packs.get(pack_id), registry, meeting, case_values=case_values, formats=formats,
                      history=history)


# -- the ZIP ----------------------------------------------------------------------------------

class BatchZip:
    """A batch's ZIP as it is written: each meeting's files in its own folder (names made
    unique), then ``manifest.json`` and ``manifest.csv`` (every file's SHA-256 and size, every
    warning and row problem). The manifest grows on disk, not in memory. ``made``: the time the
    ZIP's entries and manifest carry (now by default); the same meetings and time give the same
    bytes."""

    def __init__(self, out, pack: PackSpec, result: BatchResult, made: datetime | None = None) -> None:
        self.pack, self.result = pack, result
        self.made = made or datetime.now(timezone.utc)
        self._stamp = self.made.astimezone(timezone.utc).timetuple()[:6]
        self._zip = zipfile.ZipFile(out, "w", zipfile.ZIP_STORED)
        self._folders = tempfile.TemporaryFile("w+", encoding="utf-8")
        self._lines = tempfile.TemporaryFile("w+", encoding="utf-8", newline="")
        self._listing = csv.writer(self._lines)
        self._used: set[str] = set()

    def add(self, folder: str, row: int, files: list[tuple[str, bytes]], warnings: list[str]) -> None:
        folder = _unique(folder, self._used)
        listed = []
        for name, data in files:
            self._zip.writestr(zipfile.ZipInfo(f"{folder}/{name}", date_time=self._stamp), data)
            listed.append({"name": f"{folder}/{name}", "sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data)})
            self._listing.writerow([folder, listed[-1]["name"], listed[-1]["sha256"], len(data), row,
                                    " | ".join(warnings)])
        self._folders.write(("," if self.result.built else "") + json.dumps(
            {"folder": folder, "row": row, "files": listed, "warnings": warnings}, ensure_ascii=False) + "\n")
        self.result.built += 1
        self.result.warnings += len(warnings)

    def close(self) -> None:
        """Write the manifest and finish the ZIP."""
        try:
            _write_manifest(self._zip, self.pack, self.result, self._folders, self._lines, self.made, self._stamp)
        finally:
            self.discard()

    def discard(self) -> None:
        """Finish with the ZIP (its file is the caller's to keep or delete) and the manifest's
        temporary files."""
        self._zip.close()
        self._folders.close()
        self._lines.close()


def meeting_folder(pack: PackSpec, meeting: Meeting, built: BuiltPack) -> str:
    return built.folder if pack.kind == "meeting" else str(meeting.values.get("folder"))


# -- the batch --------------------------------------------------------------------------------

def run_batch(pack: PackSpec, registry: Registry, raw: bytes | None, out: str | Path, *, workers: int = 2,
              formats: tuple[str, ...] = ("docx", "pdf"), progress: Progress | None = None,
              cancel: threading.Event | None = None, case_lookup: Callable[[str], dict | None] | None = None,
              history_lookup: Callable[[str], dict | None] | None = None) -> BatchResult:
    """Every meeting of ``raw`` built into one ZIP at ``out``, in this process's workers (the
    command line's batch; the service builds batches in parts, ``service.jobs``). The lookups
    give a child's case values and last meeting (``history.py``) by SU number."""
    out = Path(out)
    meetings, problems, total = meetings_for(pack, registry, raw)
    result = BatchResult(pack.id, rows=total, problems=problems)
    tmp = out.with_name(f".{out.name}.{os.getpid()}.{threading.get_ident()}.partial")
    try:
        with open(tmp, "wb") as file:
            archive = BatchZip(file, pack, result)
            try:
                count = len(meetings)
                for meeting, built in _built(pack, registry, meetings, workers, formats, cancel, case_lookup,
                                               history_lookup):
                    archive.add(meeting_folder(pack, meeting, built), meeting.row,
                                [(f.name, f.data) for f in built.files], built.warnings)
                    if progress:
                        progress(result.built, count, meeting.row)
            except BaseException:
                archive.discard()
                raise
            archive.close()
        os.replace(tmp, out)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    result.out = str(out)
    return result


def _built(pack, registry, meetings, workers, formats, cancel, case_lookup, history_lookup=None):
    """(meeting, built pack) in row order, built in ``workers`` processes (or here, for 0)."""
    def by_su(m: Meeting, lookup):
        su = m.values.get("su_number")
        return lookup(str(su)) if lookup and su else None

    def case_for(m: Meeting):
        return by_su(m, case_lookup)

    def history_for(m: Meeting):
        return by_su(m, history_lookup)

    if workers <= 0:
        for m in meetings:
            if cancel is not None and cancel.is_set():
                raise Cancelled("The batch was cancelled.")
            yield m, build_pack(pack, registry, m, case_values=case_for(m), formats=formats, history=history_for(m))
        return
    context = multiprocessing.get_context("spawn")  # never fork a process that may hold threads and locks
    with ProcessPoolExecutor(max_workers=workers, mp_context=context, initializer=_init_worker,
                             initargs=(str(registry.folder), os.getpid())) as pool:
        pending: dict[int, object] = {}
        done: dict[int, BuiltPack] = {}
        next_submit, next_yield = 0, 0
        try:
            while next_yield < len(meetings):
                if cancel is not None and cancel.is_set():
                    raise Cancelled("The batch was cancelled.")
                while next_submit < len(meetings) and len(pending) + len(done) < workers * IN_FLIGHT_PER_WORKER:
                    m = meetings[next_submit]
                    pending[next_submit] = pool.submit(_build_in_worker, pack.id, m, case_for(m), formats, history_for(m))
                    next_submit += 1
                if next_yield in pending:
                    finished, _ = wait(list(pending.values()), timeout=0.5, return_when=FIRST_COMPLETED)
                    for i in [i for i, fut in pending.items() if fut in finished]:
                        done[i] = pending.pop(i).result()
                while next_yield in done:
                    yield meetings[next_yield], done.pop(next_yield)
                    meetings[next_yield] = None  # done with: memory stays flat however many rows
                    next_yield += 1
        except BaseException:
            pool.shutdown(wait=False, cancel_futures=True)
            raise


def _unique(folder: str, used: set[str]) -> str:
    name, n = folder, 2
    while name in used:
        name, n = f"{folder}-{n}", n + 1
    used.add(name)
    return name


def _write_manifest(z: zipfile.ZipFile, pack: PackSpec, result: BatchResult, folders, lines, made: datetime,
                    stamp: tuple) -> None:
    head = {"pack": pack.id, "title": pack.title,
            "generated": made.astimezone(timezone.utc).isoformat(timespec="seconds"), **result.to_dict()}
    with z.open(_deflated("manifest.json", stamp), "w", force_zip64=True) as out:
        text = io.TextIOWrapper(out, encoding="utf-8")
        text.write(json.dumps(head, ensure_ascii=False, indent=2)[:-2] + ',\n  "folders": [\n')
        folders.seek(0)
        shutil.copyfileobj(folders, text)
        text.write("  ]\n}\n")
        text.flush()
        text.detach()
    with z.open(_deflated("manifest.csv", stamp), "w", force_zip64=True) as out:
        text = io.TextIOWrapper(out, encoding="utf-8", newline="")
        w = csv.writer(text)
        w.writerow(["folder", "file", "sha256", "bytes", "row", "warnings_or_problem"])
        lines.seek(0)
        shutil.copyfileobj(lines, text)
        for p in result.problems:
            w.writerow(["", "", "", "", p.row, f"{p.column}: {p.message}"])
        text.flush()
        text.detach()


def _deflated(name: str, stamp: tuple) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time=stamp)
    info.compress_type = zipfile.ZIP_DEFLATED
    return info

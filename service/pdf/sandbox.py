"""Parse an uploaded PDF in a separate process with time and memory limits.

PDF parsers can be made to loop, to inflate bombs or to build millions of objects. Parsing
happens in a worker: a fresh interpreter (``python -I sandbox.py --serve``; of ours the script
loads only three plain modules, ``names.py``, ``errors.py`` and ``processes.py``, by their paths,
so the worker holds pikepdf and little else, and exits when the service is gone) started with an address-space limit and a
CPU-time backstop. Files go to it over a pipe, one at a time; each gets a wall-clock deadline,
after which the worker is killed. A worker that crashes, runs out of memory or misses a
deadline is gone; the next upload starts a new one. Workers are also replaced every
``RECYCLE_AFTER`` files. Up to ``POOL_SIZE`` workers serve uploads at once (the web service sets
it to its parse concurrency); more wait for one. A fresh process, not a fork, because a fork of a threaded server can
inherit a held lock and hang. The worker sends back only plain data as JSON: identity, field
values, and what active content the file carries. Nothing in the file is run or followed.
"""

from __future__ import annotations

import atexit
import importlib.util
import json
import logging
import os
import resource
import select
import subprocess
import sys
import threading
import time
from io import BytesIO
from pathlib import Path

if __package__:  # imported as service.pdf.sandbox, in the service
    from .. import errors
    from . import names
else:  # the worker (python -I sandbox.py): the two modules it shares, loaded by path, without the package
    def _load(name: str, path: Path):
        spec = importlib.util.spec_from_file_location(name, path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module

    names = _load("sdf_pdf_names", Path(__file__).with_name("names.py"))
    errors = _load("sdf_errors", Path(__file__).parents[1] / "errors.py")
    processes = _load("sdf_processes", Path(__file__).parents[1] / "processes.py")
    import pikepdf  # only the worker parses; the service itself never needs pikepdf for this

DocumentError = errors.DocumentError

MEMORY_LIMIT = 768 * 1024 * 1024
CPU_SECONDS = 600  # a worker's whole life (RECYCLE_AFTER files); one file is cut off by WALL_SECONDS
WALL_SECONDS = 20
RECYCLE_AFTER = 100
MAX_OBJECTS = 200_000
MAX_FIELD_DEPTH = 20


def _limit() -> None:
    """In the child, before it runs: its limits."""
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))
    resource.setrlimit(resource.RLIMIT_CPU, (CPU_SECONDS, CPU_SECONDS))


def _run(raw: bytes) -> tuple[str, object]:
    """In the child: ('ok', result) or ('refused', (code, message))."""
    try:
        return "ok", inspect(raw)
    except DocumentError as exc:
        return "refused", (exc.code, exc.message)
    except RecursionError:
        return "refused", ("corrupt_pdf", "The PDF is nested too deeply to read; it was refused.")
    except Exception as exc:  # any parser failure is a damaged file, unless memory ran out on the way
        if _out_of_memory(exc) or "bad_alloc" in _parser_messages():
            return "refused", ("pdf_too_complex", "The PDF needs more memory to open than a form ever does "
                                                  "(a decompression bomb or a huge object count); it was refused.")
        if type(exc).__name__ == "PasswordError":
            return "refused", ("encrypted", ENCRYPTED)
        return "refused", ("corrupt_pdf", f"The PDF is damaged and cannot be read ({type(exc).__name__}).")


ENCRYPTED = "The PDF is encrypted; save an unprotected copy and try again."
_messages: list[str] | None = None  # in the worker: qpdf's warnings, kept in memory, never logged


def _parser_messages() -> str:
    """What qpdf reported while reading this file (it reports a failed allocation as a warning and
    then tries to recover, so the exception alone does not say memory ran out)."""
    return "\n".join(_messages or [])


def _collect_parser_messages() -> None:
    """Route qpdf's warnings (pikepdf sends them to the logger 'pikepdf._core') into memory; no
    other log output leaves the worker, since nothing about an upload may reach a log."""
    global _messages
    _messages = []

    class Collector(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            if len(_messages) < 200:
                _messages.append(record.getMessage())

    logging.lastResort = None
    logger = logging.getLogger("pikepdf._core")
    logger.addHandler(Collector())
    logger.setLevel(logging.WARNING)
    logger.propagate = False


def _chain(exc: BaseException | None):
    """The exception and its causes (wrapped errors), at most 20 deep."""
    for _ in range(20):
        if exc is None:
            return
        yield exc
        exc = exc.__cause__ or exc.__context__


def _out_of_memory(exc: BaseException) -> bool:
    """MemoryError anywhere in the chain (qpdf's std::bad_alloc arrives as one); or a C extension
    the loader could not map into the limited address space."""
    return any(isinstance(e, MemoryError) or "bad_alloc" in str(e) or (isinstance(e, ImportError) and
               any(w in str(e).lower() for w in ("failed to map", "allocate"))) for e in _chain(exc))


def inspect(raw: bytes) -> dict:
    """Read what extraction needs, and what active content there is (runs inside the child).

    pikepdf (qpdf) parses: about four times faster than pypdf on our forms, and qpdf is fuzzed
    continuously. Streams are never inflated: nothing here needs page content."""
    with pikepdf.open(BytesIO(raw), suppress_warnings=_messages is None) as pdf:
        if pdf.is_encrypted:
            raise DocumentError(ENCRYPTED, "encrypted")
        size = pdf.trailer.get(names.SIZE)
        if len(pdf.objects) > MAX_OBJECTS if size is None else int(size) > MAX_OBJECTS:
            raise DocumentError("The PDF holds far more objects than a form does; it was refused.", "pdf_too_complex")
        root = pdf.Root
        acro = root.get(names.ACROFORM)
        acro = acro if isinstance(acro, pikepdf.Dictionary) else pikepdf.Dictionary()
        return {
            "info": {str(k): str(v) for k, v in pdf.docinfo.items() if isinstance(v, pikepdf.String)},
            "fields": _field_values(acro.get(names.FIELDS)),
            "xfa": names.XFA in acro,
            "active": _active_content(pdf, root),
        }


def _field_values(fields: object) -> dict[str, object]:
    """Full field name -> value, reading only the entries a value needs (/T, /V, /Kids). Names
    nest with '.' as PDF says (12.7.3.2). A loop, depth beyond MAX_FIELD_DEPTH or more than
    MAX_OBJECTS fields is refused."""
    out: dict[str, object] = {}
    seen: set[tuple[int, int]] = set()
    stack = [(kid, "", 0) for kid in reversed(list(fields))] if isinstance(fields, pikepdf.Array) else []
    while stack:
        node, prefix, depth = stack.pop()
        if not isinstance(node, pikepdf.Dictionary):
            continue
        if node.is_indirect:
            if node.objgen in seen:
                raise DocumentError("The PDF's field tree loops back on itself; it was refused.", "corrupt_pdf")
            seen.add(node.objgen)
        if depth > MAX_FIELD_DEPTH or len(seen) > MAX_OBJECTS:
            raise DocumentError("The PDF's field tree is nested or sized far beyond any form; it was refused.",
                          "pdf_too_complex")
        name = prefix
        title = node.get(names.T)
        if isinstance(title, pikepdf.String):
            name = f"{prefix}.{title}" if prefix else str(title)
            out[name] = _plain(node.get(names.V))
        kids = node.get(names.KIDS)
        if isinstance(kids, pikepdf.Array):
            stack += [(kid, name, depth + 1) for kid in reversed(list(kids))]
    return out


def _plain(value: object) -> object:
    if value is None:
        return None
    if isinstance(value, pikepdf.Array):
        return [str(v) for v in value]
    return str(value)


def _active_content(pdf, root) -> list[str]:
    """What would act by itself in a viewer: scripts, launch and similar actions, attachments,
    wherever a PDF can carry them — the catalog, the name trees, every page and annotation,
    every field and the fields above it in the field tree, and every outline item (names are
    compared as pikepdf decodes them, so ``/J#61vaScript`` is ``/JavaScript``)."""
    found: set[str] = set()
    tree = root.get(names.NAMES)
    if isinstance(tree, pikepdf.Dictionary):
        if names.JAVASCRIPT in tree:
            found.add("JavaScript")
        if names.EMBEDDED_FILES in tree:
            found.add("embedded files")
    for holder in [root] + [page.obj for page in pdf.pages]:
        for key in (names.OPEN_ACTION, names.AA):
            if key in holder:
                found |= _actions(holder[key])
        annots = holder.get(names.ANNOTS)
        for annot in annots if isinstance(annots, pikepdf.Array) else []:
            if not isinstance(annot, pikepdf.Dictionary):
                continue
            if annot.get(names.SUBTYPE) == pikepdf.Name(names.FILE_ATTACHMENT):
                found.add("embedded files")
            for key in (names.A, names.AA):
                if key in annot:
                    found |= _actions(annot[key])
    acro = root.get(names.ACROFORM)
    fields = acro.get(names.FIELDS) if isinstance(acro, pikepdf.Dictionary) else None
    for node in _tree_nodes(fields, names.KIDS):
        for key in (names.A, names.AA):
            if key in node:
                found |= _actions(node[key])
    outlines = root.get(names.OUTLINES)
    first = outlines.get(names.FIRST) if isinstance(outlines, pikepdf.Dictionary) else None
    for item in _outline_items(first):
        if names.A in item:
            found |= _actions(item[names.A])
    return sorted(found)


def _tree_nodes(kids: object, key: str):
    """Every dictionary of a tree given by ``key`` arrays (the field tree), each once."""
    seen: set[tuple[int, int]] = set()
    stack = list(kids) if isinstance(kids, pikepdf.Array) else []
    while stack and len(seen) <= MAX_OBJECTS:
        node = stack.pop()
        if not isinstance(node, pikepdf.Dictionary):
            continue
        if node.is_indirect:
            if node.objgen in seen:
                continue
            seen.add(node.objgen)
        yield node
        more = node.get(key)
        if isinstance(more, pikepdf.Array):
            stack += list(more)


def _outline_items(first: object):
    """Every outline item: each level a linked list (/First, /Next), each item once."""
    seen: set[tuple[int, int]] = set()
    stack = [first]
    while stack and len(seen) <= MAX_OBJECTS:
        item = stack.pop()
        while isinstance(item, pikepdf.Dictionary) and not (item.is_indirect and item.objgen in seen):
            if item.is_indirect:
                seen.add(item.objgen)
            yield item
            stack.append(item.get(names.FIRST))
            item = item.get(names.NEXT)


def _actions(action: object, depth: int = 0) -> set[str]:
    out: set[str] = set()
    if depth > 8 or not isinstance(action, pikepdf.Dictionary):
        return out
    kind = action.get(names.S)
    if kind is not None:
        label = names.ACTION_TYPES.get(str(kind), f"a {str(kind).lstrip('/')} action")
        if label:
            out.add(label)
        nxt = action.get(names.NEXT)
        if nxt is not None:
            for a in nxt if isinstance(nxt, pikepdf.Array) else [nxt]:
                out |= _actions(a, depth + 1)
    else:  # an additional-actions dictionary: trigger -> action
        for trigger in action.values():
            out |= _actions(trigger, depth + 1)
    return out


class _Worker:
    def __init__(self) -> None:
        self.process = subprocess.Popen([sys.executable, "-I", __file__, "--serve"], stdin=subprocess.PIPE,
                                        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, preexec_fn=_limit)
        self.served = 0

    def ask(self, raw: bytes, deadline: float) -> bytes | None:
        """The worker's answer, or None if it died or missed the deadline (it is then killed)."""
        try:
            self.process.stdin.write(len(raw).to_bytes(8, "big") + raw)
            self.process.stdin.flush()
            out = self.process.stdout
            header = _read_exactly(out, 8, deadline)
            answer = _read_exactly(out, int.from_bytes(header, "big"), deadline) if header else None
        except (BrokenPipeError, OSError):
            answer = None
        self.served += 1
        if answer is None:
            self.stop()
        return answer

    def alive(self) -> bool:
        return self.process.poll() is None and self.served < RECYCLE_AFTER

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait(5)
        for pipe in (self.process.stdin, self.process.stdout):
            try:
                pipe.close()
            except OSError:
                pass  # a pipe to a killed worker may fail to flush on close


def _read_exactly(stream, n: int, deadline: float) -> bytes | None:
    chunks, need = [], n
    fd = stream.fileno()
    while need:
        left = deadline - time.monotonic()
        if left <= 0 or not select.select([fd], [], [], left)[0]:
            return None
        chunk = os.read(fd, min(need, 1 << 20))
        if not chunk:
            return None
        chunks.append(chunk)
        need -= len(chunk)
    return b"".join(chunks)


POOL_SIZE = 2  # workers, so two uploads are parsed at once (the service sets it from its settings)
_idle: list[_Worker] = []  # workers waiting for a file
_busy = 0
_lock = threading.Condition()
last_pid: int | None = None  # the worker that served the last file (tests watch recycling)


def configure(pool_size: int) -> None:
    global POOL_SIZE
    POOL_SIZE = max(1, pool_size)


def reset() -> None:
    """Stop the idle workers (the next upload starts a new one, with the limits then in force)."""
    with _lock:
        while _idle:
            _idle.pop().stop()


atexit.register(reset)


def _take() -> _Worker:
    """An idle live worker, or a new one while fewer than POOL_SIZE are busy; else wait."""
    global _busy
    with _lock:
        while True:
            while _idle:
                worker = _idle.pop()
                if worker.alive():
                    _busy += 1
                    return worker
                worker.stop()
            if _busy < POOL_SIZE:
                _busy += 1
                break
            _lock.wait()
    try:
        return _Worker()
    except BaseException:
        _give_back(None)
        raise


def _give_back(worker: _Worker | None) -> None:
    global _busy
    with _lock:
        _busy -= 1
        if worker is not None:
            _idle.append(worker)
        _lock.notify()


def parse_pdf(raw: bytes) -> dict:
    """``inspect(raw)`` in a limited worker; a DocumentError for anything it refused."""
    global last_pid
    worker = _take()
    start = time.monotonic()
    try:
        answer = worker.ask(raw, start + WALL_SECONDS)
    finally:
        last_pid = worker.process.pid
        _give_back(worker if worker.process.poll() is None else None)
    if answer is None:
        if time.monotonic() - start >= WALL_SECONDS:
            raise DocumentError("The PDF took too long to open (it may be built to loop); it was refused.",
                                "pdf_timeout")
        raise DocumentError("Opening the PDF used up the limits set for it (a decompression bomb or a "
                            "parser loop); it was refused.", "pdf_too_complex")
    try:
        status, payload = json.loads(answer)
    except ValueError:
        raise DocumentError("The PDF reader gave no usable answer; the file was refused.", "pdf_too_complex") from None
    if status == "refused":
        code, message = payload
        raise DocumentError(message, code)
    return payload


def main() -> None:
    _collect_parser_messages()
    processes.die_with_parent()  # even mid-parse: a closed pipe alone is noticed only between files
    if sys.argv[1:] == ["--serve"]:
        stdin, stdout = sys.stdin.buffer, sys.stdout.buffer
        while header := stdin.read(8):
            raw = stdin.read(int.from_bytes(header, "big"))
            _messages.clear()
            answer = json.dumps(_run(raw)).encode()
            stdout.write(len(answer).to_bytes(8, "big") + answer)
            stdout.flush()
        return
    sys.stdout.write(json.dumps(_run(sys.stdin.buffer.read())))


if __name__ == "__main__":
    main()

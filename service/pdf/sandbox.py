"""Parse an uploaded PDF in a limited worker process (``service.isolation``: memory, CPU, a wall
deadline per file, killed and replaced).

PDF parsers can be made to loop, to inflate bombs or to build millions of objects. The worker
is ``python -I sandbox.py --serve``; of ours it loads only three plain modules, ``names.py``,
``errors.py`` and ``isolation/worker.py``, by their paths, so it holds pikepdf and little else. It sends
back only plain data as JSON: identity, field values, and what active content the file carries.
Nothing in the file is run or followed.
"""

from __future__ import annotations

import importlib.util
import json
import logging
import sys
from io import BytesIO
from pathlib import Path

if __package__:  # imported as service.pdf.sandbox, in the service
    from .. import errors, isolation
    from ..isolation import worker
    from . import names
else:  # the worker (python -I sandbox.py): the modules it shares, loaded by path, without the package
    def _load(name: str, path: Path):
        spec = importlib.util.spec_from_file_location(name, path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module  # dataclasses look their module up by name
        spec.loader.exec_module(module)
        return module

    names = _load("sdf_pdf_names", Path(__file__).with_name("names.py"))
    errors = _load("sdf_errors", Path(__file__).parents[1] / "errors.py")
    worker = _load("sdf_worker", Path(__file__).parents[1] / "isolation" / "worker.py")
    import pikepdf  # only the worker parses; the service itself never needs pikepdf for this

DocumentError = errors.DocumentError

MAX_OBJECTS = 200_000
MAX_FIELD_DEPTH = 20


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
        fields, field_actions, checked = _field_values(acro.get(names.FIELDS))
        return {
            "info": {str(k): str(v) for k, v in pdf.docinfo.items() if isinstance(v, pikepdf.String)},
            "fields": fields,
            "xfa": names.XFA in acro,
            "active": sorted(_active_content(pdf, root, checked) | field_actions),
        }


def _field_values(fields: object) -> tuple[dict[str, object], set[str], set[tuple[int, int]]]:
    """Full field name -> value, reading only the entries a value needs (/T, /V, /Kids), and
    the actions any field of the tree carries (/A, /AA; a widget that says it is a file
    attachment counts as embedded files), in the one walk; and the objects it checked (a field
    and its widget are usually one dictionary). Names nest with '.' as PDF says (12.7.3.2). A
    loop, depth beyond MAX_FIELD_DEPTH or more than MAX_OBJECTS fields is refused."""
    out: dict[str, object] = {}
    actions: set[str] = set()
    seen: set[tuple[int, int]] = set()
    stack = [(kid, "", 0) for kid in reversed(list(fields))] if isinstance(fields, pikepdf.Array) else []
    while stack:
        node, prefix, depth = stack.pop()
        if not isinstance(node, pikepdf.Dictionary):
            continue
        if node.is_indirect:
            objgen = node.objgen
            if objgen in seen:
                raise DocumentError("The PDF's field tree loops back on itself; it was refused.", "corrupt_pdf")
            seen.add(objgen)
        if depth > MAX_FIELD_DEPTH or len(seen) > MAX_OBJECTS:
            raise DocumentError("The PDF's field tree is nested or sized far beyond any form; it was refused.",
                          "pdf_too_complex")
        keys = node.keys()  # once: a pikepdf lookup costs more than a set's
        for key in _ACTION_KEYS:
            if key in keys:
                actions |= _actions(node[key])
        if names.SUBTYPE in keys and node[names.SUBTYPE] == names.FILE_ATTACHMENT:  # a widget posing as one
            actions.add("embedded files")
        name = prefix
        if names.T in keys:
            title = node[names.T]
            if isinstance(title, pikepdf.String):
                name = f"{prefix}.{title}" if prefix else str(title)
                out[name] = _plain(node[names.V]) if names.V in keys else None
        if names.KIDS in keys:
            kids = node[names.KIDS]
            if isinstance(kids, pikepdf.Array):
                stack += [(kid, name, depth + 1) for kid in reversed(list(kids))]
    return out, actions, seen


_ACTION_KEYS = (names.A, names.AA)


def _plain(value: object) -> object:
    if value is None:
        return None
    if isinstance(value, pikepdf.Array):
        return [str(v) for v in value]
    return str(value)


def _active_content(pdf, root, checked: set[tuple[int, int]]) -> set[str]:
    """What would act by itself in a viewer: scripts, launch and similar actions, attachments,
    wherever a PDF can carry them — the catalog, the name trees, every page and annotation, and
    every outline item (the fields, and the fields above them in the field tree, are checked by
    ``_field_values`` as it reads them: ``checked``, skipped here, is what it looked at). Names are
    compared as pikepdf decodes them, so ``/J#61vaScript`` is ``/JavaScript``."""
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
            if not isinstance(annot, pikepdf.Dictionary) or annot.objgen in checked:
                continue  # (a field's widget: its actions and kind were read with the field)
            if annot.get(names.SUBTYPE) == names.FILE_ATTACHMENT:  # (a pikepdf Name equals its string)
                found.add("embedded files")
            for key in _ACTION_KEYS:
                if key in annot:
                    found |= _actions(annot[key])
    outlines = root.get(names.OUTLINES)
    first = outlines.get(names.FIRST) if isinstance(outlines, pikepdf.Dictionary) else None
    for item in _outline_items(first):
        if names.A in item:
            found |= _actions(item[names.A])
    return found


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


POOL = isolation.Pool([sys.executable, "-I", __file__, "--serve"], isolation.Limits()) if __package__ else None


def configure(pool_size: int) -> None:
    """How many PDFs are parsed at once (the web service sets it to its parse concurrency)."""
    POOL.configure(size=pool_size)


def reset() -> None:
    """Stop the idle workers (the next upload starts a new one, with the limits then in force)."""
    POOL.reset()


def parse_pdf(raw: bytes) -> dict:
    """``inspect(raw)`` in a limited worker; a DocumentError for anything it refused."""
    try:
        return _parsed(POOL.ask(raw))
    except isolation.Lost as lost:
        raise _lost(lost) from None


async def parse_pdf_async(raw: bytes) -> dict:
    """``parse_pdf`` awaited on the running event loop (``isolation.Pool.ask_async``)."""
    try:
        return _parsed(await POOL.ask_async(raw))
    except isolation.Lost as lost:
        raise _lost(lost) from None


def _lost(lost) -> DocumentError:
    if lost.timed_out:
        return DocumentError("The PDF took too long to open (it may be built to loop); it was refused.", "pdf_timeout")
    return DocumentError("Opening the PDF used up the limits set for it (a decompression bomb or a "
                         "parser loop); it was refused.", "pdf_too_complex")


def _parsed(answer: bytes) -> dict:
    try:
        status, payload = isolation.read_json(answer)
    except ValueError:
        raise DocumentError("The PDF reader gave no usable answer; the file was refused.", "pdf_too_complex") from None
    if status == "refused":
        code, message = payload
        raise DocumentError(message, code)
    return payload


def _answer(raw: bytes) -> bytes:
    _messages.clear()
    return json.dumps(_run(raw)).encode()


def main() -> None:
    _collect_parser_messages()
    if sys.argv[1:] == ["--serve"]:
        worker.serve(_answer)
        return
    sys.stdout.write(json.dumps(_run(sys.stdin.buffer.read())))


if __name__ == "__main__":
    main()

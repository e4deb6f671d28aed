"""Parse an uploaded PDF in a separate process with time and memory limits.

PDF parsers can be made to loop, to inflate bombs or to build millions of objects. The parse
runs in a fresh interpreter (``python -I sandbox.py``, the file on standard input; the script
imports nothing of ours, so the child starts with pypdf alone)
with an address-space limit and a CPU limit set before it starts; the parent waits at most a
few seconds of wall time and then kills it. A fresh process, not a fork, because a fork of a
threaded server can inherit a held lock and hang. The child sends back only plain data as JSON:
identity, field values, and what active content the file carries. Nothing in the file is run
or followed.
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
from io import BytesIO


class Refused(Exception):
    """Raised in the child; the parent turns it into a DocumentError with the same code."""

    def __init__(self, message: str, code: str) -> None:
        super().__init__(message)
        self.message, self.code = message, code


MEMORY_LIMIT = 768 * 1024 * 1024
CPU_SECONDS = 10
WALL_SECONDS = 20
MAX_OBJECTS = 200_000


def _limit() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))
    resource.setrlimit(resource.RLIMIT_CPU, (CPU_SECONDS, CPU_SECONDS))


def _run(raw: bytes) -> tuple[str, object]:
    """In the child: ('ok', result) or ('refused', (code, message))."""
    try:
        return "ok", inspect(raw)
    except Refused as exc:
        return "refused", (exc.code, exc.message)
    except RecursionError:
        return "refused", ("corrupt_pdf", "The PDF is nested too deeply to read; it was refused.")
    except Exception as exc:  # any parser failure is a damaged file, unless memory ran out on the way
        if _out_of_memory(exc):
            return "refused", ("pdf_too_complex", "The PDF needs more memory to open than a form ever does; "
                                                  "it was refused.")
        return "refused", ("corrupt_pdf", f"The PDF is damaged and cannot be read ({type(exc).__name__}).")


def _out_of_memory(exc: BaseException | None) -> bool:
    """MemoryError here or anywhere in the chain; or a C extension the loader could not map into
    the limited address space (an ImportError saying it failed to map or allocate)."""
    seen = 0
    while exc is not None and seen < 20:
        if isinstance(exc, MemoryError):
            return True
        if isinstance(exc, ImportError) and any(w in str(exc).lower() for w in ("failed to map", "allocate")):
            return True
        exc, seen = exc.__cause__ or exc.__context__, seen + 1
    return False


def inspect(raw: bytes) -> dict:
    """Read what extraction needs, and what active content there is (runs inside the child)."""
    from pypdf import PdfReader

    reader = PdfReader(BytesIO(raw), strict=False)
    if reader.is_encrypted:
        raise Refused("The PDF is encrypted; save an unprotected copy and try again.", "encrypted")
    if len(reader.xref_objStm) + sum(len(v) for v in reader.xref.values()) > MAX_OBJECTS:
        raise Refused("The PDF holds far more objects than a form does; it was refused.", "pdf_too_complex")
    root = reader.trailer["/Root"]
    acro = root.get("/AcroForm")
    acro = acro.get_object() if acro is not None else {}
    info = reader.metadata or {}
    fields = reader.get_fields() or {}
    return {
        "info": {k: str(v) for k, v in info.items() if isinstance(k, str)},
        "fields": {name: _plain(f.get("/V")) for name, f in fields.items()},
        "xfa": "/XFA" in acro,
        "active": _active_content(reader, root),
    }


def _plain(value: object) -> object:
    if value is None:
        return None
    if isinstance(value, (list, tuple)):
        return [str(v) for v in value]
    return str(value)


def _active_content(reader, root) -> list[str]:
    """What would act by itself in a viewer: scripts, launch and similar actions, attachments."""
    found: set[str] = set()
    names = root.get("/Names")
    names = names.get_object() if names is not None else {}
    if "/JavaScript" in names:
        found.add("JavaScript")
    if "/EmbeddedFiles" in names:
        found.add("embedded files")
    for holder in [root] + [page for page in reader.pages]:
        for key in ("/OpenAction", "/AA"):
            if key in holder:
                found |= _actions(holder[key].get_object())
        for ref in holder.get("/Annots") or []:
            annot = ref.get_object()
            if annot.get("/Subtype") == "/FileAttachment":
                found.add("embedded files")
            for key in ("/A", "/AA"):
                if key in annot:
                    found |= _actions(annot[key].get_object())
    return sorted(found)


_ACTIVE = {"/JavaScript": "JavaScript", "/Launch": "a launch action", "/SubmitForm": "a submit action",
           "/ImportData": "an import action", "/GoToR": "a link to another file", "/GoToE": "a link to another file",
           "/URI": None, "/GoTo": None, "/Named": None}


def _actions(action: object, depth: int = 0) -> set[str]:
    out: set[str] = set()
    if depth > 8 or not hasattr(action, "get"):
        return out
    kind = action.get("/S")
    if kind is not None:
        label = _ACTIVE.get(str(kind), f"a {str(kind).lstrip('/')} action")
        if label:
            out.add(label)
        nxt = action.get("/Next")
        if nxt is not None:
            nxt = nxt.get_object()
            for a in nxt if isinstance(nxt, list) else [nxt]:
                out |= _actions(a.get_object() if hasattr(a, "get_object") else a, depth + 1)
    else:  # an additional-actions dictionary: trigger -> action
        for trigger in action.values():
            out |= _actions(trigger.get_object() if hasattr(trigger, "get_object") else trigger, depth + 1)
    return out


def parse_pdf(raw: bytes) -> dict:
    """``inspect(raw)`` in a limited child process; a DocumentError for anything it refused."""
    from ..errors import DocumentError

    try:
        proc = subprocess.run([sys.executable, "-I", __file__], input=raw, capture_output=True,
                              timeout=WALL_SECONDS, preexec_fn=_limit, check=False)
    except subprocess.TimeoutExpired:
        raise DocumentError("The PDF took too long to open (it may be built to loop); it was refused.",
                            "pdf_timeout") from None
    try:
        status, payload = json.loads(proc.stdout)
    except ValueError:
        raise DocumentError("Opening the PDF used up the limits set for it (a decompression bomb or a parser "
                            "loop); it was refused.", "pdf_too_complex") from None
    if status == "refused":
        code, message = payload
        raise DocumentError(message, code)
    return payload


def main() -> None:
    import logging

    logging.disable(logging.CRITICAL)  # the parent reports; nothing about the file goes to logs
    raw = sys.stdin.buffer.read()
    sys.stdout.write(json.dumps(_run(raw)))


if __name__ == "__main__":
    main()

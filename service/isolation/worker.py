"""What runs inside a worker process of ours, and what every long-lived process does for itself.

A worker (``service.isolation``) is a fresh interpreter that loads what it needs, says it is
ready, then answers one request at a time on its pipes (``serve``): a length, then the bytes.
For the reader workers a request names one of our functions and its arguments (pickled: it
comes from us) and the answer is JSON only (``worker_main``). A worker dies with the process
that started it, however that went (``die_with_parent``), and any long-lived process settles
what it keeps out of the collector's way (``settle``).

This module uses the standard library only, so a worker can load it by its path without the
package (the PDF worker does, to hold little more than its parser).
"""

from __future__ import annotations

import gc
import importlib
import json
import os
import pickle
import sys
import threading
from collections.abc import Callable

POLL_SECONDS = 0.5
READY = bytes(8)  # the frame a worker sends once loaded: an empty answer (no real answer is empty)


def settle() -> None:
    """In a long-lived process, once it has loaded what it keeps for good (modules, forms, the
    application): a full collection, then everything still alive moved out of the collector's
    way (``gc.freeze``). Otherwise every full collection walks those objects again: in a server
    process making PDFs that was a pause of up to 110 ms every few hundred documents, and a
    tenth of its CPU went on collections (docs/performance.md)."""
    gc.collect()
    gc.freeze()


def die_with_parent(parent: int | None = None) -> None:
    """Exit when the parent process (``parent``, or the current one) is gone."""
    parent = parent or os.getppid()
    if os.getppid() != parent:
        os._exit(1)

    def watch() -> None:
        while True:
            threading.Event().wait(POLL_SECONDS)
            if os.getppid() != parent:
                os._exit(1)

    threading.Thread(target=watch, name="watch-parent", daemon=True).start()


def serve(handle: Callable[[bytes], bytes], preload: tuple[str, ...] = ()) -> None:
    """The worker's loop: it imports ``preload`` and says it is ready, then a request in,
    ``handle(request)`` out, until the pipe closes. The worker dies with its parent even
    mid-request (a closed pipe alone is noticed only between requests)."""
    die_with_parent()
    for module in preload:
        importlib.import_module(module)
    settle()  # what it loaded, out of the collector's way
    stdin, stdout = sys.stdin.buffer, sys.stdout.buffer
    stdout.write(READY)
    stdout.flush()
    while header := stdin.read(8):
        answer = handle(stdin.read(int.from_bytes(header, "big")))
        stdout.write(len(answer).to_bytes(8, "big") + answer)
        stdout.flush()


_contexts: dict[str, object] = {}  # in a worker: token -> context (a worker serves at most recycle_after files)


def _dispatch(request: bytes) -> bytes:
    token, sent, function, args = pickle.loads(request)  # from the service that started us
    if sent is not None:
        _contexts[token] = sent[0]
        settle()  # the context (the forms) is kept as long as the worker: out of the collector's way
    try:
        answer = ["ok", function(_contexts[token], *args)]
    except MemoryError:  # the worker ends: what it holds now is not worth keeping
        os._exit(3)
    except Exception as exc:
        if any(c.__name__ == "StepDownError" for c in type(exc).__mro__):
            answer = ["refused", type(exc).__name__, exc.code, exc.message]
        else:
            answer = ["failed", type(exc).__name__]
    try:
        return json.dumps(answer, ensure_ascii=False).encode()
    except (TypeError, ValueError) as exc:
        return json.dumps(["failed", type(exc).__name__]).encode()


def worker_main(preload: tuple[str, ...] = ()) -> None:
    serve(_dispatch, preload)



"""Hostile input is handled in worker processes, where a bad file can only hurt the worker.

Every parser of a user's file (a Word form, a PDF form, a spreadsheet of meetings) runs in a
pool of workers: fresh interpreters (``python -I``, never a fork of a threaded server, which can
inherit a held lock), each started with an address-space limit (``Limits.memory``, so no process
of ours grows past it) and a CPU-time backstop, and given a wall-clock deadline for every file
(``Limits.wall_seconds``), after which it is killed. A worker that crashes, runs out of memory or
misses a deadline is gone and the next file starts a new one; workers are also replaced every
``Limits.recycle_after`` files, the successor started in the background. A worker loads what it
needs (``preload``) before it says it is ready, and is given a file only then, so no file waits
for a worker's imports. Up to ``size`` workers of a pool read at once; more callers wait
for one. Requests go to a worker over a pipe (pickled: they come from us), answers come back as
JSON only (the worker has touched hostile data; nothing it says is unpickled).

Workers also die with the process that started them, however it went (``kill -9`` included),
so nothing is left running and nothing piles up. A worker watches its parent's pid from a daemon
thread rather than asking the kernel (``PR_SET_PDEATHSIG``), because the kernel ties that to the
*thread* that started the worker: a request thread that ends would take a pooled worker with it.

``call`` runs one of our functions in a worker of a pool: the function travels by name (pickle
sends a function as its module and name), with a context that is large and unchanging (the form
registry, a meeting pack) sent to each worker once. The answer is the function's JSON-able
result, or the error of the tree it raised, rebuilt from the classes the caller accepts.

A caller on an event loop (an upload in a server process) awaits the answer instead
(``Pool.ask_async``, ``call_async``): the request is written and the answer read whenever the
pipes are ready, on the loop, so no thread waits on the worker and none is woken to hand the
answer back. Both ways share one exchange (``_Exchange``) over non-blocking pipes.

Here: the pools and ``call`` (``pool.py``, ``process.py``: the parent's side); what runs in a
worker, with only the standard library, is ``worker.py``. Answers are read with orjson (three
times quicker than the standard library).
"""

from __future__ import annotations

import itertools
import os
import pickle
import sys
import threading
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path

from orjson import loads as read_json

from .pool import Pool
from .process import Limits, Lost, _Exchange, _Worker
from .worker import die_with_parent, settle, worker_main

__all__ = ["Failed", "Limits", "Lost", "Pool", "call", "call_async", "die_with_parent", "readers", "read_json", "settle",
           "worker_command", "worker_main", "_Exchange", "_Worker"]


# -- one of our functions in a worker ------------------------------------------------------------

ROOT = str(Path(__file__).resolve().parents[2])  # the folder holding the service package


def worker_command(preload: tuple[str, ...] = ()) -> list[str]:
    """A fresh interpreter serving ``call`` requests, having imported ``preload`` first (the
    package found by its path, whatever the environment says: ``-I`` ignores it)."""
    return [sys.executable, "-I", "-c", f"import sys; sys.path.insert(0, {ROOT!r}); "
            f"from service.isolation import worker_main; worker_main({tuple(preload)!r})"]


class Failed(Exception):
    """The function raised something that is not an error the caller accepts: a bug, not a file
    problem; only the exception's type is sent back (its message might quote the file)."""


_tokens: OrderedDict[int, tuple[object, str]] = OrderedDict()  # id(context) -> (context, token)
_counter = itertools.count()
_token_lock = threading.Lock()


def _token(context: object) -> str:
    """A name for ``context``, the same while it lives (the context is held, so its id is not reused)."""
    with _token_lock:
        held = _tokens.get(id(context))
        if held is None or held[0] is not context:
            held = (context, f"{os.getpid()}-{next(_counter)}")
            _tokens[id(context)] = held
            while len(_tokens) > 32:
                _tokens.popitem(last=False)
        _tokens.move_to_end(id(context))
        return held[1]


def call(pool: Pool, function: Callable, context: object, *args: object,
         accept: tuple[type[Exception], ...] = ()) -> object:
    """``function(context, *args)`` in a worker of ``pool``: its JSON-able result. An exception
    whose class is one of ``accept`` (by name) is raised again here as ``cls(message, code)``;
    running out of memory or time raises Lost (the worker is gone); anything else Failed."""
    return _result(pool.ask(_request(function, context, args)), accept)


async def call_async(pool: Pool, function: Callable, context: object, *args: object,
                     accept: tuple[type[Exception], ...] = ()) -> object:
    """``call`` awaited on the running event loop (``Pool.ask_async``)."""
    return _result(await pool.ask_async(_request(function, context, args)), accept)


def _request(function: Callable, context: object, args: tuple) -> Callable[[set[str]], bytes]:
    token = _token(context)

    def request(known: set[str]) -> bytes:
        send = (context,) if token not in known else None  # a 1-tuple, since None is a context too
        known.add(token)
        return pickle.dumps((token, send, function, args), protocol=pickle.HIGHEST_PROTOCOL)

    return request


def _result(answer: bytes, accept: tuple[type[Exception], ...]) -> object:
    try:
        answer = read_json(answer)
    except ValueError:  # not what a worker of ours sends: it is not to be believed
        raise Failed("reading the file failed in its worker (an answer that is not JSON)") from None
    if answer[0] == "ok":
        return answer[1]
    if answer[0] == "refused":
        _, name, code, message = answer
        for cls in accept:
            if cls.__name__ == name:
                raise cls(message, code)
    raise Failed(f"reading the file failed in its worker ({answer[1]})")


_readers: Pool | None = None
READERS_LOAD = ("service.documents", "service.packs.inputs")  # where the functions they run live


def readers() -> Pool:
    """The pool that reads Word forms and spreadsheets (PDFs have their own, lighter workers)."""
    global _readers
    with _token_lock:
        if _readers is None:
            _readers = Pool(worker_command(READERS_LOAD))
        return _readers

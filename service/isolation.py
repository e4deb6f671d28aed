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

This module uses the standard library only, so a worker can load it by its path without the
package (the PDF worker does, to hold little more than its parser).
"""

from __future__ import annotations

import atexit
import gc
import itertools
import importlib
import json
import logging
import os
import pickle
import resource
import select
import subprocess
import sys
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

MIB = 1024 * 1024
POLL_SECONDS = 0.5
START_SECONDS = 30.0  # for a worker to load what it needs and say it is ready (a loaded machine is slow)
READY = bytes(8)  # the frame a worker sends once loaded: an empty answer (no real answer is empty)
log = logging.getLogger("stepdown.isolation")


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


@dataclass(frozen=True)
class Limits:
    """What one worker may use. The budget for any file under the upload limit is 10 s and
    512 MiB; the CPU backstop is for a worker's whole life (``recycle_after`` files, 0.6 s each on
    average: a form takes milliseconds)."""

    memory: int = 512 * MIB
    wall_seconds: float = 10.0
    cpu_seconds: int = 3000
    recycle_after: int = 5000


class Lost(Exception):
    """The worker gave no answer: it missed its deadline (``timed_out``) or died (out of memory,
    a crash). Not an error of the tree: each caller says what it means for its format."""

    def __init__(self, timed_out: bool) -> None:
        super().__init__("timed out" if timed_out else "died")
        self.timed_out = timed_out


class _Worker:
    def __init__(self, command: list[str], limits: Limits) -> None:
        def limit() -> None:  # in the child, before it runs
            resource.setrlimit(resource.RLIMIT_AS, (limits.memory, limits.memory))
            resource.setrlimit(resource.RLIMIT_CPU, (limits.cpu_seconds, limits.cpu_seconds))

        # few malloc arenas: each thread's arena reserves 64 MiB of address space, which counts
        # against the limit without ever holding data
        env = {"PATH": os.environ.get("PATH", ""), "MALLOC_ARENA_MAX": "2", "LANG": "C.UTF-8"}
        self.process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                        stderr=subprocess.DEVNULL, preexec_fn=limit, env=env)
        self.served = 0
        self.known: set[str] = set()  # what this worker has been sent once and keeps (see Pool.ask)
        self.ready = False

    def wait_ready(self, seconds: float = START_SECONDS) -> bool:
        """Wait for the worker to say it has loaded what it needs; False (and the worker killed)
        if it died or said nothing in time."""
        if not self.ready:
            try:
                self.ready = _read_exactly(self.process.stdout, 8, time.monotonic() + seconds) == READY
            except OSError:
                self.ready = False
            if not self.ready:
                log.warning("a worker (pid %s) died or did not say it was ready within %.0f s",
                            self.process.pid, seconds)
                self.stop()
        return self.ready

    def ask(self, request: bytes, deadline: float) -> bytes | None:
        """The worker's answer, or None if it died, never became ready, or missed the deadline
        (it is then killed)."""
        if not self.ready:
            self.served += 1
            return None
        try:
            self.process.stdin.write(len(request).to_bytes(8, "big") + request)
            self.process.stdin.flush()
            header = _read_exactly(self.process.stdout, 8, deadline)
            answer = _read_exactly(self.process.stdout, int.from_bytes(header, "big"), deadline) if header else None
        except (BrokenPipeError, OSError):
            answer = None
        self.served += 1
        if answer is None:
            self.stop()
        return answer

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
        chunk = os.read(fd, min(need, MIB))
        if not chunk:
            return None
        chunks.append(chunk)
        need -= len(chunk)
    return b"".join(chunks)


class Pool:
    """Workers running ``command``, at most ``size`` busy at once."""

    def __init__(self, command: list[str], limits: Limits = Limits(), size: int = 2) -> None:
        self.command = command
        self.limits = limits
        self.size = size
        self._idle: list[_Worker] = []
        self._busy = 0
        self._lock = threading.Condition()
        self.last_pid: int | None = None  # the worker that served the last request (tests watch recycling)
        atexit.register(self.reset)

    def configure(self, size: int | None = None, limits: Limits | None = None) -> None:
        """A new size or new limits (workers started from now on have them)."""
        with self._lock:
            self.size = max(1, size or self.size)
            self.limits = limits or self.limits
            self._lock.notify_all()
        if limits is not None:
            self.reset()

    def ready(self) -> bool:
        """Whether this pool can answer now: a worker is busy or idle and alive, or one can be
        started (it is then kept idle for the next request). Never waits for a busy worker."""
        with self._lock:
            if self._busy:
                return True
            for worker in list(self._idle):
                if worker.process.poll() is None:
                    return True
                self._idle.remove(worker)
                worker.stop()
            self._busy += 1  # counted while it starts
        return self._start_idle()

    def reset(self) -> None:
        """Stop the idle workers (the next request starts a new one, with the limits then in force)."""
        with self._lock:
            while self._idle:
                self._idle.pop().stop()

    def ask(self, request: bytes | Callable[[set[str]], bytes]) -> bytes:
        """The answer of a worker to ``request``; Lost if it gave none. ``request`` may be a
        function of what the chosen worker already keeps (``known``, which it may add to), so
        that something large and unchanging is sent to each worker once."""
        worker = self._take()
        start = time.monotonic()
        try:
            answer = worker.ask(request(worker.known) if callable(request) else request,
                                start + self.limits.wall_seconds)
        finally:
            self.last_pid = worker.process.pid
            self._give_back(worker if worker.process.poll() is None else None)
        if answer is None:
            raise Lost(timed_out=time.monotonic() - start >= self.limits.wall_seconds)
        return answer

    def _take(self) -> _Worker:
        """An idle live worker, or a new one while fewer than ``size`` are busy; else wait."""
        with self._lock:
            while True:
                while self._idle:
                    worker = self._idle.pop()
                    if worker.process.poll() is None and worker.served < self.limits.recycle_after:
                        self._busy += 1
                        return worker
                    worker.stop()
                if self._busy < self.size:
                    self._busy += 1
                    break
                self._lock.wait()
        try:
            worker = _Worker(self.command, self.limits)
        except BaseException:
            self._give_back(None)
            raise
        worker.wait_ready()  # one that never starts is dead: ``ask`` then says the file was lost
        return worker

    def _give_back(self, worker: _Worker | None) -> None:
        retired = worker is not None and worker.served >= self.limits.recycle_after
        with self._lock:
            self._busy -= 1
            if worker is not None and not retired:
                self._idle.append(worker)
            self._lock.notify()
        if retired:  # its successor starts now, in the background, not in the next upload's time
            threading.Thread(target=self._replace, args=(worker,), name="parser-recycle", daemon=True).start()

    def _replace(self, worker: _Worker) -> None:
        worker.stop()
        with self._lock:
            if len(self._idle) + self._busy >= self.size:
                return
            self._busy += 1  # counted while it starts
        self._start_idle()  # if it cannot start, the next request tries and says so

    def _start_idle(self) -> bool:
        """Start a worker (already counted busy) and leave it idle; whether it is running."""
        worker = None
        try:
            worker = _Worker(self.command, self.limits)
            worker.wait_ready()
        except OSError:
            return False
        finally:
            self._give_back(worker if worker is not None and worker.ready else None)
        return worker.ready and worker.process.poll() is None


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


# -- one of our functions in a worker ------------------------------------------------------------

ROOT = str(Path(__file__).resolve().parents[1])  # the folder holding the service package


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
    token = _token(context)

    def request(known: set[str]) -> bytes:
        send = (context,) if token not in known else None  # a 1-tuple, since None is a context too
        known.add(token)
        return pickle.dumps((token, send, function, args), protocol=pickle.HIGHEST_PROTOCOL)

    answer = json.loads(pool.ask(request))
    if answer[0] == "ok":
        return answer[1]
    if answer[0] == "refused":
        _, name, code, message = answer
        for cls in accept:
            if cls.__name__ == name:
                raise cls(message, code)
    raise Failed(f"reading the file failed in its worker ({answer[1]})")


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


_readers: Pool | None = None
READERS_LOAD = ("service.documents", "service.packs.inputs")  # where the functions they run live


def readers() -> Pool:
    """The pool that reads Word forms and spreadsheets (PDFs have their own, lighter workers)."""
    global _readers
    with _token_lock:
        if _readers is None:
            _readers = Pool(worker_command(READERS_LOAD))
        return _readers

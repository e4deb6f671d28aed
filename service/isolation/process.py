"""A worker process of a pool and the pipes to it (``service.isolation``): started with its
limits, told apart from one that never became ready, and one request's exchange at a time.

Both pipes are non-blocking. An exchange (``_Exchange``) writes the request and reads the one
answer a step each time a pipe is ready, driven by a thread waiting in ``select`` or by an
event loop's callbacks; an answer that is not one frame of a sensible size is not believed.
"""

from __future__ import annotations

import fcntl
import logging
import os
import resource
import select
import subprocess
import time
from dataclasses import dataclass

from .worker import READY

MIB = 1024 * 1024
START_SECONDS = 30.0  # for a worker to load what it needs and say it is ready (a loaded machine is slow)
MOST_ANSWER = 64 * MIB  # an answer claiming more is not one of ours: the worker is treated as lost
PIPE_BYTES = MIB  # the pipe to a worker widened to this, so a form's request goes in one write
log = logging.getLogger("stepdown.isolation")


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
        self.to, self.back = self.process.stdin.fileno(), self.process.stdout.fileno()
        os.set_blocking(self.to, False)  # every exchange waits for a pipe with select or the event loop
        os.set_blocking(self.back, False)
        try:
            fcntl.fcntl(self.to, fcntl.F_SETPIPE_SZ, PIPE_BYTES)
        except OSError:  # over the system's limit: the default size works, a step at a time
            pass

    def wait_ready(self, seconds: float = START_SECONDS) -> bool:
        """Wait for the worker to say it has loaded what it needs; False (and the worker killed)
        if it died or said nothing in time."""
        if not self.ready:
            try:
                self.ready = _read_exactly(self.back, 8, time.monotonic() + seconds) == READY
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
        answer = _Exchange(self, request).run(deadline) if self.ready else None
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


def _read_exactly(fd: int, n: int, deadline: float) -> bytes | None:
    chunks, need = [], n
    while need:
        left = deadline - time.monotonic()
        if left <= 0 or not select.select([fd], [], [], left)[0]:
            return None
        try:
            chunk = os.read(fd, min(need, MIB))
        except BlockingIOError:
            continue
        if not chunk:
            return None
        chunks.append(chunk)
        need -= len(chunk)
    return b"".join(chunks)


class _Garbled(Exception):
    """The worker's answer was not one frame of a sensible size."""


class _Exchange:
    """One request written to a worker and its one answer read back, a step each time a pipe is
    ready (both are non-blocking), driven by a thread waiting in ``select`` (``run``) or by an
    event loop's callbacks (``Pool.ask_async``)."""

    def __init__(self, worker: _Worker, request: bytes) -> None:
        self.worker = worker
        self.pending = memoryview(len(request).to_bytes(8, "big") + request)
        self.got = bytearray()
        self.size: int | None = None

    def write(self) -> bool:
        """Write what the pipe takes; whether the whole request is written. OSError if the worker is gone."""
        try:
            self.pending = self.pending[os.write(self.worker.to, self.pending):]
        except BlockingIOError:
            pass
        return not self.pending

    def read(self) -> bool:
        """Read what has come; whether the answer is complete. EOFError if the worker closed
        its end (it died), _Garbled if what it sends is not one frame of a sensible size."""
        try:
            chunk = os.read(self.worker.back, MIB)
        except BlockingIOError:
            return False
        if not chunk:
            raise EOFError
        self.got += chunk
        if self.size is None and len(self.got) >= 8:
            self.size = int.from_bytes(self.got[:8], "big")
            if self.size > MOST_ANSWER:
                raise _Garbled
        if self.size is None or len(self.got) < 8 + self.size:
            return False
        if len(self.got) > 8 + self.size:  # more than one answer to one request
            raise _Garbled
        return True

    def answer(self) -> bytes:
        return bytes(memoryview(self.got)[8:])

    def run(self, deadline: float) -> bytes | None:
        """In the calling thread: the answer, or None if the worker died, garbled it or missed the deadline."""
        to, back = self.worker.to, self.worker.back
        try:
            while True:
                left = deadline - time.monotonic()
                if left <= 0:
                    return None
                writing = bool(self.pending)
                readable, writable, _ = select.select([] if writing else [back], [to] if writing else [], [], left)
                if writable:
                    self.write()
                elif readable and self.read():
                    return self.answer()
        except (OSError, EOFError, _Garbled):
            return None



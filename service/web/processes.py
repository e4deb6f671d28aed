"""Several server processes on one port, each with its own listening socket (SO_REUSEPORT).

uvicorn's own ``--workers`` shares one socket between its processes, and whichever wakes first
accepts every connection waiting: under load, kept-alive connections piled onto one process
while the others sat idle (measured: 9.1 of 9.2 CPU seconds in one of two). With a socket each,
bound with SO_REUSEPORT, the kernel spreads new connections across the processes; by a hash,
so each process also counts its connections where the others can see them, and one holding
more than its share asks its next client to connect again (``server.Shares``).

The parent only supervises: it starts ``count`` processes, starts one again if it dies (and
gives up, stopping everything, if they keep dying at start), and on SIGTERM or Ctrl+C asks
each to finish its requests (uvicorn's graceful shutdown) before it exits. Each process exits
by itself if the parent is killed outright.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import socket
import sys
import threading
import time

from ..isolation import die_with_parent

RESTART_PAUSE = 1.0  # seconds before a dead process is started again
EARLY_DEATHS = 5  # processes dying within EARLY_SECONDS of starting, in a row, before giving up
EARLY_SECONDS = 10.0
STOP_SECONDS = 30.0  # for processes to finish their requests on shutdown (their own limit is 20)


def listening_socket(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # IPPROTO_TCP named, not left 0: asyncio turns Nagle's algorithm off (TCP_NODELAY) only for
    # sockets that say they are TCP, and with it on every response waited 40 ms for an ACK
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    sock.listen(2048)
    sock.set_inheritable(False)
    return sock


def _process(parent: int, host: str, port: int, options: dict, counts=None, mine: int = 0) -> None:
    """One server process: its own socket, the application from ``serve_app``. It exits when
    ``parent`` is gone, watched from the first moment: a process still starting when the
    parent was killed would otherwise take init for its parent and never leave."""
    die_with_parent(parent)
    import uvicorn  # deferred: after the watch (loading it and the app takes a second)

    from . import server

    if counts is not None:
        server.shares = server.Shares(counts, mine)
    sock = listening_socket(host, port)
    config = uvicorn.Config("service.web.app:serve_app", factory=True, **options)
    uvicorn.Server(config).run(sockets=[sock])


def serve_processes(host: str, port: int, count: int, options: dict) -> int:
    """Run ``count`` server processes until stopped; the exit status."""
    probe = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
    probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    probe.bind((host, port))  # a port taken by another program fails here, once, in words (OSError)
    context = multiprocessing.get_context("spawn")
    counts = context.RawArray("i", count)  # open connections, a slot for each process
    stopping = threading.Event()

    def stop(_signum, _frame) -> None:
        stopping.set()

    previous = {s: signal.signal(s, stop) for s in (signal.SIGTERM, signal.SIGINT)}
    processes: list = []
    started: dict[int, float] = {}
    early = 0

    def start(slot: int):  # the process clears its slot as it starts (server.Shares)
        p = context.Process(target=_process, args=(os.getpid(), host, port, options, counts, slot),
                            name="stepdown-server")
        p.start()
        started[p.pid] = time.monotonic()
        return p

    try:
        processes = [start(i) for i in range(count)]
        while not stopping.wait(0.5):
            for i, p in enumerate(processes):
                if p.is_alive():
                    continue
                early = early + 1 if time.monotonic() - started.pop(p.pid, 0.0) < EARLY_SECONDS else 0
                if early >= EARLY_DEATHS:
                    print("stepdown-forms: the server processes keep stopping as they start; giving up.",
                          file=sys.stderr)
                    return 1
                print(f"stepdown-forms: a server process stopped (exit {p.exitcode}); starting another.",
                      file=sys.stderr)
                time.sleep(RESTART_PAUSE)
                processes[i] = start(i)
        return 0
    finally:
        for p in processes:
            if p.is_alive():
                p.terminate()  # SIGTERM: uvicorn finishes the requests in flight
        deadline = time.monotonic() + STOP_SECONDS
        for p in processes:
            p.join(max(0.0, deadline - time.monotonic()))
            if p.is_alive():
                p.kill()
                p.join(5)
        probe.close()
        for s, handler in previous.items():
            signal.signal(s, handler)

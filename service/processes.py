"""Worker processes die with the process that started them.

A worker (a batch's pack builder, a PDF parser) watches its parent and exits the moment the
parent is gone, however it went — ``kill -9`` included — so nothing is left running and nothing
piles up. It watches by polling its parent's pid from a daemon thread, rather than asking the
kernel (``PR_SET_PDEATHSIG``), because the kernel ties that to the *thread* that started the
worker: a web service's request thread that ends would take a pooled worker with it."""

from __future__ import annotations

import os
import threading

POLL_SECONDS = 0.5


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

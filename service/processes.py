"""Worker processes die with the process that started them.

A worker (a batch's pack builder, a PDF parser) is killed by the kernel the moment its parent
dies, however it dies — ``kill -9`` included — so nothing is left running and nothing piles up
(Linux's ``PR_SET_PDEATHSIG``; elsewhere the worker checks its parent instead)."""

from __future__ import annotations

import ctypes
import os
import signal
import sys

PR_SET_PDEATHSIG = 1


def _find_prctl():
    """Looked up once, at import: a child between fork and exec must not load libraries."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        return ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None


_PRCTL = _find_prctl()


def die_with_parent(parent: int | None = None) -> None:
    """Ask to be killed when the parent process dies; ``parent``: the pid it should still have
    (if it died before this ran, exit now)."""
    if _PRCTL is not None:
        _PRCTL(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if parent is not None and os.getppid() != parent:
        os._exit(1)

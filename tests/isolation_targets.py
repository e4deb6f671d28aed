"""Functions the isolation tests run in a worker (a worker imports them by module and name)."""

from __future__ import annotations

import os
import resource
import time

from service.isolation import worker
from service.errors import DataError


def echo(context, value):
    return {"context": context, "value": value, "pid": os.getpid(), "contexts": len(worker._contexts)}


def frozen(context):
    """How many objects the worker has settled (gc.freeze) by now."""
    import gc

    return gc.get_freeze_count()


def sleep(context, seconds):
    time.sleep(seconds)
    return "slept"


def hog(context, mib):
    block = bytearray(mib * 1024 * 1024)
    return len(block)


def refuse(context):
    raise DataError("the input is wrong in a plain way", "wrong_input")


def bug(context):
    raise KeyError("a value from the file that must not travel")


def not_json(context):
    return {1, 2}


def limits(context):
    return [resource.getrlimit(resource.RLIMIT_AS)[0], resource.getrlimit(resource.RLIMIT_CPU)[0],
            os.environ.get("MALLOC_ARENA_MAX")]


def sized(context, size):
    """An answer of about ``size`` bytes (larger than a pipe holds at once), and what was sent."""
    return {"text": "x" * size, "sent": len(context or "")}


def lie(context):
    """A worker that has gone wrong: it claims an answer of a terabyte, then says nothing more."""
    import sys

    sys.stdout.buffer.write((1 << 40).to_bytes(8, "big"))
    sys.stdout.buffer.flush()
    time.sleep(30)

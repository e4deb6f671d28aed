"""A service killed with kill -9 in the middle of a batch leaves no process behind: its pack
builders die with it (and with them the resource tracker they keep alive), and so do its PDF
parsers."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

BATCH = r"""
import os, sys, threading
sys.path.insert(0, {root!r})
from service.packs import default_packs
from service.packs.batch import run_batch
from service.spec import default_registry
pack = default_packs().get("placement-stability-meeting")
rows = "su_number,meeting_date,requested_at\n" + "".join(
    f"SU-EX-{{i}},02/12/2026,01/12/2026 09:00\n" for i in range(400))
def progress(done, total, row):
    if done == 1:
        print("started", flush=True)
run_batch(pack, default_registry(), rows.encode(), {out!r}, workers=2, progress=progress)
"""


def _children(pid: int) -> list[int]:
    out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(pid)], capture_output=True, text=True).stdout
    return [int(p) for p in out.split()]


def _left_after(pids: list[int], seconds: float) -> list[int]:
    """Those of ``pids`` still alive once they have all gone, or ``seconds`` have passed."""
    deadline = time.monotonic() + seconds
    while any(_alive(p) for p in pids) and time.monotonic() < deadline:
        time.sleep(0.1)
    return [p for p in pids if _alive(p)]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    stat = Path(f"/proc/{pid}/stat")
    return stat.exists() and stat.read_text().split()[2] != "Z"


def test_a_killed_batch_leaves_no_process_behind(tmp_path):
    script = BATCH.format(root=str(ROOT), out=str(tmp_path / "out.zip"))
    # (stderr: the resource tracker says, rightly, that the killed process left semaphores to clean up)
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                            text=True, cwd=tmp_path)
    try:
        assert proc.stdout.readline().strip() == "started"
        workers = _children(proc.pid)
        assert len(workers) >= 2, workers  # the builders (and the resource tracker)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(10)
        assert not _left_after(workers, 15)
        assert not list(tmp_path.glob("*.zip"))  # nothing half-written is left as a ZIP
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.stdout.close()


PARSER = r"""
import sys, time
sys.path.insert(0, {root!r})
from service import extract_document, generate_document, isolation
from service.pdf import sandbox
from service.spec import default_registry
registry = default_registry()
extract_document(generate_document(registry.get("ramp"), None, format={format!r}), registry)
print((sandbox.POOL if {format!r} == "pdf" else isolation.readers()).last_pid, flush=True)
time.sleep(60)
"""


@pytest.mark.parametrize("format", ["pdf", "docx"])
def test_a_killed_service_leaves_no_parser_behind(format):
    """Neither the PDF worker nor the reader worker (Word, spreadsheets) outlives a kill -9."""
    proc = subprocess.Popen([sys.executable, "-c", PARSER.format(root=str(ROOT), format=format)],
                            stdout=subprocess.PIPE, text=True)
    try:
        worker = int(proc.stdout.readline())
        assert _alive(worker)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(10)
        deadline = time.monotonic() + 10
        while _alive(worker) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not _alive(worker)
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.stdout.close()


def test_a_pooled_parser_outlives_the_request_thread_that_started_it():
    """Workers are kept for the next upload, whichever thread it comes on: one started by a
    request thread that has since ended still serves (a parent-death signal tied to the thread
    would have killed it)."""
    import threading

    from service import generate_document
    from service.pdf import extract_pdf, sandbox
    from tests.conftest import REGISTRY

    sandbox.reset()
    raw = generate_document(REGISTRY.get("ramp"), None, format="pdf")
    thread = threading.Thread(target=lambda: extract_pdf(raw, REGISTRY))
    thread.start()
    thread.join(30)
    first = sandbox.POOL.last_pid
    time.sleep(1)
    assert _alive(first)
    assert extract_pdf(raw, REGISTRY).form == "ramp" and sandbox.POOL.last_pid == first

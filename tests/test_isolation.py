"""The worker pools every parser of user files runs in (service.isolation): limits, deadlines,
answers as JSON only, errors rebuilt by class, workers replaced and recycled, a pool's size."""

from __future__ import annotations

import threading

import pytest

from service import isolation
from service.errors import DataError, DocumentError
from tests import isolation_targets as targets


@pytest.fixture
def pool():
    p = isolation.Pool(isolation.worker_command(), isolation.Limits(wall_seconds=20))
    yield p
    p.reset()


def test_a_function_runs_in_a_worker_with_its_context(pool):
    import os

    answer = isolation.call(pool, targets.echo, {"forms": ["a"]}, [1, "two"])
    assert answer["context"] == {"forms": ["a"]} and answer["value"] == [1, "two"]
    assert answer["pid"] != os.getpid() and answer["pid"] == pool.last_pid


def test_a_context_is_sent_to_each_worker_once(pool, monkeypatch):
    sizes = []
    ask = isolation._Worker.ask

    def measured(self, request, deadline):
        sizes.append(len(request))
        return ask(self, request, deadline)

    monkeypatch.setattr(isolation._Worker, "ask", measured)
    context = {"big": "x" * 200_000}
    for _ in range(3):
        assert isolation.call(pool, targets.echo, context, 1)["contexts"] == 1
    assert sizes[0] > 200_000 and sizes[1] < 1000 and sizes[2] < 1000
    other = {"big": "y" * 10}
    assert isolation.call(pool, targets.echo, other, 1)["context"] == other  # a second context, sent too


def test_an_error_of_the_tree_is_raised_again_as_its_class(pool):
    with pytest.raises(DataError) as info:
        isolation.call(pool, targets.refuse, None, accept=(DataError,))
    assert info.value.code == "wrong_input" and info.value.message == "the input is wrong in a plain way"


def test_an_error_not_accepted_or_a_bug_is_a_failure_naming_only_its_type(pool):
    with pytest.raises(isolation.Failed) as info:
        isolation.call(pool, targets.refuse, None, accept=(DocumentError,))
    assert "DataError" in str(info.value) and "plain way" not in str(info.value)
    with pytest.raises(isolation.Failed) as info:
        isolation.call(pool, targets.bug, None)
    assert "KeyError" in str(info.value) and "must not travel" not in str(info.value)
    with pytest.raises(isolation.Failed, match="TypeError"):
        isolation.call(pool, targets.not_json, None)
    assert isolation.call(pool, targets.echo, None, 2)["value"] == 2  # the worker still serves


def test_the_limits_are_set_in_the_worker(pool):
    memory, cpu, arenas = isolation.call(pool, targets.limits, None)
    assert memory == isolation.Limits().memory == 512 * 1024 * 1024 and cpu == isolation.Limits().cpu_seconds
    assert arenas == "2"


def test_the_memory_limit_stops_a_worker_and_a_new_one_follows(pool):
    with pytest.raises(isolation.Lost) as info:
        isolation.call(pool, targets.hog, None, 600)
    assert not info.value.timed_out
    first = pool.last_pid
    assert isolation.call(pool, targets.hog, None, 50) == 50 * 1024 * 1024
    assert pool.last_pid != first


def test_the_wall_deadline_kills_a_worker(pool):
    pool.configure(limits=isolation.Limits(wall_seconds=0.5))
    with pytest.raises(isolation.Lost) as info:
        isolation.call(pool, targets.sleep, None, 30)
    assert info.value.timed_out
    assert not _alive(pool.last_pid)
    assert isolation.call(pool, targets.sleep, None, 0) == "slept"


def test_workers_are_recycled(pool):
    pool.configure(limits=isolation.Limits(recycle_after=2))
    pids = set()
    for _ in range(5):
        isolation.call(pool, targets.echo, None, 0)
        pids.add(pool.last_pid)
    assert len(pids) == 3


def test_a_retired_worker_is_replaced_before_the_next_request_needs_one(pool):
    """Starting a worker takes most of a second; the successor of one that served its share is
    started in the background as it retires, so the next upload finds it waiting."""
    import time

    pool.configure(limits=isolation.Limits(recycle_after=1))
    isolation.call(pool, targets.echo, None, 0)
    retired = pool.last_pid
    deadline = time.monotonic() + 20
    while not pool._idle and time.monotonic() < deadline:
        time.sleep(0.05)
    assert pool._idle, "no successor was started"
    waiting = pool._idle[0].process.pid
    assert waiting != retired and not _alive(retired)
    isolation.call(pool, targets.echo, None, 0)
    assert pool.last_pid == waiting


def test_a_worker_is_handed_a_file_only_once_it_has_loaded_what_it_needs(tmp_path, monkeypatch):
    """A retired worker's successor loads its modules in the background and joins the idle
    workers only when it says it is ready: a file handed to it earlier would wait for the
    imports (the slowest uploads were those)."""
    import time

    monkeypatch.chdir(tmp_path)  # the workers' working folder, where the slow module leaves its mark
    pool = isolation.Pool(isolation.worker_command(("tests.isolation_slow",)), isolation.Limits(recycle_after=1))
    try:
        first = isolation.call(pool, targets.echo, None, 0)["pid"]
        assert (tmp_path / f"loaded-{first}").is_file()  # started for the request: ready before it was asked
        deadline = time.monotonic() + 30
        while not pool._idle and time.monotonic() < deadline:
            time.sleep(0.01)
        assert pool._idle, "no successor was started"
        successor = pool._idle[0].process.pid
        assert successor != first and (tmp_path / f"loaded-{successor}").is_file()
        assert isolation.call(pool, targets.echo, None, 0)["pid"] == successor
        while (pool._busy or not pool._idle) and time.monotonic() < deadline:
            time.sleep(0.01)  # its own successor, starting here too, before the folder changes back
    finally:
        pool.reset()


def test_a_worker_that_cannot_load_is_a_lost_file_and_the_pool_is_not_ready():
    pool = isolation.Pool(isolation.worker_command(("tests.no_such_module",)), isolation.Limits(wall_seconds=20))
    try:
        with pytest.raises(isolation.Lost) as info:
            isolation.call(pool, targets.echo, None, 0)
        assert not info.value.timed_out
        assert pool.ready() is False and pool._busy == 0 and not pool._idle
    finally:
        pool.reset()


def test_a_pool_reads_size_files_at_once_and_the_rest_wait(pool, monkeypatch):
    """Two requests at once go to two workers at the same time; a third waits for one of them.
    Each worker's answer is held until the other of the first two has started: with one worker
    only, that would never happen and the barrier would break."""
    pool.configure(size=2)
    lock, both_started = threading.Lock(), threading.Barrier(2, timeout=30)
    events: list[tuple[str, int]] = []  # ("in" | "out", how many were being read then)
    inside = [0]
    ask = isolation._Worker.ask

    def watched(self, request, deadline):
        with lock:
            inside[0] += 1
            events.append(("in", inside[0]))
            first_two = sum(1 for e in events if e[0] == "in") <= 2
        if first_two:
            both_started.wait()
        try:
            return ask(self, request, deadline)
        finally:
            with lock:
                inside[0] -= 1
                events.append(("out", inside[0]))

    monkeypatch.setattr(isolation._Worker, "ask", watched)
    errors, pids = [], set()

    def read():
        try:
            pids.add(isolation.call(pool, targets.echo, None, 0)["pid"])
        except Exception as exc:  # collected for the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=read) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == [] and not both_started.broken
    assert max(n for kind, n in events if kind == "in") == 2, events  # two at once, never three
    third = [i for i, e in enumerate(events) if e[0] == "in"][2]
    assert any(e[0] == "out" for e in events[:third]), events  # the third started after one finished
    assert len(pids) == 2 and len(pool._idle) == 2 and pool._busy == 0


def _alive(pid: int) -> bool:
    from tests.packs.test_crash import _alive as alive

    return alive(pid)


def test_a_worker_settles_what_it_loads_and_the_context_it_keeps(pool):
    before = isolation.call(pool, targets.frozen, None)
    after = isolation.call(pool, targets.frozen, {"forms": [[i] for i in range(2000)]})
    assert before > 1000 and after > before + 2000  # the new context's lists, frozen when it came


SETTLED = """
import gc, json, os, sys
sys.path.insert(0, {root!r})
from service.settings import Settings
from service.store import Database
from service.web.app import serve_app
Database(Settings.from_env()).migrate()  # the parent's start-up work
app = serve_app()  # as each server process makes its application
frozen = gc.get_freeze_count()

class Node:
    pass

a, b = Node(), Node()
a.other, b.other = b, a  # a cycle made after settling: still collected
del a, b
print(json.dumps({{"frozen": frozen, "collected": gc.collect()}}))
"""


def test_a_server_process_settles_what_it_keeps_and_still_collects_what_it_drops(tmp_path):
    """``settle``: the application and forms a server process loads are frozen out of the
    collector's way (no full-collection pauses over them), while garbage made afterwards is
    still collected. Run in a process of its own: freezing this test process would keep its
    garbage for good."""
    import json
    import os
    import subprocess
    import sys
    from pathlib import Path

    root = str(Path(__file__).resolve().parents[1])
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path}/settled.sqlite3", "STEPDOWN_DATA_DIR": str(tmp_path)}
    out = subprocess.run([sys.executable, "-c", SETTLED.format(root=root)], env=env, cwd=root,
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    found = json.loads(out.stdout.strip().splitlines()[-1])
    assert found["frozen"] > 10_000 and found["collected"] >= 2


# -- awaited on an event loop (an upload in a server process) --------------------------------

def _run(coroutine):
    import asyncio

    return asyncio.run(coroutine)


def test_an_awaited_call_answers_as_a_threads_does_and_sends_the_context_once(pool):
    context = {"forms": ["a"]}

    async def twice():
        first = await isolation.call_async(pool, targets.echo, context, [1, "two"])
        second = await isolation.call_async(pool, targets.echo, context, 3)
        return first, second

    first, second = _run(twice())
    assert first["context"] == {"forms": ["a"]} and first["value"] == [1, "two"] and second["value"] == 3
    assert second["contexts"] == 1 and first["pid"] == second["pid"] == pool.last_pid
    with pytest.raises(DataError) as info:
        _run(isolation.call_async(pool, targets.refuse, None, accept=(DataError,)))
    assert info.value.code == "wrong_input"
    with pytest.raises(isolation.Failed, match="KeyError"):
        _run(isolation.call_async(pool, targets.bug, None))


def test_an_awaited_call_moves_requests_and_answers_larger_than_a_pipe(pool):
    context = "c" * (3 * 1024 * 1024)  # more than the widened pipe (1 MiB) holds: written a step at a time
    answer = _run(isolation.call_async(pool, targets.sized, context, 5 * 1024 * 1024))
    assert answer["sent"] == len(context) and len(answer["text"]) == 5 * 1024 * 1024
    assert isolation.call(pool, targets.sized, None, 10)["text"] == "x" * 10  # the same worker, by a thread next


def test_an_awaited_call_past_its_deadline_or_memory_is_lost_and_the_worker_gone(pool):
    import time

    pool.configure(limits=isolation.Limits(wall_seconds=0.5))
    start = time.monotonic()
    with pytest.raises(isolation.Lost) as info:
        _run(isolation.call_async(pool, targets.sleep, None, 30))
    assert info.value.timed_out and time.monotonic() - start < 5
    slow = pool.last_pid
    pool.configure(limits=isolation.Limits(wall_seconds=20))
    with pytest.raises(isolation.Lost) as info:
        _run(isolation.call_async(pool, targets.hog, None, 600))
    assert not info.value.timed_out
    deadline = time.monotonic() + 10
    while (_alive(slow) or _alive(pool.last_pid)) and time.monotonic() < deadline:
        time.sleep(0.05)  # killed in the background
    assert not _alive(slow) and not _alive(pool.last_pid)
    assert _run(isolation.call_async(pool, targets.echo, None, 4))["value"] == 4


def test_a_worker_whose_answer_is_not_one_frame_is_lost_not_believed(pool):
    with pytest.raises(isolation.Lost) as info:
        _run(isolation.call_async(pool, targets.lie, None))
    assert not info.value.timed_out
    with pytest.raises(isolation.Lost):
        isolation.call(pool, targets.lie, None)
    assert isolation.call(pool, targets.echo, None, 5)["value"] == 5


def test_a_caller_that_goes_away_leaves_the_worker_to_finish_and_serve_the_next(pool):
    """A request cancelled while its file is read (the server shutting down, a client gone)
    stops waiting, but the worker is not killed half-way: it finishes, is given back, and
    reads the next file."""
    import asyncio

    async def cancel_one():
        await isolation.call_async(pool, targets.echo, None, 0)  # a worker started and idle
        reading = asyncio.ensure_future(isolation.call_async(pool, targets.sleep, None, 0.5))
        await asyncio.sleep(0.2)
        reading.cancel()
        with pytest.raises(asyncio.CancelledError):
            await reading
        busy = pool._busy
        await asyncio.sleep(1.0)
        return busy, pool._busy, len(pool._idle)

    busy, later, idle = _run(cancel_one())
    assert busy == 1 and later == 0 and idle == 1  # still reading when cancelled; given back once done
    pid = pool._idle[0].process.pid
    assert _alive(pid)
    assert isolation.call(pool, targets.echo, None, 6)["pid"] == pid


def test_a_caller_that_goes_away_while_a_worker_starts_for_it_gives_that_worker_back(pool):
    import asyncio
    import time

    async def cancel_while_starting():
        taking = asyncio.ensure_future(isolation.call_async(pool, targets.echo, None, 0))
        await asyncio.sleep(0.05)  # a worker takes most of a second to start
        taking.cancel()
        with pytest.raises(asyncio.CancelledError):
            await taking

    _run(cancel_while_starting())
    deadline = time.monotonic() + 30
    while pool._busy and time.monotonic() < deadline:
        time.sleep(0.05)
    assert pool._busy == 0 and len(pool._idle) == 1

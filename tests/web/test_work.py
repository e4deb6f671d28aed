"""The core thread that makes documents for a server process (``web/work.py``)."""

from __future__ import annotations

import asyncio
import gc
import threading
import time

import pytest

from service.web import work


def test_pieces_run_one_at_a_time_in_order_off_the_loop():
    running, most, order = 0, 0, []
    lock = threading.Lock()
    loop_thread = []

    def piece(n):
        nonlocal running, most
        with lock:
            running += 1
            most = max(most, running)
        time.sleep(0.005)
        order.append(n)
        with lock:
            running -= 1
        return n * n, threading.current_thread()

    async def main():
        loop_thread.append(threading.current_thread())
        return await asyncio.gather(*(work.on_core(piece, n) for n in range(12)))

    results = asyncio.run(main())
    assert [r for r, _ in results] == [n * n for n in range(12)]
    assert most == 1 and order == list(range(12))
    threads = {t for _, t in results}
    assert len(threads) == 1 and loop_thread[0] not in threads


def test_the_loop_answers_while_a_piece_runs():
    started = threading.Event()

    def slow():
        started.set()
        time.sleep(0.2)
        return "done"

    async def main():
        task = asyncio.ensure_future(work.on_core(slow))
        ticks = 0
        while not task.done():
            await asyncio.sleep(0.01)
            ticks += started.is_set()
        return await task, ticks

    result, ticks = asyncio.run(main())
    assert result == "done" and ticks >= 5  # the loop went on turning while the thread worked


def test_an_error_reaches_the_caller_and_the_next_piece_still_runs():
    def fails():
        raise ValueError("bad form")

    async def main():
        with pytest.raises(ValueError, match="bad form"):
            await work.on_core(fails)
        return await work.on_core(lambda: 7)

    assert asyncio.run(main()) == 7


def test_a_cancelled_request_is_skipped_if_it_has_not_started():
    ran = []
    gate = threading.Event()

    async def main():
        first = asyncio.ensure_future(work.on_core(gate.wait, 5))
        second = asyncio.ensure_future(work.on_core(ran.append, "second"))
        await asyncio.sleep(0.05)
        second.cancel()
        gate.set()
        assert await first is True
        with pytest.raises(asyncio.CancelledError):
            await second
        return await work.on_core(ran.append, "third")

    asyncio.run(main())
    assert ran == ["third"]


def test_the_thread_ends_with_its_loop():
    core = asyncio.run(work.on_core(threading.current_thread))  # the thread that ran the piece
    assert core.name == "core" and core is not threading.current_thread()
    deadline = time.monotonic() + 5
    while core.is_alive() and time.monotonic() < deadline:
        gc.collect()  # the loop, once collected, tells its thread to end
        time.sleep(0.01)
    assert not core.is_alive()

"""The parser slots (``records.reading``): shared by callers in threads and on event loops, served
in the order they came, given up after a wait, and never lost by a caller that goes away."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest

from service.errors import Busy
from service.records import reading
from service.records.reading import Slots


def test_threads_and_loop_callers_are_served_first_come_first_served():
    slots = Slots(1)
    assert slots.acquire(1)
    order: list[str] = []

    def in_thread(name: str, queued: threading.Event) -> None:
        queued.set()
        assert slots.acquire(10)
        order.append(name)
        slots.release()

    async def on_loop() -> None:
        assert await slots.acquire_async(10)
        order.append("loop")
        slots.release()

    first = threading.Event()
    t1 = threading.Thread(target=in_thread, args=("thread 1", first))
    t1.start()
    first.wait(5)
    time.sleep(0.1)  # thread 1 is waiting

    async def scenario() -> None:
        waiting = asyncio.ensure_future(on_loop())
        await asyncio.sleep(0.1)  # the loop's caller is second in line
        second = threading.Event()
        t2 = threading.Thread(target=in_thread, args=("thread 2", second))
        t2.start()
        await asyncio.to_thread(second.wait, 5)
        await asyncio.sleep(0.1)
        slots.release()  # the holder is done: the line moves in order
        await waiting
        await asyncio.to_thread(t2.join, 10)

    asyncio.run(scenario())
    t1.join(10)
    assert order == ["thread 1", "loop", "thread 2"]
    assert slots.acquire(0.01)  # everything was given back


def test_a_wait_gives_up_after_its_time_on_a_loop_and_in_a_thread():
    slots = Slots(1)
    assert slots.acquire(1)
    start = time.monotonic()
    assert asyncio.run(slots.acquire_async(0.2)) is False
    assert slots.acquire(0.2) is False
    assert 0.35 < time.monotonic() - start < 3
    slots.release()
    assert asyncio.run(slots.acquire_async(0.2)) is True  # those who gave up are not in line any more


def test_a_caller_cancelled_while_it_waits_takes_no_slot_and_passes_on_one_given_to_it():
    slots = Slots(1)
    assert slots.acquire(1)

    async def scenario() -> bool:
        waiting = asyncio.ensure_future(slots.acquire_async(10))
        await asyncio.sleep(0.05)
        slots.release()  # given to the waiting caller ...
        waiting.cancel()  # ... which goes away before it runs again
        with pytest.raises(asyncio.CancelledError):
            await waiting
        return await slots.acquire_async(0.1)

    assert asyncio.run(scenario()) is True  # the slot was passed on, not lost


def test_an_upload_awaited_on_a_loop_waits_for_the_same_slots_as_one_in_a_thread(monkeypatch):
    monkeypatch.setattr(reading, "WAIT_FOR_SLOT", 0.05)

    async def read_one(user: str) -> str:
        async with reading.reading_slot_async(user, 1):
            return "read"

    with reading.reading_slot("someone", 1):  # holds the only slot
        with pytest.raises(Busy, match="Too many uploads"):
            asyncio.run(read_one("someone else"))
        with pytest.raises(Busy, match="Another of your uploads"):
            asyncio.run(read_one("someone"))
    assert asyncio.run(read_one("someone")) == "read"


def test_an_upload_is_received_from_code_already_running_an_event_loop(db):
    """``receive_submission`` (the form for scripts and tests) works from a thread that is running
    a loop of its own (a browser driver's, say), not only from plain code."""
    import service
    from service import records
    from tests.conftest import REGISTRY, load_sample

    actor = records.create_user(db, "loop.user", "a long enough password", role="practitioner", team="Loop Team")
    raw = service.generate_document(REGISTRY.get("ramp"), load_sample("ramp"))

    async def inside_a_loop() -> dict:
        return records.receive_submission(db, actor, REGISTRY, raw)

    assert asyncio.run(inside_a_loop())["form"] == "ramp"
    assert records.receive_submission(db, actor, REGISTRY, raw)["form"] == "ramp"

"""A pool of worker processes (``service.isolation``): at most ``size`` busy at once, idle ones
kept for the next request, dead, worn-out and retired ones replaced."""

from __future__ import annotations

import asyncio
import atexit
import threading
import time
from collections.abc import Callable

from .process import Limits, Lost, _Exchange, _Garbled, _Worker


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

    async def ask_async(self, request: bytes | Callable[[set[str]], bytes]) -> bytes:
        """``ask`` awaited on the running event loop: the request is written and the answer read
        by the loop whenever the worker's pipes are ready. Only taking a worker when none is idle
        (starting one, or waiting for one to be free) happens in a thread. A caller cancelled
        while it waits stops waiting; the exchange goes on without it and gives the worker back
        when it ends, so a request that goes away never leaves a worker half-way through a file."""
        worker = self._take_idle() or await self._take_in_thread()
        loop = asyncio.get_running_loop()
        done = loop.create_future()
        start = time.monotonic()
        try:
            exchange = _Exchange(worker, request(worker.known) if callable(request) else request)
        except BaseException:
            self._give_back(worker)
            raise
        to, back = worker.to, worker.back

        def finish(answer: bytes | None) -> None:
            if done.done():
                return
            timer.cancel()
            loop.remove_writer(to)
            loop.remove_reader(back)
            worker.served += 1
            self.last_pid = worker.process.pid
            if answer is None:  # dead, garbled or too slow: killed, in a thread (it may take a moment to go)
                threading.Thread(target=worker.stop, name="parser-stop", daemon=True).start()
            self._give_back(worker if answer is not None else None)
            done.set_result(answer)

        def readable() -> None:
            try:
                if exchange.read():
                    finish(exchange.answer())
            except (OSError, EOFError, _Garbled):
                finish(None)

        def writable() -> None:
            try:
                if exchange.write():
                    loop.remove_writer(to)
                    loop.add_reader(back, readable)
            except OSError:
                finish(None)

        timer = loop.call_later(self.limits.wall_seconds, finish, None)
        if not worker.ready:
            finish(None)
        else:
            loop.add_writer(to, writable)  # the first write is made at once if the pipe is empty
        answer = await asyncio.shield(done)
        if answer is None:
            raise Lost(timed_out=time.monotonic() - start >= self.limits.wall_seconds)
        return answer

    async def _take_in_thread(self) -> _Worker:
        """``_take`` (which may start a worker, or wait for one) in a thread; should the caller go
        away meanwhile, the worker it was getting is given back, by whichever side is last."""
        lock, claim = threading.Lock(), {"worker": None, "abandoned": False}

        def take() -> _Worker:
            worker = self._take()
            with lock:
                claim["worker"] = worker
                if not claim["abandoned"]:
                    return worker
            self._give_back(worker)
            return worker

        try:
            return await asyncio.to_thread(take)
        except asyncio.CancelledError:
            with lock:
                claim["abandoned"] = True
                worker = claim["worker"]
            if worker is not None:
                self._give_back(worker)
            raise

    def _take_idle(self) -> _Worker | None:
        """An idle live worker, if there is one, without waiting."""
        with self._lock:
            return self._pop_idle()

    def _pop_idle(self) -> _Worker | None:
        """(Holding the lock.) An idle live worker, counted busy; dead or worn-out ones stopped."""
        while self._idle:
            worker = self._idle.pop()
            if worker.process.poll() is None and worker.served < self.limits.recycle_after:
                self._busy += 1
                return worker
            worker.stop()
        return None

    def _take(self) -> _Worker:
        """An idle live worker, or a new one while fewer than ``size`` are busy; else wait."""
        with self._lock:
            while True:
                worker = self._pop_idle()
                if worker is not None:
                    return worker
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



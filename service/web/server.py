"""The HTTP server's own protocol: uvicorn's HTTP/1.1, with a deadline for headers.

uvicorn's httptools protocol (llhttp, the parser Node.js uses, in C) when httptools is
installed — it is a dependency, for the CPU a request costs (docs/performance.md) — else its
pure-Python h11 one; the deadline is the same on both.

uvicorn waits for a request's line and headers as long as a client keeps the connection open,
so a client trickling a header a byte at a time holds a connection for ever (the body has its
own limits, in ``limits.BodyLimit``). Here a connection that has not sent a whole request line
and headers within ``HEADER_SECONDS`` of connecting, or of starting its next request on a
kept-alive connection, is answered 408 and closed. Idle kept-alive connections are closed by
uvicorn's keep-alive timeout as before.

With several server processes (``processes.py``), each counts its open connections in a table
the processes share, and a process holding more than its share answers its next request with
``Connection: close``, so that client connects again and the kernel places it afresh. The
kernel spreads connections across the processes' sockets by a hash, not by load: 16 kept-alive
clients were found split 10 to 6, and those on the busier process waited two thirds longer
(generating PDFs: p50 23 ms, p95 74 ms). A client told to close after its response loses
nothing (it was told before it could send on that connection again). httptools' protocol
only; with h11 connections stay where they landed.

uvicorn writes a response's head and its body to the socket separately: two sends, two
segments, and on loopback the first one woke the client, which often ran at once and took the
core while this process still held its interpreter lock — with py-spy under upload load a tenth
of a server process's samples were that one line. Here what a turn of the event loop writes to
a connection goes out in one send (``Coalesced``).
"""

from __future__ import annotations

import asyncio
import math

try:
    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol as _Protocol
except ImportError:  # httptools missing: the pure-Python parser, as before
    from uvicorn.protocols.http.h11_impl import H11Protocol as _Protocol

HEADER_SECONDS = 10.0

_BODY = b'{"error": {"code": "request_timeout", "message": "The request\'s headers came too slowly."}}'
_TIMEOUT = (b"HTTP/1.1 408 Request Timeout\r\ncontent-type: application/json\r\nconnection: close\r\n"
            b"content-length: %d\r\n\r\n" % len(_BODY) + _BODY)


class Shares:
    """Open connections per server process, in memory the processes share (``counts``, a ctypes
    array of ints from the parent); this process is ``mine``. Read and written without a lock:
    a count a moment out of date only delays a move by a request."""

    def __init__(self, counts, mine: int) -> None:
        self.counts, self.mine = counts, mine
        counts[mine] = 0  # a process started again begins with none

    def opened(self) -> None:
        self.counts[self.mine] += 1

    def closed(self) -> None:
        self.counts[self.mine] -= 1

    def crowded(self) -> bool:
        """Whether this process holds more connections than its share of all of them."""
        counts = self.counts[:]
        return counts[self.mine] > math.ceil(sum(counts) / len(counts))


shares: Shares | None = None  # set in each of several server processes (processes._process)


class HeadersInTime(_Protocol):
    header_seconds = HEADER_SECONDS

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        self._header_timer: asyncio.TimerHandle | None = None
        self._shares = shares
        if self._shares is not None:
            self._shares.opened()
        super().connection_made(transport)
        self.transport = Coalesced(transport, self.loop)  # what requests write; flow control keeps the real one
        self._arm()

    def on_headers_complete(self) -> None:
        super().on_headers_complete()
        if self._shares is not None and self.cycle is not None and self._shares.crowded():
            self.cycle.keep_alive = False  # this response says Connection: close (see the module's note)

    def data_received(self, data: bytes) -> None:
        if self._waiting() and self._header_timer is None:
            self._arm()  # the next request on a kept-alive connection has begun
        super().data_received(data)
        if not self._waiting():
            self._disarm()  # its headers are all here

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if self._waiting():
            self._disarm()  # until the next request begins; idle is the keep-alive timeout's

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        if self._shares is not None:
            self._shares.closed()
            self._shares = None  # counted once, whatever calls this again
        super().connection_lost(exc)

    def _waiting(self) -> bool:
        """No request is being handled: the next one's headers are awaited."""
        return self.cycle is None or self.cycle.response_complete

    def _arm(self) -> None:
        self._disarm()
        self._header_timer = self.loop.call_later(self.header_seconds, self._too_slow)

    def _disarm(self) -> None:
        if self._header_timer is not None:
            self._header_timer.cancel()
            self._header_timer = None

    def _too_slow(self) -> None:
        self._header_timer = None
        if self._waiting() and not self.transport.is_closing():
            self.transport.write(_TIMEOUT)
            self.transport.close()


class Coalesced:
    """A transport whose writes made in one turn of the event loop go out together, in order,
    in one send at the end of the turn (or at once when it is closed, or when ``AT_ONCE`` bytes
    are waiting, so a long stream still meets the real transport's flow control). Everything
    else is the real transport's."""

    AT_ONCE = 64 * 1024

    def __init__(self, transport: asyncio.Transport, loop: asyncio.AbstractEventLoop) -> None:
        self._transport = transport
        self._loop = loop
        self._pending: list[bytes] = []
        self._size = 0

    def write(self, data: bytes) -> None:
        if not self._pending:
            self._loop.call_soon(self._flush)
        self._pending.append(bytes(data))
        self._size += len(data)
        if self._size >= self.AT_ONCE:
            self._flush()

    def writelines(self, lines) -> None:
        for line in lines:
            self.write(line)

    def _flush(self) -> None:
        if self._pending:
            data = b"".join(self._pending) if len(self._pending) > 1 else self._pending[0]
            self._pending.clear()
            self._size = 0
            if not self._transport.is_closing():
                self._transport.write(data)

    def close(self) -> None:
        self._flush()
        self._transport.close()

    def write_eof(self) -> None:
        self._flush()
        self._transport.write_eof()

    def abort(self) -> None:
        self._pending.clear()
        self._size = 0
        self._transport.abort()

    def get_write_buffer_size(self) -> int:
        return self._transport.get_write_buffer_size() + self._size

    def __getattr__(self, name: str):
        return getattr(self._transport, name)

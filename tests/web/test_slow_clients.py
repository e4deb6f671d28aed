"""Slow clients: an upload that stops, or trickles in, is answered 408 and let go, without
holding up anyone else. First at the ASGI level with short limits, then against the real
server: twenty connections sending a byte at a time while other requests are served."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from service.web.limits import BodyLimit


async def _echo(scope, receive, send):
    body = b""
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return
        body += message.get("body", b"")
        if not message.get("more_body"):
            break
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": str(len(body)).encode()})


def _run(chunks: list[tuple[float, bytes, bool]], **limits) -> list[dict]:
    """Send ``chunks`` (pause before, bytes, more to come) through BodyLimit; what it answered."""
    sent: list[dict] = []

    async def main():
        queue = list(chunks)

        async def receive():
            if not queue:
                await asyncio.sleep(3600)
            pause, data, more = queue.pop(0)
            await asyncio.sleep(pause)
            return {"type": "http.request", "body": data, "more_body": more}

        async def send(message):
            sent.append(message)

        app = BodyLimit(_echo, 1024 * 1024, **limits)
        await asyncio.wait_for(app({"type": "http", "headers": []}, receive, send), timeout=10)

    asyncio.run(main())
    return sent


def test_a_body_that_stops_is_answered_408():
    sent = _run([(0, b"x" * 100, True), (5, b"late", False)], idle=0.2, grace=5)
    assert sent[0]["status"] == 408 and json.loads(sent[1]["body"])["error"]["code"] == "request_timeout"


def test_a_body_that_trickles_is_answered_408():
    sent = _run([(0.05, b"x", True)] * 40 + [(0, b"", False)], idle=1, grace=0.5, min_rate=1000)
    assert sent[0]["status"] == 408


def test_a_body_at_a_steady_pace_gets_through():
    sent = _run([(0.05, b"x" * 5000, True)] * 10 + [(0, b"", False)], idle=1, grace=0.2, min_rate=1000)
    assert sent[0]["status"] == 200 and sent[1]["body"] == b"50000"


@pytest.fixture
def server(tmp_path):
    """The real server (`stepdown-forms serve`) on a free port, and a token for it."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path}/slow.sqlite3", "STEPDOWN_DATA_DIR": str(tmp_path)}
    exe = str(Path(sys.executable).with_name("stepdown-forms"))
    subprocess.run([exe, "create-user", "slow.tester", "--team", "Test Team", "--password-stdin"], env=env,
                   input="a long enough password\n", text=True, check=True, capture_output=True)
    token = subprocess.run([exe, "create-token", "slow.tester"], env=env, text=True, check=True,
                           capture_output=True).stdout.strip()
    proc = subprocess.Popen([exe, "serve", "--port", str(port)], env=env, stderr=subprocess.DEVNULL,
                            stdout=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/api/health", timeout=2).read()
                break
            except OSError:
                time.sleep(0.2)
        yield port, token
    finally:
        proc.terminate()
        proc.wait(20)


def _trickle(port: int, slow: list[socket.socket], limit: float) -> dict[int, bytes]:
    """Send a byte a second on each connection, checking each second that the service still
    answers others at once, until every connection is answered or closed (or ``limit`` s)."""
    started, answers = time.monotonic(), {}
    while len(answers) < len(slow) and time.monotonic() - started < limit:
        for i, c in enumerate(slow):
            if i in answers:
                continue
            try:
                c.sendall(b"x")
            except OSError:
                answers[i] = b"closed"
                continue
            c.setblocking(False)
            try:
                data = c.recv(4096)
                if data:
                    answers[i] = data
            except BlockingIOError:
                pass
            c.setblocking(True)
        t = time.monotonic()
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/health", timeout=5) as r:
            assert r.status == 200
        assert time.monotonic() - t < 2, "the service kept answering others"
        time.sleep(1)
    return answers


def test_twenty_trickling_uploads_are_let_go_while_others_are_served(server):
    """Twenty connections send an upload's body a byte a second; each is answered 408 once its
    grace period is over, and meanwhile the service answers other requests at once."""
    port, token = server
    head = (f"POST /api/submissions HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {token}\r\n"
            "Content-Type: multipart/form-data; boundary=b\r\nContent-Length: 100000\r\n\r\n"
            '--b\r\nContent-Disposition: form-data; name="file"; filename="f.docx"\r\n\r\n').encode()
    slow = [socket.create_connection(("127.0.0.1", port), timeout=30) for _ in range(20)]
    try:
        for c in slow:
            c.sendall(head)
        started = time.monotonic()
        answers = _trickle(port, slow, 40)
        assert len(answers) == 20
        assert all(a == b"closed" or a.startswith(b"HTTP/1.1 408") for a in answers.values()), answers
        assert time.monotonic() - started < 35  # let go after the grace period, not held for a minute
    finally:
        for c in slow:
            c.close()


def test_twenty_trickling_headers_are_let_go_while_others_are_served(server):
    """Twenty connections send a request's headers a byte a second (uvicorn alone would wait for
    ever); each is answered 408 once HEADER_SECONDS have passed, and others are served meanwhile."""
    from service.web.server import HEADER_SECONDS

    port, _ = server
    slow = [socket.create_connection(("127.0.0.1", port), timeout=30) for _ in range(20)]
    try:
        for c in slow:
            c.sendall(b"GET /api/health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
        started = time.monotonic()
        answers = _trickle(port, slow, 3 * HEADER_SECONDS)
        held = time.monotonic() - started
        assert len(answers) == 20
        assert all(a.startswith(b"HTTP/1.1 408") and b"request_timeout" in a for a in answers.values()), answers
        assert held < HEADER_SECONDS + 5  # let go at the deadline, not held as long as they like
    finally:
        for c in slow:
            c.close()


def test_a_kept_alive_connection_still_serves_its_next_request(server):
    """The header deadline does not cut a kept-alive connection that sends its next request in time."""
    import http.client

    port, _ = server
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    for _ in range(3):
        conn.request("GET", "/api/health")
        r = conn.getresponse()
        assert r.status == 200 and json.loads(r.read())
        time.sleep(4)  # a pause between requests, under the keep-alive timeout (5 s)
    conn.close()


def test_the_server_parses_http_with_httptools_on_uvloop():
    """Both are dependencies (pyproject), chosen for the CPU a request costs (docs/performance.md)."""
    import uvloop  # noqa: F401  (uvicorn's loop="auto" takes it when it imports)
    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

    from service.web.server import HeadersInTime

    assert issubclass(HeadersInTime, HttpToolsProtocol)


def test_what_a_turn_of_the_loop_writes_goes_out_in_one_send_in_order():
    """``Coalesced``: uvicorn's separate writes of a response's head and body leave as one send
    at the end of the loop's turn; closing sends what waits first; a long stream is sent as it
    grows (so the real transport's flow control still applies); aborting drops what waits."""
    from service.web.server import Coalesced

    class Transport:
        def __init__(self):
            self.sent, self.closed = [], False

        def write(self, data):
            self.sent.append(data)

        def is_closing(self):
            return self.closed

        def close(self):
            self.closed = True

        def abort(self):
            self.closed = True

        def get_write_buffer_size(self):
            return 0

        def get_extra_info(self, name):
            return f"info:{name}"

    async def main():
        loop = asyncio.get_running_loop()
        real = Transport()
        out = Coalesced(real, loop)
        out.write(b"HTTP/1.1 200 OK\r\n\r\n")
        out.write(b"body")
        assert real.sent == [] and out.get_write_buffer_size() == 23
        await asyncio.sleep(0)
        assert real.sent == [b"HTTP/1.1 200 OK\r\n\r\nbody"]
        out.write(b"last")
        out.close()
        assert real.sent[-1] == b"last" and real.closed
        streamed = Transport()
        out = Coalesced(streamed, loop)
        for _ in range(3):
            out.write(b"x" * (Coalesced.AT_ONCE // 2))
        assert [len(d) for d in streamed.sent] == [Coalesced.AT_ONCE]  # sent as it grew, not at the end
        await asyncio.sleep(0)
        assert sum(map(len, streamed.sent)) == 3 * Coalesced.AT_ONCE // 2
        dropped = Transport()
        out = Coalesced(dropped, loop)
        out.write(b"never")
        out.abort()
        await asyncio.sleep(0)
        assert dropped.sent == [] and out.get_extra_info("peername") == "info:peername"

    asyncio.run(main())

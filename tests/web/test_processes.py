"""Several server processes (``serve --processes``), and a health endpoint that says part by part
whether a process is ready."""

from __future__ import annotations

import collections
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from service.pdf import sandbox
from tests.packs.test_crash import _alive, _left_after


def _tree(pid: int) -> list[int]:
    out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(pid)], capture_output=True, text=True).stdout
    children = [int(p) for p in out.split()]
    return children + [d for c in children for d in _tree(c)]


def _servers(pid: int) -> list[int]:
    found = []
    for p in _tree(pid):
        try:
            if "spawn_main" in Path(f"/proc/{p}/cmdline").read_text(errors="replace") and _alive(p):
                found.append(p)
        except OSError:
            pass
    return found


def _health(port: int) -> tuple[int, dict]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/health", timeout=2) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


def _serve_two(tmp_path: Path, **output) -> tuple[subprocess.Popen, int]:
    """``stepdown-forms serve --processes 2`` on a free port, with its database in ``tmp_path``."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path}/serve.sqlite3", "STEPDOWN_DATA_DIR": str(tmp_path)}
    exe = Path(sys.executable).with_name("stepdown-forms")
    return subprocess.Popen([str(exe), "serve", "--port", str(port), "--processes", "2"], env=env,
                            stdout=subprocess.DEVNULL, **output), port


def test_serve_runs_several_processes_and_a_kill_leaves_none(tmp_path):
    """``--processes 2``: two server processes share the port, the schema is made once, and a
    kill -9 of the parent takes every server process and parser with it."""
    proc, port = _serve_two(tmp_path, stderr=subprocess.PIPE, text=True)
    try:
        deadline, answers = time.monotonic() + 60, []
        while len(answers) < 20 and time.monotonic() < deadline:
            try:
                answers.append(_health(port))
            except OSError:
                time.sleep(0.2)
        assert answers and all(status == 200 and body["status"] == "ok" for status, body in answers)
        assert set(answers[-1][1]["checks"]) == {"database", "word_parsers", "pdf_parsers", "batch_runner"}
        servers = _servers(proc.pid)
        assert len(servers) == 2
        os.kill(servers[0], signal.SIGKILL)  # one process dies: the parent starts another, the other serves on
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and (len(_servers(proc.pid)) != 2 or servers[0] in _servers(proc.pid)):
            time.sleep(0.2)
        assert len(_servers(proc.pid)) == 2 and servers[0] not in _servers(proc.pid)
        assert _health(port)[0] == 200
        tree = _tree(proc.pid)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(10)
        assert not _left_after(tree, 15)
    finally:
        if proc.poll() is None:
            proc.kill()
        _, err = proc.communicate(timeout=30)  # ends only when nothing holding its stderr is left
    assert "2 server processes" in err


def test_health_names_the_part_that_is_not_ready(world, monkeypatch):
    r = world.client.get("/api/health")
    assert r.status_code == 200 and set(r.json()["checks"].values()) == {"ok"}

    monkeypatch.setattr(sandbox.POOL, "command", ["/nonexistent/pdf-parser"])
    sandbox.POOL.reset()  # no idle worker left, and none can be started
    r = world.client.get("/api/health")
    assert r.status_code == 503 and r.json()["status"] == "unavailable"
    assert r.json()["checks"] == {"database": "ok", "word_parsers": "ok", "pdf_parsers": "failing", "batch_runner": "ok"}
    monkeypatch.undo()
    assert world.client.get("/api/health").status_code == 200

    def unreachable():
        raise OSError("database gone")

    monkeypatch.setattr(world.db, "read", unreachable)
    world.app.state.jobs.stop()
    r = world.client.get("/api/health")
    assert r.status_code == 503
    assert r.json()["checks"]["database"] == "failing" and r.json()["checks"]["batch_runner"] == "failing"


def test_each_process_socket_is_shared_by_port_and_answers_without_nagle_delay():
    """Sockets bound with SO_REUSEPORT to one port; connections asyncio accepts on them have
    TCP_NODELAY (on a socket not marked TCP, asyncio leaves Nagle on: 40 ms a response)."""
    import asyncio

    from service.web.processes import listening_socket

    first = listening_socket("127.0.0.1", 0)
    second = listening_socket("127.0.0.1", first.getsockname()[1])  # the same port again: allowed
    accepted = []

    async def main():
        def handler(reader, writer):
            accepted.append(writer.get_extra_info("socket").getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))
            writer.close()

        server = await asyncio.start_server(handler, sock=first)
        _, w = await asyncio.open_connection("127.0.0.1", first.getsockname()[1])
        for _ in range(100):
            if accepted:
                break
            await asyncio.sleep(0.02)
        w.close()
        server.close()

    try:
        second.close()  # only the first accepts here
        asyncio.run(main())
    finally:
        first.close()
    assert accepted and accepted[0] != 0


def test_an_application_started_again_runs_its_batch_queue_again(world):
    """Lifespan shutdown stops the batch runner; a second start (TestClient, schemathesis, an
    ASGI server restarting the app) runs it again, and health says so."""
    from fastapi.testclient import TestClient

    world.app.state.jobs.stop()
    world.app.state.jobs.stop()  # twice: harmless
    assert world.client.get("/api/health").status_code == 503
    with TestClient(world.app) as again:
        r = again.get("/api/health")
        assert r.status_code == 200 and r.json()["checks"]["batch_runner"] == "ok"


def _sockets(pid: int) -> set[str]:
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    return inodes


def _holders(pids: list[int], port: int) -> dict[int, int]:
    """Client port -> the server process holding that established connection to ``port``."""
    owner = {inode: pid for pid in pids for inode in _sockets(pid)}
    held = {}
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        if int(fields[1].split(":")[1], 16) == port and fields[3] == "01" and fields[9] in owner:
            held[int(fields[2].split(":")[1], 16)] = owner[fields[9]]
    return held


def _ask(sock: socket.socket) -> bool:
    """GET /api/health on a kept-alive connection: whether the server said to close it."""
    sock.sendall(b"GET /api/health HTTP/1.1\r\nhost: x\r\n\r\n")
    data = b""
    while b"\r\n\r\n" not in data:
        data += sock.recv(65536)
    head, _, body = data.partition(b"\r\n\r\n")
    length = int(next(line.split(b":")[1] for line in head.split(b"\r\n") if line.lower().startswith(b"content-length")))
    while len(body) < length:
        body += sock.recv(65536)
    return b"connection: close" in head.lower()


def test_kept_alive_connections_end_up_spread_evenly_across_the_processes(tmp_path):
    """The kernel places connections by a hash; a process holding more than its share tells its
    next client to connect again, until each holds about half."""
    from service.web.server import Shares

    counts = [5, 3]
    assert Shares(counts, 0).crowded() is False and counts == [0, 3]  # a new process starts with none

    def share(held, mine):
        shares = Shares([0] * len(held), mine)
        shares.counts[:] = held
        return shares

    assert share([10, 6], 0).crowded() and not share([10, 6], 1).crowded() and not share([8, 8], 0).crowded()
    assert not share([8, 7], 0).crowded() and share([9, 7], 0).crowded()
    proc, port = _serve_two(tmp_path, stderr=subprocess.DEVNULL)
    clients: list[socket.socket] = []
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if _health(port)[0] == 200 and len(_servers(proc.pid)) == 2:
                    break
            except OSError:
                pass
            time.sleep(0.2)
        servers = _servers(proc.pid)
        crowded = servers[0]
        while len(clients) < 20:  # twenty connections, all on the first process: the kernel's hash, sifted
            sock = socket.create_connection(("127.0.0.1", port))
            mine, until = sock.getsockname()[1], time.monotonic() + 5
            while (holder := _holders(servers, port).get(mine)) is None and time.monotonic() < until:
                time.sleep(0.005)  # until a process has accepted it
            if holder == crowded:
                clients.append(sock)
            else:
                sock.close()
        assert sorted(collections.Counter(_holders(servers, port).values()).values()) == [20]
        moved = 0
        for _ in range(8):
            for i, sock in enumerate(clients):
                if _ask(sock):  # told to close: connect again, and the kernel places it afresh
                    sock.close()
                    clients[i] = socket.create_connection(("127.0.0.1", port))
                    moved += 1
        time.sleep(0.3)
        held = collections.Counter(_holders(servers, port).values())
        assert sum(held.values()) == 20 and len(held) == 2 and max(held.values()) - min(held.values()) <= 2, held
        assert moved <= 30  # a handful of moves, not a connection closed on every request
    finally:
        for sock in clients:
            sock.close()
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(40)
        except subprocess.TimeoutExpired:
            proc.kill()

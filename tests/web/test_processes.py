"""Several server processes (``serve --processes``), and a health endpoint that says part by part
whether a process is ready."""

from __future__ import annotations

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


def test_serve_runs_several_processes_and_a_kill_leaves_none(tmp_path):
    """``--processes 2``: two server processes share the port, the schema is made once, and a
    kill -9 of the parent takes every server process and parser with it."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path}/serve.sqlite3", "STEPDOWN_DATA_DIR": str(tmp_path)}
    exe = Path(sys.executable).with_name("stepdown-forms")
    proc = subprocess.Popen([str(exe), "serve", "--port", str(port), "--processes", "2"], env=env,
                            stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True)
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

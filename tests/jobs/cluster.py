"""Real parts for the distributed tests and bench/bench_jobs.py: a private redis-server,
``stepdown-forms worker`` processes and a ``stepdown-forms serve`` process, started with the
ExecStart lines of the systemd units in deploy/systemd (docs/deploy.md), sharing one database
and one file store."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

EXE = str(Path(sys.executable).with_name("stepdown-forms"))
PASSWORD = "a long test password"
UNITS = Path(__file__).resolve().parents[2] / "deploy" / "systemd"
INSTALLED = "/opt/stepdown-forms/.venv/bin/stepdown-forms"


def unit_command(unit: str, **values: str) -> list[str]:
    """The ExecStart line of one of deploy/systemd's units, as the tests run it: our own
    executable, and systemd's specifiers filled in (``%i`` the instance, ``%%`` a per cent
    sign); ``values`` replace options' values (port="8123")."""
    line = next(x for x in (UNITS / unit).read_text().splitlines() if x.startswith("ExecStart="))
    words = line.removeprefix("ExecStart=").split()
    assert words[0] == INSTALLED, words[0]
    words[0] = EXE
    for i, word in enumerate(words):
        option = word.removeprefix("--")
        if word.startswith("--") and option in values and i + 1 < len(words):
            words[i + 1] = values[option]
    return [w.replace("%i", values.get("instance", "")).replace("%%", "%") for w in words]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def redis_server() -> str:
    found = shutil.which("redis-server")
    if found is None:
        message = "redis-server is not installed (scripts/system-packages installs it)"
        if os.environ.get("CI") == "true":
            raise AssertionError(message)
        import pytest

        pytest.skip(message)
    return found


class Redis:
    """redis-server on a private port, keeping nothing on disk: a restart loses every message,
    the worst a broker can do."""

    def __init__(self, folder: Path) -> None:
        self.port, self.folder, self.proc = free_port(), folder, None
        self.url = f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> "Redis":
        self.folder.mkdir(parents=True, exist_ok=True)
        self.proc = subprocess.Popen([redis_server(), "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
                                      "--appendonly", "no", "--dir", str(self.folder)],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as s:
                    s.sendall(b"PING\r\n")
                    if s.recv(16).startswith(b"+PONG"):
                        return self
            except OSError:
                time.sleep(0.1)
        raise AssertionError("redis-server did not start")

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait(10)
            self.proc = None


class Cluster:
    """One database (SQLite file, or PostgreSQL), one file store, a broker, workers and a web
    service, each a real process."""

    def __init__(self, tmp: Path, database_url: str, broker: str | None, **settings: str) -> None:
        self.tmp = tmp
        self.env = {**os.environ, "DATABASE_URL": database_url, "STEPDOWN_DATA_DIR": str(tmp / "data"),
                    "STEPDOWN_FILES_DIR": str(tmp / "files"), "STEPDOWN_PART_TIMEOUT": "6", "STEPDOWN_PART_SIZE": "2",
                    **settings}
        if broker:
            self.env["STEPDOWN_BROKER_URL"] = broker
        else:
            self.env.pop("STEPDOWN_BROKER_URL", None)
        self.workers: dict[str, subprocess.Popen] = {}
        self.web: subprocess.Popen | None = None
        self.port = free_port()
        self.token = ""

    def run(self, *args: str, stdin: str | None = None) -> str:
        out = subprocess.run([EXE, *args], env=self.env, input=stdin, capture_output=True, text=True, timeout=120)
        assert out.returncode == 0, out.stderr
        return out.stdout

    def user(self) -> None:
        self.run("create-user", "sam.worker", "--role", "practitioner", "--team", "North Team", "--password-stdin",
                 stdin=PASSWORD + "\n")
        self.token = self.run("create-token", "sam.worker").split()[-1]

    def start_worker(self, name: str, concurrency: int = 1) -> subprocess.Popen:
        with open(self.tmp / f"{name}.log", "a") as log:  # the child keeps its own handle
            command = unit_command("stepdown-forms-worker@.service", instance=name)
            self.workers[name] = subprocess.Popen([*command, "--concurrency", str(concurrency)], env=self.env,
                                                  stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 90
        while " ready." not in (self.tmp / f"{name}.log").read_text(errors="replace"):  # Celery's "... ready."
            assert time.monotonic() < deadline and self.workers[name].poll() is None, f"worker {name} did not start"
            time.sleep(0.2)
        return self.workers[name]

    def start_web(self, processes: int = 1) -> None:
        with open(self.tmp / "web.log", "a") as log:
            command = unit_command("stepdown-forms-web.service", port=str(self.port))
            self.web = subprocess.Popen([*command, "--processes", str(processes)], env=self.env, stdout=log,
                                        stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                self.request("GET", "/api/health")
                return
            except (OSError, urllib.error.URLError):
                time.sleep(0.2)
        raise AssertionError("the web service did not start")

    def kill_web(self) -> None:
        self.web.kill()
        self.web.wait(20)

    def request(self, method: str, path: str, body: bytes | None = None, headers: dict | None = None):
        req = urllib.request.Request(f"http://127.0.0.1:{self.port}{path}", data=body, method=method,
                                     headers={"Authorization": f"Bearer {self.token}", **(headers or {})})
        try:
            with urllib.request.urlopen(req, timeout=30) as r:
                return r.status, r.read()
        except urllib.error.HTTPError as e:
            return e.code, e.read()

    def start_batch(self, pack_id: str, raw: bytes) -> str:
        boundary = "sdf-boundary"
        body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"m.csv\"\r\n"
                f"Content-Type: text/csv\r\n\r\n").encode() + raw + f"\r\n--{boundary}--\r\n".encode()
        status, answer = self.request("POST", f"/api/packs/{pack_id}/jobs", body,
                                      {"Content-Type": f"multipart/form-data; boundary={boundary}"})
        assert status == 202, answer
        return json.loads(answer)["id"]

    def job(self, job_id: str) -> dict:
        status, answer = self.request("GET", f"/api/jobs/{job_id}")
        assert status == 200, answer
        return json.loads(answer)

    def wait(self, job_id: str, until=lambda job: job["status"] not in ("queued", "running"), timeout: float = 240) -> dict:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            job = self.job(job_id)
            if until(job):
                return job
            time.sleep(0.2)
        raise AssertionError(f"the batch did not get there: {job}")

    def stop(self) -> None:
        for proc in [*self.workers.values(), self.web]:
            if proc is not None and proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in [*self.workers.values(), self.web]:
            if proc is not None:
                try:
                    proc.wait(30)
                except subprocess.TimeoutExpired:
                    proc.kill()

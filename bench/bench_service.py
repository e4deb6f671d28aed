"""The service under load, beside the core's own rate for the same work, in one run.

    .venv/bin/python bench/bench_service.py [--clients 16] [--seconds 20] [--repeats 3]
        [--scenario NAME ...] [--database-url postgresql+psycopg://...] [--processes N] [--json out.json]

It starts `stepdown-forms serve` as `scripts/run` does (SQLite in a fresh folder unless
``--database-url`` is given; ``--processes`` passes through, default: the command's own), makes
``--clients`` users of one team, each with an API token, and a case, then for each scenario:

1. **The core's rate**: the same work through the library's entry points
   (``service.generate_document``, ``service.extract_document``) on every core at once (a
   process per core): documents a second.
2. **The service's rate**: ``--clients`` connections on loopback (HTTP/1.1, kept alive; a small
   asyncio client written here so that the load generator costs little of the same two cores),
   each sending its next request as soon as the last is answered. Requests a second,
   p50/p95/p99 latency, errors (anything but 2xx, or a dropped connection), peak resident memory
   of every server process, and the CPU the server's processes and the load generator used per
   request.

The two take turns in ``--slices`` slices (the core for ``--core-seconds`` in all, the service
for ``--seconds`` in all, a slice of each in turn; the clients stay connected and the core's
processes stay loaded between slices), and each rate is its total over its slices. On a shared
host whose speed changes by a factor of two from one second to the next (seen here), measuring
the core and the service a minute apart made the ratio swing by half; taking turns puts both
under the same conditions. Then it stops by itself.

Scenarios: generate-docx, generate-pdf (Key Criteria from the sample data), upload-docx,
upload-pdf (a completed Key Criteria), view-case (GET /api/cases/{id}: a read that is audited),
mix (all five, in proportions 4:2:2:1:3). ``--repeats`` runs everything again and reports each
run and the median, so one lucky run proves nothing. The targets (issue 13, this 2-core machine,
16 clients, SQLite): throughput at least half the core's rate for generation and extraction,
p95 <= 50 ms, p99 <= 100 ms, no errors, at most 250 MB per server process.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import multiprocessing
import os
import platform
import random
import resource
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import service  # noqa: E402
from service.spec import default_registry  # noqa: E402

from _postgres import FreshPostgres  # noqa: E402  (beside this file)
from bench_hostile import _descendants  # noqa: E402  (the same walk of /proc, beside this file)

EXE = str(Path(sys.executable).with_name("stepdown-forms"))
FORM = "key-criteria"
SAMPLE = json.loads((ROOT / "samples" / f"{FORM}.json").read_text())
CASE_VALUES = {"child_name": "Bench Example", "su_number": "SU-BENCH-0001", "age": 12}
MIX = {"generate-docx": 4, "generate-pdf": 2, "upload-docx": 2, "upload-pdf": 1, "view-case": 3}
SCENARIOS = [*MIX, "mix"]
CORE_WORK = {"generate-docx": "generate", "generate-pdf": "generate", "upload-docx": "extract",
             "upload-pdf": "extract"}
TICK = 1.0  # seconds between memory samples


# -- the service -----------------------------------------------------------------------------

def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    def __init__(self, folder: Path, database_url: str | None, processes: int | None) -> None:
        self.env = {**os.environ, "DATABASE_URL": database_url or f"sqlite:///{folder}/bench.sqlite3",
                    "STEPDOWN_DATA_DIR": str(folder)}
        self.args = ["--processes", str(processes)] if processes else []
        self.port = _free_port()
        self.proc: subprocess.Popen | None = None

    def prepare(self, users: int) -> list[str]:
        """Users u01.. in one team with a token each, made in the database directly (the
        command line would start a process for each)."""
        from service.records import create_token, create_user
        from service.settings import Settings
        from service.store import Database

        db = Database(Settings.from_env(self.env))
        db.migrate()
        tokens = []
        for i in range(users):
            actor = create_user(db, f"bench{i:02d}", "a long enough password", role="practitioner", team="Bench team")
            tokens.append(create_token(db, actor, "bench"))
        db.dispose()
        return tokens

    def start(self) -> None:
        self.proc = subprocess.Popen([EXE, "serve", "--port", str(self.port), *self.args], env=self.env,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{self.port}/api/health", timeout=2).read()
                return
            except OSError:
                time.sleep(0.2)
        raise RuntimeError("the service did not start")

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            self.proc.wait(60)

    def tree(self) -> list[int]:
        return [self.proc.pid] + _descendants(self.proc.pid)


def _proc_facts(pid: int) -> tuple[str, float, float]:
    """(command line, resident MiB, CPU seconds so far) of a process."""
    try:
        cmd = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        rss = next(int(line.split()[1]) / 1024 for line in Path(f"/proc/{pid}/status").read_text().splitlines()
                   if line.startswith("VmRSS:"))
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        cpu = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        return cmd, rss, cpu
    except (OSError, StopIteration, IndexError, ValueError):
        return "", 0.0, 0.0


def _role(cmd: str) -> str:
    if "isolation" in cmd or "sandbox" in cmd or "worker" in cmd:
        return "parser worker"
    if "resource_tracker" in cmd:
        return "other"
    if "multiprocessing" in cmd:
        return "server process"
    return "server process" if "serve" in cmd else "other"


class Sampler:
    """Peak resident memory of each process of the server, and CPU used, sampled each TICK."""

    def __init__(self, server: Server) -> None:
        self.server = server
        self.peaks: dict[int, tuple[str, float]] = {}
        self.series: dict[int, list[float]] = {}
        self.cpu_start = self._cpu()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _cpu(self) -> dict[int, float]:
        return {pid: _proc_facts(pid)[2] for pid in self.server.tree()}

    def __enter__(self) -> "Sampler":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()
        end = self._cpu()
        self.cpu_seconds = sum(end[p] - self.cpu_start.get(p, 0.0) for p in end)

    def _run(self) -> None:
        while not self._stop.is_set():
            for pid in self.server.tree():
                cmd, rss, _ = _proc_facts(pid)
                self.series.setdefault(pid, []).append(rss)
                if rss > self.peaks.get(pid, ("", 0.0))[1]:
                    self.peaks[pid] = (_role(cmd), rss)
            self._stop.wait(TICK)


# -- the requests ----------------------------------------------------------------------------

def _multipart(raw: bytes, name: str) -> tuple[bytes, str]:
    boundary = "bench" + os.urandom(8).hex()
    body = (f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{name}"\r\n'
            "Content-Type: application/octet-stream\r\n\r\n").encode() + raw + f"\r\n--{boundary}--\r\n".encode()
    return body, f"multipart/form-data; boundary={boundary}"


def requests_for(case_id: str) -> dict[str, tuple[str, str, bytes, str]]:
    """Scenario -> (method, path, body, content type)."""
    spec = default_registry().get(FORM)
    docx = service.generate_document(spec, SAMPLE, format="docx")
    pdf = service.generate_document(spec, SAMPLE, format="pdf")
    gen = lambda fmt: json.dumps({"form": FORM, "format": fmt, "data": SAMPLE}).encode()  # noqa: E731
    return {
        "generate-docx": ("POST", "/api/documents", gen("docx"), "application/json"),
        "generate-pdf": ("POST", "/api/documents", gen("pdf"), "application/json"),
        "upload-docx": ("POST", "/api/submissions", *_multipart(docx, "form.docx")),
        "upload-pdf": ("POST", "/api/submissions", *_multipart(pdf, "form.pdf")),
        "view-case": ("GET", f"/api/cases/{case_id}", b"", ""),
    }


def make_case(port: int, token: str) -> str:
    req = urllib.request.Request(f"http://127.0.0.1:{port}/api/cases", method="POST",
                                 data=json.dumps({"values": CASE_VALUES}).encode(),
                                 headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    return json.loads(urllib.request.urlopen(req, timeout=30).read())["id"]


class Connection:
    """One kept-alive HTTP/1.1 connection: send a request, read the whole answer."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def request(self, method: str, path: str, token: str, body: bytes, kind: str) -> int:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection("127.0.0.1", self.port)
        head = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1", f"Authorization: Bearer {token}"]
        if body:
            head += [f"Content-Type: {kind}", f"Content-Length: {len(body)}"]
        self.writer.write(("\r\n".join(head) + "\r\n\r\n").encode() + body)
        status_line = await self.reader.readline()
        if not status_line:
            raise ConnectionError("closed")
        status = int(status_line.split()[1])
        length, chunked, close = 0, False, False
        while (line := await self.reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.decode("latin-1").partition(":")
            name, value = name.strip().lower(), value.strip().lower()
            if name == "content-length":
                length = int(value)
            elif name == "transfer-encoding" and "chunked" in value:
                chunked = True
            elif name == "connection" and value == "close":
                close = True
        if chunked:
            while (size := int((await self.reader.readline()).split(b";")[0], 16)):
                await self.reader.readexactly(size + 2)
            await self.reader.readline()
        elif length:
            await self.reader.readexactly(length)
        if close:
            self.close()
        return status

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None


class Load:
    """``--clients`` kept-alive connections in a thread of their own, sending requests only
    during a slice (``run``): between slices each client finishes the request it has in flight,
    then waits, still connected."""

    def __init__(self, port: int, tokens: list[str], scenario: str, requests: dict) -> None:
        self.port, self.tokens, self.requests = port, tokens, requests
        self.plan = [n for n, w in MIX.items() for _ in range(w)] if scenario == "mix" else [scenario]
        self.results: list[tuple] = []
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self._thread.start()
        self._busy = 0
        self._on_loop(self._start())

    async def _start(self) -> None:
        self.go = asyncio.Event()
        self.clients = [asyncio.create_task(self._client(t, random.Random(i))) for i, t in enumerate(self.tokens)]

    def _on_loop(self, coroutine):
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result()

    async def _client(self, token: str, rnd: random.Random) -> None:
        conn = Connection(self.port)
        try:
            while True:
                await self.go.wait()
                self._busy += 1
                name = rnd.choice(self.plan)
                start = time.perf_counter()
                try:
                    status = await conn.request(*self.requests[name][:2], token, *self.requests[name][2:])
                except (OSError, ConnectionError, asyncio.IncompleteReadError, ValueError, IndexError):
                    status = 0
                    conn.close()
                self.results.append((name, status, time.perf_counter() - start))
                self._busy -= 1
        finally:
            conn.close()

    def run(self, seconds: float) -> float:
        """One slice: requests for ``seconds``, then until those in flight are answered; its length."""
        start = time.perf_counter()
        self.loop.call_soon_threadsafe(self.go.set)
        time.sleep(seconds)
        self.loop.call_soon_threadsafe(self.go.clear)
        while self._on_loop(self._count()):
            time.sleep(0.001)
        return time.perf_counter() - start

    async def _count(self) -> int:
        return self._busy

    async def _stop(self) -> None:
        for client in self.clients:
            client.cancel()
        await asyncio.gather(*self.clients, return_exceptions=True)

    def close(self) -> None:
        self._on_loop(self._stop())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(10)
        self.loop.close()


def _pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))] * 1000


# -- the core's rate -------------------------------------------------------------------------

def _core_worker(work: str, fmt: str, orders, counts) -> None:
    registry = default_registry()
    spec = registry.get(FORM)
    raw = service.generate_document(spec, SAMPLE, format=fmt)
    job = ((lambda: service.generate_document(spec, SAMPLE, format=fmt, shell="auto")) if work == "generate"
           else (lambda: service.extract_document(raw, registry)))
    job()  # warm: fonts, parser workers
    counts.put(0)  # ready
    while (seconds := orders.get()) is not None:
        n, until = 0, time.monotonic() + seconds
        while time.monotonic() < until:
            job()
            n += 1
        counts.put(n)


class Core:
    """The library doing the scenario's work on every core at once, a process per core, kept
    loaded between slices (``run``)."""

    def __init__(self, scenario: str) -> None:
        work, fmt = CORE_WORK[scenario], scenario.rsplit("-", 1)[1]
        ctx = multiprocessing.get_context("spawn")
        self.counts = ctx.Queue()
        self.orders = [ctx.Queue() for _ in range(os.cpu_count() or 1)]
        self.procs = [ctx.Process(target=_core_worker, args=(work, fmt, q, self.counts)) for q in self.orders]
        for p in self.procs:
            p.start()
        for _ in self.procs:
            self.counts.get(timeout=120)
        self.done = 0
        self.seconds = 0.0

    def run(self, seconds: float) -> None:
        for q in self.orders:
            q.put(seconds)
        self.done += sum(self.counts.get(timeout=seconds + 120) for _ in self.procs)
        self.seconds += seconds

    def rate(self) -> float:
        return self.done / self.seconds

    def close(self) -> None:
        for q in self.orders:
            q.put(None)
        for p in self.procs:
            p.join(30)


# -- a run -----------------------------------------------------------------------------------

def measure(server: Server, tokens: list[str], requests: dict, scenario: str, seconds: float,
            core_seconds: float, slices: int) -> dict:
    load = Load(server.port, tokens, scenario, requests)
    core = Core(scenario) if scenario in CORE_WORK and core_seconds > 0 else None
    try:
        load.run(min(2.0, seconds))  # warm every process and connection
        load.results.clear()
        self_cpu = resource.getrusage(resource.RUSAGE_SELF)
        wall = 0.0
        with Sampler(server) as sampler:
            for _ in range(slices):
                if core is not None:
                    core.run(core_seconds / slices)
                wall += load.run(seconds / slices)
        after = resource.getrusage(resource.RUSAGE_SELF)
        results = list(load.results)
    finally:
        load.close()
        if core is not None:
            core.close()
    gen_cpu = (after.ru_utime - self_cpu.ru_utime) + (after.ru_stime - self_cpu.ru_stime)
    times = [t for _, status, t in results if 200 <= status < 300]
    errors = [status for _, status, _ in results if not 200 <= status < 300]
    by_name = {}
    for name in {n for n, _, _ in results}:
        mine = [t for n, s, t in results if n == name and 200 <= s < 300]
        by_name[name] = {"count": len(mine), "p50_ms": round(_pct(mine, 0.5), 1), "p95_ms": round(_pct(mine, 0.95), 1)}
    servers = [rss for role, rss in sampler.peaks.values() if role == "server process"]
    # growth: each server process's resident memory over the last tenth of the run against the
    # first tenth (a process that lived through the whole run; a flat process shows about 0)
    growth = []
    for pid, (role, _) in sampler.peaks.items():
        series = sampler.series.get(pid, [])
        if role == "server process" and len(series) >= 20:
            tenth = len(series) // 10
            growth.append(sum(series[-tenth:]) / tenth - sum(series[:tenth]) / tenth)
    workers = [rss for role, rss in sampler.peaks.values() if role == "parser worker"]
    return {"scenario": scenario, "requests": len(results), "per_s": round(len(times) / wall, 1),
            "p50_ms": round(_pct(times, 0.5), 1), "p95_ms": round(_pct(times, 0.95), 1),
            "p99_ms": round(_pct(times, 0.99), 1), "errors": len(errors),
            "error_statuses": sorted(set(errors)),
            "server_cpu_ms_per_request": round(sampler.cpu_seconds / max(1, len(results)) * 1000, 2),
            "loadgen_cpu_ms_per_request": round(gen_cpu / max(1, len(results)) * 1000, 2),
            "server_processes": len(servers), "peak_server_mib": round(max(servers, default=0.0)),
            "server_growth_mib": round(max(growth, default=0.0), 1),
            "peak_worker_mib": round(max(workers, default=0.0)), "by_request": by_name,
            **({"core_per_s": round(core.rate(), 1), "ratio": round(len(times) / wall / core.rate(), 2)} if core else {})}


def run_once(args, scenarios: list[str]) -> list[dict]:
    with tempfile.TemporaryDirectory(prefix="bench-service-") as folder, contextlib.ExitStack() as stack:
        url = stack.enter_context(FreshPostgres(args.database_url)) if args.database_url else None
        server = Server(Path(folder), url, args.processes)
        tokens = server.prepare(args.clients)
        server.start()
        try:
            requests = requests_for(make_case(server.port, tokens[0]))
            rows = []
            for scenario in scenarios:
                row = measure(server, tokens, requests, scenario, args.seconds, args.core_seconds, args.slices)
                rows.append(row)
                _print(row)
            return rows
        finally:
            server.stop()


def _print(r: dict) -> None:
    core = f"core {r['core_per_s']:6.1f}/s  ratio {r['ratio']:.2f}" if "core_per_s" in r else " " * 26
    print(f"  {r['scenario']:14} {r['per_s']:7.1f}/s  p50 {r['p50_ms']:6.1f}  p95 {r['p95_ms']:6.1f}  "
          f"p99 {r['p99_ms']:6.1f} ms  errors {r['errors']:3}  {core}  server cpu {r['server_cpu_ms_per_request']:5.2f} "
          f"ms/req  load gen {r['loadgen_cpu_ms_per_request']:4.2f} ms/req  "
          f"{r['server_processes']} servers <= {r['peak_server_mib']} MiB (growth {r['server_growth_mib']:+.1f}), "
          f"workers <= {r['peak_worker_mib']} MiB",
          flush=True)


def _meets(r: dict) -> bool:
    ok = r["p95_ms"] <= 50 and r["p99_ms"] <= 100 and r["errors"] == 0 and r["peak_server_mib"] <= 250
    return ok and r.get("ratio", 1.0) >= 0.5


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--core-seconds", type=float, default=10.0)
    parser.add_argument("--slices", type=int, default=5, help="turns the core and the service take")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--scenario", action="append", choices=SCENARIOS)
    parser.add_argument("--database-url")
    parser.add_argument("--processes", type=int)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    scenarios = args.scenario or SCENARIOS
    print(f"machine: {platform.node()} {platform.machine()}, {os.cpu_count()} cores, Python "
          f"{platform.python_version()}; {args.clients} clients, {args.seconds:g} s a scenario; database "
          f"{'SQLite' if not args.database_url else args.database_url.split(':')[0]}", flush=True)
    runs = []
    for i in range(args.repeats):
        print(f"run {i + 1} of {args.repeats}", flush=True)
        runs.append(run_once(args, scenarios))
    print("median of the runs (each figure's own median; memory the largest):")
    summary = []
    for k, scenario in enumerate(scenarios):
        rows = [run[k] for run in runs]
        med = {key: statistics.median(r[key] for r in rows) for key in
               ("per_s", "p50_ms", "p95_ms", "p99_ms", "errors", "server_cpu_ms_per_request",
                "loadgen_cpu_ms_per_request", "server_processes")}
        for key in ("peak_server_mib", "peak_worker_mib", "server_growth_mib"):  # memory: the worst run
            med[key] = max(r[key] for r in rows)
        med["scenario"] = scenario
        if "core_per_s" in rows[0]:
            med["core_per_s"] = statistics.median(r["core_per_s"] for r in rows)
            med["ratio"] = round(statistics.median(r["ratio"] for r in rows), 2)
            med["ratio_spread"] = [min(r["ratio"] for r in rows), max(r["ratio"] for r in rows)]
        med["met_in_every_run"] = all(_meets(r) for r in rows)
        summary.append(med)
        _print(med)
    met = all(m["met_in_every_run"] for m in summary)
    print("targets (>= half the core's rate, p95 <= 50 ms, p99 <= 100 ms, no errors, <= 250 MiB a server "
          f"process): {'met in every run' if met else 'NOT met in every run'}")
    if args.json:
        args.json.write_text(json.dumps({"machine": platform.node(), "cores": os.cpu_count(), "clients": args.clients,
                                         "seconds": args.seconds, "database": args.database_url or "sqlite",
                                         "runs": runs, "summary": summary}, indent=2, default=str))
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())

"""Hostile input and faults against the real service: what each costs, whether others are
served meanwhile, and what a kill -9 leaves behind.

    .venv/bin/python bench/bench_hostile.py [--repeats 3] [--load-seconds 20] [--kills 20] [--json out.json]

It starts `stepdown-forms serve` (SQLite, in-process jobs, two parsers) and measures:

1. **Hostile inputs**: every class of issue 12 (and the test suite's hostile files), uploaded
   as a completed form or as a batch's spreadsheet, ``--repeats`` times each: the answer (status
   and code), the wall time of the request, and the peak resident memory of the server process
   and of any of its worker processes while it was handled (sampled every 10 ms from /proc).
2. **Load held**: a second user uploads a valid form every 0.2 s, first alone, then while an
   attacker sends hostile files from four connections at once: how many of the valid uploads get
   2xx, and their median and 95th-percentile times (and the ratio to the quiet run).
3. **Slow clients**: twenty connections trickling an upload a byte a second while the valid
   user uploads: when each was let go (408 or closed) and what the valid user saw.
4. **kill -9 trials**: ``--kills`` times, the server is killed mid-batch with uploads in flight
   and started again: processes of the killed server still alive after 3 s, uploads that were
   acknowledged (201) but are not listed after the restart, half-written batch files left.

The budget (issue 12): any input under the upload limit costs at most 10 s and 512 MiB in any
process, and a valid upload during the attack gets 2xx. Figures go to docs/reliability.md.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import platform
import random
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import service  # noqa: E402
from service.packs import default_packs  # noqa: E402
from service.packs.template import template_xlsx  # noqa: E402
from service.spec import default_registry  # noqa: E402

EXE = str(Path(sys.executable).with_name("stepdown-forms"))
REGISTRY = default_registry()
MIB = 1024 * 1024


# -- the hostile inputs ----------------------------------------------------------------------

def _rezip(base: bytes, replace: dict[str, bytes] = {}, add: dict[str, bytes] = {}) -> bytes:
    src = zipfile.ZipFile(io.BytesIO(base))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for info in src.infolist():
            z.writestr(info.filename, replace.get(info.filename, src.read(info)))
        for name, data in add.items():
            z.writestr(name, data)
    return out.getvalue()


def _into_body(doc: bytes, xml: bytes) -> bytes:
    at = doc.index(b"<w:body>") + len(b"<w:body>")
    return doc[:at] + xml + doc[at:]


def _rows_in_present_table(n: int, rnd: random.Random | None = None) -> bytes:
    """A Placement Stability Meeting whose "Present" table has ``n`` more rows: bare, or with
    random text (as an attacker's would be, so that the zip's ratio check does not stop it)."""
    raw = service.generate_document(REGISTRY.get("placement-stability-meeting"), None)
    doc = zipfile.ZipFile(io.BytesIO(raw)).read("word/document.xml")
    tag = doc.index(b'w:val="present[].name"')
    end = doc.index(b"</w:tbl>", tag)
    row = b"<w:tr><w:tc><w:p><w:r><w:t>%s</w:t></w:r></w:p></w:tc><w:tc><w:p/></w:tc></w:tr>"
    rows = b"".join(row % (b"%08x" % rnd.getrandbits(32) if rnd else b"x") for _ in range(n))
    return _rezip(raw, {"word/document.xml": doc[:end] + rows + doc[end:]})


def _full_psm() -> bytes:
    """A valid form as big as the form allows: every repeating table at its row limit."""
    spec = REGISTRY.get("placement-stability-meeting")
    data = json.loads((ROOT / "samples/placement-stability-meeting.json").read_text())
    for f in spec.fields:
        if getattr(f, "max_rows", None) and data.get(f.key):
            data[f.key] = (data[f.key] * f.max_rows)[:f.max_rows]
    return service.generate_document(spec, data)


def word_inputs() -> dict[str, bytes]:
    from tests.docx import test_hostile as h  # the suite's hostile files, built the same way

    rnd = random.Random(3)
    good = h.GOOD
    doc = zipfile.ZipFile(io.BytesIO(good)).read("word/document.xml")
    rel = (b'<Relationship Id="rIdX" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
           b'image" Target="media/x.png"/>')
    big_rels = (b'<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/'
                b'relationships">' + rel * 9000 + b"</Relationships>")
    out = {
        "legit: every table at its row limit": _full_psm(),
        "300,000 rows in a repeating table": _rows_in_present_table(300_000),
        "300,000 rows of random text": _rows_in_present_table(300_000, rnd),
        "2 million empty paragraphs": _rezip(good, {"word/document.xml": _into_body(doc, b"<w:p/>" * 2_000_000)}),
        "260,000 paragraphs of random text": _rezip(good, {"word/document.xml": _into_body(doc, b"".join(
            b"<w:p><w:r><w:t>%08x</w:t></w:r></w:p>" % rnd.getrandbits(32) for _ in range(260_000)))}),
        "190 relationship parts of 1 MiB": _rezip(good, add={f"word/_rels/header{i}.xml.rels": big_rels
                                                             for i in range(190)}),
    }
    for name, (make, _) in h.CASES.items():
        out[f"Word: {name}"] = make()
    return out


def pdf_inputs() -> dict[str, bytes]:
    from tests.pdf import test_hostile_pdf as h

    out = {f"PDF: {name}": h.altered(change) for name, change in h.CASES.items()}
    out["PDF: script in a parent field"] = h._pike(h._parent_field_script)
    out["PDF: script on an outline item"] = h._pike(h._outline_script)
    out["PDF: #xx-escaped names"] = h._escaped(h._pike(h._parent_field_script))
    return out


def sheet_inputs() -> dict[str, bytes]:
    from tests.packs.test_packs import _workbook_with

    rnd = random.Random(5)
    ns = b'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
    xfs = b"".join(b'<xf numFmtId="%d" fontId="0"/>' % rnd.randrange(200) for _ in range(150_000))
    return {
        "sheet: shared strings inflating to 780 MB": _workbook_with(
            "xl/sharedStrings.xml", b'<sst ' + ns + b'><si><t>' + b"a" * (780 * MIB) + b"</t></si></sst>"),
        "sheet: shared strings of 70 MiB": _workbook_with(
            "xl/sharedStrings.xml", b'<sst ' + ns + b'><si><t>' + b"a" * (70 * MIB) + b"</t></si></sst>"),
        "sheet: 3 million cell formats": _workbook_with(
            "xl/styles.xml", b'<styleSheet ' + ns + b'><cellXfs count="3000000">' + b'<xf numFmtId="0"/>' * 3_000_000
            + b"</cellXfs></styleSheet>"),
        "sheet: 150,000 varied cell formats": _workbook_with(
            "xl/styles.xml", b'<styleSheet ' + ns + b'><cellXfs count="150000">' + xfs + b"</cellXfs></styleSheet>"),
        "sheet: damaged sheet XML": (ROOT / "tests/fuzz/crashers/sheet-damaged-sheet-xml.xlsx").read_bytes(),
    }


# -- the service -----------------------------------------------------------------------------

class Server:
    def __init__(self, data: Path) -> None:
        self.data = data
        self.env = {**os.environ, "DATABASE_URL": f"sqlite:///{data}/bench.sqlite3", "STEPDOWN_DATA_DIR": str(data)}
        self.proc: subprocess.Popen | None = None
        self.port = 0

    def cli(self, *args: str, stdin: str | None = None) -> str:
        return subprocess.run([EXE, *args], env=self.env, input=stdin, text=True, check=True,
                              capture_output=True).stdout.strip()

    def user(self, name: str, team: str) -> str:
        self.cli("create-user", name, "--team", team, "--password-stdin", stdin="a long enough password\n")
        return self.cli("create-token", name)

    def start(self) -> None:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.proc = subprocess.Popen([EXE, "serve", "--port", str(self.port)], env=self.env,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                urllib.request.urlopen(self.url("/api/health"), timeout=2).read()
                return
            except OSError:
                time.sleep(0.2)
        raise RuntimeError("the service did not start")

    def stop(self, kill: bool = False) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL if kill else signal.SIGTERM)
            self.proc.wait(30)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def tree(self) -> list[int]:
        """The server and every process below it."""
        return [self.proc.pid] + _descendants(self.proc.pid)


def _descendants(pid: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                ppid = int(Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(entry))
    out, stack = [], list(children.get(pid, []))
    while stack:
        p = stack.pop()
        out.append(p)
        stack += children.get(p, [])
    return out


def _rss_mib(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def _alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def post_file(url: str, token: str, raw: bytes, name: str, timeout: float = 120) -> tuple[int, dict]:
    """POST a file as multipart (or, for a name ending .json, as a JSON body); the answer even
    when the server answers (413) and closes before the body is all sent."""
    import http.client
    from urllib.parse import urlsplit

    boundary = "b0undary" + os.urandom(8).hex()
    body = (f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{name}"\r\n'
            "Content-Type: application/octet-stream\r\n\r\n").encode() + raw + f"\r\n--{boundary}--\r\n".encode()
    kind = f"multipart/form-data; boundary={boundary}"
    if name.endswith(".json"):
        body, kind = raw, "application/json"
    where = urlsplit(url)
    conn = http.client.HTTPConnection(where.hostname, where.port, timeout=timeout)
    try:
        try:
            conn.request("POST", where.path, body=body, headers={"Authorization": f"Bearer {token}",
                                                                 "Content-Type": kind})
        except OSError:
            pass  # answered and closed early: the answer may still be there to read
        r = conn.getresponse()
        data = r.read()
        try:
            return r.status, json.loads(data or b"{}")
        except ValueError:
            return r.status, {}
    except (OSError, http.client.HTTPException, AttributeError) as e:  # the server went (kill -9 trials)
        return 0, {"error": {"code": type(e).__name__}}
    finally:
        conn.close()


class Sampler:
    """Peak resident memory of the server and of its workers, sampled every 10 ms."""

    def __init__(self, server: Server) -> None:
        self.server, self.server_peak, self.worker_peak = server, 0.0, 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> "Sampler":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        pid = self.server.proc.pid
        while not self._stop.is_set():
            self.server_peak = max(self.server_peak, _rss_mib(pid))
            for child in _descendants(pid):
                self.worker_peak = max(self.worker_peak, _rss_mib(child))
            self._stop.wait(0.01)


def json_inputs() -> dict[str, bytes]:
    return {
        "JSON: 20 MiB of empty objects as a case": b'{"child_name": "A", "x": [' + b"{}," * (6 * MIB) + b"{}]}",
        "JSON: nested 200,000 deep": b"[" * 200_000 + b"]" * 200_000,
    }


def _upload_path(name: str) -> tuple[str, str]:
    if name.startswith("JSON:"):
        return "/api/cases", "case.json"
    if name.startswith("sheet:"):
        return "/api/packs/matching/jobs", "meetings.xlsx"
    return "/api/submissions", "form.pdf" if name.startswith("PDF") else "form.docx"


# -- the measurements ------------------------------------------------------------------------

def hostile(server: Server, token: str, inputs: dict[str, bytes], repeats: int) -> list[dict]:
    results = []
    for name, raw in inputs.items():
        path, filename = _upload_path(name)
        times, answers, server_peak, worker_peak = [], set(), 0.0, 0.0
        for _ in range(repeats):
            with Sampler(server) as sampler:
                start = time.perf_counter()
                status, body = post_file(server.url(path), token, raw, filename)
                times.append(time.perf_counter() - start)
            answers.add(f"{status} {body.get('error', {}).get('code', 'accepted' if status < 300 else '?')}")
            server_peak, worker_peak = max(server_peak, sampler.server_peak), max(worker_peak, sampler.worker_peak)
        results.append({"input": name, "bytes": len(raw), "answers": sorted(answers), "worst_s": max(times),
                        "median_s": statistics.median(times), "server_mib": server_peak, "worker_mib": worker_peak})
        print(f"  {name[:48]:48} {len(raw) / MIB:6.2f} MiB  {', '.join(sorted(answers)):28} "
              f"{max(times):6.2f} s  server {server_peak:5.0f} MiB  worker {worker_peak:5.0f} MiB", flush=True)
    return results


def _valid_uploads(server: Server, token: str, seconds: float, good: bytes) -> dict:
    statuses, times = [], []
    until = time.monotonic() + seconds
    while time.monotonic() < until:
        start = time.perf_counter()
        status, _ = post_file(server.url("/api/submissions"), token, good, "form.docx")
        times.append(time.perf_counter() - start)
        statuses.append(status)
        time.sleep(0.2)
    ok = sum(1 for s in statuses if 200 <= s < 300)
    return {"uploads": len(statuses), "ok": ok, "statuses": sorted(set(statuses)),
            "median_s": statistics.median(times), "p95_s": sorted(times)[int(0.95 * (len(times) - 1))]}


def load_held(server: Server, attacker: str, victim: str, inputs: dict[str, bytes], seconds: float) -> dict:
    good = service.generate_document(REGISTRY.get("ramp"), None)
    quiet = _valid_uploads(server, victim, seconds / 2, good)
    stop, sent = threading.Event(), [0]
    names = list(inputs)

    def attack(seed: int) -> None:
        rnd = random.Random(seed)
        while not stop.is_set():
            name = rnd.choice(names)
            path, filename = _upload_path(name)
            post_file(server.url(path), attacker, inputs[name], filename)
            sent[0] += 1

    threads = [threading.Thread(target=attack, args=(i,), daemon=True) for i in range(4)]
    for t in threads:
        t.start()
    busy = _valid_uploads(server, victim, seconds, good)
    stop.set()
    for t in threads:
        t.join(60)
    return {"quiet": quiet, "attacked": busy, "attack_requests": sent[0],
            "median_ratio": busy["median_s"] / quiet["median_s"]}


def slow_clients(server: Server, attacker: str, victim: str, part: str) -> dict:
    """Twenty connections trickling a byte a second: of an upload's body, or of its headers."""
    head = (f"POST /api/submissions HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {attacker}\r\n"
            "Content-Type: multipart/form-data; boundary=b\r\nContent-Length: 100000\r\n\r\n"
            '--b\r\nContent-Disposition: form-data; name="file"; filename="f.docx"\r\n\r\n').encode()
    if part == "headers":
        head = b"POST /api/submissions HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: "
    conns = []
    for _ in range(20):
        c = socket.create_connection(("127.0.0.1", server.port), timeout=30)
        c.sendall(head)
        conns.append(c)
    start, let_go = time.monotonic(), {}
    good = service.generate_document(REGISTRY.get("ramp"), None)
    victim_statuses = []
    while len(let_go) < len(conns) and time.monotonic() - start < 70:
        for i, c in enumerate(conns):
            if i in let_go:
                continue
            try:
                c.sendall(b"x")
                c.setblocking(False)
                data = c.recv(4096)
                if data:
                    let_go[i] = (time.monotonic() - start, data.split(b"\r\n", 1)[0].decode(errors="replace"))
            except BlockingIOError:
                pass
            except OSError:
                let_go[i] = (time.monotonic() - start, "closed")
            finally:
                c.setblocking(True)
        victim_statuses.append(post_file(server.url("/api/submissions"), victim, good, "form.docx")[0])
        time.sleep(1)
    for c in conns:
        c.close()
    held = [t for t, _ in let_go.values()]
    return {"connections": len(conns), "let_go": len(let_go), "answers": sorted({a for _, a in let_go.values()}),
            "longest_held_s": max(held) if held else None, "victim_ok": sum(1 for s in victim_statuses if s == 201),
            "victim_uploads": len(victim_statuses)}


def kill_trials(data: Path, n: int) -> dict:
    server = Server(data)
    token = server.user("kill.tester", "Kill Team")
    good = service.generate_document(REGISTRY.get("ramp"), None)
    sheet = _meetings(60)
    acknowledged: list[str] = []
    survivors, lost, partial, rnd = 0, 0, 0, random.Random(9)
    for trial in range(n):
        server.start()
        stop, seen = threading.Event(), set()

        def upload() -> None:
            while not stop.is_set():
                status, body = post_file(server.url("/api/submissions"), token, good, "form.docx", timeout=10)
                if status == 201:
                    acknowledged.append(body["id"])

        post_file(server.url("/api/packs/placement-stability-meeting/jobs"), token, sheet, "meetings.csv")
        threads = [threading.Thread(target=upload, daemon=True) for _ in range(3)]
        for t in threads:
            t.start()
        until = time.monotonic() + rnd.uniform(1.0, 4.0)
        while time.monotonic() < until:
            seen |= set(_descendants(server.proc.pid))
            time.sleep(0.05)
        server.stop(kill=True)
        stop.set()
        for t in threads:
            t.join(15)
        time.sleep(3)
        survivors += sum(1 for pid in seen if _alive(pid))
        server.start()  # started again on the same database: what was acknowledged must be there
        stored = _stored_submissions(data / "bench.sqlite3")
        lost = len(set(acknowledged) - stored)
        partial += len(list(data.rglob("*.partial")))
        server.stop()
        print(f"  trial {trial + 1}: {len(seen)} worker processes seen, {len(acknowledged)} uploads acknowledged so far",
              flush=True)
    return {"trials": n, "processes_left": survivors, "acknowledged": len(acknowledged), "lost": lost,
            "partial_files_left": partial, "audit_after": _verify_audit(server)}


def _verify_audit(server: Server) -> str:
    done = subprocess.run([EXE, "verify-audit"], env=server.env, text=True, capture_output=True)
    return (done.stdout + done.stderr).strip().splitlines()[-1] if (done.stdout + done.stderr).strip() else str(done.returncode)


def _stored_submissions(path: Path) -> set[str]:
    import sqlite3

    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as db:
        return {row[0] for row in db.execute("SELECT id FROM submissions")}


def _meetings(n: int) -> bytes:
    sys.path.insert(0, str(ROOT / "bench"))
    from bench_packs import rows_csv

    return rows_csv(n)


def machine() -> dict:
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor())
    return {"cpu": cpu, "cores": os.cpu_count(), "python": platform.python_version(),
            "memory_gib": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--load-seconds", type=float, default=20)
    parser.add_argument("--kills", type=int, default=20)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    out: dict = {"machine": machine()}
    print(json.dumps(out["machine"]))
    with tempfile.TemporaryDirectory(prefix="sdf-bench-") as tmp:
        server = Server(Path(tmp) / "main")
        server.data.mkdir()
        attacker, victim = server.user("bench.attacker", "Team A"), server.user("bench.victim", "Team B")
        server.start()
        try:
            print("building the hostile inputs ...", flush=True)
            inputs = {**word_inputs(), **pdf_inputs(), **sheet_inputs(), **json_inputs()}
            print(f"1. {len(inputs)} hostile inputs, {args.repeats} times each", flush=True)
            out["hostile"] = hostile(server, attacker, inputs, args.repeats)
            print(f"2. load held ({args.load_seconds:.0f} s attacked)", flush=True)
            attack_set = {k: v for k, v in inputs.items() if len(v) < 8 * MIB}
            out["load"] = load_held(server, attacker, victim, attack_set, args.load_seconds)
            print("  ", json.dumps(out["load"]), flush=True)
            print("3. slow clients", flush=True)
            out["slow"] = {part: slow_clients(server, attacker, victim, part) for part in ("body", "headers")}
            print("  ", json.dumps(out["slow"]), flush=True)
        finally:
            server.stop()
        print(f"4. {args.kills} kill -9 trials", flush=True)
        kills = Path(tmp) / "kills"
        kills.mkdir()
        out["kills"] = kill_trials(kills, args.kills)
        print("  ", json.dumps(out["kills"]), flush=True)
    h = out["hostile"]
    out["summary"] = {"inputs": len(h), "refused": sum(1 for r in h if all(not a.startswith("2") for a in r["answers"])),
                      "legit_read": [r["answers"] for r in h if r["input"].startswith("legit")],
                      "worst_s": max(r["worst_s"] for r in h), "worst_server_mib": max(r["server_mib"] for r in h),
                      "worst_worker_mib": max(r["worker_mib"] for r in h),
                      "no_5xx": all(not a.startswith(("5", "0")) for r in h for a in r["answers"])}
    print(json.dumps(out["summary"]))
    if args.json:
        args.json.write_text(json.dumps(out, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Batch meeting packs: 100, 1,000 and 5,000 meetings of the four-form Placement Stability
Meeting pack (cover sheet, four forms as Word and PDF, a combined PDF), on every core.

    .venv/bin/python bench/bench_packs.py [--sizes 100,1000,5000] [--workers 2]

Targets (issue 6): 1,000 meetings in at most 60 s wall; peak memory at most 400 MB and flat
as the batch grows. Memory is each process's peak resident set: this process (it reads the
rows and writes the ZIP) and the largest worker.
"""

from __future__ import annotations

import argparse
import csv
import io
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def rows_csv(n: int) -> bytes:
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(["SU number", "Child's name", "Meeting date", "Start time", "Venue", "Chair", "Chair's role", "Invitees",
                "Date and time the meeting was requested", "Requested by", "Social worker", "Independent reviewing officer"])
    for i in range(n):
        day = 1 + i % 28
        w.writerow([f"SU-EX-{100000 + i}", f"Bench{i} Example", f"{day:02d}/12/2026", "10:00", "Room 1, Example House",
                    "Pat Sample", "Social work team manager", "Jo Sample – Social worker\nLee Demo (Foster carer)",
                    f"{day:02d}/11/2026 09:00", "Foster carer", "Jo Sample", f"Iro{i % 50} Specimen"])
    return buf.getvalue().encode()


CHILD = """
import resource, sys, time, json
sys.path.insert(0, {root!r})
import service
from service.packs import default_packs
from service.packs.batch import run_batch
registry = service.default_registry()
pack = default_packs().get("placement-stability-meeting")
raw = open({input!r}, "rb").read()
start = time.perf_counter()
result = run_batch(pack, registry, raw, {out!r}, workers={workers})
wall = time.perf_counter() - start
print(json.dumps({{"wall": wall, "built": result.built,
                  "self_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                  "worker_mb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024}}))
"""


def main() -> int:
    import json

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100,1000,5000")
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    print(f"{'meetings':>9} {'wall s':>8} {'packs/s':>8} {'main MB':>8} {'worker MB':>9} {'ZIP MB':>8}")
    with tempfile.TemporaryDirectory() as folder:
        for n in [int(s) for s in args.sizes.split(",")]:
            inp, out = Path(folder) / f"in{n}.csv", Path(folder) / f"out{n}.zip"
            inp.write_bytes(rows_csv(n))
            code = CHILD.format(root=str(ROOT), input=str(inp), out=str(out), workers=args.workers)
            done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
            r = json.loads(done.stdout.strip().splitlines()[-1])
            print(f"{n:>9} {r['wall']:>8.1f} {r['built'] / r['wall']:>8.1f} {r['self_mb']:>8.0f} {r['worker_mb']:>9.0f} "
                  f"{out.stat().st_size / 1e6:>8.0f}")
            out.unlink()
    return 0


if __name__ == "__main__":
    sys.exit(main())

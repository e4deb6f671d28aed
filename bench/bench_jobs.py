"""Batches on each engine, in the same run: 1,000 four-form Placement Stability Meeting packs
(cover sheet, four forms as Word and PDF, a combined PDF) built by

- the embedded engine (the web process's own builder processes, ``STEPDOWN_JOB_WORKERS``),
- Celery with Redis: one ``stepdown-forms worker`` process, then two (as if on two machines),

each a real process tree started as docs/deploy.md starts it (redis-server on a private port,
``stepdown-forms serve`` and ``worker``), sharing a database and a file store. The time is from
the upload being accepted to the batch being done (ZIP assembled and in place).

    .venv/bin/python bench/bench_jobs.py [--meetings 1000] [--repeat 2] [--database-url postgresql+psycopg://USER@HOST:PORT/DB]

Target (issue 14): two worker processes at least 1.8x one. Memory: the largest resident set
any builder process reached.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).parent))

from _postgres import FreshPostgres  # noqa: E402  (beside this file)
from bench_hostile import _descendants  # noqa: E402  (the same walk of /proc, beside this file)
from bench_packs import rows_csv  # noqa: E402
from tests.jobs.cluster import Cluster, Redis  # noqa: E402  (the same process tree the tests start)

PACK = "placement-stability-meeting"


def _peak_mb(pids: list[int]) -> float:
    """The largest peak resident set (VmHWM) among ``pids`` and their descendants."""
    best = 0
    for pid in pids:
        for p in [pid, *_descendants(pid)]:
            try:
                for line in Path(f"/proc/{p}/status").read_text().splitlines():
                    if line.startswith("VmHWM:"):
                        best = max(best, int(line.split()[1]))
            except OSError:
                pass
    return best / 1024


def run_once(engine: str, meetings: int, folder: Path, database_url: str | None, redis: Redis) -> dict:
    folder.mkdir(parents=True)
    if database_url:
        with FreshPostgres(database_url) as url:
            return _run(engine, meetings, folder, url, redis)
    return _run(engine, meetings, folder, f"sqlite:///{folder}/service.sqlite3", redis)


def _run(engine: str, meetings: int, folder: Path, url: str, redis: Redis) -> dict:
    broker = None if engine == "embedded" else redis.url
    cluster = Cluster(folder, url, broker, STEPDOWN_PART_TIMEOUT="120", STEPDOWN_PART_SIZE="10",
                      STEPDOWN_JOB_WORKERS="2")
    try:
        cluster.user()
        cluster.start_web()
        if engine != "embedded":
            for n in range(int(engine.split()[0])):
                cluster.start_worker(f"bench{n}")
        warm = cluster.start_batch(PACK, rows_csv(16))  # every builder loads its fonts and forms
        assert cluster.wait(warm)["status"] == "done"
        raw = rows_csv(meetings)
        start = time.perf_counter()
        job_id = cluster.start_batch(PACK, raw)
        job = cluster.wait(job_id, timeout=1800)
        wall = time.perf_counter() - start
        assert job["status"] == "done" and job["done"] == meetings, job
        size = (folder / "files" / "jobs" / f"{job_id}.zip").stat().st_size
        builders = [cluster.web.pid] if engine == "embedded" else [w.pid for w in cluster.workers.values()]
        return {"wall": wall, "rate": meetings / wall, "peak_mb": _peak_mb(builders), "zip_mb": size / 1e6}
    finally:
        cluster.stop()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--meetings", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--database-url", default=None, help="a PostgreSQL server (any database on it; each run gets a new one); SQLite by default")
    args = parser.parse_args()
    engines = ["embedded", "1 worker", "2 workers"]
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
          f"database {'PostgreSQL' if args.database_url else 'SQLite'}; {args.meetings} meetings of {PACK}, "
          f"{args.repeat} rounds, engines in turn within each round")
    results: dict[str, list[dict]] = {e: [] for e in engines}
    with tempfile.TemporaryDirectory(prefix="bench-jobs-") as tmp:
        redis = Redis(Path(tmp) / "redis").start()
        try:
            for round_ in range(args.repeat):
                for engine in engines:
                    r = run_once(engine, args.meetings, Path(tmp) / f"{round_}-{engine.replace(' ', '-')}",
                                 args.database_url, redis)
                    results[engine].append(r)
                    print(f"  round {round_ + 1} {engine:<10} {r['wall']:7.1f} s {r['rate']:6.1f} meetings/s "
                          f"builder peak {r['peak_mb']:5.0f} MB  ZIP {r['zip_mb']:5.0f} MB", flush=True)
                one, two = results["1 worker"][-1]["wall"], results["2 workers"][-1]["wall"]
                print(f"  round {round_ + 1} scaling 1 -> 2 workers: {one / two:.2f}x; embedded vs 2 workers: "
                      f"{results['embedded'][-1]['wall'] / two:.2f}x the time", flush=True)
        finally:
            redis.stop()
    print(f"\n{'engine':<10} {'median s':>9} {'meetings/s':>11} {'spread s':>14} {'peak MB':>8}")
    for engine in engines:
        walls = [r["wall"] for r in results[engine]]
        print(f"{engine:<10} {statistics.median(walls):9.1f} {args.meetings / statistics.median(walls):11.1f} "
              f"{min(walls):6.1f}–{max(walls):<6.1f} {max(r['peak_mb'] for r in results[engine]):8.0f}")
    ratios = [a["wall"] / b["wall"] for a, b in zip(results["1 worker"], results["2 workers"])]
    print(f"scaling 1 -> 2 worker processes, per round: {', '.join(f'{x:.2f}x' for x in ratios)} "
          f"(target at least 1.8x)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

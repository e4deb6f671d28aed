"""PDF generation (prefilled) and extraction per form, each beside its floor: the best of five
medians, one core.

    .venv/bin/python bench/bench_pdf.py [--runs 30] [--json out.json]

The floors, measured in the same run on the same file:

- extraction: opening the file with pikepdf (qpdf, the reader's library) and reading every
  field's name and value, in this process; ours adds the parser worker's round trip (the file
  is parsed in a separate, limited process), the active-content checks and validation.
- generation: writing the same bytes, i.e. compressing each stream the writer compresses per
  document at its level (page content, appearances, object streams, the cross-reference
  stream; the font files are made once a process) and joining the file together.

Targets (issue 17): generation and extraction at most 2x their floors. (Issue 4's: the Key
Criteria form generated in 20 ms, read in 10.)
"""

from __future__ import annotations

import argparse
import json
import sys
import zlib
from io import BytesIO
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import pikepdf  # noqa: E402

import service  # noqa: E402
from bench_docx import SPREAD, median_ms, report_targets  # noqa: E402
from service.pdf import extract_pdf, generate_pdf  # noqa: E402
from service.pdf.objects import COMPRESS_LEVEL  # noqa: E402


def streams_written(raw: bytes) -> tuple[list[bytes], int]:
    """The decoded data of every stream the writer compresses for each document, and the
    file's size (what the generation floor must compress and write)."""
    out = []
    with pikepdf.open(BytesIO(raw)) as pdf:
        for obj in pdf.objects:
            if isinstance(obj, pikepdf.Stream) and obj.stream_dict.get("/Filter") == "/FlateDecode" \
                    and "/Length1" not in obj.stream_dict:
                data = obj.read_bytes()
                if b"begincmap" not in data[:300]:  # ToUnicode maps are made once a process too
                    out.append(data)
    return out, len(raw)


def write_floor(streams: list[bytes], size: int) -> bytes:
    parts = [zlib.compress(data, COMPRESS_LEVEL) for data in streams]
    return b"".join(parts) + bytes(size - sum(map(len, parts)))


def read_floor(raw: bytes) -> dict:
    values = {}
    with pikepdf.open(BytesIO(raw)) as pdf:
        stack = list(pdf.Root.AcroForm.Fields)
        while stack:
            node = stack.pop()
            if "/T" in node:
                values[str(node.T)] = node.get("/V")
            if "/Kids" in node:
                stack += list(node.Kids)
    return values


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    registry = service.default_registry()
    rows = []
    for form_id in registry.ids():
        spec = registry.get(form_id)
        sample = json.loads((ROOT / "samples" / f"{form_id}.json").read_text())
        raw = generate_pdf(spec, sample)
        streams, size = streams_written(raw)
        gen = median_ms(lambda: generate_pdf(spec, sample), args.runs)
        write = median_ms(lambda: write_floor(streams, size), args.runs)
        read = lambda: extract_pdf(raw, registry)  # noqa: E731
        ext = median_ms(read, args.runs)
        lo, hi = SPREAD[read]
        parse = median_ms(lambda: read_floor(raw), args.runs)
        rows.append({"form": form_id, "generate_ms": round(gen, 2), "write_floor_ms": round(write, 2),
                     "generate_x_floor": round(gen / write, 2), "extract_ms": round(ext, 2),
                     "parse_floor_ms": round(parse, 2), "extract_x_floor": round(ext / parse, 2),
                     "extract_spread_ms": [round(lo, 2), round(hi, 2)], "size_kb": round(len(raw) / 1024)})
    print(f"{'form':30} {'gen ms':>7} {'write ms':>9} {'x write':>8} {'read ms':>8} {'parse ms':>9} {'x parse':>8} "
          f"{'KB':>4}  read spread")
    for r in rows:
        lo, hi = r["extract_spread_ms"]
        print(f"{r['form']:30} {r['generate_ms']:>7.2f} {r['write_floor_ms']:>9.2f} {r['generate_x_floor']:>8.2f} "
              f"{r['extract_ms']:>8.2f} {r['parse_floor_ms']:>9.2f} {r['extract_x_floor']:>8.2f} {r['size_kb']:>4}"
              f"  {lo:.2f}-{hi:.2f} ms")
    report_targets(rows, [("generation at most 2x writing its bytes", "generate_x_floor", 2.0),
                          ("extraction at most 2x opening it and reading its fields", "extract_x_floor", 2.0)])
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""PDF generation (prefilled) and extraction per form: the best of five medians, one core.

    .venv/bin/python bench/bench_pdf.py [--runs 30]

Targets (issue 4): at most 20 ms to generate and 10 ms to extract the Key Criteria form.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import service  # noqa: E402
from bench_docx import median_ms  # noqa: E402
from service.pdf import extract_pdf, generate_pdf  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args()
    registry = service.default_registry()
    print(f"{'form':30} {'generate ms':>12} {'extract ms':>11} {'size KB':>8}")
    results = {}
    for form_id in registry.ids():
        spec = registry.get(form_id)
        sample = json.loads((ROOT / "samples" / f"{form_id}.json").read_text())
        raw = generate_pdf(spec, sample)
        gen = median_ms(lambda: generate_pdf(spec, sample), args.runs)
        ext = median_ms(lambda: extract_pdf(raw, registry), args.runs)
        results[form_id] = (gen, ext)
        print(f"{form_id:30} {gen:>12.1f} {ext:>11.1f} {len(raw) / 1024:>8.0f}")
    gen, ext = results["key-criteria"]
    print(f"\nKey Criteria: generate {gen:.1f} ms (target 20: {'met' if gen <= 20 else 'NOT met'}), "
          f"extract {ext:.1f} ms (target 10: {'met' if ext <= 10 else 'NOT met'})")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""External tools the tests drive (LibreOffice, poppler, pdftk, and the real clients that fill
our files: LibreOffice through UNO, pdf.js, MuPDF, PDFium). Under CI=true a missing tool fails
the run; elsewhere it skips with the install command to run."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest


def unavailable(message: str):
    """A tool the test needs is missing: under CI=true the run fails, elsewhere the test skips."""
    if os.environ.get("CI") == "true":
        pytest.fail(message)
    pytest.skip(message)


def require(tool: str, package: str) -> str:
    path = shutil.which(tool)
    if path:
        return path
    unavailable(f"{tool} is not installed (apt-get install {package}); scripts/test installs it")


def soffice_convert(files: list[Path], target: str, outdir: Path) -> list[Path]:
    """Convert ``files`` with one headless LibreOffice run; target 'docx' or 'odt'."""
    soffice = require("soffice", "libreoffice-writer-nogui")
    outdir.mkdir(parents=True, exist_ok=True)
    filt = "docx:MS Word 2007 XML" if target == "docx" else target
    profile = outdir.parent / "lo-profile"
    proc = subprocess.run(
        [soffice, f"-env:UserInstallation=file://{profile}", "--headless", "--norestore", "--convert-to", filt,
         "--outdir", str(outdir), *map(str, files)],
        capture_output=True, text=True, timeout=300,
    )
    out = [outdir / (f.stem + "." + target) for f in files]
    missing = [p.name for p in out if not p.exists()]
    assert not missing, f"LibreOffice did not write {missing}: {proc.stderr[-500:]}"
    return out


def pdftk(*args: str, stdin: bytes | None = None) -> bytes:
    exe = require("pdftk", "pdftk-java")
    proc = subprocess.run([exe, *args], input=stdin, capture_output=True, timeout=120)
    assert proc.returncode == 0, proc.stderr.decode(errors="replace")[-500:]
    return proc.stdout


def render_gray(pdf: Path, page: int = 1, dpi: int = 40) -> bytes:
    """Page ``page`` rendered by poppler as 8-bit grey pixels (the body of a PGM file)."""
    exe = require("pdftoppm", "poppler-utils")
    out = subprocess.run([exe, "-gray", "-r", str(dpi), "-f", str(page), "-l", str(page), str(pdf)],
                         capture_output=True, timeout=120, check=True).stdout
    # PGM: 'P5\n<w> <h>\n255\n' then the pixels
    header_end = 0
    for _ in range(3):
        header_end = out.index(b"\n", header_end) + 1
    return out[header_end:]


CLIENTS = Path(__file__).parent / "clients"


def _run_client(argv: list[str], what: str, timeout: int = 240) -> None:
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=timeout)
    assert proc.returncode == 0, f"{what} failed ({proc.returncode}): {proc.stderr[-1500:]}"


def lo_edit(src: Path, out: Path, edits: list[dict]) -> None:
    """Edit a .docx's content controls through LibreOffice's UNO API, as its interface does,
    and save it as .docx (tests/clients/lo_edit.py, run by Debian's python3 with python3-uno)."""
    require("soffice", "libreoffice-writer-nogui")
    python = "/usr/bin/python3"
    if subprocess.run([python, "-c", "import uno"], capture_output=True).returncode != 0:
        unavailable("LibreOffice's Python bridge is not installed (apt-get install python3-uno); scripts/test installs it")
    plan = out.with_suffix(".edits.json")
    plan.write_text(__import__("json").dumps(edits, ensure_ascii=False), encoding="utf-8")
    _run_client([python, str(CLIENTS / "lo_edit.py"), str(src), str(out), str(plan), "--timeout", "200"],
                "LibreOffice (UNO)")


def fill_pdf(client: str, src: Path, out: Path, values: dict) -> None:
    """Fill a PDF's fields through a real PDF library's own API, as a viewer does: "pdfjs"
    (pdfjs-dist under Node), "mupdf" (mutool run) or "pdfium" (pypdfium2)."""
    import json
    import sys

    plan = out.with_suffix(".values.json")
    plan.write_text(json.dumps(values, ensure_ascii=False), encoding="utf-8")
    if client == "pdfjs":
        node = require("node", "nodejs")
        if not (CLIENTS / "node_modules" / "pdfjs-dist").is_dir():
            unavailable("pdf.js is not installed (npm ci --prefix tests/clients); scripts/test installs it")
        argv = [node, str(CLIENTS / "fill_pdfjs.mjs")]
    elif client == "mupdf":
        argv = [require("mutool", "mupdf-tools"), "run", str(CLIENTS / "fill_mupdf.js")]
    else:
        argv = [sys.executable, str(CLIENTS / "fill_pdfium.py")]
    _run_client(argv + [str(src), str(out), str(plan)], client)

"""External tools the tests drive (LibreOffice, poppler). Under CI=true a missing tool fails
the run; elsewhere it skips with the install command to run."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest


def require(tool: str, package: str) -> str:
    path = shutil.which(tool)
    if path:
        return path
    message = f"{tool} is not installed (apt-get install {package}); scripts/test installs it"
    if os.environ.get("CI") == "true":
        pytest.fail(message)
    pytest.skip(message)


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

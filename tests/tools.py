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

"""The embedded page font: DejaVu Sans (Debian's fonts-dejavu-core), which covers Latin with
Welsh accents, Greek and Cyrillic."""

from __future__ import annotations

from pathlib import Path

from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont

from ..errors import StepDownError

REGULAR, BOLD, ITALIC = "DejaVuSans", "DejaVuSans-Bold", "DejaVuSans-Oblique"
_FOLDERS = [Path("/usr/share/fonts/truetype/dejavu"), Path("/usr/share/fonts/dejavu"), Path("/usr/local/share/fonts")]


def font_file(name: str) -> Path:
    for folder in _FOLDERS:
        path = folder / f"{name}.ttf"
        if path.is_file():
            return path
    raise StepDownError(f"the font {name}.ttf is not installed (Debian package fonts-dejavu-core)")


def register() -> None:
    registered = pdfmetrics.getRegisteredFontNames()
    for name in (REGULAR, BOLD, ITALIC):
        if name not in registered:
            pdfmetrics.registerFont(TTFont(name, str(font_file(name))))

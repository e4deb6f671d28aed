"""The embedded fonts: DejaVu Sans (Debian's fonts-dejavu-core), which covers Latin with Welsh
accents, Greek and Cyrillic.

Text is written as glyph ids (Identity-H encoding), and fonts are embedded as subsets that keep
every glyph at its original id (fontTools, ``retain_gids``), so encoding a string never depends
on which subset the document ends up with. A subset holds a fixed set of characters (ASCII and
the common quotes, dashes and currency signs; for the regular face, which viewers also draw
typed values in, Latin-1 and Latin Extended-A too: Welsh ŵ ŷ and the letters of most European
names) plus whole blocks of 128 code points for any other character the document uses.
Subsetting takes about 0.1 s, so each subset is made once per process and its objects are
cached as bytes; most documents share one.
"""

from __future__ import annotations

import hashlib
import threading
import zlib
from dataclasses import dataclass
from functools import lru_cache
from io import BytesIO
from pathlib import Path

from ..errors import InstallationError

REGULAR, BOLD, ITALIC = "DejaVuSans", "DejaVuSans-Bold", "DejaVuSans-Oblique"
_FOLDERS = [Path("/usr/share/fonts/truetype/dejavu"), Path("/usr/share/fonts/dejavu"), Path("/usr/local/share/fonts")]
# What every subset holds. The whole punctuation and currency blocks (about 150 glyphs, 6 KB a
# file) came in for one en dash; these are the ones forms and names use.
_COMMON = frozenset(range(0x20, 0x7F)) | frozenset(map(ord, "‘’‚“”„–—…•€£·×"))
_ALWAYS = {REGULAR: _COMMON | frozenset(range(0xA0, 0x180)), BOLD: _COMMON, ITALIC: _COMMON}
BLOCK = 7  # code point >> BLOCK is the block


def font_file(name: str) -> Path:
    for folder in _FOLDERS:
        path = folder / f"{name}.ttf"
        if path.is_file():
            return path
    raise InstallationError(f"the font {name}.ttf is not installed (Debian package fonts-dejavu-core)")


@dataclass
class Face:
    """A font's metrics and glyph ids, read once per process."""

    name: str
    path: Path
    advance: dict[str, float]  # character -> width in 1/1000 of the font size
    hexes: dict[str, str]  # character -> its glyph id as four hex digits
    gid_of: dict[int, int]  # code point -> glyph id
    gid_width: dict[int, int]  # glyph id -> width (1/1000)
    descriptor: str  # the font descriptor's entries apart from its name and file
    missing_width: float

    def width(self, text: str, size: float) -> float:
        return sum(map(self.advance.__getitem__, text)) * size / 1000  # (a missing character: missing_width)

    def encode(self, text: str) -> str:
        """The string as a PDF hex string of glyph ids (a character the font lacks shows as a box)."""
        return "<" + "".join(map(self.hexes.__getitem__, text)) + ">"


class _OrElse(dict):
    """A dict that answers ``default`` for a key it lacks, so a whole string is looked up in one
    ``map`` (the word wrap measures every word of every value)."""

    def __init__(self, items: dict, default) -> None:
        super().__init__(items)
        self.default = default

    def __missing__(self, key):
        return self.default


_lock = threading.Lock()


@lru_cache(maxsize=None)
def face(name: str) -> Face:
    from fontTools.ttLib import TTFont  # deferred: fontTools takes 0.17 s to load; fonts load once, lazily

    path = font_file(name)
    with _lock:
        font = TTFont(str(path), lazy=True)
        scale = 1000 / font["head"].unitsPerEm
        cmap = font.getBestCmap()
        hmtx = font["hmtx"].metrics
        gid_of, gid_width, advance, hexes = {}, {}, {}, {}
        for cp, glyph in cmap.items():
            gid = font.getGlyphID(glyph)
            width = round(hmtx[glyph][0] * scale)
            gid_of[cp], gid_width[gid] = gid, width
            if cp < 0x110000 and not 0xD800 <= cp < 0xE000:
                advance[chr(cp)], hexes[chr(cp)] = width, f"{gid:04X}"
        head, hhea, os2, post = font["head"], font["hhea"], font["OS/2"], font["post"]
        bbox = " ".join(str(round(v * scale)) for v in (head.xMin, head.yMin, head.xMax, head.yMax))
        italic = post.italicAngle != 0
        descriptor = (f"/Flags {32 | (64 if italic else 0)} /FontBBox [{bbox}] /ItalicAngle {post.italicAngle:g} "
                      f"/Ascent {round(hhea.ascent * scale)} /Descent {round(hhea.descent * scale)} "
                      f"/CapHeight {round(getattr(os2, 'sCapHeight', hhea.ascent) * scale)} /StemV 87")
        missing = round(hmtx[".notdef"][0] * scale)
        font.close()
    return Face(name, path, _OrElse(advance, missing), _OrElse(hexes, "0000"), gid_of, gid_width, descriptor, missing)


@dataclass(frozen=True)
class Embedding:
    """The parts of an embedded subset: its name, the compressed font file and its unpacked
    length, the /W widths array, and the compressed ToUnicode CMap."""

    base_font: str
    font_file: bytes
    length1: int
    widths: str
    to_unicode: bytes


def blocks_of(name: str, text_chars: set[str]) -> frozenset[int]:
    """The blocks a subset of ``name`` needs beyond what every subset holds."""
    always = _ALWAYS[name]
    return frozenset({ord(ch) >> BLOCK for ch in text_chars if ord(ch) not in always})


@lru_cache(maxsize=32)
def embedding(name: str, blocks: frozenset[int]) -> Embedding:
    """The subset of ``name`` holding what every subset of it holds and every glyph of
    ``blocks``, glyph ids unchanged."""
    from fontTools import subset  # deferred: fontTools takes 0.17 s to load
    from fontTools.ttLib import TTFont

    f = face(name)
    always = _ALWAYS[name]
    cps = sorted(cp for cp in f.gid_of if cp in always or cp >> BLOCK in blocks)
    options = subset.Options()
    options.retain_gids = True
    options.notdef_outline = True
    options.hinting = False
    options.layout_features = []
    options.name_IDs = ["*"]  # keep the licence and names
    options.drop_tables += ["GSUB", "GPOS", "GDEF", "kern", "FFTM", "BASE", "JSTF", "MATH"]
    with _lock:
        font = TTFont(str(f.path), recalcTimestamp=False)  # the font's own date: the same subset, the same bytes
        subsetter = subset.Subsetter(options)
        subsetter.populate(unicodes=cps)
        subsetter.subset(font)
        out = BytesIO()
        font.save(out)
        font.close()
    raw = out.getvalue()
    tag = "".join(chr(65 + b % 26) for b in hashlib.sha256(f"{name}{sorted(blocks)}".encode()).digest()[:6])
    return Embedding(f"{tag}+{name}", zlib.compress(raw, 6), len(raw), _widths(f, cps), zlib.compress(_cmap(f, cps)))


def _widths(f: Face, cps: list[int]) -> str:
    """The /W array: runs of consecutive glyph ids with their widths."""
    gids = sorted({f.gid_of[cp] for cp in cps} | {0})
    parts, run = [], [gids[0]]
    for gid in gids[1:]:
        if gid == run[-1] + 1:
            run.append(gid)
        else:
            parts.append(f"{run[0]} [{' '.join(str(f.gid_width.get(g, 0)) for g in run)}]")
            run = [gid]
    parts.append(f"{run[0]} [{' '.join(str(f.gid_width.get(g, 0)) for g in run)}]")
    return "[" + " ".join(parts) + "]"


def _cmap(f: Face, cps: list[int]) -> bytes:
    """A ToUnicode CMap so copied and searched text comes out as the characters written."""
    pairs = sorted({f.gid_of[cp]: cp for cp in reversed(cps)}.items())
    lines = ["/CIDInit /ProcSet findresource begin", "12 dict begin", "begincmap",
             "/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def",
             "/CMapName /Adobe-Identity-UCS def", "/CMapType 2 def",
             "1 begincodespacerange", "<0000> <FFFF>", "endcodespacerange"]
    for i in range(0, len(pairs), 100):
        chunk = pairs[i:i + 100]
        lines.append(f"{len(chunk)} beginbfchar")
        lines += [f"<{gid:04X}> <{chr(cp).encode('utf-16-be').hex().upper()}>" for gid, cp in chunk]
        lines.append("endbfchar")
    lines += ["endcmap", "CMapName currentdict /CMap defineresource pop", "end", "end"]
    return "\n".join(lines).encode("ascii")

"""Images in a PDF (ISO 32000-1, 8.9): an organisation's logo, PNG or JPEG, as an image
XObject. JPEG is embedded as it is (DCTDecode). PNG's compressed data is embedded as it is when
it can be (8-bit grey or RGB, not interlaced: FlateDecode with PNG predictors); with an alpha
channel or a palette, the rows are unfiltered here and the alpha becomes a soft mask."""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass


from ..errors import DocumentError

MAX_PIXELS = 4_000_000  # a logo, not a photograph


def _unusable(reason: str) -> DocumentError:
    """The image cannot be embedded (an unsupported kind, damaged, or too large)."""
    return DocumentError(f"The organisation template's logo cannot go into a PDF: {reason}.", "template_invalid")


@dataclass(frozen=True)
class Image:
    width: int
    height: int
    entries: str  # the XObject's dictionary entries apart from /Length
    data: bytes
    mask: "Image | None" = None


def load(raw: bytes, kind: str) -> Image:
    return _jpeg(raw) if kind == "jpeg" else _png(raw)


def _jpeg(raw: bytes) -> Image:
    i = 2
    while i + 9 < len(raw):
        if raw[i] != 0xFF:
            raise _unusable("not a JPEG file")
        marker, length = raw[i + 1], struct.unpack(">H", raw[i + 2:i + 4])[0]
        if marker in (0xC0, 0xC1, 0xC2):
            height, width = struct.unpack(">HH", raw[i + 5:i + 9])
            components = raw[i + 9]
            space = {1: "/DeviceGray", 3: "/DeviceRGB", 4: "/DeviceCMYK"}.get(components)
            if space is None or width * height > MAX_PIXELS:
                raise _unusable("an unsupported or oversized JPEG")
            return Image(width, height, f"/Type /XObject /Subtype /Image /Width {width} /Height {height} "
                                        f"/ColorSpace {space} /BitsPerComponent 8 /Filter /DCTDecode", raw)
        i += 2 + length
    raise _unusable("a JPEG file without a frame header")


def _chunks(raw: bytes):
    if raw[:8] != b"\x89PNG\r\n\x1a\n":
        raise _unusable("not a PNG file")
    i = 8
    while i + 8 <= len(raw):
        length, kind = struct.unpack(">I4s", raw[i:i + 8])
        yield kind, raw[i + 8:i + 8 + length]
        i += 12 + length


def _png(raw: bytes) -> Image:
    header, palette, idat = None, b"", []
    for kind, body in _chunks(raw):
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", body[:13])
        elif kind == b"PLTE":
            palette = body
        elif kind == b"IDAT":
            idat.append(body)
    if header is None:
        raise _unusable("a PNG file without its header")
    width, height, depth, colour, _, _, interlace = header
    if depth != 8 or interlace or width * height > MAX_PIXELS or colour not in (0, 2, 3, 4, 6):
        raise _unusable("a PNG kind we do not embed (use 8-bit colour, not interlaced)")
    data = b"".join(idat)
    channels = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}[colour]
    base = f"/Type /XObject /Subtype /Image /Width {width} /Height {height} /BitsPerComponent 8"
    if colour in (0, 2, 3):
        space = {0: "/DeviceGray", 2: "/DeviceRGB"}.get(colour) or \
            f"[/Indexed /DeviceRGB {len(palette) // 3 - 1} <{palette.hex()}>]"
        parms = f"/DecodeParms << /Predictor 15 /Colors {channels} /BitsPerComponent 8 /Columns {width} >>"
        return Image(width, height, f"{base} /ColorSpace {space} /Filter /FlateDecode {parms}", data)
    rows = _unfilter(zlib.decompress(data), width, height, channels)
    colour_bytes, alpha = bytearray(), bytearray()
    n = channels - 1
    for row in rows:
        for x in range(width):
            px = row[x * channels:(x + 1) * channels]
            colour_bytes += px[:n]
            alpha.append(px[n])
    space = "/DeviceGray" if n == 1 else "/DeviceRGB"
    mask = Image(width, height, f"{base} /ColorSpace /DeviceGray /Filter /FlateDecode", zlib.compress(bytes(alpha)))
    return Image(width, height, f"{base} /ColorSpace {space} /Filter /FlateDecode",
                 zlib.compress(bytes(colour_bytes)), mask)


def _unfilter(data: bytes, width: int, height: int, bpp: int) -> list[bytes]:
    """PNG's row filters undone (PNG specification, 9)."""
    stride = width * bpp
    rows, prior = [], bytearray(stride)
    for r in range(height):
        start = r * (stride + 1)
        kind, line = data[start], bytearray(data[start + 1:start + 1 + stride])
        if len(line) != stride:
            raise _unusable("a damaged PNG file")
        for i in range(stride):
            left = line[i - bpp] if i >= bpp else 0
            up, corner = prior[i], prior[i - bpp] if i >= bpp else 0
            if kind == 1:
                line[i] = (line[i] + left) & 0xFF
            elif kind == 2:
                line[i] = (line[i] + up) & 0xFF
            elif kind == 3:
                line[i] = (line[i] + ((left + up) >> 1)) & 0xFF
            elif kind == 4:
                p = left + up - corner
                pa, pb, pc = abs(p - left), abs(p - up), abs(p - corner)
                line[i] = (line[i] + (left if pa <= pb and pa <= pc else up if pb <= pc else corner)) & 0xFF
        rows.append(bytes(line))
        prior = line
    return rows

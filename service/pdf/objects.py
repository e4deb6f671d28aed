"""PDF objects written as text: the one place that knows PDF syntax on the writing side
(ISO 32000-1, 7.3 objects, 7.5 file structure).

The writer knows exactly which objects a form needs, so it writes them as strings and this
module numbers them, adds the cross-reference table and the trailer. Every string that comes
from a spec or from data goes through ``text`` (escaped literal, or UTF-16BE with a byte order
mark for anything beyond ASCII), so nothing in a value can end a string or an object early.
"""

from __future__ import annotations

import re
import zlib

# PDFDocEncoding (Annex D.2) where it differs from Latin-1: typographic punctuation and a few letters
_PDFDOC_HIGH = "•†‡…—–ƒ⁄‹›−‰„“”‘’‚™ﬁﬂŁŒŠŸŽıłœšž"
_PDFDOC = {**{chr(i): i for i in range(32, 127)}, **{chr(i): i for i in range(0xA1, 0x100) if i != 0xAD},
           **{ch: 0x80 + i for i, ch in enumerate(_PDFDOC_HIGH)}, "€": 0xA0, "\t": 9, "\n": 10, "\r": 13}
_ESCAPE = {ord("\\"): b"\\\\", ord("("): b"\\(", ord(")"): b"\\)", 13: b"\\r", 10: b"\\n"}


_PLAIN = re.compile(r"[^\x20-\x27\x2a-\x5b\x5d-\x7e]")  # anything but printable ASCII without ( ) \\


def text(value: str) -> str:
    """A PDF text string (7.9.2.2) for ``value``: a literal string in PDFDocEncoding when every
    character has a code there, else in UTF-16BE with a byte order mark. (Literal strings, not
    hex: readers such as pypdf read hex strings several times more slowly.)"""
    if not _PLAIN.search(value):
        return "(" + value + ")"  # the common case: nothing to encode or escape
    try:
        raw = bytes([_PDFDOC[ch] for ch in value])
    except KeyError:
        raw = b"\xfe\xff" + value.encode("utf-16-be")
    if any(b in _ESCAPE for b in raw):
        raw = b"".join(_ESCAPE.get(b, bytes((b,))) for b in raw)
    return "(" + raw.decode("latin-1") + ")"  # bytes as latin-1 characters; put() writes them back as bytes


_NUMBERS: dict[float, str] = {}  # the same margins, columns and sizes, formatted once; layout only, never data


def num(x: float) -> str:
    """A coordinate or size to two decimals, without trailing zeros (12, 12.5, 12.25). A form
    formats some 1,500 of these and few are new: each is formatted once (the table is emptied
    when it grows past a few thousand, since value-dependent row heights make new ones)."""
    shown = _NUMBERS.get(x)
    if shown is None:
        if len(_NUMBERS) > 8192:
            _NUMBERS.clear()
        shown = str(x) if x.__class__ is int else ("%.2f" % x).rstrip("0").rstrip(".")
        if shown == "-0":  # -0.0 equals 0.0 as a key: both are "0", whichever came first
            shown = "0"
        _NUMBERS[x] = shown
    return shown


def ref(number: int) -> str:
    return f"{number} 0 R"


OBJECTS_PER_STREAM = 200
# The deflate level of every stream written per document (page content, appearances, object
# streams, the cross-reference stream). Chosen by measurement on a meeting pack (21 files): level
# 6 took 32.8 ms a meeting and 733 KB, 3 took 28.6 ms and 751 KB, 1 took 27.3 ms and 762 KB;
# 9 costs half as much time again as 6 for 1 KB. Font files are made once a process, at 6.
COMPRESS_LEVEL = 3


class PdfFile:
    """Objects by number; ``reserve`` hands out a number to be filled in later."""

    def __init__(self) -> None:
        self._objects: list[bytes | None] = []
        self._streams: set[int] = set()

    def reserve(self) -> int:
        self._objects.append(None)
        return len(self._objects)

    def put(self, number: int, body: str | bytes) -> int:
        self._objects[number - 1] = body.encode("latin-1") if isinstance(body, str) else body
        return number

    def add(self, body: str | bytes) -> int:
        return self.put(self.reserve(), body)

    def stream(self, entries: str, data: bytes, *, compress: bool = True, number: int | None = None) -> int:
        """A stream object; ``entries`` are the dictionary's other entries. Short streams are
        left as they are: compressing a field's one-line appearance saves nothing."""
        if compress and len(data) > 200:
            data = zlib.compress(data, COMPRESS_LEVEL)
            entries += " /Filter /FlateDecode"
        body = b"<< " + entries.encode("latin-1") + b" /Length %d >>\nstream\n" % len(data) + data + b"\nendstream"
        number = self.put(number if number is not None else self.reserve(), body)
        self._streams.add(number)
        return number

    @property
    def count(self) -> int:
        return len(self._objects)

    def body(self, number: int) -> bytes:
        return self._objects[number - 1]

    def is_stream(self, number: int) -> bool:
        return number in self._streams

    def mark_stream(self, number: int) -> None:
        """Object ``number`` is a whole stream already (as ``stream`` writes one): it stays out of
        the object streams."""
        self._streams.add(number)

    def frozen(self) -> PdfFile:
        """The objects as they are now (``output`` adds object streams to this file)."""
        copy = PdfFile()
        copy._objects, copy._streams = list(self._objects), set(self._streams)
        return copy

    def output(self, root: int, info: int, file_id: str) -> bytes:
        """The file: streams as they are; every other object packed into compressed object
        streams, found through a cross-reference stream (PDF 1.5, 7.5.7 and 7.5.8). That
        takes about a fifth off a form: field dictionaries compress well."""
        for number, body in enumerate(self._objects, start=1):
            if body is None:
                raise ValueError(f"PDF object {number} was reserved but never written")
        packed = [n for n in range(1, len(self._objects) + 1) if n not in self._streams]
        where: dict[int, tuple[int, int]] = {}  # object -> (its object stream, index in it)
        for start in range(0, len(packed), OBJECTS_PER_STREAM):
            group = packed[start:start + OBJECTS_PER_STREAM]
            header, bodies, at = [], [], 0
            for number in group:
                body = self._objects[number - 1]
                header.append(b"%d %d" % (number, at))
                bodies.append(body)
                at += len(body) + 1
            head = b" ".join(header) + b"\n"
            container = self.stream(f"/Type /ObjStm /N {len(group)} /First {len(head)}", head + b"\n".join(bodies))
            for index, number in enumerate(group):
                where[number] = (container, index)
        parts = [b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n"]
        offsets: dict[int, int] = {}
        at = len(parts[0])
        for number in sorted(self._streams):
            chunk = b"%d 0 obj\n" % number + self._objects[number - 1] + b"\nendobj\n"
            offsets[number] = at
            parts.append(chunk)
            at += len(chunk)
        xref_number = len(self._objects) + 1
        offsets[xref_number] = at
        rows = [b"\x00\x00\x00\x00\x00\xff\xff"]
        for number in range(1, xref_number + 1):
            if number in offsets:
                rows.append(b"\x01" + offsets[number].to_bytes(4, "big") + b"\x00\x00")
            else:
                container, index = where[number]
                rows.append(b"\x02" + container.to_bytes(4, "big") + index.to_bytes(2, "big"))
        data = zlib.compress(b"".join(rows), COMPRESS_LEVEL)
        size = xref_number + 1
        xref = (f"{xref_number} 0 obj\n<< /Type /XRef /Size {size} /W [1 4 2] /Root {ref(root)} /Info {ref(info)} "
                f"/ID [<{file_id}> <{file_id}>] /Filter /FlateDecode /Length {len(data)} >>\nstream\n").encode("ascii")
        parts += [xref, data, b"\nendstream\nendobj\n", f"startxref\n{at}\n%%EOF\n".encode("ascii")]
        return b"".join(parts)

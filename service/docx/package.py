"""The one place Word packages (zip files) are opened and written.

**Opening** an uploaded .docx without trusting it (``DocxPackage``):

Everything is checked before anything is inflated or parsed: the size of the file, that it is
a zip at all, the number of entries, each entry's declared size and compression ratio (a zip
bomb), macro parts, embedded and linked objects, and relationships that point outside the
file. Entries are inflated with a hard cap, in case a header lies about its size. XML is parsed
with entities, DTDs and network access off, and any DOCTYPE is refused. Nothing is written to
disk and nothing is followed or run. Packages we edit (a designer's layout, a rendered
organisation shell, a form we just generated) are opened the same way.

**Writing** (``write_package``): parts in the order given, deflated at level 1 (measured: the
best size for the time; a form's parts are small XML), with fixed timestamps so the same parts
give the same bytes; parts that are the same in every document are deflated once a process.
"""

from __future__ import annotations

import re
import struct
import zipfile
import zlib
from collections.abc import Iterable, Mapping
from io import BytesIO

from lxml import etree

from ..errors import DocumentError
from ..limits import check_document_size
from .ns import CT_MAIN_MACRO

MAX_ENTRIES = 1000
MAX_ENTRY_BYTES = 50 * 1024 * 1024
MAX_TOTAL_BYTES = 200 * 1024 * 1024
MAX_RATIO = 100  # inflated / compressed, for entries over 1 MiB
MAX_RELS_BYTES = 512 * 1024  # a relationships part: Word's hold a few dozen entries, some kilobytes
MAX_ELEMENTS = 1_000_000  # XML elements in one part (a filled form's body has about ten thousand)

_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, dtd_validation=False,
                          huge_tree=False, remove_comments=False)
_DOCTYPE = re.compile(rb"<!\s*(DOCTYPE|ENTITY)", re.IGNORECASE)
# Everything the zip module raises for damaged archives.
_ZIP_ERRORS = (zipfile.BadZipFile, zlib.error, struct.error, EOFError, OSError, ValueError, NotImplementedError,
               UnicodeDecodeError)
# Byte patterns that something the checks refuse could be present. A part with none of them (and
# no character references, which could spell a name indirectly) cannot fail a check, so it need
# not be parsed: this keeps the checks cheap for the ordinary file.
_RISKY_CONTENT = re.compile(rb"macroenabled|vbaproject|oleobject|activex", re.IGNORECASE)
_RISKY_RELS = re.compile(rb"""TargetMode|oleObject|activeX|/package["']|/control["']""", re.IGNORECASE)
_SAFE_EXTERNAL = {"http://schemas.openxmlformats.org/officeDocument/2006/relationships/hyperlink"}

_SIGNATURES = [
    (b"%PDF", "This is a PDF file, not a Word document."),
    (b"\xd0\xcf\x11\xe0", "This is an old-style .doc file or a password-protected document; save it as .docx in Word and try again."),
    (b"{\\rtf", "This is a Rich Text (.rtf) file, not a Word .docx document."),
]


class DocxPackage:
    def __init__(self, raw: bytes) -> None:
        check_document_size(raw)
        if not raw.startswith(b"PK\x03\x04"):
            for sig, message in _SIGNATURES:
                if raw.startswith(sig):
                    raise DocumentError(message, "not_a_zip")
            raise DocumentError("This file is not a Word .docx document (it is not a zip package).", "not_a_zip")
        try:
            self._zip = zipfile.ZipFile(BytesIO(raw))
            infos = self._zip.infolist()
        except _ZIP_ERRORS as exc:
            raise DocumentError(f"The file is damaged: it is not a complete zip package ({type(exc).__name__}).",
                                "corrupt_zip") from None
        self._check_entries(infos)
        self._infos = {i.filename: i for i in infos}
        types = self.read("[Content_Types].xml")
        if types is None:
            raise DocumentError("The file is a zip but not a Word document (no [Content_Types].xml).", "not_a_word_document")
        if _worth_parsing(types, _RISKY_CONTENT):
            self._check_content_types(parse_xml(types, "[Content_Types].xml"))
        if "word/document.xml" not in self._infos:
            raise DocumentError("The file is not a Word document (it has no word/document.xml).", "not_a_word_document")
        self._check_relationships()

    # -- checks -------------------------------------------------------------------------
    def _check_entries(self, infos: list[zipfile.ZipInfo]) -> None:
        if len(infos) > MAX_ENTRIES:
            raise DocumentError(f"The file holds {len(infos)} parts; a form has far fewer. It was refused.", "too_many_entries")
        total = 0
        for i in infos:
            total += i.file_size
            if i.flag_bits & 0x1:
                raise DocumentError("The document is encrypted; remove the password in Word and try again.", "encrypted")
            name = i.filename.lower()
            if name.endswith(".rels") and i.file_size > MAX_RELS_BYTES:
                raise DocumentError("The file's relationship parts are far larger than any Word document's "
                                    f"({i.file_size // 1024} KiB in one). It was refused.", "too_complex")
            if i.file_size > MAX_ENTRY_BYTES or total > MAX_TOTAL_BYTES:
                raise DocumentError("The file would inflate to an unsafe size (a zip bomb). It was refused.", "zip_bomb")
            if i.file_size > 1024 * 1024 and i.file_size > MAX_RATIO * max(i.compress_size, 1):
                raise DocumentError("The file is compressed at an unsafe ratio (a zip bomb). It was refused.", "zip_bomb")
            if name.endswith(("vbaproject.bin", "vbadata.xml")):
                raise DocumentError("The document contains macros (.docm). Save it as a plain .docx and try again.", "macro_enabled")
            if name.startswith(("word/embeddings/", "word/activex/")) or "/oleobject" in name:
                raise DocumentError("The document contains embedded objects, which we do not accept. "
                                    "Remove them and try again.", "embedded_object")

    def _check_content_types(self, types: etree._Element) -> None:
        for el in types:
            ctype = (el.get("ContentType") or "").lower()
            if ctype == CT_MAIN_MACRO.lower() or "macroenabled" in ctype or "vbaproject" in ctype:
                raise DocumentError("The document is macro-enabled (.docm). Save it as a plain .docx and try again.",
                                    "macro_enabled")
            if "oleobject" in ctype or "activex" in ctype:
                raise DocumentError("The document contains embedded objects, which we do not accept.", "embedded_object")

    def _check_relationships(self) -> None:
        for name in self._infos:
            if not name.endswith(".rels"):
                continue
            raw = self.read(name)
            if raw is None or not _worth_parsing(raw, _RISKY_RELS):
                continue
            for rel in parse_xml(raw, name):
                rtype = rel.get("Type") or ""
                if rtype.endswith(("/oleObject", "/package", "/control", "/activeXControlBinary")):
                    raise DocumentError("The document contains embedded or linked objects, which we do not accept.",
                                        "embedded_object")
                if rel.get("TargetMode") == "External" and rtype not in _SAFE_EXTERNAL:
                    raise DocumentError("The document links to content outside itself (for example a remote "
                                        "template or frame). It was refused; nothing was fetched.", "external_reference")

    def refuse_declarations(self, prefix: str) -> None:
        """Scan (not parse) every XML part under ``prefix`` for DOCTYPE/ENTITY declarations, so a
        crafted part is refused even when it is never needed."""
        for name in self._infos:
            if name.startswith(prefix) and name.endswith(".xml"):
                raw = self.read(name)
                if raw is not None and _DOCTYPE.search(raw):
                    raise DocumentError(f"Part {name} declares a DOCTYPE or entities, which Word never writes. "
                                        "It was refused.", "xml_doctype")

    # -- access -------------------------------------------------------------------------
    def names(self) -> list[str]:
        return list(self._infos)

    def read(self, name: str) -> bytes | None:
        info = self._infos.get(name)
        if info is None:
            return None
        try:
            with self._zip.open(info) as f:
                data = f.read(info.file_size + 1)
        except _ZIP_ERRORS as exc:
            raise DocumentError(f"The file is damaged: part {name} cannot be read ({type(exc).__name__}).",
                                "corrupt_zip") from None
        if len(data) > info.file_size:
            raise DocumentError("A part of the file is larger than it claims (a zip bomb). It was refused.", "zip_bomb")
        return as_utf8(data, name) if name.endswith((".xml", ".rels")) else data

    def xml(self, name: str) -> etree._Element | None:
        raw = self.read(name)
        return None if raw is None else parse_xml(raw, name)

    def parts(self) -> dict[str, bytes]:
        """Every part, in the package's order (for editing a package and writing it again)."""
        return {name: self.read(name) for name in self._infos}


COMPRESS_LEVEL = 1
_DOS_EPOCH = (0, (0 << 9) | (1 << 5) | 1)  # 1980-01-01 00:00:00 as a zip entry's DOS time and date
_LOCAL = struct.Struct("<4s5H3L2H")
_CENTRAL = struct.Struct("<4s6H3L5H2L")
_END = struct.Struct("<4s4H2LH")
_MADE_BY = 20 | (3 << 8)  # zip 2.0 on Unix, as Python's zipfile writes it
_ATTRIBUTES = 0o600 << 16  # -rw-------, as zipfile gives parts written from bytes
_ZIP32 = 0x7FFF_FFFF  # a part, or a whole package, beyond this would need zip64, which no form comes near


class FixedPart(bytes):
    """A part that is the same in every document we write (styles, settings, relationships):
    deflated once a process, not once a document."""

    def entry(self) -> tuple[int, int, bytes]:
        try:
            return self._entry
        except AttributeError:
            self._entry = _deflate(self)
            return self._entry


def _deflate(content: bytes) -> tuple[int, int, bytes]:
    return zlib.crc32(content), len(content), zlib.compress(content, COMPRESS_LEVEL, wbits=-15)


def write_package(parts: Mapping[str, bytes | str] | Iterable[tuple[str, bytes | str]]) -> bytes:
    """A zip package of ``parts`` (name -> content), in the order given: every entry deflated,
    dated 1980-01-01 so the same parts give the same bytes (the bytes Python's zipfile writes).

    Written here rather than through zipfile, whose per-entry work (an object, a compressor, a
    header written and rewritten) cost more than deflating a whole form's body; a part marked
    ``FixedPart`` is deflated once a process."""
    items = parts.items() if isinstance(parts, Mapping) else parts
    out: list[bytes] = []
    central: list[bytes] = []
    offset = 0
    time_, date = _DOS_EPOCH
    for name, content in items:
        raw = content.encode("utf-8") if isinstance(content, str) else content
        crc, size, deflated = raw.entry() if isinstance(raw, FixedPart) else _deflate(raw)
        try:
            encoded, flags = name.encode("ascii"), 0
        except UnicodeEncodeError:
            encoded, flags = name.encode("utf-8"), 0x800
        if size > _ZIP32 or offset > _ZIP32:
            raise ValueError("A package this large would need zip64, which no form's package comes near.")
        out += (_LOCAL.pack(b"PK\x03\x04", 20, flags, 8, time_, date, crc, len(deflated), size, len(encoded), 0),
                encoded, deflated)
        central += (_CENTRAL.pack(b"PK\x01\x02", _MADE_BY, 20, flags, 8, time_, date, crc, len(deflated), size,
                                  len(encoded), 0, 0, 0, 0, _ATTRIBUTES, offset), encoded)
        offset += _LOCAL.size + len(encoded) + len(deflated)
    directory = b"".join(central)
    out += (directory, _END.pack(b"PK\x05\x06", 0, 0, len(central) // 2, len(central) // 2, len(directory), offset, 0))
    return b"".join(out)


_XML_DECL = re.compile(rb"""^(<\?xml[^>]*?encoding\s*=\s*)(["'])[^"']*\2""")


def as_utf8(raw: bytes, name: str) -> bytes:
    """An XML part as UTF-8, whatever Unicode encoding it came in (a UTF-16 part, with or
    without its byte order mark), so that every check — by pattern or by parser — sees the same
    characters the parser does; its declaration says UTF-8 afterwards. Parts in UTF-8 or an
    ASCII-based encoding are returned as they are."""
    if raw[:3] == b"\xef\xbb\xbf":
        return raw[3:]
    if raw[:2] in (b"\xff\xfe", b"\xfe\xff"):
        codec = "utf-16"
    elif raw[:2] == b"<\x00":
        codec = "utf-16-le"
    elif raw[:2] == b"\x00<":
        codec = "utf-16-be"
    elif raw[:4] in (b"\x00\x00\xfe\xff", b"\xff\xfe\x00\x00", b"\x00\x00\x00<", b"<\x00\x00\x00"):
        raise DocumentError(f"Part {name} is in an encoding Word never writes (UCS-4). It was refused.", "xml_malformed")
    else:
        return raw
    try:
        text = raw.decode(codec).lstrip("\ufeff").encode("utf-8")
    except UnicodeDecodeError:
        raise DocumentError(f"Part {name} is not well-formed XML (its UTF-16 text is broken).", "xml_malformed") from None
    return _XML_DECL.sub(rb"\1\2UTF-8\2", text, count=1)


def _worth_parsing(raw: bytes, risky: re.Pattern) -> bool:
    return b"&#" in raw or _DOCTYPE.search(raw) is not None or risky.search(raw) is not None


def parse_xml(raw: bytes, name: str) -> etree._Element:
    """A part parsed safely: no DOCTYPE, no entities, nothing fetched, and at most MAX_ELEMENTS
    elements (counted before parsing: each element needs a '<'), so a part of millions of empty
    paragraphs is refused before it is built in memory."""
    if raw.count(b"<") > MAX_ELEMENTS:
        raise DocumentError(f"Part {name} holds far more elements than any Word document (millions); it was "
                            "refused.", "too_complex")
    if _DOCTYPE.search(raw):
        raise DocumentError(f"Part {name} declares a DOCTYPE or entities, which Word never writes. It was refused.",
                            "xml_doctype")
    try:
        root = etree.fromstring(raw, parser=_PARSER)
    except etree.XMLSyntaxError as exc:
        raise DocumentError(f"Part {name} is not well-formed XML ({exc.msg}).", "xml_malformed") from None
    if root.getroottree().docinfo.doctype:
        raise DocumentError(f"Part {name} declares a DOCTYPE, which Word never writes. It was refused.", "xml_doctype")
    return root


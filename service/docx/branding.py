"""Organisation shells: a branded header and footer around a generated form.

A shell is an ordinary .docx made in Word (``templates_docx/<organisation>.docx``) whose header
and footer may hold a logo and Jinja2 tags: ``{{ organisation }}``, ``{{ form_title }}``,
``{{ form_id }}``, ``{{ spec_version }}``, ``{{ document_id }}``, ``{{ generated }}``.

docxtpl renders the shell in Jinja2's SandboxedEnvironment (autoescaped, undefined names are
errors), so a shell cannot reach Python objects or run code. Its header and footer parts, with
the images they use, are then moved into the generated package and the section points at
them; the body, controls, bindings and identity stay as the writer made them, and our
"Page x of y" line is added to the shell's footer.
"""

from __future__ import annotations

import os
import re
import stat
from dataclasses import dataclass
from functools import lru_cache
from io import BytesIO
from pathlib import Path
from xml.sax.saxutils import escape

from jinja2 import StrictUndefined, TemplateError
from jinja2.exceptions import SecurityError
from jinja2.sandbox import SandboxedEnvironment
from lxml import etree

from ..brand import Brand
from ..errors import DocumentError
from .ns import CT_FOOTER, RT_FOOTER, qn
from .oxml_read import block_text
from .package import DocxPackage, FixedPart, parse_xml

DEFAULT_TEMPLATES_DIR = Path(__file__).resolve().parents[2] / "templates_docx"
RT_HEADER = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/header"
RT_IMAGE = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/image"
CT_HEADER = "application/vnd.openxmlformats-officedocument.wordprocessingml.header+xml"
IMAGE_TYPES = {"png": "image/png", "jpeg": "image/jpeg", "jpg": "image/jpeg", "gif": "image/gif"}
PAGE_NUMBERS = ('<w:p><w:pPr><w:pStyle w:val="Footer"/></w:pPr><w:r><w:t xml:space="preserve">Page </w:t></w:r>'
                '<w:fldSimple w:instr=" PAGE "><w:r><w:t>1</w:t></w:r></w:fldSimple>'
                '<w:r><w:t xml:space="preserve"> of </w:t></w:r>'
                '<w:fldSimple w:instr=" NUMPAGES "><w:r><w:t>1</w:t></w:r></w:fldSimple></w:p>')


def shell_name(organisation: str) -> str:
    """'Lancashire County Council' -> 'lancashire-county-council.docx'."""
    return re.sub(r"[^a-z0-9]+", "-", organisation.lower()).strip("-") + ".docx"


def templates_dir() -> Path:
    return Path(os.environ.get("STEPDOWN_TEMPLATES_DIR") or DEFAULT_TEMPLATES_DIR)


def find_shell(organisation: str) -> bytes | None:
    """The organisation's shell from the templates folder, or None. Read again only when the
    file changes (its modification time or size): the same bytes object is handed back, so the
    rendered shell cached for it is found without hashing the file on every request."""
    path = templates_dir() / shell_name(organisation)
    try:
        st = path.stat()
    except OSError:
        return None
    if not stat.S_ISREG(st.st_mode):
        return None
    stamp = (st.st_mtime_ns, st.st_size)
    held = _SHELLS.get(path)
    if held is None or held[0] != stamp:
        held = _SHELLS[path] = (stamp, path.read_bytes())
    return held[1]


_SHELLS: dict[Path, tuple[tuple[int, int], bytes]] = {}  # a few organisations' shells, some tens of KB each


def render_shell(shell: bytes, context: dict[str, str]) -> bytes:
    """The shell with its tags filled, rendered by docxtpl in a sandbox."""
    from docxtpl import DocxTemplate  # deferred: it takes 0.2 s to load, and only shells need it

    DocxPackage(shell)  # the same checks as any upload: no macros, objects or outside links
    env = SandboxedEnvironment(autoescape=True, undefined=StrictUndefined)
    try:
        template = DocxTemplate(BytesIO(shell))
        template.render(context, jinja_env=env)
        out = BytesIO()
        template.save(out)
    except SecurityError:
        raise DocumentError("The organisation template tried to reach something it may not; it was refused.",
                            "template_unsafe") from None
    except TemplateError as exc:
        raise DocumentError(f"The organisation template has a mistake in its tags: {exc.message}",
                            "template_invalid") from None
    return out.getvalue()


DOCUMENT_ID_MARK = "SDFDOCUMENTIDMARK7Q9X"


def render_shell_for(shell: bytes, context: dict[str, str]) -> tuple[bytes, str | None]:
    """The rendered shell and the mark that stands for the document id in it (None: the id was
    rendered in). Rendering takes about 30 ms, and in a batch only the document id changes, so
    the shell is rendered once with a mark where the id goes and the mark is replaced in each
    document's copy. A shell that does more with the id than show it (slicing it, say) does
    not keep the mark whole, and is then rendered for every document."""
    document_id = context.get("document_id", "")
    fixed = tuple(sorted((k, v) for k, v in context.items() if k != "document_id"))
    rendered = _render_with_mark(shell, fixed)
    if rendered is not None:
        return rendered, DOCUMENT_ID_MARK
    return render_shell(shell, {**context, "document_id": document_id}), None


@lru_cache(maxsize=64)
def _render_with_mark(shell: bytes, fixed: tuple) -> bytes | None:
    rendered = render_shell(shell, {**dict(fixed), "document_id": DOCUMENT_ID_MARK})
    uses_id = b"document_id" in b"".join(_text_parts(shell))
    whole = DOCUMENT_ID_MARK.encode() in b"".join(_text_parts(rendered))
    return rendered if whole or not uses_id else None


def _text_parts(raw: bytes) -> list[bytes]:
    pkg = DocxPackage(raw)
    return [pkg.read(n) for n in pkg.names() if n.startswith("word/") and n.endswith(".xml")]


def _shell_parts(shell: DocxPackage) -> list[tuple[str, str, str]]:
    """(kind, relationship type, part name) of the shell's default header and footer."""
    shell_doc = shell.xml("word/document.xml")
    shell_rels = {r.get("Id"): r for r in shell.xml("word/_rels/document.xml.rels")}
    sect = shell_doc.find(f"{qn('w:body')}/{qn('w:sectPr')}")
    references = []
    for kind, rtype in (("header", RT_HEADER), ("footer", RT_FOOTER)):
        ref = sect.find(f"{qn(f'w:{kind}Reference')}[@{qn('w:type')}='default']") if sect is not None else None
        rel = shell_rels.get(ref.get(qn("r:id"))) if ref is not None else None
        if rel is not None and rel.get("Type") == rtype:
            references.append((kind, rtype, "word/" + rel.get("Target").lstrip("/").removeprefix("word/")))
    return references


def shell_brand(shell: bytes, context: dict[str, str]) -> Brand:
    """The shell's header and footer as lines of text, and its logo, for the PDF writer."""
    rendered, mark = render_shell_for(shell, context)
    return _brand(rendered, mark, context.get("document_id", ""))


@lru_cache(maxsize=64)
def _brand_with_mark(rendered: bytes, mark: str | None) -> tuple[tuple[str, ...], tuple[str, ...], bytes | None, str | None]:
    pkg = DocxPackage(rendered)
    lines: dict[str, list[str]] = {"header": [], "footer": []}
    logo = kind_of_logo = None
    for kind, _, part in _shell_parts(pkg):
        root = pkg.xml(part)
        lines[kind] += [" ".join(line.split()) for line in block_text(root).split("\n") if line.strip()]
        rels_name = f"word/_rels/{Path(part).name}.rels"
        if logo is None and rels_name in pkg.names():
            for rel in pkg.xml(rels_name):
                target = "word/" + (rel.get("Target") or "").lstrip("/").removeprefix("word/")
                ext = target.rsplit(".", 1)[-1].lower()
                if rel.get("Type") == RT_IMAGE and rel.get("TargetMode") != "External" and ext in ("png", "jpg", "jpeg"):
                    logo, kind_of_logo = pkg.read(target), "png" if ext == "png" else "jpeg"
                    break
    return tuple(lines["header"]), tuple(lines["footer"]), logo, kind_of_logo


def _brand(rendered: bytes, mark: str | None, document_id: str) -> Brand:
    header, footer, logo, kind = _brand_with_mark(rendered, mark)
    if mark:
        header = tuple(line.replace(mark, document_id) for line in header)
        footer = tuple(line.replace(mark, document_id) for line in footer)
    return Brand(header, footer, logo, kind)


WP_DOCPR = "{http://schemas.openxmlformats.org/drawingml/2006/wordprocessingDrawing}docPr"


def _with_alt_text(part: bytes, name: str, alt: str) -> bytes:
    """Every picture in a header or footer described for screen readers (``wp:docPr/@descr``),
    unless the shell's author described it already."""
    if WP_DOCPR.encode().split(b"}")[1] not in part:
        return part
    root = parse_xml(part, name)
    for pr in root.iter(WP_DOCPR):
        if not (pr.get("descr") or "").strip():
            pr.set("descr", alt)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True)


@dataclass(frozen=True)
class Shell:
    """What a rendered shell adds to a generated package, worked out once per shell (opening and
    parsing the shell cost twice what making the form does): its header and footer parts (the
    document id still a mark in them), their relationships and images, the content types they
    need, and the section's references to them."""

    parts: tuple[tuple[str, bytes], ...]
    stamped: frozenset[str]  # the parts in which the mark stands for the document id
    relationships: tuple[tuple[str, str, str], ...]  # (id, type, target) for word/document.xml
    overrides: tuple[tuple[str, str], ...]  # (part name, content type)
    defaults: tuple[tuple[str, str], ...]  # (extension, content type) of the images
    references: tuple[tuple[str, str], ...]  # (header|footer, relationship id)

    def section_references(self, our_footer: str) -> tuple[tuple[str, str], ...]:
        """The section's header and footer references: the shell's, and our footer where the
        shell has none."""
        kinds = {kind for kind, _ in self.references}
        headers = [r for r in self.references if r[0] == "header"]
        footers = [r for r in self.references if r[0] == "footer"] or ([("footer", our_footer)] if "footer" not in kinds else [])
        return tuple(headers + footers)

    def add_to(self, package: list[tuple[str, bytes]], mark: str | None, document_id: str) -> list[tuple[str, bytes]]:
        """``package`` (our own parts, as the writer made them) with the shell's parts added and
        declared."""
        out = []
        for name, body in package:
            if name == "[Content_Types].xml":
                body = _before(body, b"</Types>", "".join(
                    [f'<Default Extension="{_attr(e)}" ContentType="{t}"/>' for e, t in self.defaults]
                    + [f'<Override PartName="{_attr(n)}" ContentType="{t}"/>' for n, t in self.overrides]))
            elif name == "word/_rels/document.xml.rels":
                body = _before(body, b"</Relationships>", "".join(
                    f'<Relationship Id="{i}" Type="{t}" Target="{_attr(target)}"/>' for i, t, target in self.relationships))
            out.append((name, body))
        for name, body in self.parts:
            if mark and name in self.stamped:
                body = body.replace(mark.encode(), document_id.encode())
            out.append((name, body))
        return out


def _attr(value: str) -> str:
    return escape(value, {'"': "&quot;"})


def _before(body: bytes, closing: bytes, addition: str) -> bytes:
    at = body.rindex(closing)
    return body[:at] + addition.encode() + body[at:]


def branded(shell: bytes, context: dict[str, str], logo_text: str) -> tuple[Shell, str | None]:
    """The shell rendered for ``context`` (see render_shell_for) and what it adds to a package,
    with the mark that stands for the document id in it (None: the id was rendered in)."""
    rendered, mark = render_shell_for(shell, context)
    return (_prepared(rendered, logo_text) if mark else prepare_shell(rendered, logo_text)), mark


@lru_cache(maxsize=64)
def _prepared(rendered: bytes, logo_text: str) -> Shell:
    return prepare_shell(rendered, logo_text)


def prepare_shell(rendered: bytes, logo_text: str = "Logo") -> Shell:
    """What the rendered shell's default header and footer add to a package (pictures given
    ``logo_text`` as their description where they have none)."""
    shell = DocxPackage(rendered)
    parts, stamped, relationships, overrides, defaults, references = [], set(), [], [], {}, []
    for n, (kind, rtype, part) in enumerate(_shell_parts(shell), start=1):
        body = shell.read(part)
        if kind == "footer":
            body = body.replace(b"</w:ftr>", PAGE_NUMBERS.encode() + b"</w:ftr>")
        name = f"brand-{kind}{n}.xml"
        parts.append((f"word/{name}", _with_alt_text(body, part, logo_text)))
        stamped.add(f"word/{name}")
        part_rels = f"word/_rels/{Path(part).name}.rels"
        if part_rels in shell.names():
            rels, media = _copy_media(shell, part_rels, n)
            # the same in every document of this shell: deflated once
            parts.append((f"word/_rels/{name}.rels", FixedPart(rels)))
            for media_name, image in media:
                parts.append((media_name, FixedPart(image)))
                ext = media_name.rsplit(".", 1)[-1].lower()
                defaults.setdefault(ext, IMAGE_TYPES[ext])
        rid = f"rIdBrand{n}"
        relationships.append((rid, rtype, name))
        overrides.append((f"/word/{name}", CT_HEADER if kind == "header" else CT_FOOTER))
        references.append((kind, rid))
    return Shell(tuple(parts), frozenset(stamped), tuple(relationships), tuple(overrides),
                 tuple(defaults.items()), tuple(references))


def _copy_media(shell: DocxPackage, part_rels: str, n: int) -> tuple[bytes, list[tuple[str, bytes]]]:
    """The header/footer's relationships with its images under new names, and those images;
    nothing but an image inside the file may be referenced."""
    rels = shell.xml(part_rels)
    media = []
    for rel in rels:
        if rel.get("Type") != RT_IMAGE or rel.get("TargetMode") == "External":
            raise DocumentError("The organisation template's header or footer refers to something other than an "
                                "image inside the file; it was refused.", "template_invalid")
        target = "word/" + rel.get("Target").lstrip("/").removeprefix("word/")
        ext = target.rsplit(".", 1)[-1].lower()
        if ext not in IMAGE_TYPES:
            raise DocumentError(f"The organisation template uses a .{ext} image; use PNG, JPEG or GIF.",
                                "template_invalid")
        new_name = f"media/brand{n}-{Path(target).name}"
        image = shell.read(target)
        if image is None:
            raise DocumentError("The organisation template's header or footer uses an image that is not in the "
                                "file; it was refused.", "template_invalid")
        media.append(("word/" + new_name, image))
        rel.set("Target", new_name)
    return etree.tostring(rels, xml_declaration=True, encoding="UTF-8", standalone=True), media

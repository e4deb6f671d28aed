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
from functools import lru_cache
from io import BytesIO
from pathlib import Path

from jinja2 import StrictUndefined, TemplateError
from jinja2.exceptions import SecurityError
from jinja2.sandbox import SandboxedEnvironment
from lxml import etree

from ..brand import Brand
from ..errors import DocumentError
from .ns import CT_FOOTER, NS, RT_FOOTER, qn
from .oxml import block_text
from .package import DocxPackage, parse_xml, write_package

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
    path = templates_dir() / shell_name(organisation)
    return path.read_bytes() if path.is_file() else None


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


def apply_shell(generated: bytes, rendered_shell: bytes, *, mark: str | None = None, document_id: str = "",
                logo_text: str = "Logo") -> bytes:
    """Move the rendered shell's default header and footer into the generated package (with
    ``mark`` replaced by ``document_id`` in them, and pictures given ``logo_text`` as their
    description where they have none)."""
    shell = DocxPackage(rendered_shell)
    references = _shell_parts(shell)

    ours = DocxPackage(generated)
    files = ours.parts()
    doc, rels, types = (ours.xml(n) for n in ("word/document.xml", "word/_rels/document.xml.rels",
                                               "[Content_Types].xml"))
    our_sect = doc.find(f"{qn('w:body')}/{qn('w:sectPr')}")
    for n, (kind, rtype, part) in enumerate(references, start=1):
        body = shell.read(part)
        if mark:
            body = body.replace(mark.encode(), document_id.encode())
        if kind == "footer":
            body = body.replace(b"</w:ftr>", PAGE_NUMBERS.encode() + b"</w:ftr>")
        body = _with_alt_text(body, part, logo_text)
        name = f"brand-{kind}{n}.xml"
        files[f"word/{name}"] = body
        part_rels = f"word/_rels/{Path(part).name}.rels"
        if part_rels in shell.names():
            files[f"word/_rels/{name}.rels"] = _copy_media(shell, part_rels, files, types, n)
        rid = f"rIdBrand{n}"
        etree.SubElement(rels, f"{{{NS['pr']}}}Relationship", Id=rid, Type=rtype, Target=name)
        override = etree.SubElement(types, f"{{{NS['ct']}}}Override")
        override.set("PartName", f"/word/{name}")
        override.set("ContentType", CT_HEADER if kind == "header" else CT_FOOTER)
        for old in our_sect.findall(qn(f"w:{kind}Reference")):
            our_sect.remove(old)
        new = etree.Element(qn(f"w:{kind}Reference"))
        new.set(qn("w:type"), "default")
        new.set(qn("r:id"), rid)
        our_sect.insert(0 if kind == "header" else len(our_sect.findall(qn("w:headerReference"))), new)
    files["word/document.xml"] = etree.tostring(doc, xml_declaration=True, encoding="UTF-8", standalone=True)
    files["word/_rels/document.xml.rels"] = etree.tostring(rels, xml_declaration=True, encoding="UTF-8", standalone=True)
    files["[Content_Types].xml"] = etree.tostring(types, xml_declaration=True, encoding="UTF-8", standalone=True)
    return write_package(files)


def _copy_media(shell: DocxPackage, part_rels: str, files: dict[str, bytes], types: etree._Element, n: int) -> bytes:
    """Copy the images a header/footer uses under new names; nothing else may be referenced."""
    rels = shell.xml(part_rels)
    known = {e.get("Extension", "").lower() for e in types if e.tag == f"{{{NS['ct']}}}Default"}
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
        files["word/" + new_name] = image
        rel.set("Target", new_name)
        if ext not in known:
            default = etree.SubElement(types, f"{{{NS['ct']}}}Default")
            default.set("Extension", ext)
            default.set("ContentType", IMAGE_TYPES[ext])
            known.add(ext)
    return etree.tostring(rels, xml_declaration=True, encoding="UTF-8", standalone=True)

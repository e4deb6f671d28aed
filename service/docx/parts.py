"""Package parts other than the body: content types, relationships, document properties,
the custom properties that identify the form, and the custom XML part that carries its data.

Identity lives in ``docProps/custom.xml`` (it survives Word, LibreOffice and ODT round trips)::

    StepDownForm = ramp, StepDownSpecVersion = 1.0.0, StepDownDocumentId = <uuid>,
    StepDownGenerated = 2026-11-22T10:00:00Z

The data part ``customXml/itemN.xml`` has root ``sdf:form`` in namespace
``urn:stepdown-forms:data``; simple controls bind to it with XPaths like
``/sdf:form[1]/safety[1]/...``. Readers find it by that namespace, never by file name or
relationship, which LibreOffice may drop.
"""

from __future__ import annotations

from functools import lru_cache
from importlib import resources
from xml.sax.saxutils import escape, quoteattr

from lxml import etree

from ..cache import PerObject
from ..identity import AUTHOR, NAMES, Identity
from ..spec.model import CheckboxField, FormSpec, GroupField, ListField, MultiChoiceField, RepeatField
from .package import FixedPart, parse_xml
from .ns import (
    CT_APP_PROPS, CT_CORE_PROPS, CT_CUSTOM_PROPS, CT_CUSTOM_XML_PROPS, CT_FOOTER, CT_MAIN, CT_SETTINGS,
    CT_STYLES, FMTID_USER_DEFINED, NS, RT_APP_PROPS, RT_CORE_PROPS, RT_CUSTOM_PROPS, RT_CUSTOM_XML,
    RT_CUSTOM_XML_PROPS, RT_FOOTER, RT_OFFICE_DOCUMENT, RT_SETTINGS, RT_STYLES, qn,
)

DATA_ITEM = "customXml/item1.xml"
DATA_ITEM_PROPS = "customXml/itemProps1.xml"

XML_DECL = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'


# -- writing ------------------------------------------------------------------------------

@lru_cache(maxsize=1)
def skeleton() -> dict[str, bytes]:
    """Our styles, settings and footer (``skeleton/``), the same in every document we write."""
    folder = resources.files(__package__) / "skeleton"
    return {name: FixedPart((folder / name).read_bytes()) for name in ("styles.xml", "settings.xml", "footer.xml")}


def base_parts(document: bytes, title: str, created: str, *, form: bool) -> list[tuple[str, bytes]]:
    """The parts every document we write has, around its body: a form's (``form``) also
    declare the identity and data parts of ``form_parts``."""
    sk = skeleton()
    return [("[Content_Types].xml", content_types(form=form)), ("_rels/.rels", package_rels(form=form)),
            ("word/document.xml", document), ("word/_rels/document.xml.rels", document_rels(form=form)),
            ("word/styles.xml", sk["styles.xml"]), ("word/settings.xml", sk["settings.xml"]),
            ("word/footer1.xml", sk["footer.xml"]), ("docProps/core.xml", core_props(title, created)),
            ("docProps/app.xml", app_props())]


def form_parts(spec: FormSpec, values: dict, identity: Identity, store_item_id: str) -> list[tuple[str, bytes]]:
    """A form's identity properties and its bound data part."""
    return [(DATA_ITEM, data_xml(spec, values, identity)), ("customXml/_rels/item1.xml.rels", item_rels()),
            (DATA_ITEM_PROPS, item_props(store_item_id)), ("docProps/custom.xml", custom_props(identity))]


@lru_cache(maxsize=2)
def content_types(*, form: bool = True) -> FixedPart:
    """``form``: the package carries a form's identity and data part (a cover sheet does not)."""
    overrides = {
        "/word/document.xml": CT_MAIN, "/word/styles.xml": CT_STYLES, "/word/settings.xml": CT_SETTINGS,
        "/word/footer1.xml": CT_FOOTER, "/docProps/core.xml": CT_CORE_PROPS, "/docProps/app.xml": CT_APP_PROPS,
    }
    if form:
        overrides.update({"/docProps/custom.xml": CT_CUSTOM_PROPS, "/" + DATA_ITEM_PROPS: CT_CUSTOM_XML_PROPS})
    body = "".join(f'<Override PartName="{k}" ContentType="{v}"/>' for k, v in overrides.items())
    return FixedPart((XML_DECL + f'<Types xmlns="{NS["ct"]}">'
                      '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
                      '<Default Extension="xml" ContentType="application/xml"/>' + body + "</Types>").encode())


def rels(items: list[tuple[str, str, str]]) -> bytes:
    body = "".join(f'<Relationship Id="{i}" Type="{t}" Target="{target}"/>' for i, t, target in items)
    return (XML_DECL + f'<Relationships xmlns="{NS["pr"]}">' + body + "</Relationships>").encode()


@lru_cache(maxsize=2)
def package_rels(*, form: bool = True) -> FixedPart:
    items = [("rId1", RT_OFFICE_DOCUMENT, "word/document.xml"), ("rId2", RT_CORE_PROPS, "docProps/core.xml"),
             ("rId3", RT_APP_PROPS, "docProps/app.xml")]
    return FixedPart(rels(items + ([("rId4", RT_CUSTOM_PROPS, "docProps/custom.xml")] if form else [])))


FOOTER_RID = "rId4"


@lru_cache(maxsize=2)
def document_rels(*, form: bool = True) -> FixedPart:
    items = [("rId1", RT_STYLES, "styles.xml"), ("rId2", RT_SETTINGS, "settings.xml"), (FOOTER_RID, RT_FOOTER, "footer1.xml")]
    return FixedPart(rels(items + ([("rId3", RT_CUSTOM_XML, "../" + DATA_ITEM)] if form else [])))


@lru_cache(maxsize=2)
def item_rels() -> FixedPart:
    return FixedPart(rels([("rId1", RT_CUSTOM_XML_PROPS, "itemProps1.xml")]))


def item_props(store_item_id: str) -> bytes:
    return (XML_DECL + f'<ds:datastoreItem ds:itemID="{store_item_id}" xmlns:ds="{NS["ds"]}">'
            f'<ds:schemaRefs><ds:schemaRef ds:uri="{NS["sdf"]}"/></ds:schemaRefs></ds:datastoreItem>').encode()


def core_props(title: str, created: str) -> bytes:
    return (XML_DECL + '<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties" '
            'xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:dcterms="http://purl.org/dc/terms/" '
            'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
            f"<dc:title>{escape(title)}</dc:title><dc:creator>{AUTHOR}</dc:creator>"
            f'<dcterms:created xsi:type="dcterms:W3CDTF">{created}</dcterms:created>'
            f'<dcterms:modified xsi:type="dcterms:W3CDTF">{created}</dcterms:modified>'
            "</cp:coreProperties>").encode()


@lru_cache(maxsize=2)
def app_props() -> FixedPart:
    return FixedPart((XML_DECL + '<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/extended-properties">'
                      "<Application>Step Down Forms</Application></Properties>").encode())


def custom_props(identity: Identity) -> bytes:
    body = "".join(
        f'<property fmtid="{FMTID_USER_DEFINED}" pid="{pid}" name="{name}"><vt:lpwstr>{escape(value)}</vt:lpwstr></property>'
        for pid, (name, value) in enumerate(identity.properties(), start=2))
    return (XML_DECL + f'<Properties xmlns="{NS["cp"]}" xmlns:vt="{NS["vt"]}">' + body + "</Properties>").encode()


def data_xml(spec: FormSpec, data: dict, identity: Identity) -> bytes:
    """The custom XML part: every field of the form, filled from ``data`` (complete shape)."""
    audience = f" audience={quoteattr(identity.audience)}" if identity.audience else ""
    out = [XML_DECL, f'<sdf:form xmlns:sdf="{NS["sdf"]}" form={quoteattr(spec.id)} version={quoteattr(spec.version)} '
                     f'document={quoteattr(identity.document_id or "")}{audience}>']
    _data_fields(spec, data, out)
    out.append("</sdf:form>")
    return "".join(out).encode()


def _data_fields(owner, obj: dict, out: list[str]) -> None:
    """The elements of ``owner``'s fields (a form's, a group's or a repeat row's)."""
    for f, kind, start, end, inner in _DATA_PLAN.get(owner):
        v = obj.get(f.key)
        if kind == "group":
            out.append(start)
            _data_fields(f, v or {}, out)
            out.append(end)
        elif kind == "repeat":
            out.append(start)
            for row in v or []:
                out.append("<sdf:row>")
                _data_fields(f, row, out)
                out.append("</sdf:row>")
            out.append(end)
        elif kind == "options":
            chosen = set(v or [])
            out += (start, *[on if value in chosen else off for value, on, off in inner], end)
        else:
            out += (start, escape(data_text(f, v)), end)


def _data_plan(owner) -> list[tuple]:
    """Per field of a form, group or repeat, made once: its kind, its element's tags, and a
    multiple choice's option elements ticked and unticked. (Keyed by the owner, which lives as
    long as its spec: a form's ``fields`` is a new list each time it is asked for.)"""
    out = []
    for f in owner.fields:
        tag = f"sdf:{f.key}"
        kind = ("group" if isinstance(f, GroupField) else "repeat" if isinstance(f, RepeatField)
                else "options" if isinstance(f, MultiChoiceField) else "value")
        inner = [(o.value, f"<sdf:opt value={quoteattr(o.value)}>true</sdf:opt>",
                  f"<sdf:opt value={quoteattr(o.value)}>false</sdf:opt>") for o in f.choices] if kind == "options" else []
        out.append((f, kind, f"<{tag}>", f"</{tag}>", inner))
    return out


_DATA_PLAN: PerObject[object, list[tuple]] = PerObject(_data_plan)


def data_text(f, v: object) -> str:
    """How a simple value is stored in the data part (what Word's bound controls write)."""
    if v is None:
        return "false" if isinstance(f, CheckboxField) else ""
    if isinstance(f, CheckboxField):
        return "true" if v else "false"
    if isinstance(f, ListField):
        return "\n".join(v)
    return str(v)


def binding_xpath(path: str, option_index: int | None = None) -> str:
    """'safety.fire_setting.answer' -> '/sdf:form[1]/sdf:safety[1]/sdf:fire_setting[1]/sdf:answer[1]'."""
    steps = "".join(f"/sdf:{k}[1]" for k in path.split("."))
    opt = f"/sdf:opt[{option_index + 1}]" if option_index is not None else ""
    return f"/sdf:form[1]{steps}{opt}"


def path_from_xpath(xpath: str) -> tuple[str, int | None] | None:
    """The inverse of binding_xpath, tolerant of prefixes other than 'sdf'. None if not ours."""
    parts = [p for p in xpath.strip().split("/") if p]
    if not parts or _local(parts[0]) != "form[1]":
        return None
    keys, option = [], None
    for p in parts[1:]:
        local = _local(p)
        name, _, index = local.partition("[")
        if name == "opt" and index.rstrip("]").isdigit():
            option = int(index.rstrip("]")) - 1
            continue
        if not name or index not in ("", "1]"):
            return None
        keys.append(name)
    return (".".join(keys), option) if keys else None


def _local(step: str) -> str:
    return step.split(":", 1)[1] if ":" in step else step


# -- adding to a package someone else made (designer layouts) -----------------------------

def _tree(raw: bytes) -> etree._Element:
    return parse_xml(raw, "a package part")


def _bytes(root: etree._Element) -> bytes:
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True)


def add_relationship(raw: bytes, rtype: str, target: str, *, unless_type: bool = False) -> bytes:
    """A new relationship with a free id (or none if ``unless_type`` and one of that type exists)."""
    root = _tree(raw)
    if unless_type and any(r.get("Type") == rtype for r in root):
        return raw
    ids = {r.get("Id") for r in root}
    n = 1
    while f"rIdSdf{n}" in ids:
        n += 1
    rel = etree.SubElement(root, f"{{{NS['pr']}}}Relationship")
    rel.set("Id", f"rIdSdf{n}")
    rel.set("Type", rtype)
    rel.set("Target", target)
    return _bytes(root)


def add_overrides(raw: bytes, overrides: dict[str, str]) -> bytes:
    root = _tree(raw)
    present = {o.get("PartName") for o in root if o.tag == f"{{{NS['ct']}}}Override"}
    for name, ctype in overrides.items():
        if name not in present:
            o = etree.SubElement(root, f"{{{NS['ct']}}}Override")
            o.set("PartName", name)
            o.set("ContentType", ctype)
    return _bytes(root)


def merge_custom_props(raw: bytes | None, identity: Identity) -> bytes:
    """Our identity properties added to (or replacing ours in) a document's own custom properties."""
    if raw is None:
        return custom_props(identity)
    root = _tree(raw)
    for prop in [p for p in root if p.get("name") in NAMES]:
        root.remove(prop)
    pid = max([int(p.get("pid", "1")) for p in root] + [1])
    for name, value in identity.properties():
        pid += 1
        prop = etree.SubElement(root, qn("cp:property"))
        prop.set("fmtid", FMTID_USER_DEFINED)
        prop.set("pid", str(pid))
        prop.set("name", name)
        etree.SubElement(prop, qn("vt:lpwstr")).text = value
    return _bytes(root)


# -- reading ------------------------------------------------------------------------------

def read_custom_props(root: etree._Element | None) -> Identity:
    if root is None:
        return Identity()
    values: dict[str, str] = {}
    for prop in root.findall(qn("cp:property")):
        name = prop.get("name")
        if name in NAMES and len(prop):
            values[name] = (prop[0].text or "").strip()
    return Identity.from_properties(values)


def data_root_identity(root: etree._Element) -> Identity:
    return Identity(root.get("form"), root.get("version"), root.get("document"), None, root.get("audience"))


def read_data_part(spec: FormSpec, root: etree._Element) -> dict[str, object]:
    """Raw texts from the data part by field path. Row cells (never bound, so as generated) are
    listed per column under ``<repeat>[].<field>``."""
    found: dict[str, object] = {}

    def walk(fields: list, node: etree._Element, prefix: str) -> None:
        for f in fields:
            child = node.find(qn("sdf:" + f.key)) if node is not None else None
            if child is None:
                continue
            path = prefix + f.key
            if isinstance(f, GroupField):
                walk(f.fields, child, path + ".")
            elif isinstance(f, MultiChoiceField):
                found[path] = [(o.get("value"), (o.text or "").strip() == "true") for o in child.findall(qn("sdf:opt"))]
            elif isinstance(f, RepeatField):
                for row in child.findall(qn("sdf:row")):
                    for sub in f.fields:
                        cell = row.find(qn("sdf:" + sub.key))
                        if cell is not None and cell.text:
                            found.setdefault(f"{path}[].{sub.key}", []).append(cell.text)
            else:
                found[path] = child.text or ""

    walk(spec.fields, root, "")
    return found

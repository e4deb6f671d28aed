"""Validating the parts of a Word package against the Office Open XML schemas (ISO/IEC 29500
transitional, with the OPC schemas of ECMA-376 Part 2), as Word reads them: markup in the
namespaces a part declares ``mc:Ignorable`` is set aside first, and ``mc:AlternateContent``
resolved to its fallback (ECMA-376 Part 3).

``problems(raw)`` lists, per part, what does not validate; an empty list is a valid package."""

from __future__ import annotations

import zipfile
from functools import lru_cache
from io import BytesIO
from pathlib import Path

from lxml import etree

SCHEMAS = Path(__file__).parent / "schemas" / "ooxml"
ISO, OPC = SCHEMAS / "ISO-IEC29500-4_2016", SCHEMAS / "ecma" / "fouth-edition"
MC = "http://schemas.openxmlformats.org/markup-compatibility/2006"

# Root element namespace -> the schema that defines it.
BY_ROOT = {
    "http://schemas.openxmlformats.org/wordprocessingml/2006/main": ISO / "wml.xsd",
    "http://schemas.openxmlformats.org/package/2006/content-types": OPC / "opc-contentTypes.xsd",
    "http://schemas.openxmlformats.org/package/2006/relationships": OPC / "opc-relationships.xsd",
    "http://schemas.openxmlformats.org/package/2006/metadata/core-properties": OPC / "opc-coreProperties.xsd",
    "http://schemas.openxmlformats.org/officeDocument/2006/extended-properties":
        ISO / "shared-documentPropertiesExtended.xsd",
    "http://schemas.openxmlformats.org/officeDocument/2006/custom-properties": ISO / "shared-documentPropertiesCustom.xsd",
    "http://schemas.openxmlformats.org/officeDocument/2006/customXml": ISO / "shared-customXmlDataProperties.xsd",
    "http://schemas.openxmlformats.org/drawingml/2006/main": ISO / "dml-main.xsd",
    "http://schemas.openxmlformats.org/officeDocument/2006/bibliography": ISO / "shared-bibliography.xsd",
}
OUR_DATA = "urn:stepdown-forms:data"  # our own data part: it has no published schema


@lru_cache(maxsize=None)
def schema(path: Path) -> etree.XMLSchema:
    return etree.XMLSchema(etree.parse(str(path)))


def set_aside_ignorable(root: etree._Element) -> etree._Element:
    """The part as a consumer that knows only the transitional schema reads it."""
    ignorable: set[str] = set()
    for el in root.iter():
        value = el.get(f"{{{MC}}}Ignorable")
        if value:
            ignorable |= {el.nsmap.get(prefix) for prefix in value.split()}
    ignorable.discard(None)
    for alt in list(root.iter(f"{{{MC}}}AlternateContent")):
        fallback = alt.find(f"{{{MC}}}Fallback")
        parent = alt.getparent()
        for child in (list(fallback) if fallback is not None else []):
            alt.addprevious(child)
        parent.remove(alt)
    for el in list(root.iter()):
        if not isinstance(el.tag, str):
            continue
        if etree.QName(el).namespace in ignorable and el is not root:
            el.getparent().remove(el)
            continue
        for name in list(el.attrib):
            ns = etree.QName(name).namespace
            if ns in ignorable or ns == MC:
                del el.attrib[name]
    etree.cleanup_namespaces(root)
    return root


def part_problems(name: str, data: bytes) -> list[str]:
    """What is wrong with one part ([] when valid or not an XML part of ours)."""
    if not name.endswith((".xml", ".rels")):
        return []
    try:
        root = etree.fromstring(data)
    except etree.XMLSyntaxError as exc:
        return [f"{name}: not well-formed ({exc})"]
    ns = etree.QName(root).namespace
    if ns == OUR_DATA:
        return []
    if ns not in BY_ROOT:
        return [f"{name}: no schema for a root element in {ns}"]
    xsd = schema(BY_ROOT[ns])
    root = set_aside_ignorable(root)
    if xsd.validate(root):
        return []
    return [f"{name}:{e.line}: {e.message}" for e in xsd.error_log][:20]


def problems(raw: bytes) -> list[str]:
    with zipfile.ZipFile(BytesIO(raw)) as z:
        return [p for n in z.namelist() for p in part_problems(n, z.read(n))]

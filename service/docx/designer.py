"""Layouts made in Word by a designer, instead of our generated layout.

A designer builds the form in Word (Developer tab) and tags each content control with a field
path from the spec: ``child_name``, ``safety.fire_setting.answer``, ``actions[].due_date`` for a
cell of a repeating table row, ``supports_needed:advocate`` for one box of a multiple choice.

``check_layout`` says whether the file fits the spec: required fields without a control
(error), optional ones without (warning), tags the spec does not know, controls of the wrong
kind (a date field in a text box), drop-downs missing options, a field placed twice, and the
cells of one repeat spread over several rows. ``fill_layout`` prefills such a file and gives it
our identity and data part, so that ``extract_docx`` reads it like one of ours.
"""

from __future__ import annotations

import copy
import uuid
from dataclasses import dataclass

from lxml import etree

from ..convert import display
from ..errors import DocumentError
from ..identity import Identity
from ..shape import complete, set_at, value_at
from ..spec.model import (
    CheckboxField, ChoiceField, DateField, DateTimeField, FormSpec, GroupField, ListField, LongTextField,
    MultiChoiceField, RepeatField,
)
from ..validation import Issue, Report
from . import oxml, oxml_read, parts
from .ns import CT_CUSTOM_PROPS, CT_CUSTOM_XML_PROPS, RT_CUSTOM_PROPS, RT_CUSTOM_XML, RT_CUSTOM_XML_PROPS, qn
from .package import DocxPackage, write_package

_SDT, _TR = qn("w:sdt"), qn("w:tr")
KIND_FOR = {"checkbox": "checkbox", "choice": "dropdown", "date": "date", "datetime": "date"}


@dataclass
class LayoutCheck(Report):
    """A validation report about a layout rather than data: ``ok`` when it has no errors."""

    controls: int = 0

    @property
    def ok(self) -> bool:
        return self.valid

    def to_dict(self) -> dict:
        return {**super().to_dict(), "ok": self.ok, "controls": self.controls}


def _expected(spec: FormSpec) -> dict[str, tuple[object, bool]]:
    """Every tag a layout may use -> (field, whether the form needs it)."""
    out: dict[str, tuple[object, bool]] = {}
    for ref in spec.walk():
        f = ref.field
        if isinstance(f, (GroupField, RepeatField)):
            continue
        needed = f.required and (ref.in_repeat is None or _repeat(spec, ref.in_repeat).required)
        if isinstance(f, MultiChoiceField):
            for o in f.choices:
                out[f"{ref.path}:{o.value}"] = (f, needed)
        else:
            out[ref.path] = (f, needed)
    return out


def _repeat(spec: FormSpec, path: str) -> RepeatField:
    return spec.field_at(path).field


def check_layout(spec: FormSpec, raw: bytes) -> LayoutCheck:
    return _check(spec, DocxPackage(raw))


def _check(spec: FormSpec, pkg: DocxPackage) -> LayoutCheck:
    body = pkg.xml("word/document.xml").find(qn("w:body"))
    infos = [oxml_read.read_sdt(e) for e in body.iter(_SDT) if e.find(f".//{_SDT}") is None]
    result = LayoutCheck(spec.id, spec.version, controls=len(infos))
    expected = _expected(spec)
    seen: dict[str, int] = {}
    rows: dict[str, set[int]] = {}
    for info in infos:
        tag = info.tag
        if not tag:
            result.warnings.append(Issue("$", "untagged_control", f"A control titled '{(info.alias or '')[:60]}' has "
                                         "no tag, so it will not be read.", "warning"))
            continue
        if tag not in expected:
            result.errors.append(Issue(tag, "unknown_tag", f"The tag '{tag[:80]}' is not a field of this form."))
            continue
        f, _ = expected[tag]
        seen[tag] = seen.get(tag, 0) + 1
        want = "checkbox" if isinstance(f, MultiChoiceField) else KIND_FOR.get(f.type, "text")
        if info.kind != want:
            result.errors.append(Issue(tag, "wrong_control", f'"{f.label}" needs a {_describe(want)} control; this '
                                       f"one is a {_describe(info.kind)}."))
        elif isinstance(f, (LongTextField, ListField)) and not info.multiline:
            result.warnings.append(Issue(tag, "single_line", f'"{f.label}" takes several lines; allow carriage '
                                         "returns in the control's properties.", "warning"))
        elif isinstance(f, ChoiceField):
            offered = {v for v, _ in info.items} | {shown for _, shown in info.items}
            missing = [o.value for o in f.choices if o.value not in offered and o.label not in offered]
            if missing:
                result.errors.append(Issue(tag, "missing_options", f'The drop-down for "{f.label}" lacks '
                                           f"{len(missing)} of the form's options: {', '.join(missing[:8])}."))
        if "[]." in tag:
            tr = next(info.element.iterancestors(_TR), None)
            rows.setdefault(tag.split("[].")[0], set()).add(id(tr) if tr is not None else 0)
        elif seen[tag] == 2:
            result.errors.append(Issue(tag, "duplicate_control", f'"{f.label}" has more than one control.'))
    for repeat, trs in rows.items():
        if 0 in trs:
            result.errors.append(Issue(repeat, "repeat_outside_table", f'The cells of "{_repeat(spec, repeat).label}" '
                                       "must sit in a table row, so that rows can be added."))
    for tag, (f, needed) in expected.items():
        if tag in seen:
            continue
        field_path, _, option = tag.partition(":")
        if option and any(t.startswith(field_path + ":") for t in seen):
            result.warnings.append(Issue(tag, "missing_option", f'"{f.label}" has no box for the option '
                                         f"'{option}', so it can never be chosen.", "warning"))
            continue
        if option and tag != next(t for t in expected if t.startswith(field_path + ":")):
            continue  # one report per multiple-choice field
        result.add(Issue(field_path, "missing_control", f'"{f.label}" has no control in this layout.',
                         "error" if needed else "warning"))
    return result


def _describe(kind: str) -> str:
    return {"text": "plain text", "dropdown": "drop-down list", "date": "date picker", "checkbox": "check box",
            "other": "picture or other"}.get(kind, kind)


def fill_layout(spec: FormSpec, raw: bytes, data: dict | None = None, *, document_id: str | None = None) -> bytes:
    """A designer layout, prefilled, with our identity and bound data part added."""
    pkg = DocxPackage(raw)
    check = _check(spec, pkg)
    if not check.ok:
        first = check.errors[0]
        raise DocumentError(f"The layout does not fit the form '{spec.id}': {first.path}: {first.message} "
                            f"({len(check.errors)} problem{'s' if len(check.errors) > 1 else ''}; run check-layout).",
                            "layout_invalid")
    values = complete(spec, data)
    identity = Identity.new(spec, document_id)
    store_item_id = "{" + str(uuid.uuid4()).upper() + "}"
    files = pkg.parts()
    doc = pkg.xml("word/document.xml")
    for repeat in {t.split("[].")[0] for t in _tags(doc) if "[]." in t}:
        _fill_rows(doc, spec, repeat, values.get(repeat) or [])
    for sdt in [e for e in doc.iter(_SDT) if e.find(f".//{_SDT}") is None]:
        tag = oxml_read.read_sdt(sdt).tag or ""
        if "[]." in tag or not tag:
            continue
        path, _, option = tag.partition(":")
        ref = spec.field_at(path)
        if ref is None:
            continue
        f, value = ref.field, value_at(values, path)
        if option:
            index = next(i for i, o in enumerate(f.choices) if o.value == option)
            _set_checkbox(sdt, option in (value or []))
            _bind(sdt, oxml.Binding(store_item_id, parts.binding_xpath(path, index)))
        else:
            _set_value(sdt, f, value)
            _bind(sdt, oxml.Binding(store_item_id, parts.binding_xpath(path)))
    files["word/document.xml"] = etree.tostring(doc, xml_declaration=True, encoding="UTF-8", standalone=True)
    # The data part carries only what the layout shows: nothing travels hidden in the file.
    present = {t.split(":")[0].split("[].")[0] for t in _tags(doc) if t}
    _add_identity(files, spec, _only(spec, values, present), identity, store_item_id)
    return write_package(files)


def _only(spec: FormSpec, values: dict, present: set[str]) -> dict:
    """``values`` with every field the layout does not show emptied."""
    shown = complete(spec, {})
    for path in present:
        set_at(shown, path, value_at(values, path))
    return shown


def _tags(doc: etree._Element) -> list[str]:
    return [t.get(qn("w:val")) or "" for t in doc.iter(qn("w:tag"))]


def _fill_rows(doc: etree._Element, spec: FormSpec, repeat: str, rows: list[dict]) -> None:
    """Clone the designer's row once per data row (keeping it as it is when there is no data)."""
    tagged = [e for e in doc.iter(_SDT) if (oxml_read.read_sdt(e).tag or "").startswith(repeat + "[].")]
    template = next(tagged[0].iterancestors(_TR), None) if tagged else None
    if template is None or not rows:
        return
    f = _repeat(spec, repeat)
    anchor = template
    for row in rows:
        clone = copy.deepcopy(template)
        for sdt in clone.iter(_SDT):
            tag = oxml_read.read_sdt(sdt).tag or ""
            if tag.startswith(repeat + "[]."):
                col, _, option = tag.split("[].", 1)[1].partition(":")
                sub = next(s for s in f.fields if s.key == col)
                if option:
                    _set_checkbox(sdt, option in (row.get(col) or []))
                else:
                    _set_value(sdt, sub, row.get(col))
        anchor.addnext(clone)
        anchor = clone
    template.getparent().remove(template)


def _set_checkbox(sdt: etree._Element, on: bool) -> None:
    box = sdt.find(f"{qn('w:sdtPr')}/{qn('w14:checkbox')}")
    flag = box.find(qn("w14:checked")) if box is not None else None
    if flag is not None:
        flag.set(qn("w14:val"), "1" if on else "0")
    for t in sdt.find(qn("w:sdtContent")).iter(qn("w:t")):
        t.text = oxml.CHECKED if on else oxml.UNCHECKED


def _set_value(sdt: etree._Element, f, value: object) -> None:
    pr, content = sdt.find(qn("w:sdtPr")), sdt.find(qn("w:sdtContent"))
    if isinstance(f, CheckboxField):
        _set_checkbox(sdt, bool(value))
        return
    if value is None or value == [] or value == "":
        return  # leave the designer's placeholder showing
    shown = display(f, value)
    flag = pr.find(qn("w:showingPlcHdr"))
    if flag is not None:
        pr.remove(flag)
    if isinstance(f, ChoiceField):
        dd = pr.find(qn("w:dropDownList")) if pr.find(qn("w:dropDownList")) is not None else pr.find(qn("w:comboBox"))
        dd.set(qn("w:lastValue"), value)
    elif isinstance(f, (DateField, DateTimeField)):
        pr.find(qn("w:date")).set(qn("w:fullDate"), oxml.full_date(value))
    for child in list(content):
        content.remove(child)
    content.append(oxml.fragment(oxml.run(shown)))


_BEFORE_BINDING = {qn(f"w:{n}") for n in ("rPr", "alias", "tag", "id", "lock", "placeholder", "temporary",
                                          "showingPlcHdr")}


def _bind(sdt: etree._Element, binding: oxml.Binding) -> None:
    """Add (or replace) the control's data binding, in its schema place."""
    pr = sdt.find(qn("w:sdtPr"))
    old = pr.find(qn("w:dataBinding"))
    if old is not None:
        pr.remove(old)
    new = oxml.fragment(oxml.binding_element(binding))
    index = max((i + 1 for i, c in enumerate(pr) if c.tag in _BEFORE_BINDING), default=0)
    pr.insert(index, new)


def _add_identity(files: dict[str, bytes], spec: FormSpec, values: dict, identity: Identity,
                  store_item_id: str) -> None:
    n = 1
    while f"customXml/item{n}.xml" in files:
        n += 1
    item, props = f"customXml/item{n}.xml", f"customXml/itemProps{n}.xml"
    files[item] = parts.data_xml(spec, values, identity)
    files[props] = parts.item_props(store_item_id)
    files[f"customXml/_rels/item{n}.xml.rels"] = parts.rels([("rId1", RT_CUSTOM_XML_PROPS, f"itemProps{n}.xml")])
    files["word/_rels/document.xml.rels"] = parts.add_relationship(
        files["word/_rels/document.xml.rels"], RT_CUSTOM_XML, f"../{item}")
    files["docProps/custom.xml"] = parts.merge_custom_props(files.get("docProps/custom.xml"), identity)
    files["_rels/.rels"] = parts.add_relationship(files["_rels/.rels"], RT_CUSTOM_PROPS, "docProps/custom.xml",
                                                  unless_type=True)
    files["[Content_Types].xml"] = parts.add_overrides(files["[Content_Types].xml"], {
        f"/{props}": CT_CUSTOM_XML_PROPS, "/docProps/custom.xml": CT_CUSTOM_PROPS})

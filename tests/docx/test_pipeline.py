"""The Word reader's parts, one at a time: the control index, locating tables in the layout,
the order of trust for one field's value, repeating rows, LibreOffice's repairs, the version
diff, and the package layer that opens and writes every .docx."""

from __future__ import annotations

import copy

import pytest
from lxml import etree

from service.docx import extract_docx, generate_docx
from service.docx import oxml
from service.docx.controls import ControlIndex
from service.docx.locate import align, matches, rows, top_tables
from service.docx.ns import NS, qn
from service.docx.oxml_read import SdtInfo, read_sdt
from service.docx.package import DocxPackage, write_package
from service.docx.repairs import line_breaks_from_part, optional_xml
from service.docx.versions import part_paths, version_issues
from service.layout import RepeatPlan, TablePlan, plan
from service.shape import complete
from tests.conftest import FORM_IDS, REGISTRY, load_sample
from tests.docx.edits import WordEdit

SDT, TBL, BINDING, TAG = qn("w:sdt"), qn("w:tbl"), qn("w:dataBinding"), qn("w:tag")


def _body(raw: bytes) -> etree._Element:
    return DocxPackage(raw).xml("word/document.xml").find(qn("w:body"))


def _sample_doc(form_id: str = "key-criteria") -> tuple[object, bytes]:
    spec = REGISTRY.get(form_id)
    return spec, generate_docx(spec, load_sample(form_id))


def _edited(raw: bytes, change) -> bytes:
    edit = WordEdit(raw)
    change(edit.doc)
    return edit.save()


def _untag(doc: etree._Element, tag: str) -> None:
    for t in list(doc.iter(TAG)):
        if t.get(qn("w:val")) == tag:
            t.getparent().remove(t)


def _unbind(doc: etree._Element, tag: str) -> None:
    for sdt in doc.iter(SDT):
        pr = sdt.find(qn("w:sdtPr"))
        t = pr.find(TAG)
        if t is not None and t.get(qn("w:val")) == tag and pr.find(BINDING) is not None:
            pr.remove(pr.find(BINDING))


# -- the control index --------------------------------------------------------------------

def test_controls_are_identified_by_tag_else_by_binding():
    spec, raw = _sample_doc()
    raw = _edited(raw, lambda doc: _untag(doc, "religion"))
    index = ControlIndex(spec, _body(raw))
    assert [how for _, how in index.by_key["child_name"]] == ["control"]
    assert [how for _, how in index.by_key["religion"]] == ["binding"]
    taken = index.take("religion")
    assert len(taken) == 1 and index.take("religion") == []  # claimed once


def test_an_outer_control_wrapping_a_check_box_is_not_a_field():
    """LibreOffice wraps each check box in a control with the same binding: only the inner one
    is the field."""
    form_id, box = next((f, ref.path) for f in FORM_IDS for ref in REGISTRY.get(f).walk()
                        if ref.field.type == "checkbox" and ref.in_repeat is None)
    spec, raw = _sample_doc(form_id)

    def wrap(doc):
        sdt = next(s for s in doc.iter(SDT) if (t := s.find(f"{qn('w:sdtPr')}/{qn('w:tag')}")) is not None
                   and t.get(qn("w:val")) == box)
        outer = etree.Element(SDT)
        pr = copy.deepcopy(sdt.find(qn("w:sdtPr")))
        outer.append(pr)
        content = etree.SubElement(outer, qn("w:sdtContent"))
        sdt.addprevious(outer)
        content.append(sdt)

    body = _body(_edited(raw, wrap))
    tagged = [s for s in body.iter(SDT) if (t := s.find(f"{qn('w:sdtPr')}/{TAG}")) is not None
              and t.get(qn("w:val")) == box]
    assert len(tagged) == 2 and tagged[1].getparent().getparent() is tagged[0]  # wrapped, as LibreOffice does
    index = ControlIndex(spec, body)
    assert len(index.by_key[box]) == 1 and index.by_key[box][0][0].element is tagged[1]


def test_a_control_of_no_field_is_named_as_a_stranger():
    spec, raw = _sample_doc()

    def rename(doc):
        for t in doc.iter(TAG):
            if t.get(qn("w:val")) == "religion":
                t.set(qn("w:val"), "shoe_size")
        _unbind(doc, "shoe_size")

    index = ControlIndex(spec, _body(_edited(raw, rename)))
    assert index.unclaimed_strangers() == ["shoe_size"]


# -- locating tables ----------------------------------------------------------------------

def test_a_planned_table_is_found_by_most_of_its_labels_even_when_moved():
    spec, raw = _sample_doc()
    body = _body(raw)
    planned = [b for b in plan(spec) if isinstance(b, (TablePlan, RepeatPlan))]
    tables = top_tables(body)
    assert all(matches(b, t) for b, t in zip(planned, tables))
    # a foreign table inserted before them all is skipped, and every plan still finds its own
    foreign = oxml.fragment(oxml.table([[oxml.Cell(oxml.paragraph(text="Something else"), 2000)]], [2000]))
    pairs = align(planned, [foreign] + tables)
    assert [t for _, t in pairs] == tables


def test_a_table_whose_labels_were_mostly_rewritten_is_not_taken_for_the_plan():
    spec, raw = _sample_doc()
    block = next(b for b in plan(spec) if isinstance(b, TablePlan))
    table = top_tables(_body(raw))[0]
    for row in rows(table):
        for cell in row:
            for t in cell.iter(qn("w:t")):
                t.text = "changed"
    assert not matches(block, table)


# -- the order of trust for one field -----------------------------------------------------

@pytest.mark.parametrize("change, source", [
    (lambda doc: None, "control"),
    (lambda doc: _untag(doc, "religion"), "binding"),
    (lambda doc: (_unbind(doc, "religion"), _untag(doc, "religion")), "position"),
])
def test_each_field_is_read_from_the_most_trusted_place_left(change, source):
    spec, raw = _sample_doc()
    result = extract_docx(_edited(raw, change), REGISTRY)
    assert result.sources["religion"] == source
    assert result.data["religion"] == load_sample("key-criteria")["religion"]


def test_without_its_control_a_field_is_read_from_its_cell_then_from_the_data_part():
    spec, raw = _sample_doc()
    text_only = WordEdit(raw).remove_control("religion").save()
    result = extract_docx(text_only, REGISTRY)
    assert result.sources["religion"] == "text"
    assert result.data["religion"] == load_sample("key-criteria")["religion"]
    gone = WordEdit(raw).remove_control("religion", keep_text=False).save()
    result = extract_docx(gone, REGISTRY)
    assert result.sources["religion"] == "customxml"
    assert ("religion", "control_missing") in {(w.path, w.code) for w in result.warnings}


def test_placeholder_text_is_never_a_value():
    spec = REGISTRY.get("key-criteria")
    result = extract_docx(generate_docx(spec, {}), REGISTRY)
    assert result.data == complete(spec, {})


# -- repeating rows -----------------------------------------------------------------------

def test_rows_follow_the_designers_column_order_and_skip_copies_of_the_header():
    spec = REGISTRY.get("placement-stability-meeting")
    sample = load_sample("placement-stability-meeting")
    raw = generate_docx(spec, sample)
    repeat = next(b for b in plan(spec) if isinstance(b, RepeatPlan))

    def reorder(doc):
        table = next(t for t in top_tables(doc.find(qn("w:body"))) if matches(repeat, t))
        trs = [tr for tr in table if tr.tag == qn("w:tr")]
        for tr in trs:  # swap the last two columns in every row, header included
            cells = [c for c in tr if c.tag == qn("w:tc")]
            cells[-1].addprevious(cells[-1]) if len(cells) < 2 else cells[-2].addprevious(cells[-1])
        table.append(copy.deepcopy(trs[0]))  # and a copy of the header at the end

    result = extract_docx(_edited(raw, reorder), REGISTRY)
    assert result.data[repeat.path] == complete(spec, sample)[repeat.path]


# -- LibreOffice's repairs ----------------------------------------------------------------

def _multiline(text_runs: list[str], moved: int) -> SdtInfo:
    w = NS["w"]
    runs = "".join(f"<w:t>{t}</w:t>" for t in text_runs)
    xml = (f'<w:p xmlns:w="{w}"><w:r>{"<w:br/>" * moved}</w:r><w:sdt><w:sdtPr><w:text w:multiLine="1"/></w:sdtPr>'
           f"<w:sdtContent><w:r>{runs}</w:r></w:sdtContent></w:sdt></w:p>")
    return read_sdt(etree.fromstring(xml).find(SDT))


def test_moved_line_breaks_go_back_where_the_body_says():
    info = _multiline(["One.", "Two.", "Three."], 2)
    assert (info.text, info.breaks_uncertain) == ("One.\nTwo.\nThree.", False)
    info = _multiline(["One.", "Two."], 2)  # a blank line somewhere: between, before or after
    assert (info.text, info.breaks_uncertain) == ("One.\nTwo.", True)


def test_the_data_part_restores_breaks_only_when_it_holds_the_same_characters():
    info = _multiline(["One.", "Two."], 2)
    assert line_breaks_from_part(info, ["One.\n\nTwo."]) == "One.\n\nTwo."
    assert line_breaks_from_part(info, ["One.\n\nTwo, edited since."]) == info.text  # stale: not believed
    assert line_breaks_from_part(info, ["One.\nTwo."]) == info.text  # not the number of breaks moved


def test_a_damaged_optional_part_is_a_note_not_a_refusal():
    spec, raw = _sample_doc()
    pkg = DocxPackage(write_package({**DocxPackage(raw).parts(), "docProps/custom.xml": b"<Properties>&</Properties>"}))
    notes = []
    assert optional_xml(pkg, "docProps/custom.xml", notes) is None
    assert [n.code for n in notes] == ["damaged_part"]
    assert optional_xml(pkg, "docProps/absent.xml", notes) is None and len(notes) == 1


# -- the version diff ---------------------------------------------------------------------

def test_the_data_part_declares_its_fields_whatever_version_wrote_it():
    spec, raw = _sample_doc()
    root = next(DocxPackage(raw).xml(n) for n in DocxPackage(raw).names() if n == "customXml/item1.xml")
    declared = part_paths(spec, root)
    assert "child_name" in declared and "safety.fire_setting.answer" in declared
    assert not any(p.startswith("safety.") and p.count(".") == 0 for p in declared)  # groups are not fields


def test_version_differences_are_said_in_words():
    spec = REGISTRY.get("key-criteria")
    fields = {ref.path for ref in spec.walk() if ref.in_repeat is None and ref.field.type != "group"}
    assert version_issues(spec, spec.version, fields) == []
    same = version_issues(spec, "0.9.0", fields)
    assert [(i.code, i.severity) for i in same] == [("other_version", "warning")]
    differ = version_issues(spec, "0.9.0", (fields - {"religion"}) | {"hobbies"})
    assert [(i.code, i.severity) for i in differ] == [("version_mismatch", "error")]
    assert "fields only in the document: hobbies" in differ[0].message
    assert f"fields only in version {spec.version}: religion" in differ[0].message


# -- the package layer --------------------------------------------------------------------

def test_written_packages_open_safely_and_the_same_parts_give_the_same_bytes():
    parts = {"[Content_Types].xml": b"<Types/>", "word/document.xml": b"<w:document/>"}
    one, two = write_package(parts), write_package(list(parts.items()))
    assert one == two
    assert DocxPackage(one).parts() == parts


def test_every_document_we_write_is_opened_by_the_same_checks():
    spec, raw = _sample_doc()
    pkg = DocxPackage(raw)
    assert write_package(pkg.parts()) != b"" and DocxPackage(write_package(pkg.parts())).names() == pkg.names()

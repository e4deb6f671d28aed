"""The Word writer's own design: a form's body compiled once per spec with holes for a
document's values, control ids and rows; the package written by our zip writer, byte for byte
what Python's zipfile writes, with the parts every document shares deflated once a process."""

from __future__ import annotations

import zipfile
from io import BytesIO

import pytest

from service.docx import extract_docx, generate_docx, oxml, writer
from service.docx import package as package_module
from service.docx.ns import qn
from service.docx.package import DocxPackage, FixedPart, write_package
from service.shape import complete
from tests.conftest import REGISTRY, load_sample


def _zipfile_bytes(parts: list[tuple[str, bytes | str]]) -> bytes:
    out = BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=package_module.COMPRESS_LEVEL) as z:
        for name, content in parts:
            info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            z.writestr(info, content, compresslevel=package_module.COMPRESS_LEVEL)
    return out.getvalue()


def test_our_package_writer_writes_the_bytes_pythons_zipfile_writes():
    parts = [("[Content_Types].xml", b"<Types/>"), ("word/document.xml", "<w:document>caf\u00e9</w:document>"),
             ("word/m\u00e9dia/note.xml", b"<note/>" * 300), ("empty.xml", b""),
             ("word/styles.xml", FixedPart(b"<w:styles/>" * 50))]
    raw = write_package(parts)
    assert raw == _zipfile_bytes(parts)
    z = zipfile.ZipFile(BytesIO(raw))
    assert z.testzip() is None
    assert z.namelist() == [n for n, _ in parts]
    assert z.read("word/document.xml").decode() == "<w:document>caf\u00e9</w:document>"
    assert z.getinfo("word/m\u00e9dia/note.xml").flag_bits & 0x800  # a non-ASCII name is marked UTF-8


def test_a_part_every_document_shares_is_deflated_once_a_process(monkeypatch):
    calls = []
    real = package_module._deflate
    monkeypatch.setattr(package_module, "_deflate", lambda content: calls.append(bytes(content)) or real(content))
    fixed = FixedPart(b"<w:settings/>" * 20)
    first = write_package([("word/settings.xml", fixed), ("word/document.xml", b"<one/>")])
    second = write_package([("word/settings.xml", fixed), ("word/document.xml", b"<two/>")])
    assert calls == [bytes(fixed), b"<one/>", b"<two/>"]
    read = [zipfile.ZipFile(BytesIO(raw)).read("word/settings.xml") for raw in (first, second)]
    assert read == [bytes(fixed), bytes(fixed)]


def test_a_generated_form_shares_its_fixed_parts_and_writes_the_rest_per_document(monkeypatch):
    spec = REGISTRY.get("ramp")
    generate_docx(spec, {})  # the fixed parts are deflated by now
    calls = []
    real = package_module._deflate
    monkeypatch.setattr(package_module, "_deflate", lambda content: calls.append(content) or real(content))
    raw = generate_docx(spec, load_sample("ramp"))
    written = {name for name in zipfile.ZipFile(BytesIO(raw)).namelist()}
    per_document = {"word/document.xml", "docProps/core.xml", "docProps/custom.xml", "customXml/item1.xml",
                    "customXml/itemProps1.xml"}
    assert per_document < written and len(calls) == len(per_document)  # styles, settings, rels: deflated before


def _strings(obj, seen=None) -> list[str]:
    """Every string a compiled body holds (its pieces and its controls' fixed markup)."""
    seen = seen if seen is not None else set()
    if isinstance(obj, str):
        return [obj]
    if id(obj) in seen or not isinstance(obj, (list, tuple, writer._Field, writer._Rows, oxml.Control)):
        return []
    seen.add(id(obj))
    items = obj if isinstance(obj, (list, tuple)) else [v for k, v in vars(obj).items() if k not in ("field", "plan")]
    return [s for item in items for s in _strings(item, seen)]


def test_a_forms_body_is_made_once_a_spec_and_holds_none_of_a_documents_values():
    spec = REGISTRY.get("key-criteria")
    generate_docx(spec, {"child_name": "Example Child"})
    body = writer._BODIES.get(spec)
    raw = generate_docx(spec, {"child_name": "Zebedee Example-Quince",
                               "matching_criteria": [{"criterion": "same_school", "comment": "Marmalade-sandwich note"}]})
    assert writer._BODIES.get(spec) is body  # the second document filled the same compiled body
    assert "Zebedee Example-Quince" in DocxPackage(raw).read("word/document.xml").decode()
    kept = "".join(_strings(body.pieces))
    assert "Child" in kept or "child" in kept  # the form's own labels are there
    assert "Zebedee" not in kept and "Marmalade" not in kept and "Example Child" not in kept


@pytest.mark.parametrize("rows", [0, 1, 7])
def test_holes_are_filled_in_document_order_with_unique_control_ids_and_numbered_rows(rows):
    spec = REGISTRY.get("key-criteria")
    sample = load_sample("key-criteria")
    data = {**sample, "matching_criteria": (sample["matching_criteria"] * 7)[:rows]}
    raw = generate_docx(spec, data)
    body = DocxPackage(raw).xml("word/document.xml")
    ids = [int(i.get(qn("w:val"))) for i in body.iter(qn("w:id"))]
    assert ids == list(range(1000, 1000 + len(ids)))  # one id per control, in the order they appear
    assert extract_docx(raw, REGISTRY).data == complete(spec, data)


def test_a_form_whose_text_held_a_nul_would_be_refused_not_misfilled():
    with pytest.raises(ValueError, match="NUL"):
        writer._split("<w:tc>\x00</w:tc><w:t>a\x00b</w:t>\x00", 2)
    assert writer._split("<a>\x00</a><b>\x00</b>", 2) == ["<a>", "</a><b>", "</b>"]


def test_the_data_parts_layout_is_made_once_a_spec():
    from service.docx import parts

    spec = REGISTRY.get("preparation-plan")
    generate_docx(spec, load_sample("preparation-plan"))
    made = len(parts._DATA_PLAN._cache)
    for _ in range(3):
        raw = generate_docx(spec, load_sample("preparation-plan"))
    assert len(parts._DATA_PLAN._cache) == made  # nothing rebuilt (a form's fields list is new on every access)
    assert extract_docx(raw, REGISTRY).data == complete(spec, load_sample("preparation-plan"))


def test_an_organisations_pictures_are_deflated_once_a_shell_not_once_a_document(monkeypatch):
    from service.docx.branding import find_shell

    spec = REGISTRY.get("key-criteria")
    shell = find_shell(spec.organisation)
    generate_docx(spec, {}, shell=shell)
    calls = []
    real = package_module._deflate
    monkeypatch.setattr(package_module, "_deflate", lambda content: calls.append(bytes(content)) or real(content))
    raw = generate_docx(spec, load_sample("key-criteria"), shell=shell)
    z = zipfile.ZipFile(BytesIO(raw))
    pictures = [n for n in z.namelist() if n.startswith("word/media/brand")]
    assert pictures and not any(z.read(n) in calls for n in pictures)
    assert z.read("word/document.xml") in calls  # the document's own parts are written each time

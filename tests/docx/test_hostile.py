"""Hostile and broken uploads: each refused with a stable code, nothing inflated, parsed or
followed beyond the checks; random damage never escapes as anything but a DocumentError."""

from __future__ import annotations

import zipfile
from io import BytesIO

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import service
from service.docx import extract_docx, generate_docx
from tests.conftest import REGISTRY, load_sample
from tests.docx.edits import WordEdit

GOOD = generate_docx(REGISTRY.get("ramp"), load_sample("ramp"))


def rezip(replace: dict[str, bytes | None] = {}, add: dict[str, bytes] = {}, base: bytes = GOOD) -> bytes:
    src = zipfile.ZipFile(BytesIO(base))
    out = BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for info in src.infolist():
            if info.filename in replace:
                if replace[info.filename] is not None:
                    z.writestr(info.filename, replace[info.filename])
            else:
                z.writestr(info, src.read(info))
        for name, data in add.items():
            z.writestr(name, data)
    return out.getvalue()


def types_with(extra: str) -> bytes:
    t = zipfile.ZipFile(BytesIO(GOOD)).read("[Content_Types].xml")
    return t.replace(b"</Types>", extra.encode() + b"</Types>")


LAUGHS = (b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;">'
          b'<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;">]><w:document xmlns:w="http://schemas.openxmlformats.org/'
          b'wordprocessingml/2006/main"><w:body><w:p><w:r><w:t>&lol3;</w:t></w:r></w:p></w:body></w:document>')
XXE = (b'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/passwd">]><w:document '
       b'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body><w:p><w:r><w:t>&x;</w:t>'
       b'</w:r></w:p></w:body></w:document>')
EXTERNAL_RELS = (b'<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/'
                 b'relationships"><Relationship Id="rId9" Type="http://schemas.openxmlformats.org/officeDocument/'
                 b'2006/relationships/attachedTemplate" Target="http://198.51.100.7/t.dotm" TargetMode="External"/>'
                 b'</Relationships>')


def utf16(xml: bytes, bom: bool = True) -> bytes:
    """The same part as Word may write it: UTF-16, declaring so, with or without its byte order mark."""
    text = xml.decode().replace('<?xml version="1.0"?>', '<?xml version="1.0" encoding="UTF-16"?>')
    return text.encode("utf-16") if bom else text.encode("utf-16-le")


DATA_DOCTYPE = (b'<?xml version="1.0"?><!DOCTYPE f [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
                b'<sdf:form xmlns:sdf="urn:stepdown-forms:data"><sdf:child_name>&x;</sdf:child_name></sdf:form>')


def many_entries() -> bytes:
    return rezip(add={f"junk/{i}.xml": b"<a/>" for i in range(1001)})


CASES = {
    "plain text": (lambda: b"hello, this is not a form", "not_a_zip"),
    "old .doc or encrypted": (lambda: b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100, "not_a_zip"),
    "empty file": (lambda: b"", "not_a_zip"),
    "truncated zip": (lambda: GOOD[: len(GOOD) // 2], "corrupt_zip"),
    "zip without Word parts": (lambda: rezip(replace={"word/document.xml": None}), "not_a_word_document"),
    "ratio bomb": (lambda: rezip(add={"word/media/zeros.bin": b"\0" * (3 * 1024 * 1024)}), "zip_bomb"),
    "too many entries": (many_entries, "too_many_entries"),
    "too large": (lambda: b"PK\x03\x04" + b"\0" * (21 * 1024 * 1024), "file_too_large"),
    "billion laughs": (lambda: rezip(replace={"word/document.xml": LAUGHS}), "xml_doctype"),
    "external entity": (lambda: rezip(replace={"word/document.xml": XXE}), "xml_doctype"),
    "malformed XML": (lambda: rezip(replace={"word/document.xml": b"<w:document><w:body>"}), "xml_malformed"),
    "macro part": (lambda: rezip(add={"word/vbaProject.bin": b"\0" * 10}), "macro_enabled"),
    "docm content type": (lambda: rezip(replace={"[Content_Types].xml": types_with(
        '<Override PartName="/word/x.xml" ContentType="application/vnd.ms-word.document.macroEnabled.main+xml"/>')}),
        "macro_enabled"),
    "embedded object": (lambda: rezip(add={"word/embeddings/oleObject1.bin": b"\0" * 10}), "embedded_object"),
    "linked remote template": (lambda: rezip(add={"word/_rels/settings.xml.rels": EXTERNAL_RELS}), "external_reference"),
    # the same dangers in UTF-16 parts, which byte patterns looking for ASCII cannot see
    "UTF-16 remote template": (lambda: rezip(add={"word/_rels/settings.xml.rels": utf16(EXTERNAL_RELS)}),
                               "external_reference"),
    "UTF-16 remote template, no BOM": (lambda: rezip(add={"word/_rels/settings.xml.rels": utf16(EXTERNAL_RELS, False)}),
                                       "external_reference"),
    "UTF-16 external entity in the data part": (lambda: rezip(replace={"customXml/item1.xml": utf16(DATA_DOCTYPE)}),
                                                "xml_doctype"),
    "UTF-16 billion laughs": (lambda: rezip(replace={"word/document.xml": utf16(LAUGHS)}), "xml_doctype"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_hostile_document_is_refused_with_a_code(case):
    """Through the service's entry point: read in a reader worker, within its budget."""
    make, code = CASES[case]
    with pytest.raises(service.DocumentError) as info:
        service.extract_document(make(), REGISTRY)
    assert info.value.code == code, str(info.value)
    assert str(info.value) and "Traceback" not in str(info.value)


def test_a_pdf_given_to_the_word_reader_is_named_not_a_word_file():
    with pytest.raises(service.DocumentError) as info:
        extract_docx(b"%PDF-1.7\n%...", REGISTRY)
    assert info.value.code == "not_a_zip"


def test_lying_size_header_is_caught():
    """An entry whose central directory understates its size must not inflate past the claim."""
    raw = bytearray(rezip(add={"word/big.xml": b"<a>" + b"x" * 200_000 + b"</a>"}))
    name = b"word/big.xml"
    cd = raw.rfind(b"PK\x01\x02", 0, raw.rfind(name))  # central directory record for that entry
    raw[cd + 24:cd + 28] = (10).to_bytes(4, "little")  # uncompressed size := 10 bytes
    with pytest.raises(service.DocumentError) as info:
        pkg = __import__("service.docx.package", fromlist=["DocxPackage"]).DocxPackage(bytes(raw))
        pkg.read("word/big.xml")
    # zipfile notices the entry holds more than its record says before our own cap is reached
    assert info.value.code == "corrupt_zip" and "word/big.xml" in info.value.message


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.integers(0, len(GOOD) - 1), st.integers(0, 255)), min_size=1, max_size=8))
def test_random_damage_never_escapes_as_a_crash(flips):
    raw = bytearray(GOOD)
    for pos, byte in flips:
        raw[pos] = byte
    try:
        result = extract_docx(bytes(raw), REGISTRY)
    except service.StepDownError as exc:
        assert exc.code
    else:
        assert result.form == "ramp"


def test_cli_refuses_hostile_files_in_one_line(tmp_path, capsys):
    from service.cli import main

    bomb = tmp_path / "bomb.docx"
    bomb.write_bytes(rezip(replace={"word/document.xml": LAUGHS}))
    assert main(["extract", str(bomb)]) == 2
    err = capsys.readouterr().err
    assert "DOCTYPE" in err and len(err.strip().splitlines()) == 1


DOC_XML = zipfile.ZipFile(BytesIO(GOOD)).read("word/document.xml")


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.integers(0, len(DOC_XML) - 1), st.sampled_from(b"<>/=\"' wxabc0")), min_size=1, max_size=6))
def test_damaged_document_xml_never_escapes_as_a_crash(flips):
    xml = bytearray(DOC_XML)
    for pos, byte in flips:
        xml[pos] = byte
    try:
        result = extract_docx(rezip(replace={"word/document.xml": bytes(xml)}), REGISTRY)
    except service.StepDownError as exc:
        assert exc.code
    else:
        assert result.form == "ramp"


def test_damaged_data_part_is_a_warning_not_a_refusal():
    from tests.docx.edits import WordEdit

    raw = rezip(replace={"customXml/item1.xml": b""}, base=WordEdit(GOOD).remove_control("su_number", False).save())
    result = extract_docx(raw, REGISTRY)
    assert "damaged_part" in {w.code for w in result.warnings}, "reported when the part was needed"
    assert result.data["child_name"] == "Kai Example"
    unused = extract_docx(rezip(replace={"customXml/item1.xml": b""}), REGISTRY)
    assert "damaged_part" not in {w.code for w in unused.warnings}, "not needed: not parsed, not reported"


def test_hostile_data_part_is_still_refused():
    with pytest.raises(service.DocumentError) as info:
        extract_docx(rezip(replace={"customXml/item1.xml": LAUGHS}), REGISTRY)
    assert info.value.code == "xml_doctype"


def _psm_with_rows(n: int) -> bytes:
    """The stability meeting with ``n`` more filled rows in its attendees table."""
    import random

    from service.docx import generate_docx

    spec = REGISTRY.get("placement-stability-meeting")
    edit = WordEdit(generate_docx(spec, load_sample("placement-stability-meeting")))
    rnd = random.Random(7)
    for _ in range(n):
        edit.copy_row("present[].name", {"present[].name": "".join(rnd.choice("abcdefgh") for _ in range(10)),
                                         "present[].role": "Role"})
    return edit.save()


def test_a_table_with_far_more_rows_than_its_form_allows_is_refused():
    spec = REGISTRY.get("placement-stability-meeting")
    limit = 4 * spec.field_at("present").field.max_rows
    with pytest.raises(service.DocumentError) as info:
        service.extract_document(_psm_with_rows(limit + 1), REGISTRY)
    assert info.value.code == "too_many_rows" and "Present" in info.value.message


def test_reading_rows_is_linear_in_their_number(monkeypatch):
    """Each row costs the same however many came before (a set of every source so far was
    copied per row: 300,000 rows took minutes). Counted, not timed: how many entries of the
    sources map are visited while reading N rows."""
    import service.docx.reader as reader_module
    import service.docx.rows as rows_module

    visits = [0]

    class Counting(dict):
        def __iter__(self):
            for key in super().__iter__():
                visits[0] += 1
                yield key

    monkeypatch.setattr(rows_module, "ROWS_BEYOND", 1000, raising=False)
    monkeypatch.setattr(reader_module, "Reading", _counting_reading(reader_module.Reading, Counting))
    for n in (200, 400):
        visits[0] = 0
        result = extract_docx(_psm_with_rows(n), REGISTRY)  # here, not in a worker: the counting is patched in
        assert len(result.data["present"]) == 6 + n
        assert visits[0] <= 10 * n, (n, visits[0])


def _counting_reading(reading, mapping):
    from dataclasses import field, make_dataclass

    return make_dataclass("CountingReading", [("sources", dict, field(default_factory=mapping))], bases=(reading,))



def test_a_harmless_utf16_part_is_read_as_any_other():
    """Word may write a part in UTF-16: it is read, not refused."""
    custom = zipfile.ZipFile(BytesIO(GOOD)).read("docProps/custom.xml")
    as16 = custom.decode().replace('encoding="UTF-8"', 'encoding="UTF-16"').encode("utf-16")
    result = extract_docx(rezip(replace={"docProps/custom.xml": as16}), REGISTRY)
    assert result.form == "ramp" and result.data == extract_docx(GOOD, REGISTRY).data


def test_a_body_of_millions_of_empty_paragraphs_is_refused_before_it_is_built():
    """11.5 MB of Word file holding two million paragraphs cost 878 MB to parse. (Their text is
    random, as an attacker's would be, so that the zip's ratio check does not stop it first.)"""
    import random

    rnd = random.Random(3)
    body = b"".join(b"<w:p><w:r><w:t>%08x</w:t></w:r></w:p>" % rnd.getrandbits(32) for _ in range(260_000))
    doc = zipfile.ZipFile(BytesIO(GOOD)).read("word/document.xml")
    at = doc.index(b"<w:body>") + len(b"<w:body>")
    raw = rezip(replace={"word/document.xml": doc[:at] + body + doc[at:]})
    assert len(raw) < service.MAX_DOCUMENT_BYTES
    with pytest.raises(service.DocumentError) as info:
        service.extract_document(raw, REGISTRY)
    assert info.value.code == "too_complex"


def test_huge_relationship_parts_are_refused_unread():
    """190 relationship parts of 1 MiB each took up to 19 s in a regular expression."""
    rel = (b'<Relationship Id="rIdX" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
           b'image" Target="media/x.png"/>')
    big = (b'<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/'
           b'relationships">' + rel * 9000 + b"</Relationships>")
    with pytest.raises(service.DocumentError) as info:
        service.extract_document(rezip(add={"word/_rels/header9.xml.rels": big}), REGISTRY)
    assert info.value.code == "too_complex"


@pytest.fixture
def readers():
    pool = service.isolation.readers()
    limits = pool.limits
    yield pool
    pool.configure(limits=limits)


def test_a_word_document_over_the_memory_budget_is_refused_in_words(readers):
    """A reader worker that runs out of memory is gone; the upload gets a plain refusal and the
    next one a new worker. (The budget is lowered below what any reading needs to show it.)"""
    import dataclasses

    readers.configure(limits=dataclasses.replace(readers.limits, memory=40 * 1024 * 1024))  # a reader needs ~60 MiB
    with pytest.raises(service.DocumentError) as info:
        service.extract_document(GOOD, REGISTRY)
    assert info.value.code == "too_complex" and "memory" in info.value.message
    readers.configure(limits=dataclasses.replace(readers.limits, memory=512 * 1024 * 1024))
    assert service.extract_document(GOOD, REGISTRY).form == "ramp"


def test_a_word_document_over_the_time_budget_is_refused_in_words(readers):
    import dataclasses

    readers.configure(limits=dataclasses.replace(readers.limits, wall_seconds=0.001))
    with pytest.raises(service.DocumentError) as info:
        service.extract_document(GOOD, REGISTRY)
    assert info.value.code == "timeout" and "too long" in info.value.message

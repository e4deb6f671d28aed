"""Hostile PDFs: parsed in a separate process with limits; active content refused; limits hit
become clear errors, never a crash and never an empty record."""

from __future__ import annotations

import dataclasses
from io import BytesIO

import pytest
from pypdf import PdfReader, PdfWriter
from pypdf.generic import DictionaryObject, NameObject, TextStringObject

import service
from service.pdf import extract_pdf, generate_pdf, sandbox
from tests.conftest import REGISTRY, load_sample

GOOD = generate_pdf(REGISTRY.get("ramp"), load_sample("ramp"))


def altered(change) -> bytes:
    writer = PdfWriter(clone_from=PdfReader(BytesIO(GOOD)))
    change(writer)
    out = BytesIO()
    writer.write(out)
    return out.getvalue()


def launch(writer: PdfWriter) -> None:
    writer._root_object[NameObject("/OpenAction")] = DictionaryObject({
        NameObject("/S"): NameObject("/Launch"), NameObject("/F"): TextStringObject("calc.exe")})


def javascript(writer: PdfWriter) -> None:
    """A document-level script in the names tree, as Acrobat stores one."""
    from pypdf.generic import ArrayObject

    js = DictionaryObject({NameObject("/S"): NameObject("/JavaScript"),
                           NameObject("/JS"): TextStringObject("app.alert('hello');")})
    names = DictionaryObject({NameObject("/JavaScript"): DictionaryObject({
        NameObject("/Names"): ArrayObject([TextStringObject("x"), writer._add_object(js)])})})
    writer._root_object[NameObject("/Names")] = writer._add_object(names)


CASES = {
    "JavaScript": javascript,
    "a launch action": launch,
    "embedded files": lambda w: w.add_attachment("notes.txt", b"hidden"),
}


@pytest.mark.parametrize("what", list(CASES))
def test_active_content_is_refused_and_named(what):
    with pytest.raises(service.DocumentError) as info:
        extract_pdf(altered(CASES[what]), REGISTRY)
    assert info.value.code == "active_content"
    assert what in str(info.value) and "nothing in it was run" in str(info.value)


@pytest.fixture
def fresh_worker():
    sandbox.reset()
    yield
    sandbox.reset()


def _limits(monkeypatch, **change):
    monkeypatch.setattr(sandbox.POOL, "limits", dataclasses.replace(sandbox.POOL.limits, **change))


def test_memory_limit_gives_a_clear_error(monkeypatch, fresh_worker):
    _limits(monkeypatch, memory=20 * 1024 * 1024)  # less than the parse needs (~32 MiB)
    with pytest.raises(service.DocumentError) as info:
        extract_pdf(GOOD, REGISTRY)
    assert info.value.code == "pdf_too_complex"


def test_wall_clock_limit_gives_a_clear_error(monkeypatch, fresh_worker):
    _limits(monkeypatch, wall_seconds=0.001)
    with pytest.raises(service.DocumentError) as info:
        extract_pdf(GOOD, REGISTRY)
    assert info.value.code == "pdf_timeout"


def test_a_new_worker_follows_a_killed_one(monkeypatch, fresh_worker):
    _limits(monkeypatch, wall_seconds=0.001)
    with pytest.raises(service.DocumentError):
        extract_pdf(GOOD, REGISTRY)
    _limits(monkeypatch, wall_seconds=10)
    assert extract_pdf(GOOD, REGISTRY).form == "ramp"


def test_the_pdf_worker_holds_its_parser_and_little_else():
    """The worker loads three plain modules of ours by path, not the package."""
    import subprocess
    import sys

    probe = ("import runpy, sys; sys.argv = ['sandbox.py']; import io; sys.stdin = io.TextIOWrapper(io.BytesIO(b''));"
             f"runpy.run_path({sandbox.__file__!r}, run_name='probe');"
             "print(sorted(m for m in sys.modules if m.startswith(('service', 'sdf_'))))")
    out = subprocess.run([sys.executable, "-I", "-c", probe], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "['sdf_errors', 'sdf_pdf_names', 'sdf_worker']"


@pytest.mark.parametrize("raw", [b"%PDF-1.7\n" + b"\x00" * 5000, b"%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 1 0 R >> endobj\n",
                                 GOOD[:2000]])
def test_garbage_after_a_pdf_header_is_refused(raw):
    with pytest.raises(service.DocumentError) as info:
        extract_pdf(raw, REGISTRY)
    assert info.value.code == "corrupt_pdf"


def _raw_pdf(objects: list[bytes], root: int = 1) -> bytes:
    """A minimal PDF from numbered object bodies, with a correct cross-reference table."""
    out = bytearray(b"%PDF-1.7\n")
    offsets = []
    for i, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % i + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root %d 0 R /Info << /StepDownForm (ramp) >> >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1, root, xref)
    return bytes(out)


def test_a_decompression_bomb_is_refused():
    """A cross-reference stream, which any reader must inflate to open the file, that inflates to
    1 GiB from about 1 MiB on disk."""
    import zlib

    z = zlib.compressobj(9)
    bomb = b"".join(z.compress(b"\x00" * (1 << 20)) for _ in range(1024)) + z.flush()
    head = b"%PDF-1.7\n"
    body = (b"1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n"
            b"2 0 obj\n<< /Type /Pages /Kids [] /Count 0 >>\nendobj\n")
    xref = (b"3 0 obj\n<< /Type /XRef /Size 4 /Root 1 0 R /W [1 4 2] /Filter /FlateDecode /Length %d >>\nstream\n"
            % len(bomb) + bomb + b"\nendstream\nendobj\n")
    raw = head + body + xref + b"startxref\n%d\n%%%%EOF\n" % (len(head) + len(body))
    with pytest.raises(service.DocumentError) as info:
        extract_pdf(raw, REGISTRY)
    assert info.value.code == "pdf_too_complex" and "decompression bomb" in str(info.value)


def test_a_field_tree_that_loops_is_refused():
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R /AcroForm << /Fields [4 0 R] >> >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] >>",
        b"<< /T (child_name) /Kids [5 0 R] >>",
        b"<< /T (loop) /Parent 4 0 R /Kids [4 0 R] /FT /Tx /V (x) >>",
    ]
    with pytest.raises(service.DocumentError) as info:
        extract_pdf(_raw_pdf(objects), REGISTRY)
    assert info.value.code == "corrupt_pdf" and "loops back" in info.value.message


def _pike(change) -> bytes:
    """GOOD changed with pikepdf and written with plain (uncompressed, unpacked) objects."""
    import pikepdf

    with pikepdf.open(BytesIO(GOOD)) as pdf:
        change(pdf)
        out = BytesIO()
        pdf.save(out, compress_streams=False, object_stream_mode=pikepdf.ObjectStreamMode.disable)
        return out.getvalue()


def _script(pdf):
    import pikepdf

    return pdf.make_indirect(pikepdf.Dictionary(S=pikepdf.Name.JavaScript, JS=pikepdf.String("app.alert(1)")))


def _parent_field_script(pdf) -> None:
    """A script on a field that is no widget: the parent of a real field in the field tree."""
    import pikepdf

    fields = pdf.Root.AcroForm.Fields
    child = fields[0]
    parent = pdf.make_indirect(pikepdf.Dictionary(T=pikepdf.String("group"), Kids=pikepdf.Array([child]),
                                                  AA=pikepdf.Dictionary(K=_script(pdf))))
    child.Parent = parent
    fields[0] = parent


def _outline_script(pdf) -> None:
    import pikepdf

    item = pdf.make_indirect(pikepdf.Dictionary(Title=pikepdf.String("Open me"), A=_script(pdf)))
    pdf.Root.Outlines = pdf.make_indirect(pikepdf.Dictionary(Type=pikepdf.Name.Outlines, First=item, Last=item, Count=1))
    item.Parent = pdf.Root.Outlines


def _attached_to_page(pdf) -> None:
    import pikepdf

    note = pdf.make_indirect(pikepdf.Dictionary(Type=pikepdf.Name.Annot, Subtype=pikepdf.Name.FileAttachment,
                                                Rect=[10, 10, 30, 30], FS=pikepdf.String("notes.txt")))
    pdf.pages[0].obj.Annots.append(note)


def _field_widget_as_attachment(pdf) -> None:
    """A field whose widget claims to be a file attachment: the field walk has seen it, and the
    page's check must still look at what kind of annotation it is."""
    import pikepdf

    pdf.Root.AcroForm.Fields[0].Subtype = pikepdf.Name.FileAttachment


def _widget_script(pdf) -> None:
    """A script on a field's own widget (one dictionary with the field): found by the field walk."""
    pdf.Root.AcroForm.Fields[0].AA = __import__("pikepdf").Dictionary(K=_script(pdf))


@pytest.mark.parametrize("change, named", [(_attached_to_page, "embedded files"),
                                           (_field_widget_as_attachment, "embedded files"),
                                           (_widget_script, "JavaScript")],
                         ids=["page-attachment", "widget-attachment", "widget-script"])
def test_annotations_that_act_are_refused_on_a_page_or_a_field(change, named):
    with pytest.raises(service.DocumentError) as info:
        extract_pdf(_pike(change), REGISTRY)
    assert info.value.code == "active_content" and named in info.value.message


def _escaped(raw: bytes) -> bytes:
    """The same script, its action type's name spelt with a #xx escape, as a filter-dodging file would."""
    assert b"/JavaScript" in raw
    return raw.replace(b"/S /JavaScript", b"/S /J#61vaScript")


@pytest.mark.parametrize("make", [
    lambda: _pike(_parent_field_script),
    lambda: _pike(_outline_script),
    lambda: _escaped(_pike(_outline_script)),
], ids=["parent-field", "outline", "escaped-name"])
def test_scripts_anywhere_a_pdf_can_carry_them_are_refused(make):
    with pytest.raises(service.DocumentError) as info:
        extract_pdf(make(), REGISTRY)
    assert info.value.code == "active_content" and "JavaScript" in info.value.message


def test_xfa_beside_acroform_is_refused():
    import pikepdf

    def xfa(pdf):
        pdf.Root.AcroForm.XFA = pdf.make_stream(b"<xdp:xdp xmlns:xdp='http://ns.adobe.com/xdp/'/>")

    with pytest.raises(service.DocumentError) as info:
        extract_pdf(_pike(xfa), REGISTRY)
    assert info.value.code == "xfa_form"
    assert pikepdf  # the fields beside it are not read instead

"""Organisation shells: branded header and footer, rendered in a sandbox, around our form."""

from __future__ import annotations

import zipfile
from io import BytesIO

import docx
import pytest

import service
from service.docx import extract_docx, generate_docx
from service.docx.branding import find_shell, shell_name
from service.shape import complete
from tests.conftest import FORM_IDS, REGISTRY, load_sample
from tests.tools import soffice_convert


def parts_text(raw: bytes, prefix: str) -> str:
    z = zipfile.ZipFile(BytesIO(raw))
    return " ".join(z.read(n).decode() for n in z.namelist() if n.startswith(prefix))


@pytest.mark.parametrize("form_id", FORM_IDS)
def test_every_form_has_its_organisations_shell_and_reads_back_the_same(form_id):
    spec = REGISTRY.get(form_id)
    shell = find_shell(spec.organisation)
    assert shell is not None, f"templates_docx/{shell_name(spec.organisation)} is missing"
    raw = generate_docx(spec, load_sample(form_id), shell=shell, document_id="11111111-2222-4333-8444-555555555555")
    header, footer = parts_text(raw, "word/brand-header"), parts_text(raw, "word/brand-footer")
    # "Key Criteria & Non Negotiables" checks the autoescaping: & must arrive as &amp;
    assert spec.organisation.replace("&", "&amp;") in header and spec.title.replace("&", "&amp;") in header
    assert "11111111-2222-4333-8444-555555555555" in footer and "NUMPAGES" in footer
    assert any(n.startswith("word/media/brand") and n.endswith(".png") for n in zipfile.ZipFile(BytesIO(raw)).namelist())
    result = extract_docx(raw, REGISTRY)
    assert result.data == complete(spec, load_sample(form_id)) and result.errors == []


def test_branded_document_survives_libreoffice(tmp_path):
    spec = REGISTRY.get("key-criteria")
    path = tmp_path / "branded.docx"
    path.write_bytes(generate_docx(spec, load_sample("key-criteria"), shell=find_shell(spec.organisation)))
    [back] = soffice_convert([path], "docx", tmp_path / "out")
    result = extract_docx(back.read_bytes(), REGISTRY)
    assert result.data == complete(spec, load_sample("key-criteria"))
    d = docx.Document(back)
    assert "Lancashire County Council" in " ".join(p.text for p in d.sections[0].header.paragraphs)


def make_shell(header_text: str) -> bytes:
    d = docx.Document()
    d.sections[0].header.paragraphs[0].text = header_text
    out = BytesIO()
    d.save(out)
    return out.getvalue()


@pytest.mark.parametrize(("text", "code"), [
    ("{{ ''.__class__.__mro__[1].__subclasses__() }}", "template_unsafe"),
    ("{{ cycler.__init__.__globals__ }}", "template_unsafe"),
    ("{{ secret_value }}", "template_invalid"),
    ("{% for x in %}", "template_invalid"),
])
def test_shells_run_in_a_sandbox(text, code):
    with pytest.raises(service.DocumentError) as info:
        generate_docx(REGISTRY.get("ramp"), shell=make_shell(text))
    assert info.value.code == code


def test_a_hostile_shell_is_refused():
    from tests.docx.test_hostile import rezip

    bad = rezip(add={"word/vbaProject.bin": b"\0"}, base=make_shell("{{ organisation }}"))
    with pytest.raises(service.DocumentError) as info:
        generate_docx(REGISTRY.get("ramp"), shell=bad)
    assert info.value.code == "macro_enabled"


def test_cli_shell_options(tmp_path, capsys):
    from service.cli import main

    plain, branded = tmp_path / "plain.docx", tmp_path / "branded.docx"
    assert main(["generate", "ramp", "--shell", "none", "--out", str(plain)]) == 0
    assert main(["generate", "ramp", "--out", str(branded)]) == 0
    assert "brand-header" not in " ".join(zipfile.ZipFile(plain).namelist())
    assert "brand-header" in " ".join(zipfile.ZipFile(branded).namelist())


def test_a_shell_is_rendered_once_and_each_document_gets_its_own_id():
    from service.docx.branding import DOCUMENT_ID_MARK, _render_with_mark

    spec = REGISTRY.get("ramp")
    shell = find_shell(spec.organisation)
    _render_with_mark.cache_clear()
    ids = ["aaaaaaaa-0000-4000-8000-00000000000%d" % i for i in range(3)]
    footers = [parts_text(generate_docx(spec, None, shell=shell, document_id=i), "word/brand-footer") for i in ids]
    assert _render_with_mark.cache_info().misses == 1
    for document_id, footer in zip(ids, footers):
        assert document_id in footer and DOCUMENT_ID_MARK not in footer
        assert not any(other in footer for other in ids if other != document_id)


def test_a_shell_that_slices_the_id_is_rendered_per_document():
    shell = make_shell("Ref {{ document_id[:8] }} – {{ organisation }}")
    spec = REGISTRY.get("ramp")
    raw = generate_docx(spec, None, shell=shell, document_id="bbbbbbbb-1111-4000-8000-000000000000")
    header = parts_text(raw, "word/brand-header")
    assert "Ref bbbbbbbb" in header and "SDFDOCUM" not in header


def test_a_shell_is_read_from_disk_again_only_when_its_file_changes(tmp_path, monkeypatch):
    import os

    monkeypatch.setenv("STEPDOWN_TEMPLATES_DIR", str(tmp_path))
    assert find_shell("Example Borough Council") is None
    path = tmp_path / shell_name("Example Borough Council")
    path.write_bytes(make_shell("First header"))
    first = find_shell("Example Borough Council")
    assert find_shell("Example Borough Council") is first  # the same object: its rendering is found by identity
    path.write_bytes(make_shell("A second, longer header"))
    os.utime(path, ns=(path.stat().st_atime_ns, path.stat().st_mtime_ns + 1_000_000))
    second = find_shell("Example Borough Council")
    assert second != first and b"second" in b"".join(
        zipfile.ZipFile(BytesIO(second)).read(n) for n in zipfile.ZipFile(BytesIO(second)).namelist())
    path.unlink()
    assert find_shell("Example Borough Council") is None

"""A pack for each audience: each audience's files (Word, PDF, combined PDF, cover sheet) contain
nothing it may not see — searched for a canary value byte by byte, in every zip part inflated,
every PDF stream decompressed, every PDF string, and the text a PDF reader draws — while the
professionals' files, searched the same way, do contain it. A redacted section says so; an
uploaded restricted version never fills, or empties, what it could not contain."""

from __future__ import annotations

import io
import subprocess
import zipfile

import pikepdf
import pytest

import service
from service import records
from service.spec.audiences import NOT_INCLUDED, hidden_paths, restricted
from tests.conftest import REGISTRY, load_sample
from tests.jobs.test_next_meeting import SU, _last_meeting, _pack_files
from tests.packs.test_packs import _row
from tests.tools import require

CANARY = "Qz7Canary"  # in the last meeting's overview (professionals and carers only)
CANARY_USER = "canary.k9"  # changes the case: named only on the professionals' cover sheet
SPEC = REGISTRY.get("placement-stability-meeting")


def _pdf_texts(raw: bytes) -> list[bytes]:
    out = []
    with pikepdf.open(io.BytesIO(raw)) as pdf:
        for obj in pdf.objects:
            if isinstance(obj, pikepdf.Stream):
                out.append(obj.read_bytes())
            elif isinstance(obj, pikepdf.Dictionary):
                out += [str(v).encode() for v in obj.values() if isinstance(v, pikepdf.String)]
        for key, value in pdf.docinfo.items():
            out.append(str(value).encode())
    drawn = subprocess.run(["pdftotext", "-", "-"], input=raw, capture_output=True, check=True).stdout
    return out + [drawn]


def _holds(raw: bytes, canary: str) -> bool:
    """Anywhere in the file: raw (UTF-8 or UTF-16), zip parts inflated, PDF objects and text."""
    needles = [canary.encode(), canary.encode("utf-16-be"), canary.encode("utf-16-le")]
    if any(n in raw for n in needles):
        return True
    if raw[:2] == b"PK":
        with zipfile.ZipFile(io.BytesIO(raw)) as z:
            return any(_holds(z.read(name), canary) for name in z.namelist())
    if raw[:5] == b"%PDF-":
        return any(any(n in chunk for n in needles) for chunk in _pdf_texts(raw))
    return False


@pytest.fixture
def pack_zip(shop):
    require("pdftotext", "poppler-utils")
    actor = records.create_user(shop.db, CANARY_USER, "a long test password", role="practitioner", team="North Team")
    case = records.create_case(shop.db, actor, {"su_number": SU, "child_name": "Rowan1 Example"})
    _last_meeting(shop, actor, case["id"], overview=f"History held back from the family: {CANARY}.")
    records.update_case(shop.db, actor, case["id"], {"legal_status": "Section 20"})
    return _pack_files(shop, actor, [_row(1)]), actor, case


def _files(archive: zipfile.ZipFile, audience: str | None) -> dict[str, bytes]:
    out = {}
    for name in archive.namelist():
        parts = name.split("/")
        if len(parts) < 2 or not parts[0].endswith(SU):
            continue
        inner = parts[1:]
        if (audience is None and len(inner) == 1) or (audience is not None and inner[0] == audience):
            out[name] = archive.read(name)
    return out


def test_each_audience_gets_nothing_it_may_not_see(pack_zip):
    archive, _, _ = pack_zip
    professionals, carers, family = (_files(archive, a) for a in (None, "carers", "family"))
    kinds = {n.rsplit("/", 1)[-1] for n in family}
    assert kinds == {"00-cover-sheet.docx", "00-cover-sheet.pdf", "01-placement-stability-meeting.docx",
                     "01-placement-stability-meeting.pdf", "meeting-pack.pdf"}  # no form with nothing for them
    # the search finds the canaries where they belong (so it would find them anywhere) ...
    for suffix in ("01-placement-stability-meeting.docx", "01-placement-stability-meeting.pdf", "meeting-pack.pdf"):
        assert _holds(next(v for k, v in professionals.items() if k.endswith(suffix)), CANARY), suffix
        assert _holds(next(v for k, v in carers.items() if k.endswith(suffix)), CANARY), suffix
    assert _holds(next(v for k, v in professionals.items() if k.endswith("00-cover-sheet.pdf")), CANARY_USER)
    assert _holds(next(v for k, v in professionals.items() if k.endswith("00-cover-sheet.docx")), CANARY_USER)
    # ... and nowhere in the family's files: not hidden, not in the data part, properties or PDF fields
    for name, raw in family.items():
        assert not _holds(raw, CANARY), name
        assert not _holds(raw, CANARY_USER), name
    for name, raw in carers.items():
        assert not _holds(raw, CANARY_USER), name  # the case's changes are for professionals


def test_the_family_version_says_what_is_not_included_and_reads_back(pack_zip, shop):
    archive, actor, case = pack_zip
    raw = next(v for k, v in _files(archive, "family").items() if k.endswith("placement-stability-meeting.docx"))
    xml = zipfile.ZipFile(io.BytesIO(raw)).read("word/document.xml").decode()
    assert f"This section is {NOT_INCLUDED}." in xml and "Overview" not in xml.split("Agenda")[0]
    result = service.extract_document(raw, REGISTRY)
    assert result.audience == "family" and "overview" in result.hidden and "su_number" in result.hidden
    assert not [e for e in result.errors if e.path in ("overview", "reason", "su_number")]  # could not hold them
    assert result.data["overview"] is None and result.data["child_name"] == "Rowan1 Example"
    # filled in and accepted into the case, it changes only what it could contain
    family = restricted(SPEC, "family")
    filled = {k: v for k, v in load_sample("placement-stability-meeting").items() if family.field_at(k)}
    raw = service.generate_document(family, {**filled, "child_name": "Rowan1 Example"}, format="pdf")
    sub = records.receive_submission(shop.db, actor, REGISTRY, raw, case_id=case["id"])
    assert sub["errors"] == 0, sub["result"]["errors"]
    before = records.get_case(shop.db, actor, case["id"])["values"]
    records.accept_submission(shop.db, actor, REGISTRY, sub["id"], case_id=case["id"],
                              resolutions={c["key"]: "form" for c in sub["case_values"] if c["status"] == "conflict"})
    after = records.get_case(shop.db, actor, case["id"])["values"]
    assert after["su_number"] == before["su_number"] and after["legal_status"] == "Section 20"


@pytest.mark.parametrize("fmt", ["docx", "pdf"])
def test_a_restricted_form_carries_its_audience_and_only_its_fields(fmt):
    family = restricted(SPEC, "family")
    assert family.restricted_to == "family" and family.field_at("overview") is None
    assert family.field_at("actions[].status") is not None
    data = {k: v for k, v in load_sample("placement-stability-meeting").items() if family.field_at(k)}
    raw = service.generate_document(family, data, format=fmt)
    result = service.extract_document(raw, REGISTRY)
    assert result.audience == "family" and result.valid, result.errors
    assert set(result.hidden) == set(hidden_paths(SPEC, "family"))
    assert result.data["working_well"] == data["working_well"] and result.data["overview"] is None
    child = restricted(SPEC, "child")
    # a rule about a field the version lacks goes with it
    assert {r.id for r in child.rules} == {"next-meeting-within-3-months"}
    assert [f.key for f in child.fields] == ["child_name", "meeting_at", "child_views_good", "child_views_worrying",
                                             "next_meeting_date"]


def test_the_childs_version_is_in_plain_words():
    child = restricted(SPEC, "child")
    assert [f.label for f in child.fields] == ["Your name", "When we met", "What is going well for you?",
                                               "What is worrying you?", "When we will meet again"]
    assert [s.heading for s in child.sections] == ["About the meeting", "What you told us", "Our next meeting"]
    raw = service.generate_document(child, {"child_views_good": "Baking at weekends"}, format="docx")
    xml = zipfile.ZipFile(io.BytesIO(raw)).read("word/document.xml").decode()
    assert "What you told us" in xml and f"Some parts of the meeting's record are {NOT_INCLUDED}" in xml
    assert "must be available to the meeting" not in xml and "Reason for the meeting" not in xml  # staff words
    result = service.extract_document(raw, REGISTRY)
    assert result.audience == "child" and result.data["child_views_good"] == "Baking at weekends"


def test_an_unknown_audience_is_refused_by_name():
    raw = service.generate_document(restricted(SPEC, "family"), {}, format="docx")
    tampered = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(raw)) as z, zipfile.ZipFile(tampered, "w") as out:
        for info in z.infolist():
            data = z.read(info.filename)
            if info.filename == "docProps/custom.xml":
                data = data.replace(b">family<", b">neighbours<")
            out.writestr(info, data)
    with pytest.raises(service.DocumentError, match="audience we do not know"):
        service.extract_document(tampered.getvalue(), REGISTRY)


def test_a_spec_file_cannot_claim_to_be_restricted(tmp_path):
    from service.spec.loader import load_spec_text

    text = (REGISTRY.folder / "placement-stability-meeting" / "1.1.0.yaml").read_text()
    with pytest.raises(service.SpecError, match="restricted_to is set by the service"):
        load_spec_text(text + "restricted_to: family\n")


def test_the_command_line_makes_an_audiences_version(tmp_path, capsys):
    from service.cli import main

    out = tmp_path / "family.docx"
    sample = tmp_path / "psm.json"
    sample.write_text((REGISTRY.folder.parent / "samples" / "placement-stability-meeting.json").read_text())
    assert main(["generate", "placement-stability-meeting", "--data", str(sample), "--audience", "family",
                 "--out", str(out)]) == 0
    assert ", for family," in capsys.readouterr().out
    overview = load_sample("placement-stability-meeting")["overview"]
    assert not _holds(out.read_bytes(), overview[:30])  # the sample's overview is not for the family
    result = service.extract_document(out.read_bytes(), REGISTRY)
    assert result.audience == "family" and result.data["working_well"]

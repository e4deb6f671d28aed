"""Meeting packs end to end: every pack type built from a fictional row, every form in it read
back to the values it was prefilled with, cover sheets, timescale warnings, bad rows reported
by row and column, the ZIP and its manifest, templates, cancellation, and no data crossing
from one child's pack to another's."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import threading
import zipfile
from datetime import date, datetime, time

import pytest
from openpyxl import load_workbook

import service
from service.errors import DataError
from service.packs import default_packs
from service.packs.batch import Cancelled, run_batch
from service.packs.build import build_pack
from service.packs.inputs import read_rows
from service.packs.meeting import Meeting, read_row
from service.packs.template import template_xlsx
from service.shape import complete
from tests.conftest import REGISTRY

PACKS = default_packs()
MEETING_PACKS = [p.id for p in PACKS.all() if p.kind == "meeting"]
EXTRA = {"requested_at": "01/12/2026 09:00", "requested_by": "Foster carer", "suitability_confirmed": "20/11/2026",
         "match_agreed": "24/11/2026", "moved_on": "10/11/2026", "left_home_on": "25/10/2026"}


def _row(n: int = 1, **over) -> dict:
    row = {"su_number": f"SU-EX-{7000 + n}", "child_name": f"Rowan{n} Example", "meeting_date": "02/12/2026",
           "meeting_time": "10:30", "venue": "Meeting room 2, Example House", "chair": "Pat Sample",
           "invitees": "Jo Sample – Social worker\nLee Demo (Foster carer)", "social_worker_name": "Jo Sample",
           "iro_name": f"Iro{n} Specimen", **EXTRA}
    row.update(over)
    return row


def _meeting(pack, n=1, **over) -> Meeting:
    meeting, problems = read_row(pack, n + 1, {k: v for k, v in _row(n, **over).items()
                                              if k in {c.key for c in pack.all_columns}})
    assert problems == []
    return meeting


def test_every_pack_definition_names_real_forms_and_fields():
    assert set(MEETING_PACKS) == {"preparation-planning-meeting", "matching", "getting-to-know-you-meeting",
                                  "support-review-meeting", "placement-stability-meeting", "unplanned-ending-meeting"}
    susd = PACKS.get("susd-expressions-of-interest")
    assert susd.kind == "per_option"
    for pack in PACKS.all():
        for item in pack.forms:
            spec = REGISTRY.get(item.form)
            assert all(spec.field_at(path) is not None for path in item.prefill)


# What the row of _row(1) means, worked out by hand: each column's value as a form field holds it.
ROW_VALUES = {"su_number": "SU-EX-7001", "child_name": "Rowan1 Example", "meeting_date": "2026-12-02",
              "meeting_at": "2026-12-02T10:30", "chair": "Pat Sample", "social_worker_name": "Jo Sample",
              "iro_name": "Iro1 Specimen", "requested_at": "2026-12-01T09:00", "requested_by": "foster_carer",
              "suitability_confirmed": "2026-11-20", "match_agreed": "2026-11-24", "moved_on": "2026-11-10",
              "left_home_on": "2026-10-25", "date_of_birth": "2013-06-01",
              "invitees": [{"name": "Jo Sample", "role": "Social worker"}, {"name": "Lee Demo", "role": "Foster carer"}]}


def _expected_prefill(spec, item) -> dict:
    """What a pack's form should carry, from ROW_VALUES alone: each field the pack maps to a
    column, and each field that names a case attribute the row (or the case) gives."""
    data = complete(spec, {})
    wanted = {ref.path: ref.field.case for ref in spec.walk()
              if getattr(ref.field, "case", None) in ROW_VALUES and ref.in_repeat is None}
    wanted.update({path: key for path, key in item.prefill.items() if key in ROW_VALUES})  # the row has no chair_role
    for path, key in wanted.items():
        f, value = spec.field_at(path).field, ROW_VALUES[key]
        if f.type == "repeat":
            value = [{**{sub.key: None for sub in f.fields}, **person} for person in value]
        elif f.type == "datetime" and "T" not in value:
            value += "T00:00"
        elif f.type == "date":
            value = value[:10]
        node = data
        for part in path.split(".")[:-1]:
            node = node[part]
        node[path.split(".")[-1]] = value
    return data


@pytest.mark.parametrize("pack_id", MEETING_PACKS)
def test_each_pack_builds_and_every_form_reads_back_its_prefill(pack_id):
    pack = PACKS.get(pack_id)
    meeting = _meeting(pack)
    built = build_pack(pack, REGISTRY, meeting, case_values={"date_of_birth": "2013-06-01"})
    names = [f.name for f in built.files if "/" not in f.name]  # the professionals' files: every form
    assert names[:2] == ["00-cover-sheet.docx", "00-cover-sheet.pdf"] and names[-1] == "meeting-pack.pdf"
    assert len(names) == 2 + 2 * len(pack.forms) + 1
    assert {f.name.split("/")[0] for f in built.files if "/" in f.name} == set(pack.audiences) - {"professionals"}
    assert built.folder == "2026-12-02_SU-EX-7001"
    for item in pack.forms:
        spec = REGISTRY.get(item.form)
        expected = _expected_prefill(spec, item)
        for f in built.files:
            if f.form == spec.id:
                result = service.extract_document(f.data, REGISTRY)
                assert result.form == spec.id
                audience = f.name.split("/")[0] if "/" in f.name else None
                assert result.audience == audience
                shown = {k: v for k, v in expected.items() if k not in result.hidden}  # another audience's version
                assert {k: result.data[k] for k in shown} == shown, f.name
                assert all(result.data[k] in (None, [], False) for k in result.hidden)


def test_meeting_values_land_in_the_forms():
    pack = PACKS.get("placement-stability-meeting")
    meeting = _meeting(pack, chair_role="Fostering team manager")
    built = build_pack(pack, REGISTRY, meeting)
    psm = next(f for f in built.files if f.name == "01-placement-stability-meeting.pdf")
    data = service.extract_document(psm.data, REGISTRY).data
    assert data["meeting_at"] == "2026-12-02T10:30" and data["requested_at"] == "2026-12-01T09:00"
    assert data["chair"] == "Pat Sample" and data["chair_role"] == "fostering_team_manager"
    assert data["present"] == [{"name": "Jo Sample", "role": "Social worker"}, {"name": "Lee Demo", "role": "Foster carer"}]
    assert data["requested_by"] == "foster_carer"


def test_cover_sheet_says_the_meeting_agenda_documents_and_timescales(tmp_path):
    import subprocess

    from tests.tools import require

    pack = PACKS.get("placement-stability-meeting")
    meeting = _meeting(pack, requested_at="28/11/2026 09:00")  # more than 48 hours before
    built = build_pack(pack, REGISTRY, meeting)
    assert any("within 48 hours" in w and "hours after" in w for w in built.warnings)
    cover = tmp_path / "cover.pdf"
    cover.write_bytes(next(f.data for f in built.files if f.name == "00-cover-sheet.pdf"))
    require("pdftotext", "poppler-utils")
    text = " ".join(subprocess.run(["pdftotext", str(cover), "-"], capture_output=True, text=True, check=True).stdout.split())
    for expected in ("Placement Stability Meeting", "Rowan1 Example", "Wednesday 02 December 2026", "10:30",
                     "Meeting room 2", "Pat Sample", "Lee Demo", "Foster carer", "Agenda",
                     "Reason for the meeting", "Documents enclosed", "Reducing Anxiety Management Plan",
                     "within 48 hours"):
        assert expected in text, expected
    docx = next(f.data for f in built.files if f.name == "00-cover-sheet.docx")
    xml = zipfile.ZipFile(io.BytesIO(docx)).read("word/document.xml").decode()
    assert "Lee Demo" in xml and "Documents enclosed" in xml


def test_combined_pdf_has_a_bookmark_per_document():
    import pikepdf

    pack = PACKS.get("matching")
    built = build_pack(pack, REGISTRY, _meeting(pack))
    combined = next(f.data for f in built.files if f.name == "meeting-pack.pdf")
    with pikepdf.open(io.BytesIO(combined)) as pdf:
        with pdf.open_outline() as outline:
            titles = [item.title for item in outline.root]
        assert titles == ["Cover sheet"] + [REGISTRY.get(f.form).title for f in pack.forms]
        assert "/AcroForm" not in pdf.Root  # flattened: values printed, no clashing field names
        assert pdf.check_pdf_syntax() == []
        descriptors = [o for o in pdf.objects if isinstance(o, pikepdf.Dictionary)
                       and o.get("/Type") == "/FontDescriptor"]
        files = [bytes(d.FontFile2.read_raw_bytes()) for d in descriptors]
        assert len(files) == len(set(files)) == len({str(d.FontName) for d in descriptors})  # one file per subset
        assert len(files) < len(titles) * 3  # the documents' faces shared, not one set each


def _csv(rows: list[dict], pack) -> bytes:
    columns = [c for c in pack.all_columns if any(c.key in r for r in rows)]
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow([c.label for c in columns])
    for r in rows:
        w.writerow([r.get(c.key, "") for c in columns])
    return buf.getvalue().encode()


def test_bad_rows_are_named_and_the_rest_built(tmp_path):
    pack = PACKS.get("placement-stability-meeting")
    rows = [_row(1), _row(2, su_number="", meeting_date="31/02/2026"), _row(3, meeting_time="25:61"), _row(4)]
    out = tmp_path / "batch.zip"
    result = run_batch(pack, REGISTRY, _csv(rows, pack), out, workers=0)
    assert (result.rows, result.built) == (4, 2)
    assert {(p.row, p.column) for p in result.problems} == {(3, "SU number"), (3, "Meeting date"), (4, "Start time")}
    assert all("Rowan" not in p.message for p in result.problems)
    z = zipfile.ZipFile(out)
    manifest = json.loads(z.read("manifest.json"))
    assert [f["folder"] for f in manifest["folders"]] == ["2026-12-02_SU-EX-7001", "2026-12-02_SU-EX-7004"]
    for folder in manifest["folders"]:
        for f in folder["files"]:
            assert hashlib.sha256(z.read(f["name"])).hexdigest() == f["sha256"]
    report = list(csv.reader(io.StringIO(z.read("manifest.csv").decode())))
    assert report[0][:3] == ["folder", "file", "sha256"] and any(r[4] == "3" for r in report)


def test_folder_names_are_safe_and_unique(tmp_path):
    pack = PACKS.get("matching")
    rows = [_row(1, su_number="../../etc/passwd"), _row(2, su_number="SU/EX\\9 <x>"), _row(3, su_number="SU/EX\\9 <x>")]
    out = tmp_path / "b.zip"
    run_batch(pack, REGISTRY, _csv(rows, pack), out, workers=0, formats=("pdf",))
    folders = sorted({n.split("/")[0] for n in zipfile.ZipFile(out).namelist() if "/" in n})
    assert folders == ["2026-12-02_SU-EX-9--x", "2026-12-02_SU-EX-9--x-2", "2026-12-02_etc-passwd"]


def test_cancelling_leaves_no_zip(tmp_path):
    pack = PACKS.get("matching")
    cancel = threading.Event()
    out = tmp_path / "cancelled.zip"

    def progress(done, total, row):
        if done >= 2:
            cancel.set()

    with pytest.raises(Cancelled):
        run_batch(pack, REGISTRY, _csv([_row(i) for i in range(1, 9)], pack), out, workers=2, progress=progress,
                  cancel=cancel, formats=("pdf",))
    assert list(tmp_path.iterdir()) == []


def test_a_failed_batch_leaves_the_earlier_zip_untouched(tmp_path):
    pack = PACKS.get("matching")
    out = tmp_path / "b.zip"
    out.write_bytes(b"an earlier batch")
    with pytest.raises(DataError):
        run_batch(pack, REGISTRY, b"\xff\xfe not utf-8", out, workers=0)
    assert out.read_bytes() == b"an earlier batch" and len(list(tmp_path.iterdir())) == 1


def test_leak_free_across_many_children(tmp_path):
    """Twenty children with distinct canary names and numbers, built on two processes: each
    pack's documents (forms read back; Word XML; the cover sheet and combined PDF as text)
    hold its own child's values and no other child's."""
    import subprocess

    from tests.tools import require

    require("pdftotext", "poppler-utils")
    pack = PACKS.get("placement-stability-meeting")
    rows = [_row(i, child_name=f"Canary{i:02d}x Example", su_number=f"SU-EX-C{i:02d}",
                 social_worker_name=f"Worker{i:02d}x Sample") for i in range(1, 21)]
    out = tmp_path / "leak.zip"
    result = run_batch(pack, REGISTRY, _csv(rows, pack), out, workers=2)
    assert result.built == 20
    z = zipfile.ZipFile(out)
    manifest = json.loads(z.read("manifest.json"))
    for entry, row in zip(manifest["folders"], rows):
        own = {row["child_name"], row["su_number"], row["social_worker_name"]}
        others = {r[k] for r in rows if r is not row for k in ("child_name", "su_number", "social_worker_name")}
        for f in entry["files"]:
            raw = z.read(f["name"])
            if f["name"].endswith((".docx", ".pdf")) and "cover" not in f["name"] and "meeting-pack" not in f["name"]:
                data = json.dumps(service.extract_document(raw, REGISTRY).data)
                assert row["child_name"] in data and not any(o in data for o in others), f["name"]
            if f["name"].endswith(".docx"):
                text = " ".join(zipfile.ZipFile(io.BytesIO(raw)).read(n).decode("utf-8", "replace")
                                for n in zipfile.ZipFile(io.BytesIO(raw)).namelist() if n.endswith(".xml"))
                assert not any(o in text for o in others), f["name"]
                assert any(v in text for v in own)
            elif "cover" in f["name"] or "meeting-pack" in f["name"]:  # text as drawn, read back by poppler
                path = tmp_path / "check.pdf"
                path.write_bytes(raw)
                text = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True, check=True).stdout
                assert row["child_name"] in text and not any(o in text for o in others), f["name"]


def test_template_opens_with_headers_dropdowns_and_formats_and_reads_back():
    pack = PACKS.get("placement-stability-meeting")
    raw = template_xlsx(pack)
    wb = load_workbook(io.BytesIO(raw))
    ws = wb["Meetings"]
    headers = [c.value for c in ws[1]]
    assert headers == [c.label for c in pack.all_columns]
    kinds = {dv.type for dv in ws.data_validations.dataValidation}
    assert {"list", "date", "time"} <= kinds
    date_col = headers.index("Meeting date") + 1
    assert ws.cell(row=2, column=date_col).number_format == "DD/MM/YYYY"
    assert wb["Lists"].sheet_state == "hidden"
    # filled in as a person would: real date, time and date-time cells
    values = {"SU number": "SU-EX-8001", "Child's name": "Morgan Example", "Meeting date": date(2026, 12, 3),
              "Start time": time(14, 0), "Invitees": "Jo Sample – Social worker",
              "Date and time the meeting was requested": datetime(2026, 12, 2, 9, 30),
              "Chair's role": "Fostering team manager", "Requested by": "Foster carer"}
    for name, value in values.items():
        ws.cell(row=2, column=headers.index(name) + 1, value=value)
    buf = io.BytesIO()
    wb.save(buf)
    rows = read_rows(pack, buf.getvalue())
    assert rows.problems == [] and len(rows.rows) == 1
    meeting, problems = read_row(pack, *rows.rows[0])
    assert problems == []
    assert meeting.meeting_at == datetime(2026, 12, 3, 14, 0)
    assert meeting.values["invitees"] == [{"name": "Jo Sample", "role": "Social worker"}]


@pytest.mark.parametrize("pack_id", [p.id for p in PACKS.all()])
def test_every_template_opens(pack_id):
    wb = load_workbook(io.BytesIO(template_xlsx(PACKS.get(pack_id))))
    assert wb["Meetings"].max_column == len(PACKS.get(pack_id).all_columns)


def test_json_input_and_unknown_columns():
    pack = PACKS.get("matching")
    raw = json.dumps({"meetings": [{**_row(1), "favourite_colour": "blue"}]}).encode()
    rows = read_rows(pack, raw)
    assert len(rows.rows) == 1 and "favourite_colour" in [p.column for p in rows.problems]


@pytest.mark.parametrize("raw, message", [
    (b"SU number,Meeting date\n" + b"SU-1,02/12/2026\n" * 10_002, "more than"),
    (b"Child's name\nA\n", "no column"),
    (b"[1, 2]", "list of meetings"),
    (b"PK\x03\x04 not really a spreadsheet", "cannot be read"),
])
def test_unusable_inputs_are_refused_clearly(raw, message):
    with pytest.raises(DataError, match=message):
        read_rows(PACKS.get("matching"), raw)


def test_expressions_of_interest_one_per_welsh_authority(tmp_path):
    pack = PACKS.get("susd-expressions-of-interest")
    out = tmp_path / "susd.zip"
    result = run_batch(pack, REGISTRY, None, out, workers=0, formats=("docx",))
    spec = REGISTRY.get("susd-expression-of-interest")
    options = spec.field_at("local_authority").field.choices
    assert result.built == len(options) == 22
    z = zipfile.ZipFile(out)
    for option in options:
        raw = z.read(f"{option.value}/01-susd-expression-of-interest.docx")
        assert service.extract_document(raw, REGISTRY).data["local_authority"] == option.value


def test_the_pack_commands(tmp_path, capsys):
    from service.cli import main

    assert main(["packs"]) == 0
    assert "placement-stability-meeting" in capsys.readouterr().out
    template = tmp_path / "t.xlsx"
    assert main(["pack-template", "matching", "--out", str(template)]) == 0
    assert load_workbook(template)["Meetings"]["A1"].value == "SU number"
    pack = PACKS.get("matching")
    inp = tmp_path / "m.csv"
    inp.write_bytes(_csv([_row(1), _row(2, meeting_date="not a date")], pack))
    out = tmp_path / "o.zip"
    assert main(["pack", "matching", "--input", str(inp), "--out", str(out), "--workers", "0", "--quiet"]) == 1
    said = capsys.readouterr().out
    assert "1 of 2 packs built" in said and "row 3, Meeting date: is not a date" in said
    assert zipfile.ZipFile(out).namelist()[0].startswith("2026-12-02_SU-EX-7001/")
    assert main(["pack", "matching", "--input", str(inp), "--out", str(out), "--formats", "odt"]) == 2
    assert main(["pack", "no-such-pack", "--input", str(inp), "--out", str(out)]) == 2


def test_the_pack_command_prefills_from_a_teams_cases(tmp_path, monkeypatch, capsys):
    from service import records
    from service.cli import main
    from service.settings import Settings
    from service.store import Database

    url = f"sqlite:///{tmp_path}/cases.sqlite3"
    monkeypatch.setenv("DATABASE_URL", url)
    db = Database(Settings(database_url=url))
    db.migrate()
    actor = records.create_user(db, "cam.cases", "a long test password", role="practitioner", team="Case Team")
    records.create_case(db, actor, {"su_number": "SU-EX-7001", "child_name": "Stored Casename",
                                    "date_of_birth": "2013-06-01"})
    pack = PACKS.get("matching")
    inp = tmp_path / "m.csv"
    inp.write_bytes(_csv([_row(1, child_name="")], pack))
    out = tmp_path / "o.zip"
    assert main(["pack", "matching", "--input", str(inp), "--out", str(out), "--workers", "0", "--quiet",
                 "--cases-of-team", "Case Team"]) == 0
    kc = zipfile.ZipFile(out).read("2026-12-02_SU-EX-7001/01-key-criteria.docx")
    assert service.extract_document(kc, REGISTRY).data["child_name"] == "Stored Casename"
    assert main(["pack", "matching", "--input", str(inp), "--out", str(out), "--cases-of-team", "Nobody"]) == 2
    db.dispose()


def test_cover_sheet_docx_opens_in_libreoffice_and_python_docx(tmp_path):
    import docx

    from tests.tools import soffice_convert

    pack = PACKS.get("unplanned-ending-meeting")
    built = build_pack(pack, REGISTRY, _meeting(pack, left_home_on="20/11/2026"))  # too soon: a warning
    path = tmp_path / "cover.docx"
    path.write_bytes(next(f.data for f in built.files if f.name == "00-cover-sheet.docx"))
    text = "\n".join(p.text for p in docx.Document(str(path)).paragraphs)
    assert "Unplanned Endings Meeting" in text and "between one month and six weeks" in text
    [odt] = soffice_convert([path], "odt", tmp_path / "out")
    content = zipfile.ZipFile(odt).read("content.xml").decode()
    assert "Rowan1 Example" in content and "Documents enclosed" in content and "Lee Demo" in content


def test_a_spreadsheet_that_would_inflate_enormously_is_refused():
    """A zip whose entries declare more than 40 times the input limit once inflated (a zip
    bomb; Python's zipfile never reads past a declared size, so the declared sizes bound it)."""
    import struct

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("xl/worksheets/sheet1.xml", b"<x/>")
    raw = bytearray(buf.getvalue())
    cd = raw.rfind(b"PK\x01\x02")
    raw[cd + 24:cd + 28] = struct.pack("<I", 0xFFFFFFF0)  # the central directory's uncompressed size
    with pytest.raises(DataError, match="zip bomb"):
        read_rows(PACKS.get("matching"), bytes(raw))


@pytest.mark.parametrize("moved, shown", [("01/12/2026", "1 day"), ("11/11/2026", "3 weeks"),
                                          ("09/11/2026", "3 weeks and 2 days"), ("02/09/2026", "3 months"),
                                          ("20/08/2026", "3 months and 1 week")])
def test_support_review_cover_says_how_long_since_the_move(moved, shown):
    from service.packs.build import _details

    pack = PACKS.get("support-review-meeting")
    details = dict(_details(pack, _meeting(pack, moved_on=moved)))
    assert details["Since the move"] == shown


@pytest.mark.parametrize("odd", ["\x00", "\x0b", "\ufffe", "\x7f"])
def test_a_cell_with_a_character_no_document_can_hold_is_refused_by_row_and_column(odd):
    """The same rule as the case record and the forms: refused, named by row and column."""
    pack = PACKS.get("placement-stability-meeting")
    _, problems = read_row(pack, 5, {**_row(), "child_name": f"Rowan{odd}Example"})
    assert [(p.row, p.column) for p in problems] == [(5, "Child's name")]
    assert odd not in str(problems[0])


def _workbook_with(part: str, data: bytes) -> bytes:
    """The matching pack's own template with one part replaced."""
    src = zipfile.ZipFile(io.BytesIO(template_xlsx(PACKS.get("matching"))))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for info in src.infolist():
            z.writestr(info.filename, data if info.filename == part else src.read(info))
        if part not in src.namelist():
            z.writestr(part, data)
    return out.getvalue()


def test_shared_strings_that_inflate_enormously_are_refused_unread():
    """2.7 MB of spreadsheet whose shared strings inflate to 780 MB took 217 s and 1.9 GB."""
    strings = (b'<?xml version="1.0"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
               + b"<si><t>" + b"a" * (70 * 1024 * 1024) + b"</t></si></sst>")
    with pytest.raises(DataError, match="zip bomb|far larger"):
        read_rows(PACKS.get("matching"), _workbook_with("xl/sharedStrings.xml", strings))


def test_millions_of_cell_formats_are_refused_unread():
    """484 KB of spreadsheet with 3 million cell formats took 148 s and 4.2 GB."""
    import random

    rnd = random.Random(5)
    xfs = b"".join(b'<xf numFmtId="%d" fontId="0"/>' % rnd.randrange(200) for _ in range(150_000))
    styles = (b'<?xml version="1.0"?><styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
              b'<cellXfs count="150000">' + xfs + b"</cellXfs></styleSheet>")
    with pytest.raises(DataError, match="cell formats"):
        read_rows(PACKS.get("matching"), _workbook_with("xl/styles.xml", styles))


def test_a_spreadsheet_over_the_time_or_memory_budget_is_refused_in_words():
    """Spreadsheets are read in a reader worker; one that runs out of time or memory there is a
    plain refusal (the budgets are lowered below what any reading needs to show it)."""
    import dataclasses

    from service import isolation

    pool = isolation.readers()
    limits = pool.limits
    sheet = template_xlsx(PACKS.get("matching"))
    try:
        pool.configure(limits=dataclasses.replace(limits, wall_seconds=0.001))
        with pytest.raises(DataError) as info:
            read_rows(PACKS.get("matching"), sheet)
        assert info.value.code == "timeout" and "too long" in info.value.message
        pool.configure(limits=dataclasses.replace(limits, memory=40 * 1024 * 1024))
        with pytest.raises(DataError) as info:
            read_rows(PACKS.get("matching"), sheet)
        assert info.value.code == "too_complex" and "memory" in info.value.message
    finally:
        pool.configure(limits=limits)
    assert read_rows(PACKS.get("matching"), sheet).rows == []


def test_a_value_the_form_cannot_take_is_left_blank_and_every_file_still_made():
    """The pack checks its data once (form_prefill) and makes its files without checking again:
    what it blanked must be blank in every file, and nothing else lost."""
    from service import extract_document

    pack = PACKS.get("placement-stability-meeting")
    built = build_pack(pack, REGISTRY, _meeting(pack, chair="x" * 2000))  # longer than the field allows
    assert "Placement Stability Meeting: 'Chair' could not take the value given and was left blank." in built.warnings
    for suffix in ("docx", "pdf"):
        raw = next(f.data for f in built.files if f.name == f"01-placement-stability-meeting.{suffix}")
        data = extract_document(raw, REGISTRY).data
        assert data["chair"] is None and data["meeting_at"] == "2026-12-02T10:30"

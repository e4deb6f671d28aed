"""The next meeting prefilled from the last: a stability meeting's pack for a child starts from
the child's last accepted record of it (actions not done carried forward, the last meeting's
date and actions shown), the cover sheet says what changed in the case since, and the
timescales that depend on the last meeting warn when a date breaks them."""

from __future__ import annotations

import io
import subprocess
import zipfile

import service
from service import records
from service.jobs import work
from service.packs.build import build_pack
from service.records.jobs import job_file
from service.shape import complete
from tests.conftest import REGISTRY, load_sample
from tests.packs.test_packs import PACKS, _csv, _meeting, _row
from tests.tools import require

PACK = PACKS.get("placement-stability-meeting")
SU = "SU-EX-7001"


def _last_meeting(shop, actor, case_id: str, **over) -> str:
    """A stability meeting on 1 September 2026, accepted into the case: three actions."""
    data = {**load_sample("placement-stability-meeting"), "su_number": SU, "child_name": "Rowan1 Example",
            "requested_at": "2026-08-31T10:00", "meeting_at": "2026-09-01T10:00", "next_meeting_date": "2026-11-20",
            "minutes_circulated_date": "2026-09-02", "last_meeting_date": None, "last_meeting_decisions": None,
            "overview": "Two moves so far; settled at school.",
            "actions": [{"action": "Book the school meeting", "who": "Worker A", "when": "2026-09-10", "status": "done"},
                        {"action": "Find a weekend activity", "who": "Worker B", "when": "2026-10-01", "status": "new"},
                        {"action": "Refer to the carers' group", "who": "Worker C", "when": "2026-09-20",
                         "status": "not_done"}], **over}
    raw = service.generate_document(REGISTRY.get(PACK.id), data, format="docx")
    sub = records.receive_submission(shop.db, actor, REGISTRY, raw, case_id=case_id)
    assert sub["errors"] == 0, sub["result"]["errors"]
    records.accept_submission(shop.db, actor, REGISTRY, sub["id"], case_id=case_id,
                              resolutions={c["key"]: "form" for c in sub["case_values"] if c["status"] == "conflict"})
    return sub["id"]


def _pack_files(shop, actor, rows) -> zipfile.ZipFile:
    view, numbers = work.plan(shop.db, REGISTRY, PACKS, actor, PACK.id, _csv(rows, PACK))
    for n in numbers:
        work.run_part(shop, view["id"], n)
    assert work.assemble(shop, view["id"])
    return zipfile.ZipFile(job_file(shop.db, view["id"]))


def _read(archive, suffix: str):
    return archive.read(next(n for n in archive.namelist() if n.endswith(suffix)))


def _pdf_text(raw: bytes, tmp_path) -> str:
    require("pdftotext", "poppler-utils")
    path = tmp_path / "cover.pdf"
    path.write_bytes(raw)
    return " ".join(subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True, check=True)
                    .stdout.split())


def test_the_next_stability_meeting_starts_from_the_last(shop, actor, tmp_path):
    case = records.create_case(shop.db, actor, {"su_number": SU, "child_name": "Rowan1 Example"})
    _last_meeting(shop, actor, case["id"])
    records.update_case(shop.db, actor, case["id"], {"legal_status": "Section 20"})  # after the last meeting
    archive = _pack_files(shop, actor, [_row(1, meeting_date="03/12/2026"), _row(2)])

    form = service.extract_document(_read(archive, f"{SU}/01-placement-stability-meeting.docx"), REGISTRY).data
    assert form["last_meeting_date"] == "2026-09-01"
    assert form["overview"] == "Two moves so far; settled at school."
    # not done: carried forward; done: listed, not carried
    assert [(a["action"], a["status"]) for a in form["actions"]] == [
        ("Find a weekend activity", "carried"), ("Refer to the carers' group", "carried")]
    decisions = form["last_meeting_decisions"]
    assert "Book the school meeting – Worker A" in decisions and "(Done)" in decisions
    assert "(Not done; carried forward as Carried forward)" in decisions
    assert form["present"] and form["meeting_at"].startswith("2026-12-03")  # this meeting's own values on top

    cover = _pdf_text(_read(archive, f"{SU}/00-cover-sheet.pdf"), tmp_path)
    for words in ["The last meeting", "Held Tuesday 01 September 2026",
                  "What changed since the last meeting", "Legal status: changed on",
                  "by sam.worker, entered on the case page",
                  "Stability meetings should be no more than three months apart"]:
        assert words in cover, words
    assert "Section 20" not in cover  # who changed what, when: not the values
    xml = zipfile.ZipFile(io.BytesIO(_read(archive, f"{SU}/00-cover-sheet.docx"))).read("word/document.xml").decode()
    assert "What changed since the last meeting" in xml and "Legal status: changed on" in xml

    # a child with no accepted record: the pack says so, and starts from the case alone
    other = _pdf_text(_read(archive, "SU-EX-7002/00-cover-sheet.pdf"), tmp_path)
    assert "No earlier Placement Stability Meeting record has been accepted for this child" in other
    assert "three months apart" not in other
    fresh = service.extract_document(_read(archive, "SU-EX-7002/01-placement-stability-meeting.docx"), REGISTRY).data
    assert fresh["last_meeting_date"] is None and fresh["actions"] == []


def test_a_meeting_within_three_months_has_no_warning(shop, actor):
    case = records.create_case(shop.db, actor, {"su_number": SU, "child_name": "Rowan1 Example"})
    _last_meeting(shop, actor, case["id"])
    archive = _pack_files(shop, actor, [_row(1, meeting_date="20/11/2026")])
    manifest = archive.read(next(n for n in archive.namelist() if n.endswith("manifest.json"))).decode()
    assert "three months apart" not in manifest


def _history(ramp_completed: str) -> dict:
    data = {**load_sample("ramp"), "date_completed": ramp_completed}
    return {"records": {"ramp": {"data": data, "accepted_at": "2026-10-02T09:00:00+00:00",
                                 "document_id": "0b7e1c2a-8d5f-4e3b-9a61-2f4c6d8e0a11", "submission_id": "s1"}},
            "changes": []}


def test_support_reviews_are_monthly_for_six_months_after_the_move():
    pack = PACKS.get("support-review-meeting")

    def warnings(meeting_date: str, last: str) -> list[str]:
        meeting = _meeting(pack, moved_on="01/09/2026", meeting_date=meeting_date)
        built = build_pack(pack, REGISTRY, meeting, history=_history(last), formats=("docx",))
        return [w for w in built.warnings if "at least monthly" in w]

    assert warnings("16/11/2026", "2026-10-01")  # more than a month since the last review, within six months
    assert not warnings("25/10/2026", "2026-10-01")  # within the month
    assert not warnings("15/04/2027", "2027-02-01")  # beyond the six months: no longer monthly


def test_the_anxiety_plan_is_reviewed_from_the_last_one():
    pack = PACKS.get("support-review-meeting")
    built = build_pack(pack, REGISTRY, _meeting(pack, moved_on="01/09/2026", meeting_date="20/10/2026"),
                       history=_history("2026-10-01"), formats=("docx",))
    ramp = next(f for f in built.files if f.form == "ramp")
    data = service.extract_document(ramp.data, REGISTRY).data
    spec = REGISTRY.get("ramp")
    last = complete(spec, load_sample("ramp"))
    own = [f.key for f in spec.fields if f.case is None]  # the case's values go on top of the rest
    assert len(own) >= 8 and {k: data[k] for k in own} == {k: {**last, "date_completed": "2026-10-01"}[k] for k in own}


def test_the_command_line_batch_starts_from_the_last_meeting_too(tmp_path, monkeypatch):
    """``pack --cases-of-team``, built in a worker process: the last meeting crosses to it."""
    from types import SimpleNamespace

    from service.cli import main
    from service.settings import Settings
    from service.store import Database

    url = f"sqlite:///{tmp_path}/cases.sqlite3"
    monkeypatch.setenv("DATABASE_URL", url)
    db = Database(Settings(database_url=url))
    db.migrate()
    actor = records.create_user(db, "sam.worker", "a long test password", role="practitioner", team="Case Team")
    case = records.create_case(db, actor, {"su_number": SU, "child_name": "Rowan1 Example"})
    _last_meeting(SimpleNamespace(db=db), actor, case["id"])
    inp, out = tmp_path / "m.csv", tmp_path / "o.zip"
    inp.write_bytes(_csv([_row(1)], PACK))
    assert main(["pack", PACK.id, "--input", str(inp), "--out", str(out), "--workers", "1", "--quiet",
                 "--cases-of-team", "Case Team"]) == 0
    form = service.extract_document(_read(zipfile.ZipFile(out), "01-placement-stability-meeting.docx"), REGISTRY).data
    assert form["last_meeting_date"] == "2026-09-01" and len(form["actions"]) == 2
    db.dispose()


def test_an_introductions_review_starts_from_the_plan_as_last_accepted():
    pack = PACKS.get("getting-to-know-you-meeting")
    last = load_sample("getting-to-know-you-plan")
    history = {"records": {"getting-to-know-you-plan": {"data": last, "accepted_at": "2026-11-20T09:00:00+00:00",
                                                         "document_id": None, "submission_id": "s2"}},
               "changes": []}
    built = build_pack(pack, REGISTRY, _meeting(pack, match_agreed="25/11/2026"), history=history, formats=("docx",))
    plan = service.extract_document(next(f.data for f in built.files if f.form == "getting-to-know-you-plan"),
                                    REGISTRY).data
    assert plan["steps"] == complete(REGISTRY.get("getting-to-know-you-plan"), last)["steps"] and plan["steps"]
    assert plan["meeting_date"] == "2026-12-02"  # this meeting's date, from the row, on top of the last
    cover = next(f.data for f in built.files if f.name == "00-cover-sheet.docx")
    assert "The last meeting" in zipfile.ZipFile(io.BytesIO(cover)).read("word/document.xml").decode()

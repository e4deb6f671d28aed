"""A form changes while its documents are out: an upload stored under the old version is shown,
accepted and listed in the register in the new one, by the same declared migration; a case
accepts data from any version."""

from __future__ import annotations

from io import BytesIO

from openpyxl import load_workbook

import service
from service import records
from service.spec.registry import Registry
from tests.conftest import REGISTRY, load_sample
from tests.spec.versioned import EXPECTED, FILLED, V1, V2, make_folder


def test_an_upload_stored_before_a_new_version_is_read_in_the_new_one(db, tmp_path):
    folder = make_folder(tmp_path, V1)
    before = Registry(folder)
    manager = records.create_user(db, "mo.manager", "a long test password", role="manager", team="North Team")
    records.create_case(db, manager, {"su_number": "SU-EX-77", "child_name": "Old Name"})
    raw = service.generate_document(before.get("demo"), FILLED, format="docx")
    uploaded = records.receive_submission(db, manager, before, raw)
    assert uploaded["spec_version"] == "1.0.0" and uploaded["result"]["migration"] is None

    (folder / "demo" / "2.0.0.yaml").write_text(V2)  # version 2.0.0 published while the upload waits
    after = Registry(folder)
    view = records.get_submission(db, manager, after, uploaded["id"])
    assert view["result"]["spec_version"] == "2.0.0" and view["result"]["data"] == EXPECTED
    assert view["result"]["migration"]["dropped"] == {"1.0.0:old_question": "An answer with no place",
                                                      "1.0.0:chair_role": "iro"}
    assert "dropped_in_new_version" in {w["code"] for w in view["result"]["warnings"]}

    accepted = records.accept_submission(db, manager, after, uploaded["id"],
                                         resolutions={"child_name": "form"})
    assert "child_name" in accepted["changed"]
    book = load_workbook(BytesIO(records.register_xlsx(db, manager, after, "demo")))
    sheet = book.active
    headers = [c.value for c in sheet[1]]
    row = dict(zip(headers, [c.value for c in sheet[2]]))
    assert "Minutes sent on" in headers and "Minutes sent" not in headers  # the current version's columns
    assert row["Spec version"] == "1.0.0"  # the version it was accepted in
    assert row["Minutes sent on"] is not None and row["What is good"] == "Likes the garden"


def test_an_old_stability_meeting_document_is_stored_in_the_current_version(db):
    worker = records.create_user(db, "sam.worker", "a long test password", role="practitioner", team="North Team")
    old = REGISTRY.version("placement-stability-meeting", "1.0.0")
    data = {k: v for k, v in load_sample("placement-stability-meeting").items() if old.field_at(k)}
    data["actions"] = [{k: v for k, v in r.items() if k != "status"} for r in data["actions"]]
    uploaded = records.receive_submission(db, worker, REGISTRY, service.generate_document(old, data, format="pdf"))
    current = REGISTRY.get("placement-stability-meeting").version
    assert (uploaded["spec_version"], uploaded["document_version"]) == (current, "1.0.0")
    stored = records.get_submission(db, worker, REGISTRY, uploaded["id"])["result"]
    assert stored["migration"]["from"] == "1.0.0" and stored["data"]["actions"][0]["status"] is None

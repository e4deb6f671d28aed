"""A user of one team cannot read, change, prefill from, upload into, accept into or export
another team's case; each refusal is logged, and it looks the same as a record that does not
exist."""

from __future__ import annotations

from sqlalchemy import select

import service
from service.store.models import AuditEntry
from tests.conftest import REGISTRY, load_sample
from tests.web.test_api import CASE, _case, _error, _upload


def test_another_teams_case_is_invisible(world):
    case = _case(world, "worker")
    cid = case["id"]
    assert world.get("south", "/api/cases").json() == []
    _error(world.get("south", f"/api/cases/{cid}"), 404, "not_found")
    _error(world.get("south", f"/api/cases/{cid}/history"), 404, "not_found")
    _error(world.client.patch(f"/api/cases/{cid}", json={"values": {"child_name": "X"}}, headers=world.auth("south")),
           404, "not_found")
    _error(world.post("south", "/api/documents", json={"form": "ramp", "case_id": cid}), 404, "not_found")
    raw = service.generate_document(REGISTRY.get("ramp"), {**load_sample("ramp"), "su_number": CASE["su_number"]})
    _error(_upload(world, "south", raw, case_id=cid), 404, "not_found")
    assert world.get("worker", f"/api/cases/{cid}").json()["values"] == CASE  # unchanged

    with world.db.session() as s:
        denied = s.scalars(select(AuditEntry).where(AuditEntry.outcome == "denied")).all()
    assert {(e.username, e.action) for e in denied} >= {("ola.south", "case.read"), ("ola.south", "case.history"),
                                                         ("ola.south", "case.update"), ("ola.south", "case.prefill"),
                                                         ("ola.south", "submission.upload")}
    assert all(e.target == f"case:{cid}" for e in denied)


def test_an_upload_never_links_to_another_teams_case_by_its_su_number(world):
    _case(world, "worker")
    raw = service.generate_document(REGISTRY.get("ramp"), {**load_sample("ramp"), "su_number": CASE["su_number"]})
    sub = _upload(world, "south", raw).json()
    assert sub["case_id"] is None and all(row["case_value"] is None for row in sub["case_values"])
    # accepting makes the South team its own case; the North case is untouched
    r = world.post("south", f"/api/submissions/{sub['id']}/accept", json={"create_case": True})
    assert r.status_code == 200
    assert [c["su_number"] for c in world.get("south", "/api/cases").json()] == [CASE["su_number"]]
    assert world.get("worker", "/api/cases").json()[0]["values"] == CASE


def test_another_teams_submissions_are_invisible(world):
    raw = service.generate_document(REGISTRY.get("ramp"), load_sample("ramp"))
    sub = _upload(world, "worker", raw).json()
    assert world.get("south", "/api/submissions").json() == []
    _error(world.get("south", f"/api/submissions/{sub['id']}"), 404, "not_found")
    _error(world.post("south", f"/api/submissions/{sub['id']}/accept", json={"create_case": True}), 404, "not_found")
    _case(world, "south", {"su_number": "SU-EX-9", "child_name": "South Child"})
    south_case = world.get("south", "/api/cases").json()[0]["id"]
    _error(world.post("worker", f"/api/submissions/{sub['id']}/accept", json={"case_id": south_case}), 404, "not_found")
    assert world.get("worker", f"/api/submissions/{sub['id']}").json()["status"] == "received"


def test_the_register_holds_only_the_teams_own_submissions(world):
    raw = service.generate_document(REGISTRY.get("ramp"), load_sample("ramp"))
    sub = _upload(world, "south", raw).json()
    world.post("south", f"/api/submissions/{sub['id']}/accept", json={"create_case": True})
    from io import BytesIO

    from openpyxl import load_workbook

    ws = load_workbook(BytesIO(world.get("manager", "/api/forms/ramp/register.xlsx").content)).active
    assert ws.max_row == 1  # headers only: the South submission is not North's


def test_refused_accepts_and_exports_are_audited(world):
    raw = service.generate_document(REGISTRY.get("ramp"), load_sample("ramp"))
    sub = _upload(world, "worker", raw).json()
    _error(world.post("worker", f"/api/submissions/{sub['id']}/accept", json={}), 409, "no_case")
    _error(world.get("worker", "/api/forms/ramp/register.xlsx"), 403, "forbidden")
    with world.db.session() as s:
        refused = {(e.action, e.outcome, e.detail) for e in s.scalars(select(AuditEntry).where(
            AuditEntry.username == "sam.worker", AuditEntry.outcome != "ok"))}
    assert ("submission.accept", "refused", "no_case") in refused
    assert ("export.register", "denied", "form ramp") in refused

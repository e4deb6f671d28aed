"""Application logs never contain field values: a whole journey through the API and the pages,
with every logger at DEBUG, leaves no trace of the distinctive values it handled."""

from __future__ import annotations

import logging

import service
from tests.conftest import REGISTRY, load_sample

CANARY_NAME, CANARY_SU = "Zebedee Canaryvalue", "SU-EX-CANARY-77"


def test_no_field_value_reaches_a_log(world, caplog):
    caplog.set_level(logging.DEBUG)
    r = world.post("worker", "/api/cases", json={"values": {"su_number": CANARY_SU, "child_name": CANARY_NAME}})
    case_id = r.json()["id"]
    world.post("worker", "/api/documents", json={"form": "ramp", "case_id": case_id, "format": "pdf"})
    raw = service.generate_document(REGISTRY.get("ramp"), {**load_sample("ramp"), "su_number": CANARY_SU,
                                                            "child_name": CANARY_NAME})
    sub = world.post("worker", "/api/submissions", files={"file": ("f.docx", raw)}).json()
    world.post("worker", f"/api/submissions/{sub['id']}/accept", json={"resolutions": {"social_worker_name": "form"}})
    world.get("manager", "/api/forms/ramp/register.xlsx")
    world.post("worker", "/api/documents", json={"form": "ramp", "data": {"child_name": 5}})  # an error path too
    text = "\n".join(r.getMessage() + " " + str(r.args) for r in caplog.records)
    assert caplog.records, "logging was live during the journey"
    assert CANARY_NAME not in text and CANARY_SU not in text

"""Application logs never contain field values: a whole journey through the API and the pages,
with every logger at DEBUG, leaves no trace of the distinctive values it handled."""

from __future__ import annotations

import logging

import pytest

import service
from tests.conftest import REGISTRY, load_sample

CANARY_NAME, CANARY_SU = "Zebedee Canaryvalue", "SU-EX-CANARY-77"


@pytest.fixture
def every_logger_at_debug(caplog):
    """Every logger that exists (the service's, SQLAlchemy's, uvicorn's, httpx's...) at DEBUG and
    passing its records up to pytest's handler, for the length of the test."""
    caplog.set_level(logging.DEBUG)
    saved = {}
    for name, logger in list(logging.root.manager.loggerDict.items()):
        if isinstance(logger, logging.Logger):
            saved[name] = (logger.level, logger.propagate, logger.disabled)
            logger.setLevel(logging.DEBUG)
            logger.propagate, logger.disabled = True, False
    yield
    for name, (level, propagate, disabled) in saved.items():
        logger = logging.getLogger(name)
        logger.setLevel(level)
        logger.propagate, logger.disabled = propagate, disabled


def test_no_field_value_reaches_a_log(world, caplog, every_logger_at_debug):
    assert logging.getLogger("sqlalchemy.engine").isEnabledFor(logging.DEBUG)
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
    assert {r.name.split(".")[0] for r in caplog.records} >= {"sqlalchemy"}, "the database's own logging was on"
    assert CANARY_NAME not in text and CANARY_SU not in text

"""A step-by-step workshop (the batch work of service/jobs/work.py, no engine) on a migrated
database, and a practitioner of North Team, for the batch tests."""

from __future__ import annotations

import pytest

from service import records
from service.jobs import work
from service.jobs.work import Workshop
from service.settings import Settings
from service.store import Database
from service.store.seal import new_key
from tests.conftest import REGISTRY
from tests.packs.test_packs import PACKS


@pytest.fixture
def shop(database_url, tmp_path, monkeypatch):
    monkeypatch.setattr(work, "PARTS_PER_BATCH", 2)  # so these small batches have parts of two
    db = Database(Settings(database_url=database_url, data_dir=str(tmp_path), part_size=2, part_timeout=30,
                           part_attempts=2, data_key=new_key()))
    db.migrate()
    yield Workshop(db, REGISTRY, PACKS, worker="here:1")
    db.dispose()


@pytest.fixture
def actor(shop):
    return records.create_user(shop.db, "sam.worker", "a long test password", role="practitioner", team="North Team")

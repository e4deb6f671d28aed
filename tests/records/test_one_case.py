"""One child, one case: SU numbers compared without case or spaces (a second case refused, naming
the first; a change that would clash refused; an upload, an acceptance and a batch find the case
however the SU number is written), search without accents and by date of birth, and the
migration that brought the rule to cases already stored."""

from __future__ import annotations

import pytest
from sqlalchemy import select, text

from service import records
from service.errors import Conflict
from service.settings import Settings
from service.store import Database
from service.store.models import Case


@pytest.fixture
def sam(db):
    return records.create_user(db, "sam.worker", "a long test password", role="practitioner", team="North Team")


def test_a_second_case_for_the_same_su_number_is_refused_naming_the_first(db, sam):
    first = records.create_case(db, sam, {"su_number": "SU 12 ab", "child_name": "Ŵyn Example"})
    for spelling in ("SU12AB", "su 12 AB", " s u12ab "):
        with pytest.raises(Conflict) as refused:
            records.create_case(db, sam, {"su_number": spelling})
        assert refused.value.code == "case_exists" and refused.value.details == {"case_id": first["id"]}
        assert refused.value.field == "su_number"
    south = records.create_user(db, "ola.south", "a long test password", role="practitioner", team="South Team")
    assert records.create_case(db, south, {"su_number": "SU12AB"})["id"] != first["id"]  # another team's child


def test_changing_an_su_number_to_anothers_is_refused_and_changes_nothing(db, sam):
    first = records.create_case(db, sam, {"su_number": "SU-EX-1"})
    second = records.create_case(db, sam, {"su_number": "SU-EX-2", "child_name": "Ari Example"})
    with pytest.raises(Conflict) as refused:
        records.update_case(db, sam, second["id"], {"su_number": "su-ex-1", "child_name": "Changed Too"})
    assert refused.value.details == {"case_id": first["id"]}
    kept = records.get_case(db, sam, second["id"])
    assert kept["su_number"] == "SU-EX-2" and kept["values"]["child_name"] == "Ari Example"
    assert records.update_case(db, sam, second["id"], {"su_number": "su-ex-2 "})["su_number"] == "su-ex-2"  # its own


def test_search_ignores_accents_and_finds_a_date_of_birth(db, sam):
    records.create_case(db, sam, {"su_number": "SU 12 AB", "child_name": "Ŵyn Example", "date_of_birth": "2015-02-01"})
    records.create_case(db, sam, {"su_number": "SU-EX-9", "child_name": "Zoë Sample", "date_of_birth": "2014-07-30"})

    def found(q):
        return [c["su_number"] for c in records.list_cases(db, sam, search=q)]

    assert found("wyn") == ["SU 12 AB"] and found("ZOE") == ["SU-EX-9"] and found("zoë sam") == ["SU-EX-9"]
    assert found("01/02/2015") == ["SU 12 AB"] and found("30.07.2014") == ["SU-EX-9"]
    assert found("su12") == ["SU 12 AB"] and found("02/02/2015") == [] and found("nobody") == []


def test_an_upload_finds_the_case_however_its_su_number_is_written(db, sam):
    from tests.conftest import REGISTRY, load_sample

    import service

    case = records.create_case(db, sam, {"su_number": "SU-EX-7 A", "child_name": "Elis Example"})
    data = {**load_sample("ramp"), "su_number": "su-ex-7a", "child_name": "Elis Example"}
    raw = service.generate_document(REGISTRY.get("ramp"), data)
    sub = records.receive_submission(db, sam, REGISTRY, raw)
    assert sub["case_id"] == case["id"]
    accepted = records.accept_submission(db, sam, REGISTRY, sub["id"], resolutions={"su_number": "case"})
    assert accepted["case_id"] == case["id"]
    with db.session() as s:
        assert len(s.scalars(select(Case)).all()) == 1  # no second case for the same child


def test_the_migration_keeps_cases_that_already_clash(database_url, tmp_path):
    """A database from before the rule, holding two cases whose SU numbers differ only by case:
    both survive, the older keeps the plain key."""
    from alembic import command
    from alembic.config import Config

    from service.store.db import MIGRATIONS

    db = Database(Settings(database_url=database_url, data_dir=str(tmp_path)))
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with db.engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "0007")
    with db.engine.begin() as connection:
        connection.execute(text("INSERT INTO teams (id, name) VALUES (1, 'North Team')"))
        for i, (su, at) in enumerate([("SU-EX-5", "2026-01-01 10:00:00"), ("su-ex-5", "2026-02-01 10:00:00")]):
            connection.execute(text("INSERT INTO cases (id, team_id, su_number, \"values\", created_at, updated_at) "
                                    "VALUES (:id, 1, :su, '{}', :at, :at)"), {"id": f"case-{i}", "su": su, "at": at})
    db.migrate()
    with db.engine.connect() as connection:
        keys = dict(connection.execute(text("SELECT id, su_key FROM cases ORDER BY id")).all())
    assert keys["case-0"] == "su-ex-5" and keys["case-1"].startswith("su-ex-5~dup~")
    db.dispose()

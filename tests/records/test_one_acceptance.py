"""One document, one acceptance: the same file, or the same document with the same answers,
accepted once; a newer revision (same document id, other answers, uploaded later) accepted and
said to revise the first; an older revision refused once a newer one is in; two people
accepting the same document at once: one succeeds. Other teams' uploads are not counted."""

from __future__ import annotations

import threading
from datetime import datetime, timezone

import pytest

import service
from service import records
from service.errors import Conflict
from tests.conftest import REGISTRY, load_sample

SPEC = REGISTRY.get("ramp")
DOC_ID = "0b7e1c2a-8d5f-4e3b-9a61-2f4c6d8e0a11"


@pytest.fixture
def sam(db):
    actor = records.create_user(db, "sam.worker", "a long test password", role="practitioner", team="North Team")
    records.create_case(db, actor, {"su_number": "SU-EX-50", "child_name": "Elis Example"})
    return actor


def _document(minute: int = 0, **changes) -> bytes:
    data = {**load_sample("ramp"), "su_number": "SU-EX-50", "child_name": "Elis Example", **changes}
    return service.generate_document(SPEC, data, document_id=DOC_ID,
                                     generated=datetime(2026, 12, 1, 9, minute, tzinfo=timezone.utc))


def _upload(db, actor, raw):
    return records.receive_submission(db, actor, REGISTRY, raw)["id"]


def _accept(db, actor, sub_id):
    """Accept, taking the form's value wherever it differs from the case."""
    keys = [r["key"] for r in _view(db, actor, sub_id)["case_values"] if r["status"] == "conflict"]
    return records.accept_submission(db, actor, REGISTRY, sub_id, resolutions=dict.fromkeys(keys, "form"))


def _view(db, actor, sub_id):
    return records.get_submission(db, actor, REGISTRY, sub_id)


def test_the_same_file_is_accepted_once_and_its_second_upload_says_so(db, sam):
    raw = _document()
    first, second = _upload(db, sam, raw), _upload(db, sam, raw)
    view = _view(db, sam, second)
    assert [(u["id"], u["same_file"], u["before"]) for u in view["uploads"]] == [(first, True, True)]
    assert view["acceptance"]["code"] == "first"  # nothing accepted yet
    _accept(db, sam, first)
    view = _view(db, sam, second)
    assert view["acceptance"]["code"] == "already_accepted" and view["acceptance"]["revises"] == first
    with pytest.raises(Conflict) as refused:
        _accept(db, sam, second)
    assert refused.value.code == "already_accepted" and refused.value.details == {"submission_id": first}
    assert _view(db, sam, second)["status"] == "received"


def test_another_save_with_the_same_answers_is_not_accepted_again(db, sam):
    first, again = _upload(db, sam, _document(0)), _upload(db, sam, _document(5))  # other bytes, same answers
    assert _view(db, sam, again)["uploads"][0]["same_file"] is False
    _accept(db, sam, first)
    with pytest.raises(Conflict, match="same answers"):
        _accept(db, sam, again)


def test_a_newer_revision_is_accepted_and_said_to_revise_the_first(db, sam):
    first = _upload(db, sam, _document(0))
    _accept(db, sam, first)
    newer = _upload(db, sam, _document(30, completed_by="Alex Newworker"))
    view = _view(db, sam, newer)
    assert view["acceptance"] == {"code": "revision", "revises": first, "message": view["acceptance"]["message"]}
    assert "newer revision" in view["acceptance"]["message"]
    accepted = _accept(db, sam, newer)
    assert accepted["revises"] == first and accepted["status"] == "accepted"


def test_an_older_revision_is_refused_once_a_newer_one_is_in(db, sam):
    older = _upload(db, sam, _document(0))
    newer = _upload(db, sam, _document(30, completed_by="Alex Newworker"))
    _accept(db, sam, newer)
    assert _view(db, sam, older)["acceptance"]["code"] == "older_revision"
    with pytest.raises(Conflict) as refused:
        _accept(db, sam, older)
    assert refused.value.code == "older_revision" and refused.value.details == {"submission_id": newer}


def test_another_teams_upload_of_the_same_file_is_not_counted(db, sam):
    south = records.create_user(db, "ola.south", "a long test password", role="practitioner", team="South Team")
    records.create_case(db, south, {"su_number": "SU-EX-50"})
    raw = _document()
    theirs = _upload(db, south, raw)
    _accept(db, south, theirs)
    ours = _upload(db, sam, raw)
    assert _view(db, sam, ours)["uploads"] == []
    assert _accept(db, sam, ours)["status"] == "accepted"


def test_two_people_accepting_the_same_document_at_once_one_succeeds(db, sam):
    raw = _document()
    ids = [_upload(db, sam, raw) for _ in range(2)]
    start, outcomes = threading.Barrier(2), []

    def accept(sub_id):
        start.wait()
        try:
            _accept(db, sam, sub_id)
            outcomes.append("accepted")
        except Conflict as exc:
            outcomes.append(exc.code)

    threads = [threading.Thread(target=accept, args=(i,)) for i in ids]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(outcomes) == ["accepted", "already_accepted"]

"""Each policy rule fires just past its boundary and not at or before it."""

from __future__ import annotations

import copy

import pytest

import service
from tests.conftest import REGISTRY, load_sample


def warnings_for(form_id: str, changes: dict, partial: bool = False, base: dict | None = None) -> dict[str, list]:
    data = copy.deepcopy(load_sample(form_id) if base is None else base)
    for path, value in changes.items():
        node = data
        *parents, last = path.split(".")
        for p in parents:
            node = node.setdefault(p, {})
        node[last] = value
    report = service.validate(REGISTRY.get(form_id), data, partial=partial)
    assert report.errors == [], [e.to_dict() for e in report.errors]
    out: dict[str, list] = {}
    for w in report.warnings:
        out.setdefault(w.rule, []).append(w)
    return out


STABILITY = "placement-stability-meeting"


@pytest.mark.parametrize(("meeting_at", "fires"), [
    ("2026-03-11T15:20", False),   # 47 hours
    ("2026-03-11T16:20", False),   # exactly 48 hours
    ("2026-03-11T16:21", True),    # 48 hours 1 minute
    ("2026-03-11T17:20", True),    # 49 hours
])
def test_stability_meeting_within_48_hours(meeting_at, fires):
    found = warnings_for(STABILITY, {"requested_at": "2026-03-09T16:20", "meeting_at": meeting_at,
                                     "minutes_circulated_date": meeting_at[:10]})
    assert ("meeting-within-48-hours" in found) is fires
    if fires:
        w = found["meeting-within-48-hours"][0]
        assert w.path == "meeting_at" and w.severity == "warning"
        assert "more than 48 hours" in w.message and "within 48 hours" in w.message


def test_stability_meeting_before_request_is_flagged():
    found = warnings_for(STABILITY, {"requested_at": "2026-03-12T09:00", "meeting_at": "2026-03-11T10:00"})
    assert found["meeting-within-48-hours"][0].code == "interval_negative"


@pytest.mark.parametrize(("meeting", "next_meeting", "fires"), [
    ("2026-03-11T10:00", "2026-06-11", False),   # exactly three months
    ("2026-03-11T10:00", "2026-06-12", True),
    ("2026-01-31T10:00", "2026-04-30", False),   # month-end: 31 Jan + 3 months = 30 Apr
    ("2026-01-31T10:00", "2026-05-01", True),
])
def test_next_stability_meeting_within_3_months(meeting, next_meeting, fires):
    found = warnings_for(STABILITY, {"requested_at": meeting, "meeting_at": meeting,
                                     "minutes_circulated_date": meeting[:10], "next_meeting_date": next_meeting})
    assert ("next-meeting-within-3-months" in found) is fires


@pytest.mark.parametrize(("meeting", "circulated", "fires"), [
    ("2026-03-11T10:00", "2026-03-16", False),   # Wed -> Mon: Thu, Fri, Mon = 3 working days
    ("2026-03-11T10:00", "2026-03-17", True),    # 4 working days
    ("2026-03-13T10:00", "2026-03-18", False),   # Fri -> Wed over a weekend
    ("2026-03-13T10:00", "2026-03-19", True),
    ("2026-12-23T10:00", "2026-12-30", False),   # Thu 24, Tue 29, Wed 30: Christmas and the substitute
    ("2026-12-23T10:00", "2026-12-31", True),    # Boxing Day (Mon 28) are not working days
    ("2026-12-29T10:00", "2027-01-04", False),   # Wed 30, Thu 31, Mon 4: New Year's Day doesn't count
    ("2026-12-29T10:00", "2027-01-05", True),
])
def test_minutes_within_3_working_days(meeting, circulated, fires):
    found = warnings_for(STABILITY, {"requested_at": meeting, "meeting_at": meeting,
                                     "minutes_circulated_date": circulated, "next_meeting_date": meeting[:10]})
    assert ("minutes-within-3-working-days" in found) is fires


PREP = "preparation-plan"


@pytest.mark.parametrize(("meeting_date", "fires"), [("2026-01-19", False), ("2026-02-02", False), ("2026-02-03", True)])
def test_preparation_meeting_within_14_days(meeting_date, fires):
    found = warnings_for(PREP, {"suitability_confirmed_date": "2026-01-19", "meeting_date": meeting_date})
    assert ("meeting-within-14-days" in found) is fires


@pytest.mark.parametrize(("score", "expected"), [
    (0, set()), (13, set()),
    (14, {"sdq-consider-with-discussion"}), (16, {"sdq-consider-with-discussion"}),
    (17, {"sdq-high"}), (40, {"sdq-high"}),
])
def test_sdq_bands(score, expected):
    found = warnings_for(PREP, {"sdq_score": score})
    assert {"sdq-consider-with-discussion", "sdq-high"} & set(found) == expected


@pytest.mark.parametrize(("level", "fires"), [("2.1", False), ("2.2", False), ("2.3", True), ("2.4", True)])
def test_needs_assessment_levels(level, fires):
    found = warnings_for(PREP, {"needs_assessment_level": level, "sdq_score": 10})
    assert ("needs-level-discussion" in found) is fires


def test_discussion_expected_when_level_or_score_needs_it():
    assert "discussion-recorded" not in warnings_for(PREP, {"sdq_score": 10, "suitability_discussion": None})
    found = warnings_for(PREP, {"sdq_score": 10, "needs_assessment_level": "2.4", "suitability_discussion": None})
    assert found["discussion-recorded"][0].path == "suitability_discussion"
    found = warnings_for(PREP, {"sdq_score": 18, "needs_assessment_level": "2.1", "suitability_discussion": ""})
    assert "discussion-recorded" in found


def test_row_rule_points_at_the_row():
    data = copy.deepcopy(load_sample(PREP))
    data["actions"][2]["status"] = "done"
    data["actions"][2]["due_date"] = None
    found = warnings_for(PREP, {}, base=data)
    assert [w.path for w in found["done-action-dated"]] == ["actions[2].due_date"]


GTKY = "getting-to-know-you-plan"


@pytest.mark.parametrize(("meeting_date", "fires"), [("2026-05-18", False), ("2026-05-19", True)])
def test_getting_to_know_you_meeting_within_14_days(meeting_date, fires):
    found = warnings_for(GTKY, {"match_agreed_date": "2026-05-04", "meeting_date": meeting_date})
    assert ("meeting-within-2-weeks" in found) is fires


@pytest.mark.parametrize(("move_date", "fires", "code"), [
    ("2026-06-28", True, "interval_too_short"),   # 6 weeks less a day
    ("2026-06-29", False, None),                  # exactly 6 weeks
    ("2026-07-13", False, None),                  # exactly 8 weeks
    ("2026-07-14", True, "interval_too_long"),    # 8 weeks and a day
])
def test_introductions_6_to_8_weeks(move_date, fires, code):
    found = warnings_for(GTKY, {"introductions_start": "2026-05-18", "move_date": move_date,
                                "review_final_week": move_date})
    assert ("introductions-6-to-8-weeks" in found) is fires
    if fires:
        assert found["introductions-6-to-8-weeks"][0].code == code


@pytest.mark.parametrize(("review", "fires"), [("2026-06-07", True), ("2026-06-08", False), ("2026-06-15", False), ("2026-06-16", True)])
def test_mid_point_review_in_week_4(review, fires):
    found = warnings_for(GTKY, {"introductions_start": "2026-05-18", "review_mid_point": review})
    assert ("mid-review-in-week-4" in found) is fires


UNPLANNED = "unplanned-ending-meeting"


@pytest.mark.parametrize(("ending", "meeting", "fires"), [
    ("2026-02-06", "2026-03-05", True),    # a day short of one month
    ("2026-02-06", "2026-03-06", False),   # one month
    ("2026-02-06", "2026-03-20", False),   # six weeks
    ("2026-02-06", "2026-03-21", True),    # six weeks and a day
])
def test_unplanned_ending_meeting_window(ending, meeting, fires):
    found = warnings_for(UNPLANNED, {"ending_date": ending, "meeting_date": meeting})
    assert ("meeting-one-month-to-six-weeks" in found) is fires


@pytest.mark.parametrize(("signed", "fires"), [("2022-12-05", False), ("2022-12-06", True)])
def test_susd_closing_date(signed, fires):
    found = warnings_for("susd-expression-of-interest", {"signed_date": signed})
    assert ("closing-date" in found) is fires


def test_susd_chair_and_commitment_rules():
    found = warnings_for("susd-expression-of-interest", {"steering_chair_role": "fostering_lead",
                                                          "commitment_safeguarding": False})
    assert "chair-recommendation" in found and "all-teams-committed" in found


def test_key_criteria_yes_answer_wants_details():
    found = warnings_for("key-criteria", {"safety.fire_setting.answer": "yes_past", "safety.fire_setting.details": None})
    assert [w.path for w in found["details-fire-setting"]] == ["safety.fire_setting.details"]
    assert "details-fire-setting" not in warnings_for("key-criteria", {"safety.fire_setting.answer": "no"})


def test_rules_skip_fields_that_have_errors():
    data = copy.deepcopy(load_sample(STABILITY))
    data["meeting_at"] = "not a date"
    report = service.validate(REGISTRY.get(STABILITY), data)
    assert [e.path for e in report.errors] == ["meeting_at"]
    assert not [w for w in report.warnings if w.rule and "meeting" in w.rule]


def test_partial_mode_treats_absent_check_boxes_as_unanswered():
    spec = REGISTRY.get("susd-expression-of-interest")
    assert not service.validate(spec, {"local_authority": "powys"}, partial=True).warnings
    full = service.validate(spec, {"local_authority": "powys"})
    assert "all-teams-committed" in {w.rule for w in full.warnings}

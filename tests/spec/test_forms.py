"""The specs reproduce the seed forms: every section, question, characteristic, anxiety level
and agenda item, in the seed's order (the lists below are transcribed from ../shared/seeds)."""

from __future__ import annotations

import pytest

from tests.conftest import REGISTRY


def labels(fields):
    return [f.label for f in fields]


def field(spec, path):
    ref = spec.field_at(path)
    assert ref is not None, path
    return ref.field


def test_key_criteria_child_details():
    spec = REGISTRY.get("key-criteria")
    assert spec.organisation == "Lancashire County Council"
    assert labels(spec.sections[0].fields) == [
        "Child Name", "Age", "SU Number", "Legal Status", "Ethnicity", "Primary Language",
        "Religion", "Cultural Requirements", "Preferred area/location",
    ]


def test_key_criteria_five_ranked_criteria_with_drop_down_and_comment():
    rows = field(REGISTRY.get("key-criteria"), "matching_criteria")
    assert (rows.type, rows.max_rows, rows.blank_rows, rows.numbered) == ("repeat", 5, 5, True)
    criterion, comment = rows.fields
    assert criterion.type == "choice" and criterion.placeholder == "Choose an item."
    assert criterion.label == "Key Matching Criteria – Please select drop down option"
    assert len(criterion.choices) >= 10 and criterion.choices[-1].value == "other"
    assert comment.label == "Please include comments to provide context to this"


def test_key_criteria_characteristics_in_order():
    group = field(REGISTRY.get("key-criteria"), "characteristics")
    assert labels(group.fields) == [
        "Caring", "Independent", "Friendly / Socially confident", "Emotional", "Resilience",
        "Empathic", "Adaptable", "Curious", "Respectful", "Creative", "Confident", "Sporty", "Other",
    ]
    assert group.headers == ["Characteristic", "Comments / Context"]


def test_key_criteria_seven_safety_questions():
    group = field(REGISTRY.get("key-criteria"), "safety")
    assert labels(group.fields) == [
        "Does the child have any additional health or development needs i.e. ASD, ADHD",
        "Does the child or young person go missing from home?",
        "Does the child or young person have any criminal convictions, tags, curfew, or bail conditions?",
        "Does the child or young person harm others, threaten to harm others, or make statements to scare? "
        "Consider risks towards pets also",
        "Has the child or young person set fires?",
        "Is the child or young person vulnerable to exploitation? Consider sexual exploitation and criminal exploitation",
        "Does the child harm themselves, or have a history of self-harm or mental health difficulties?",
    ]
    for q in group.fields:
        answer, details = q.fields
        assert answer.type == "choice" and answer.placeholder == "Choose an item."
        assert details.label == "Details"


def test_ramp_psychology_and_anxiety_states():
    spec = REGISTRY.get("ramp")
    psych = next(s for s in spec.sections if s.heading == "Psychology and Presentation")
    assert labels(psych.fields) == [
        "Attachment Disorder", "Rejection Anxiety", "Coping Strategies",
        "Developmental Delay – Emotional Intelligence", "Nonsense Babble",
        "Fight or Flight Response: Freeze/Collapse",
    ]
    assert all(f.type == "longtext" and f.help for f in psych.fields)
    states = field(spec, "anxiety_states")
    assert labels(states.fields) == [
        "Calm", "Low level anxiety", "Moderate anxiety", "High anxiety", "Extreme Anxiety / Dysregulation",
    ]
    calm, *others = states.fields
    assert labels(calm.fields)[1:] == ["Caused by", "Techniques to Maintain"]
    for level in others:
        assert labels(level.fields)[1:] == ["Triggers", "Techniques to Rectify"]
        assert [f.type for f in level.fields] == ["longtext", "list", "list"]


@pytest.mark.parametrize("version", ["1.0.0", "1.1.0"])
def test_stability_meeting_template(version):
    spec = REGISTRY.version("placement-stability-meeting", version)
    assert spec.organisation == "South Gloucestershire Council"
    first = spec.sections[0]
    assert {"Name of Child", "Date", "Present"} <= set(labels(first.fields))
    agenda = next(s for s in spec.sections if s.agenda).agenda
    assert agenda == [
        "Overview – Brief history", "Reason for the meeting (What are we worried about?)",
        "What is working well for the child/young person?", "Current situation", "Young Persons Views",
        "Foster carers Views", "Support in place/required", "Plan/Actions to be taken", "Next meeting date",
    ]
    numbered = [(s.number, s.heading) for s in spec.sections if s.number]
    assert numbered == [
        ("1", "Overview (Brief history)"),
        ("2", "Reason for the meeting (What are we worried about?)"),
        ("3", "What is working well in the placement?"),
        ("4", "Current situation (What are the complicating factors?)"),
        ("5", "Child/Young person's Views (What is good and what is worrying)"),
        ("6", "Foster carers Views (What is good and what is worrying)"),
        ("7", "Support in place/required"),
        ("8", "Plan/Actions to be taken"),
    ]
    assert spec.sections[-1].heading == "Date for next Stability meeting (within 3 months)"
    actions = field(spec, "actions")
    # 1.1.0 adds a status to each action, to follow it from one meeting to the next
    assert labels(actions.fields) == ["Action", "Who", "When"] + (["Status"] if version == "1.1.0" else [])


def test_unplanned_endings_follow_guidance_order():
    spec = REGISTRY.get("unplanned-ending-meeting")
    assert [s.heading for s in spec.sections] == [
        "Meeting details", "History", "Before the child lived with this family",
        "Progress while the child lived with this family", "Key contributing factors",
        "Learning from each person at the meeting", "The home the child needs now",
        "Practice issues and themes", "Plan of ongoing support for the child/young person",
        "Plan of support to carer",
    ]
    for path in ("introductions", "delegated_authority", "placement_planning_meeting", "transport_arrangements",
                 "stability_meeting_held", "final_straw"):
        assert field(spec, path)


def test_susd_lists_the_22_welsh_authorities():
    spec = REGISTRY.get("susd-expression-of-interest")
    authorities = field(spec, "local_authority").choices
    assert len(authorities) == 22 == len({o.value for o in authorities})
    assert {"cardiff", "isle_of_anglesey", "wrexham", "rhondda_cynon_taf", "vale_of_glamorgan"} <= {o.value for o in authorities}
    for path in ("governance", "communication", "recruitment_plan", "participation", "venues_available",
                 "ssw_commitment", "steering_chair_role", "commitment_fostering", "commitment_safeguarding",
                 "commitment_family_support", "signed_name", "signed_role", "signed_date"):
        assert field(spec, path)
    assert field(spec, "ssw_commitment").required


def test_preparation_plan_nine_readiness_indicators():
    spec = REGISTRY.get("preparation-plan")
    readiness = field(spec, "readiness")
    assert len(readiness.fields) == 9
    assert [f.key for f in readiness.fields] == [
        "settled_behaviour", "school_attendance", "relationships", "care_planning", "accepting_support",
        "life_story", "expressing_feelings", "unstructured_time", "wants_family_life",
    ]
    assert [o.value for o in field(spec, "needs_assessment_level").choices] == ["2.1", "2.2", "2.3", "2.4"]
    sdq = field(spec, "sdq_score")
    assert (sdq.minimum, sdq.maximum) == (0, 40)


def test_getting_to_know_you_reviews_and_needs():
    spec = REGISTRY.get("getting-to-know-you-plan")
    assert labels(next(s for s in spec.sections if s.id == "reviews").fields)[:3] == [
        "First-week review", "Mid-point review (week 4)", "Final-week review",
    ]
    assert [o.value for o in field(spec, "support_needs").choices][:3] == [
        "school_non_attendance", "missing_from_home", "self_harm",
    ]


def test_every_spec_documents_its_source_and_has_guidance():
    for spec in REGISTRY.all():
        assert spec.source.document and len(spec.source.notes) > 100, spec.id
        assert any(s.guidance for s in spec.sections), spec.id


def test_designed_forms_say_so_in_their_notes():
    for form_id in ("preparation-plan", "susd-expression-of-interest", "getting-to-know-you-plan", "unplanned-ending-meeting"):
        notes = REGISTRY.get(form_id).source.notes.lower()
        assert "our design" in notes or "no template" in notes, form_id
    assert "our own design" in REGISTRY.get("key-criteria").source.notes

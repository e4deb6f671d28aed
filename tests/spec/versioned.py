"""Two versions of an invented form whose migration renames, maps options, drops, splits and
renames a row's cell, for the tests of versions (tests/spec, tests/records)."""

from __future__ import annotations

from pathlib import Path

from service.spec.published import publish

V1 = """\
id: demo
title: Demo meeting
version: 1.0.0
organisation: Test Council
source: {document: Invented for these tests}
sections:
  - id: main
    heading: Main
    fields:
      - {key: child_name, label: Child's name, type: text, required: true, case: child_name}
      - {key: su_number, label: SU Number, type: text, case: su_number}
      - {key: minutes_date, label: Minutes sent, type: date}
      - key: chair_role
        label: Chair's role
        type: choice
        options:
          - {value: manager, label: Manager}
          - {value: other, label: Other}
          - {value: iro, label: IRO}
      - {key: old_question, label: An old question, type: text}
      - {key: views, label: Views, type: longtext}
      - key: actions
        label: Actions
        type: repeat
        fields:
          - {key: action, label: Action, type: text}
          - {key: who, label: Who, type: text}
"""

V2 = """\
id: demo
title: Demo meeting
version: 2.0.0
organisation: Test Council
source: {document: Invented for these tests}
migration:
  from: 1.0.0
  changes:
    - {rename: minutes_date, to: minutes_sent_on}
    - {field: chair_role, map: {other: someone_else, iro: null}}
    - {drop: old_question, reason: The policy no longer asks it.}
    - {split: views, into: [views_good, views_worrying], on: "---"}
    - {rename: "actions[].who", to: "actions[].owner"}
sections:
  - id: main
    heading: Main
    fields:
      - {key: child_name, label: Child's name, type: text, required: true, case: child_name}
      - {key: su_number, label: SU Number, type: text, case: su_number}
      - {key: minutes_sent_on, label: Minutes sent on, type: date}
      - key: chair_role
        label: Chair's role
        type: choice
        options:
          - {value: manager, label: Manager}
          - {value: someone_else, label: Someone else}
      - {key: views_good, label: What is good, type: longtext}
      - {key: views_worrying, label: What is worrying, type: longtext}
      - key: actions
        label: Actions
        type: repeat
        fields:
          - {key: action, label: Action, type: text}
          - {key: owner, label: Owner, type: text}
          - key: status
            label: Status
            type: choice
            options: [{value: done, label: Done}, {value: open, label: Open}]
"""

FILLED = {"child_name": "Test Child", "su_number": "SU-EX-77", "minutes_date": "2026-11-02", "chair_role": "iro",
          "old_question": "An answer with no place", "views": "Likes the garden --- misses school friends",
          "actions": [{"action": "Book the review", "who": "Worker A"}, {"action": "Call school", "who": None}]}


def make_folder(tmp_path: Path, *texts: str, publish_all: bool = True) -> Path:
    folder = tmp_path / "specs"
    (folder / "demo").mkdir(parents=True)
    for text in texts:
        version = text.split("version: ", 1)[1].split("\n", 1)[0]
        (folder / "demo" / f"{version}.yaml").write_text(text)
        if publish_all:
            publish(folder, "demo", version)
    return folder


# FILLED, read into version 2.0.0
EXPECTED = {"child_name": "Test Child", "su_number": "SU-EX-77", "minutes_sent_on": "2026-11-02", "chair_role": None,
            "views_good": "Likes the garden", "views_worrying": "misses school friends",
            "actions": [{"action": "Book the review", "owner": "Worker A", "status": None},
                        {"action": "Call school", "owner": None, "status": None}]}

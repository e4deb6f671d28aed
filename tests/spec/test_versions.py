"""Every published version of a form is kept and immutable; a document is read with the version
it was made from and its data migrated to the current one by the declared migration, with
nothing dropped silently; ``spec-diff`` says what changed in words."""

from __future__ import annotations

import hashlib
import shutil

import pytest

import service
from service.cli import main
from service.errors import SpecError
from service.spec.published import publish, read_published
from service.spec.registry import Registry
from tests.conftest import REGISTRY, ROOT
from tests.spec.versioned import EXPECTED, FILLED, V1, V2, make_folder

# -- published versions are kept and never change -------------------------------------------------

def test_every_shipped_version_is_published_and_unchanged():
    folder = ROOT / "form_specs"
    published = read_published(folder)
    files = {f"{p.parent.name}/{p.name}": p for p in folder.glob("*/[0-9]*.yaml")}
    assert set(files) == set(published), "a version file that is not published, or a published one gone"
    for name, path in files.items():
        assert hashlib.sha256(path.read_bytes()).hexdigest() == published[name], f"{name} changed after publication"


def test_registry_keeps_every_version_and_serves_the_highest():
    assert REGISTRY.versions("placement-stability-meeting")[:2] == ["1.0.0", "1.1.0"]
    assert REGISTRY.get("placement-stability-meeting").version == REGISTRY.versions("placement-stability-meeting")[-1]
    assert REGISTRY.version("placement-stability-meeting", "9.9.9") is None


def test_an_edited_published_version_is_refused(tmp_path):
    folder = make_folder(tmp_path, V1)
    path = folder / "demo" / "1.0.0.yaml"
    path.write_text(V1.replace("Minutes sent", "Minutes went"))
    with pytest.raises(SpecError, match="changed after it was published"):
        Registry(folder)
    with pytest.raises(SpecError, match="changed after it was published"):
        publish(folder, "demo", "1.0.0")


def test_a_deleted_published_version_is_refused(tmp_path):
    folder = make_folder(tmp_path, V1, V2)
    (folder / "demo" / "1.0.0.yaml").unlink()
    with pytest.raises(SpecError, match="published version demo/1.0.0.yaml is missing"):
        Registry(folder)


def test_publishing_twice_is_harmless_and_a_draft_loads(tmp_path):
    folder = make_folder(tmp_path, V1)
    assert "already published" in publish(folder, "demo", "1.0.0")
    (folder / "demo" / "2.0.0.yaml").write_text(V2)  # a draft: loads, not yet published
    assert Registry(folder).get("demo").version == "2.0.0"
    assert "demo/2.0.0.yaml" not in read_published(folder)


def test_file_name_must_be_the_version(tmp_path):
    folder = make_folder(tmp_path, V1, publish_all=False)
    (folder / "demo" / "1.0.0.yaml").rename(folder / "demo" / "1.0.1.yaml")
    with pytest.raises(SpecError, match="named '1.0.1' but the spec's version is '1.0.0'"):
        Registry(folder)


# -- a migration cannot lose an answer without saying so ----------------------------------------

@pytest.mark.parametrize("edit, message", [
    (lambda t: t.replace("    - {drop: old_question, reason: The policy no longer asks it.}\n", ""),
     "field 'old_question' of version 1.0.0 is not in version 2.0.0; declare a rename, split or drop"),
    (lambda t: t.replace("map: {other: someone_else, iro: null}", "map: {other: someone_else}"),
     "option iro of version 1.0.0 is not in version 2.0.0"),
    (lambda t: t.replace("from: 1.0.0", "from: 0.9.0"), "its migration is from version 0.9.0"),
    (lambda t: t.replace("{rename: minutes_date, to: minutes_sent_on}", "{rename: minute_date, to: minutes_sent_on}"),
     "version 1.0.0 has no field 'minute_date'"),
    (lambda t: t.replace("someone_else, iro: null", "somebody, iro: null"), "has no option 'somebody'"),
    (lambda t: t.replace("{key: minutes_sent_on, label: Minutes sent on, type: date}",
                         "{key: minutes_sent_on, label: Minutes sent on, type: integer}"),
     "its type changes from date to integer"),
])
def test_unsafe_migrations_are_refused_when_loading(tmp_path, edit, message):
    folder = make_folder(tmp_path, V1, publish_all=False)
    (folder / "demo" / "2.0.0.yaml").write_text(edit(V2))
    with pytest.raises(SpecError, match=message.replace("(", r"\(").replace(")", r"\)")) as err:
        Registry(folder)
    assert err.value.file.endswith("2.0.0.yaml")


# -- documents are read with their own version, then migrated ------------------------------------

@pytest.mark.parametrize("fmt", ["docx", "pdf"])
def test_an_old_document_is_read_with_its_version_and_migrated(tmp_path, fmt):
    registry = Registry(make_folder(tmp_path, V1, V2))
    raw = service.generate_document(registry.version("demo", "1.0.0"), FILLED, format=fmt)
    result = service.extract_document(raw, registry)
    assert (result.form, result.spec_version, result.document_version) == ("demo", "2.0.0", "1.0.0")
    assert result.data == EXPECTED
    migration = result.migration
    assert (migration["from"], migration["to"]) == ("1.0.0", "2.0.0")
    changes = {(c["path"], c["change"]) for c in migration["steps"][0]["changes"]}
    assert changes == {("minutes_date", "renamed"), ("chair_role", "options_mapped"), ("old_question", "dropped"),
                       ("views", "split"), ("actions[].who", "renamed"), ("actions[].status", "added")}
    # dropped values are kept with the result, never silently lost, and said in the warnings
    assert migration["dropped"] == {"1.0.0:old_question": "An answer with no place", "1.0.0:chair_role": "iro"}
    codes = {(w.code, w.path) for w in result.warnings}
    assert {("migrated", "$"), ("dropped_in_new_version", "old_question"),
            ("option_dropped_in_new_version", "chair_role")} <= codes
    assert not [w for w in result.warnings if "An answer with no place" in w.message]  # values never in messages
    assert result.sources["minutes_sent_on"] and result.sources["actions[0].owner"]
    assert "minutes_date" not in result.sources and "old_question" not in result.sources


def test_a_current_document_is_not_migrated(tmp_path):
    registry = Registry(make_folder(tmp_path, V1, V2))
    raw = service.generate_document(registry.get("demo"), EXPECTED, format="docx")
    result = service.extract_document(raw, registry)
    assert result.migration is None and result.data == EXPECTED
    assert "migrated" not in {w.code for w in result.warnings}


def test_text_without_the_separator_goes_whole_to_the_first_part(tmp_path):
    registry = Registry(make_folder(tmp_path, V1, V2))
    raw = service.generate_document(registry.version("demo", "1.0.0"), {**FILLED, "views": "All fine"}, format="pdf")
    result = service.extract_document(raw, registry)
    assert (result.data["views_good"], result.data["views_worrying"]) == ("All fine", None)
    assert "not_split" in {w.code for w in result.warnings}


def test_migrations_chain_across_versions(tmp_path):
    v3 = V2.replace("version: 2.0.0", "version: 2.1.0").replace("from: 1.0.0", "from: 2.0.0").replace(
        """  changes:
    - {rename: minutes_date, to: minutes_sent_on}
    - {field: chair_role, map: {other: someone_else, iro: null}}
    - {drop: old_question, reason: The policy no longer asks it.}
    - {split: views, into: [views_good, views_worrying], on: "---"}
    - {rename: "actions[].who", to: "actions[].owner"}
""", """  changes:
    - {rename: actions, to: tasks}
""").replace("key: actions\n        label: Actions", "key: tasks\n        label: Tasks")
    registry = Registry(make_folder(tmp_path, V1, V2, v3))
    raw = service.generate_document(registry.version("demo", "1.0.0"), FILLED, format="docx")
    result = service.extract_document(raw, registry)
    assert result.spec_version == "2.1.0"
    assert [(s["from"], s["to"]) for s in result.migration["steps"]] == [("1.0.0", "2.0.0"), ("2.0.0", "2.1.0")]
    assert result.data["tasks"] == EXPECTED["actions"] and "actions" not in result.data
    assert result.sources["tasks[0].owner"]


def test_the_real_stability_meeting_1_0_0_document_reads_into_1_1_0(tmp_path):
    old = REGISTRY.version("placement-stability-meeting", "1.0.0")
    data = service.load_json_file(str(ROOT / "samples" / "placement-stability-meeting.json"))
    # the sample is of the current version: what 1.0.0 had
    data = {k: v for k, v in data.items() if old.field_at(k)}
    data["actions"] = [{k: v for k, v in row.items() if k != "status"} for row in data["actions"]]
    for fmt in ("docx", "pdf"):
        result = service.extract_document(service.generate_document(old, data, format=fmt), REGISTRY)
        assert result.valid, result.errors
        assert result.document_version == "1.0.0" and result.spec_version == REGISTRY.get(old.id).version
        assert [r["action"] for r in result.data["actions"]] == [r["action"] for r in data["actions"]]
        assert all(r["status"] is None for r in result.data["actions"])


# -- spec-diff ----------------------------------------------------------------------------------

def test_spec_diff_says_what_changed_in_words(tmp_path, capsys):
    folder = make_folder(tmp_path, V1, V2)
    assert main(["--specs", str(folder), "spec-diff", "demo", "2.0.0", "1.0.0"]) == 0
    out = capsys.readouterr().out
    for words in ["Demo meeting: version 1.0.0 → 2.0.0",
                  "renamed: “Minutes sent” (minutes_date) is now “Minutes sent on” (minutes_sent_on)",
                  "options of “Chair's role”: “Other” (other) becomes someone_else; “IRO” (iro) is dropped",
                  "dropped: “An old question” (old_question) (The policy no longer asks it)",
                  "split: “Views” (views) into “What is good” (views_good), “What is worrying” (views_worrying), at “---”",
                  "renamed: “Who” (actions[].who) is now “Owner” (actions[].owner)",
                  "added: “Status” (actions[].status) (choice)"]:
        assert words in out, words
    assert "added: “What is good”" not in out  # a split's target is not "added"


def test_spec_diff_refuses_an_unknown_version(tmp_path, capsys):
    folder = make_folder(tmp_path, V1)
    assert main(["--specs", str(folder), "spec-diff", "demo", "1.0.0", "3.0.0"]) == 2
    assert "demo has no version '3.0.0'; its versions: 1.0.0" in capsys.readouterr().err


def test_spec_diff_of_the_shipped_stability_meeting(capsys):
    assert main(["spec-diff", "placement-stability-meeting", "1.0.0", "1.1.0"]) == 0
    out = capsys.readouterr().out
    assert "added: “Status” (actions[].status) (choice)" in out
    assert "rule added: Stability meetings should be no more than three months apart." in out


def test_generate_an_earlier_version_from_the_command_line(tmp_path):
    out = tmp_path / "old.docx"
    assert main(["generate", "placement-stability-meeting", "--spec-version", "1.0.0", "--out", str(out)]) == 0
    result = service.extract_document(out.read_bytes(), REGISTRY)
    assert result.document_version == "1.0.0" and result.migration["from"] == "1.0.0"
    assert main(["generate", "placement-stability-meeting", "--spec-version", "0.1.0", "--out", str(out)]) == 2


def test_spec_publish_from_the_command_line(tmp_path, capsys):
    folder = make_folder(tmp_path, V1)
    shutil.copy(folder / "demo" / "1.0.0.yaml", tmp_path / "keep.yaml")
    (folder / "demo" / "2.0.0.yaml").write_text(V2)
    assert main(["--specs", str(folder), "spec-publish", "demo", "2.0.0"]) == 0
    assert "published demo/2.0.0.yaml" in capsys.readouterr().out
    assert "demo/2.0.0.yaml" in read_published(folder)
    assert main(["--specs", str(folder), "spec-publish", "demo", "4.0.0"]) == 2

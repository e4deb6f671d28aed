"""The three commands, their exit codes, and one-line messages instead of tracebacks."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import service

from service.cli import main
from tests.conftest import FORM_IDS, ROOT, SAMPLES, schema_validator


def run(capsys, *args):
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_forms_lists_all_seven(capsys):
    code, out, _ = run(capsys, "forms")
    assert code == 0
    lines = out.strip().splitlines()
    assert len(lines) == 7
    for form_id in FORM_IDS:
        current = service.default_registry().get(form_id).version
        assert any(line.split()[:2] == [form_id, current] for line in lines)
    code, out, _ = run(capsys, "forms", "--json")
    assert {f["id"] for f in json.loads(out)} == set(FORM_IDS)


@pytest.mark.parametrize("form_id", FORM_IDS)
def test_schema_is_draft_2020_12_and_accepts_sample(capsys, form_id):
    code, out, _ = run(capsys, "schema", form_id)
    assert code == 0
    schema = json.loads(out)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    from jsonschema import Draft202012Validator

    Draft202012Validator.check_schema(schema)
    sample = json.loads((SAMPLES / f"{form_id}.json").read_text())
    assert not list(Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER).iter_errors(sample))


@pytest.mark.parametrize("form_id", FORM_IDS)
def test_validate_sample_exit_0(capsys, form_id):
    code, out, _ = run(capsys, "validate", form_id, str(SAMPLES / f"{form_id}.json"))
    assert code == 0
    assert out.startswith(f"{form_id} {service.default_registry().get(form_id).version}: valid, 0 errors")


def test_validate_invalid_exit_1_with_paths(capsys, tmp_path):
    data = json.loads((SAMPLES / "key-criteria.json").read_text())
    data["age"] = 40
    data["matching_criteria"][1]["criterion"] = "spaceship"
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(data))
    code, out, _ = run(capsys, "validate", "key-criteria", str(bad))
    assert code == 1
    assert "error    age:" in out and "error    matching_criteria[1].criterion:" in out
    code, out, _ = run(capsys, "validate", "--json", "key-criteria", str(bad))
    report = json.loads(out)
    assert code == 1 and report["valid"] is False
    assert [e["path"] for e in report["errors"]] == ["age", "matching_criteria[1].criterion"]


def test_validate_warnings_still_exit_0(capsys):
    code, out, _ = run(capsys, "validate", "preparation-plan", str(SAMPLES / "preparation-plan.json"))
    assert code == 0 and "warning  sdq_score" in out


def test_partial_flag(capsys):
    prefill = str(SAMPLES / "prefill" / "ramp.json")
    assert run(capsys, "validate", "ramp", prefill)[0] == 1
    assert run(capsys, "validate", "--partial", "ramp", prefill)[0] == 0


@pytest.mark.parametrize(("args", "content", "words"), [
    (["validate", "no-such-form", "{data}"], b"{}", "unknown form 'no-such-form'"),
    (["schema", "no-such-form"], None, "unknown form"),
    (["validate", "ramp", "{data}"], b"{not json", "is not valid JSON"),
    (["validate", "ramp", "{data}"], b"\xff\xfe\x00", "not UTF-8"),
    (["validate", "ramp", "{data}"], b'{"a": 1, "a": 2}', "names the key 'a' twice"),
    (["validate", "ramp", "{data}"], b'{"a": NaN}', "NaN"),
    (["validate", "ramp", "{data}"], b"[" * 100_000 + b"]" * 100_000, "nested too deeply"),
    (["validate", "ramp", "{missing}"], None, "cannot read"),
    (["validate", "ramp", "{folder}"], None, "is a folder"),
    (["frobnicate"], None, "No such command"),
])
def test_unusable_input_exit_2_one_line(capsys, tmp_path, args, content, words):
    data = tmp_path / "data.json"
    if content is not None:
        data.write_bytes(content)
    args = [a.format(data=data, missing=tmp_path / "missing.json", folder=tmp_path) for a in args]
    code, out, err = run(capsys, *args)
    assert code == 2
    assert words in err, err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err


def test_broken_spec_folder_exit_2(capsys, tmp_path):
    (tmp_path / "demo.yaml").write_text("id: demo\ntitle: [\n")
    code, _, err = run(capsys, "--specs", str(tmp_path), "forms")
    assert code == 2 and "demo.yaml:" in err and "not valid YAML" in err


def test_installed_entry_point_runs():
    exe = shutil.which("stepdown-forms") or str(Path(sys.executable).parent / "stepdown-forms")
    proc = subprocess.run([exe, "validate", "ramp", "/nonexistent.json"], capture_output=True, text=True, cwd=ROOT)
    assert proc.returncode == 2
    assert proc.stderr.startswith("stepdown-forms: cannot read") and "Traceback" not in proc.stderr
    proc = subprocess.run([exe, "schema", "ramp"], capture_output=True, text=True, cwd=ROOT)
    assert proc.returncode == 0 and json.loads(proc.stdout)["$id"].startswith("urn:stepdown-forms:ramp")


def test_schema_rejects_sample_corruptions_at_path():
    from service import default_registry

    spec = default_registry().get("placement-stability-meeting")
    data = json.loads((SAMPLES / "placement-stability-meeting.json").read_text())
    data["present"][2]["role"] = 12
    data["meeting_at"] = "11/03/2026 10:00"
    errors = {tuple(e.absolute_path) for e in schema_validator(spec).iter_errors(data)}
    assert ("present", 2, "role") in errors and ("meeting_at",) in errors


def test_generate_then_extract(capsys, tmp_path):
    out = tmp_path / "kc.docx"
    code, text, _ = run(capsys, "generate", "key-criteria", "--data", str(SAMPLES / "key-criteria.json"),
                        "--format", "docx", "--out", str(out))
    assert code == 0 and "wrote" in text and out.stat().st_size > 5000
    code, text, _ = run(capsys, "extract", str(out))
    result = json.loads(text)
    assert code == 0 and result["valid"] is True
    assert result["form"] == "key-criteria" and result["document_id"]
    assert result["data"]["child_name"] == "Kai Example" and result["sources"]["child_name"] == "control"
    assert not list(tmp_path.glob(".*.tmp")), "no temporary file left behind"


def test_blank_form_extracts_as_invalid_exit_1(capsys, tmp_path):
    out = tmp_path / "blank.docx"
    assert run(capsys, "generate", "ramp", "--out", str(out))[0] == 0
    code, text, _ = run(capsys, "extract", str(out))
    assert code == 1 and {"child_name", "anxiety_states.calm.presentation"} <= {e["path"] for e in json.loads(text)["errors"]}


@pytest.mark.parametrize(("args", "words"), [
    (["generate", "ramp", "--data", "{bad}", "--out", "{out}"], "does not fit the form"),
    (["generate", "ramp", "--data", "{list}", "--out", "{out}"], "should hold a JSON object"),
    (["generate", "nope", "--out", "{out}"], "unknown form"),
    (["generate", "ramp", "--out", "{dir}/missing-folder/x.docx"], "cannot write"),
    (["extract", "{bad}"], "not a Word .docx document"),
    (["extract", "{pdf}"], "PDF is damaged"),
    (["extract", "{doc}", "--form", "key-criteria"], "'ramp' form, not 'key-criteria'"),
])
def test_generate_and_extract_errors_exit_2(capsys, tmp_path, args, words):
    (tmp_path / "bad.json").write_text('{"child_name": 5}')
    (tmp_path / "list.json").write_text("[1, 2]")
    (tmp_path / "form.pdf").write_bytes(b"%PDF-1.7\n%\xe2\xe3\n")
    doc = tmp_path / "doc.docx"
    main(["generate", "ramp", "--out", str(doc)])
    capsys.readouterr()
    args = [a.format(bad=tmp_path / "bad.json", list=tmp_path / "list.json", out=tmp_path / "o.docx",
                     dir=tmp_path, doc=doc, pdf=tmp_path / "form.pdf") for a in args]
    code, _, err = run(capsys, *args)
    assert code == 2 and words in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "o.docx").exists(), "nothing half-written"

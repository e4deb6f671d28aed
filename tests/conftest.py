from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator

import service
from tests.databases import database_url  # noqa: F401  (a fixture for tests/web and tests/store)

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "samples"
REGISTRY = service.Registry(ROOT / "form_specs")
FORM_IDS = REGISTRY.ids()


def load_sample(form_id: str, prefill: bool = False) -> dict:
    path = SAMPLES / ("prefill" if prefill else "") / f"{form_id}.json"
    return json.loads(path.read_text(encoding="utf-8"))


def schema_validator(spec) -> Draft202012Validator:
    return Draft202012Validator(service.json_schema(spec), format_checker=Draft202012Validator.FORMAT_CHECKER)


def json_path(parts) -> str:
    """jsonschema's absolute_path as our field path: a.b[2].c"""
    out = ""
    for p in parts:
        out += f"[{p}]" if isinstance(p, int) else (f".{p}" if out else str(p))
    return out


def schema_error_paths(spec, data) -> list[str]:
    return [json_path(e.absolute_path) for e in schema_validator(spec).iter_errors(data)]


@pytest.fixture(params=FORM_IDS)
def spec(request):
    return REGISTRY.get(request.param)


@pytest.fixture
def sample(spec):
    return copy.deepcopy(load_sample(spec.id))

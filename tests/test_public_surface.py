"""The public surface is small and pinned: the CLI and (later) the HTTP layer use only this."""

import ast
from pathlib import Path

import service

PUBLIC = {
    "DataError", "DocumentError", "Extraction", "extract_document", "generate_document", "check_layout", "FormSpec", "MAX_DATA_BYTES", "MAX_DOCUMENT_BYTES", "load_json_file", "Issue", "Registry", "Report", "SpecError", "StepDownError",
    "UnknownFormError", "default_registry", "json_schema", "load_spec_file", "load_spec_text",
    "parse_json_data", "validate",
}


def test_public_names_are_pinned():
    assert set(service.__all__) == PUBLIC
    for name in PUBLIC:
        assert getattr(service, name) is not None


def test_every_error_has_a_stable_code():
    classes = (service.StepDownError, service.SpecError, service.UnknownFormError, service.DataError,
               service.DocumentError)
    assert len({cls.code for cls in classes}) == len(classes)


def test_cli_imports_only_the_public_surface():
    tree = ast.parse((Path(service.__file__).parent / "cli.py").read_text())
    imported = {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
    imported |= {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    assert not {m for m in imported if m and m.startswith("service.")}, imported

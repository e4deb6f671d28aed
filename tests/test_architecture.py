"""The boundaries docs/architecture.md declares, held by tools rather than by reading:

- the layer contracts in pyproject.toml, checked by import-linter (which follows relative and
  absolute imports alike);
- only the edges (the web layer and the command line) import the package's root, the public
  surface, and that surface is pinned;
- a function-level import says, on its line (or the comment line above its group), why it is not
  at the top of the module: a real cycle, or a heavy dependency deferred;
- every exception the package raises is a class of the one tree in service/errors.py, with its
  own stable code and an HTTP status, and none raises the base class itself;
- no module is much over 400 lines.
"""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import service
from service import errors
from service.web.errors import STATUS_BY_CLASS, status_for

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "service"
MODULES = sorted(p for p in PACKAGE.rglob("*.py") if "migrations" not in p.parts)
MAX_LINES = 420


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imported(path: Path, node: ast.ImportFrom) -> str:
    """The absolute module an ``import from`` names, relative ones resolved."""
    if not node.level:
        return node.module or ""
    package = _module_name(path).split(".")
    if path.name != "__init__.py":
        package = package[:-1]
    base = package[: len(package) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def test_the_layer_contracts_hold():
    tool = shutil.which("lint-imports", path=str(Path(sys.executable).parent))
    assert tool, "import-linter is part of the test extra (pip install -e '.[test]')"
    run = subprocess.run([tool, "--no-cache"], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]
    assert "0 broken" in run.stdout


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(ROOT)))
def test_only_the_edges_import_the_public_surface(path):
    if _module_name(path).split(".")[:2] in (["service", "web"], ["service", "cli"]) or path == PACKAGE / "__init__.py":
        return
    tree = ast.parse(path.read_text())
    submodules = {p.stem for p in PACKAGE.iterdir()}
    roots = [n.lineno for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and _imported(path, n) == "service"
             and any(a.name not in submodules for a in n.names)]
    roots += [n.lineno for n in ast.walk(tree) if isinstance(n, ast.Import) and any(a.name == "service" for a in n.names)]
    assert not roots, f"{path.name} imports the package root (lines {roots}); import the module it needs"


def test_the_public_surface_is_pinned():
    assert set(service.__all__) == {
        "DataError", "DocumentError", "Extraction", "extract_document", "generate_document", "check_layout",
        "FormSpec", "MAX_DATA_BYTES", "MAX_DOCUMENT_BYTES", "load_json_file", "Issue", "Registry", "Report",
        "SpecError", "StepDownError", "UnknownFormError", "default_registry", "json_schema", "load_spec_file",
        "load_spec_text", "parse_json_data", "validate",
    }
    for name in service.__all__:
        assert getattr(service, name) is not None


def _function_imports(path: Path) -> list[int]:
    tree = ast.parse(path.read_text())
    lines = []
    for fn in ast.walk(tree):
        if isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)):
            lines += [n.lineno for n in ast.walk(fn) if isinstance(n, (ast.Import, ast.ImportFrom))]
    return sorted(set(lines))


def _has_reason(source: list[str], line: int) -> bool:
    """A comment on the import's line, or on the line above the group of imports it is in."""
    i = line - 1
    while i >= 0:
        text = source[i]
        if "#" in text:
            return True
        stripped = text.strip()
        if not (stripped.startswith(("import ", "from ")) or stripped == ""):
            return False
        i -= 1
    return False


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(ROOT)))
def test_a_function_level_import_says_why(path):
    source = path.read_text().splitlines()
    missing = [n for n in _function_imports(path) if not _has_reason(source, n)]
    assert not missing, f"{path.name}: function-level imports without a reason on lines {missing}"


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(ROOT)))
def test_modules_stay_small(path):
    assert len(path.read_text().splitlines()) <= MAX_LINES


def _tree_classes() -> list[type[errors.StepDownError]]:
    found, todo = [], [errors.StepDownError]
    while todo:
        cls = todo.pop()
        found.append(cls)
        todo += cls.__subclasses__()
    return [c for c in found if c.__module__ == "service.errors"]


def test_every_error_is_in_the_tree_with_its_own_code_and_a_status():
    classes = _tree_classes()
    named = {name for name in dir(errors) if isinstance(getattr(errors, name), type)
             and issubclass(getattr(errors, name), errors.StepDownError)}
    assert {c.__name__ for c in classes} == named
    assert len({c.code for c in classes}) == len(classes), "two classes share a code"
    for cls in classes:
        if cls is not errors.StepDownError:
            assert cls in STATUS_BY_CLASS, f"{cls.__name__} has no HTTP status"
            assert cls.__name__ in errors.__doc__, f"{cls.__name__} is not drawn in the docstring"
    assert status_for(errors.StepDownError("a bug")) == 500


def _raised_names(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Raise) and isinstance(node.exc, ast.Call):
            func = node.exc.func
            names.add(func.id if isinstance(func, ast.Name) else getattr(func, "attr", ""))
    return names


def test_nothing_raises_the_base_class_or_an_exception_outside_the_tree():
    """Every ``raise SomeError(...)`` in the package names a class of the tree (or a Python
    exception used inside a module, such as ValueError for pydantic)."""
    ours = {c.__name__ for c in _tree_classes()} - {"StepDownError"}
    allowed = ours | {
        "ValueError", "TypeError",  # inside pydantic validators, which turn them into validation errors
        "ConstructorError",  # PyYAML's own protocol inside its loader; spec/loader.py makes it a SpecError
        "BadParameter",  # click's, for a bad command-line argument
        "LoginRequired",  # the pages' redirect to the login page, not an error
        "deny", "_spec_error", "_unusable", "_too_many", "_lost", "_docx_lost", "unrecorded",  # functions that build and return an error of the tree
        "unknown",  # a Catalogue's own class of the tree: UnknownFormError or UnknownPackError
        "cls",  # isolation.call raising again, here, an error of the tree a worker raised
        "Lost",  # isolation's "the worker gave no answer": each caller turns it into its format's error
        "Failed",  # isolation's "a worker hit a bug": like any bug, a 500 (only the exception's type travels)
        "ReadElsewhere",  # the store's "this read cannot be made in place": the caller reads the ordinary way
        "_OneFailed",  # inside the group commit: a batch run without savepoints is run again with them
        "retry",  # Celery's Task.retry: the exception that asks the broker to run a part again
        "RuntimeError",  # a call our own code must never make (Database.audit_read inside a session would wait for itself)
    }
    for path in MODULES:
        stray = _raised_names(path) - allowed
        assert not stray, f"{path.relative_to(ROOT)} raises {sorted(stray)}"
        assert "StepDownError" not in _raised_names(path), path

"""A fuzzing harness over bytes, for every entry point a user's file reaches: a Word form, a PDF
form (through its limited worker) and a spreadsheet of meetings. Hypothesis damages a good file
(byte flips, cuts, repeated spans) and each entry point must read it or refuse it with an error
of the tree — never another exception, never a hang. Time-boxed: a short run in every test run
(STEPDOWN_FUZZ_EXAMPLES raises it for a longer one, e.g. overnight).

Any file that ever broke an entry point is kept in tests/fuzz/crashers/ (named
<entry point>-<what>.<ext>) and replayed here every run."""

from __future__ import annotations

import io
import os
import zipfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import service
from service.packs import default_packs
from service.packs.inputs import read_rows
from service.packs.template import template_xlsx
from tests.conftest import REGISTRY, load_sample

EXAMPLES = int(os.environ.get("STEPDOWN_FUZZ_EXAMPLES", "40"))
CRASHERS = Path(__file__).parent / "crashers"

WORD = service.generate_document(REGISTRY.get("key-criteria"), load_sample("key-criteria"))
PDF = service.generate_document(REGISTRY.get("key-criteria"), load_sample("key-criteria"), format="pdf")
PACK = default_packs().get("matching")
SHEET = template_xlsx(PACK)


def _document(raw: bytes) -> None:
    try:
        result = service.extract_document(raw, REGISTRY)
    except service.StepDownError as exc:
        assert exc.code and str(exc)
    else:
        assert result.form == "key-criteria"


def _sheet(raw: bytes) -> None:
    try:
        read_rows(PACK, raw)
    except service.StepDownError as exc:
        assert exc.code and str(exc)


def damaged(good: bytes):
    """A good file, damaged: some bytes changed, perhaps cut short, perhaps a span repeated."""
    return st.tuples(
        st.lists(st.tuples(st.integers(0, len(good) - 1), st.integers(0, 255)), max_size=12),
        st.one_of(st.none(), st.integers(1, len(good))),
        st.one_of(st.none(), st.tuples(st.integers(0, len(good) - 1), st.integers(1, 4096), st.integers(2, 50))),
    ).map(lambda plan: _apply(good, *plan))


def _apply(good: bytes, flips, cut, repeat) -> bytes:
    raw = bytearray(good)
    for pos, byte in flips:
        raw[pos] = byte
    if repeat is not None:
        start, length, times = repeat
        raw[start:start] = bytes(raw[start:start + length]) * times
    return bytes(raw[:cut] if cut is not None else raw)


def _parts(good: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(good)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def damaged_inside(good: bytes):
    """A good package whose zip is sound but one part inside is damaged: this reaches the XML
    parser and the readers behind it, which byte damage to the compressed archive rarely does."""
    parts = _parts(good)
    names = sorted(parts)

    def rezip(name: str, damage) -> bytes:
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
            for part, data in parts.items():
                archive.writestr(part, damage if part == name else data)
        return out.getvalue()

    return st.sampled_from(names).flatmap(
        lambda name: damaged(parts[name]).map(lambda damage: rezip(name, damage)))


FUZZ = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))


@FUZZ
@given(damaged(WORD))
def test_a_damaged_word_form_is_read_or_refused(raw):
    _document(raw)


@FUZZ
@given(damaged_inside(WORD))
def test_a_word_form_with_a_damaged_part_is_read_or_refused(raw):
    _document(raw)


@FUZZ
@given(damaged(PDF))
def test_a_damaged_pdf_form_is_read_or_refused(raw):
    _document(raw)


@FUZZ
@given(damaged(SHEET))
def test_a_damaged_spreadsheet_is_read_or_refused(raw):
    _sheet(raw)


@FUZZ
@given(damaged_inside(SHEET))
def test_a_spreadsheet_with_a_damaged_part_is_read_or_refused(raw):
    _sheet(raw)


@pytest.mark.parametrize("path", sorted(CRASHERS.glob("*")), ids=lambda p: p.name)
def test_every_file_that_once_broke_an_entry_point_is_now_handled(path):
    (_sheet if path.name.startswith("sheet-") else _document)(path.read_bytes())

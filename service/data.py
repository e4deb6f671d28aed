"""Read a data set (JSON) from bytes a user gave us, refusing what is unusable."""

from __future__ import annotations

import json
from pathlib import Path

from .errors import DataError
from .limits import MAX_UPLOAD_BYTES, check_data_size

MAX_DATA_BYTES = MAX_UPLOAD_BYTES


def _no_duplicates(pairs: list[tuple[str, object]]) -> dict:
    out: dict = {}
    for key, value in pairs:
        if key in out:
            raise DataError(f"the JSON names the key {key!r} twice in one object")
        out[key] = value
    return out


def _no_constants(name: str) -> None:
    raise DataError(f"the JSON contains {name}, which is not a number JSON allows")


def parse_json_data(raw: bytes, *, source: str = "the data") -> object:
    check_data_size(len(raw), source)
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise DataError(f"{source} is not UTF-8 text (byte {exc.start})") from None
    try:
        return json.loads(text, object_pairs_hook=_no_duplicates, parse_constant=_no_constants)
    except json.JSONDecodeError as exc:
        raise DataError(f"{source} is not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}") from None
    except RecursionError:
        raise DataError(f"{source} is nested too deeply") from None


def load_json_file(path: str | Path) -> object:
    """Read and parse a JSON data file, with the same limits and messages as parse_json_data."""
    p = Path(path)
    try:
        if p.is_dir():
            raise DataError(f"{path} is a folder, not a file")
        check_data_size(p.stat().st_size, str(path))
        raw = p.read_bytes()
    except OSError as exc:
        raise DataError(f"cannot read {path}: {exc.strerror}") from None
    return parse_json_data(raw, source=str(path))

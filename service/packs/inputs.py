"""Reading a batch's rows: XLSX (openpyxl, read-only), CSV or JSON, one row per meeting.
Bounded: at most MAX_ROWS rows and MAX_COLUMNS columns, and the file at most MAX_INPUT_BYTES.
The format is decided by the content, not the file name. The file is read in a limited worker
process (``service.isolation``); only the rows come back."""

from __future__ import annotations

import csv
import io
import zipfile
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from .. import isolation
from ..data import parse_json_data
from ..errors import DataError, InputMissing
from ..limits import MAX_UPLOAD_BYTES, check_data_size
from .meeting import RowProblem, header_index
from .model import PackSpec

MAX_ROWS = 10_000
MAX_COLUMNS = 60
MAX_INPUT_BYTES = MAX_UPLOAD_BYTES


@dataclass
class Rows:
    rows: list[tuple[int, dict[str, object]]] = field(default_factory=list)  # (row number, key -> cell)
    problems: list[RowProblem] = field(default_factory=list)  # about the file as a whole (row 1: headers)


def read_rows(pack: PackSpec, raw: bytes) -> Rows:
    """The rows of a batch's input file, read in a reader worker."""
    check_data_size(len(raw), "The input")
    try:
        plain = isolation.call(isolation.readers(), _read_plain, pack, raw, accept=(DataError, InputMissing))
    except isolation.Lost as lost:
        if lost.timed_out:
            raise DataError("the input took too long to read (it may be built to); it was refused", "timeout") from None
        raise DataError("reading the input needed more memory than any batch does; it was refused",
                        "too_complex") from None
    return Rows([(number, {k: _cell_in(v) for k, v in cells.items()}) for number, cells in plain["rows"]],
                [RowProblem(**p) for p in plain["problems"]])


def _read_plain(pack: PackSpec, raw: bytes) -> dict:
    """In a reader worker: the rows as plain data (dates and times tagged)."""
    rows = read_rows_here(pack, raw)
    return {"rows": [(number, {k: _cell_out(v) for k, v in cells.items()}) for number, cells in rows.rows],
            "problems": [p.__dict__ for p in rows.problems]}


_TAGGED = {"datetime": datetime.fromisoformat, "date": date.fromisoformat, "time": time.fromisoformat,
           "timedelta": lambda s: timedelta(seconds=float(s)), "value": lambda v: v}


def _cell_out(value: object) -> object:
    """A cell as JSON: dates and times tagged; an object (from JSON input) tagged too, so that
    no object of the user's is taken for a tag."""
    if isinstance(value, dict):
        return {"$value": value}
    if isinstance(value, (datetime, date, time)):
        return {"$" + type(value).__name__: value.isoformat()}
    if isinstance(value, timedelta):
        return {"$timedelta": str(value.total_seconds())}
    return value


def _cell_in(value: object) -> object:
    if isinstance(value, dict) and len(value) == 1:
        (tag, text), = value.items()
        return _TAGGED[tag[1:]](text)
    return value


def read_rows_here(pack: PackSpec, raw: bytes) -> Rows:
    """The rows, read in this process."""
    check_data_size(len(raw), "The input")
    if raw[:4] == b"PK\x03\x04":
        return _xlsx(pack, raw)
    head = raw.lstrip()[:1]
    if head in (b"[", b"{"):
        return _json(pack, raw)
    return _csv(pack, raw)


def _table(pack: PackSpec, header: list[object], body) -> Rows:
    out = Rows()
    if len(header) > MAX_COLUMNS:
        raise DataError(f"the input has more than {MAX_COLUMNS} columns")
    columns, unknown = header_index(pack, header)
    for name in unknown:
        out.problems.append(RowProblem(1, name, "is not a column of this pack and was ignored"))
    missing = [c.label for c in pack.all_columns if c.required and c not in columns.values()]
    if missing:
        raise DataError("the input has no column for " + ", ".join(missing) + " (see the pack's template)")
    for number, cells in body:
        if number - 1 > MAX_ROWS:
            raise DataError(f"the input has more than {MAX_ROWS} rows; split it into smaller batches")
        values = {col.key: cells[i] for i, col in columns.items() if i < len(cells)}
        if any(v not in (None, "") for v in values.values()):
            out.rows.append((number, values))
    return out


# What a workbook of at most MAX_ROWS meetings can need, with room to spare; checked on the
# zip's own records and by counting, before openpyxl builds anything from the parts.
MAX_WORKBOOK_BYTES = 200 * 1024 * 1024
MAX_PART_BYTES = {"xl/sharedStrings.xml": 64 * 1024 * 1024, "xl/styles.xml": 8 * 1024 * 1024}
MAX_CELL_FORMATS = 64_000  # Excel's own limit on cell formats
MAX_RATIO = 100


def _check_workbook(z: zipfile.ZipFile) -> None:
    """Refuse a workbook that would cost far more to read than any batch needs: a zip bomb (by
    size or ratio), shared strings or styles beyond any spreadsheet of meetings, more cell formats
    than Excel allows (3 million of them took 148 s and 4 GB)."""
    total = 0
    for info in z.infolist():
        total += info.file_size
        if total > MAX_WORKBOOK_BYTES or (info.file_size > 1024 * 1024
                                          and info.file_size > MAX_RATIO * max(info.compress_size, 1)):
            raise DataError("the spreadsheet inflates far beyond any batch (a zip bomb?)")
        limit = MAX_PART_BYTES.get(info.filename)
        if limit is not None and info.file_size > limit:
            raise DataError(f"the spreadsheet's {info.filename.split('/')[-1]} is far larger than any batch needs")
    if "xl/styles.xml" in z.namelist():
        with z.open("xl/styles.xml") as styles:
            data = styles.read(MAX_PART_BYTES["xl/styles.xml"] + 1)
        if data.count(b"<xf ") + data.count(b"<xf>") + data.count(b"<xf/") > 2 * MAX_CELL_FORMATS:
            raise DataError("the spreadsheet declares more cell formats than Excel allows")


def _xlsx(pack: PackSpec, raw: bytes) -> Rows:
    from openpyxl import load_workbook  # deferred: it takes 0.17 s to load, and only spreadsheets need it

    try:
        with zipfile.ZipFile(io.BytesIO(raw)) as z:
            _check_workbook(z)
        wb = load_workbook(io.BytesIO(raw), read_only=True, data_only=True, keep_links=False)
    except DataError:
        raise
    except Exception as exc:  # openpyxl raises many kinds for a damaged file
        raise DataError(f"the spreadsheet cannot be read ({type(exc).__name__})") from None
    try:
        ws = wb["Meetings"] if "Meetings" in wb.sheetnames else wb.worksheets[0]
        rows = ws.iter_rows(values_only=True, max_col=MAX_COLUMNS + 1, max_row=MAX_ROWS + 2)
        header = list(next(rows, ()) or ())
        while header and header[-1] is None:
            header.pop()
        return _table(pack, header, ((n, list(r)) for n, r in enumerate(rows, start=2)))
    except DataError:
        raise
    except Exception as exc:  # a sheet is read as it is iterated: damage shows here too (found by fuzzing)
        raise DataError(f"the spreadsheet cannot be read ({type(exc).__name__})") from None
    finally:
        wb.close()


def _csv(pack: PackSpec, raw: bytes) -> Rows:
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise DataError("the CSV file is not UTF-8 text (save it as 'CSV UTF-8')") from None
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader, [])
        return _table(pack, header, ((n, row) for n, row in enumerate(reader, start=2)))
    except csv.Error as exc:
        raise DataError(f"the CSV file cannot be read ({exc})") from None


def _json(pack: PackSpec, raw: bytes) -> Rows:
    data = parse_json_data(raw, source="the input")
    items = data.get("meetings") if isinstance(data, dict) else data
    if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
        raise DataError('JSON input is a list of meetings (objects), or {"meetings": [...]}')
    header: list[str] = []
    for item in items[:MAX_ROWS + 1]:
        header += [k for k in item if k not in header]
    body = ((n, [item.get(h) for h in header]) for n, item in enumerate(items, start=2))
    return _table(pack, header, body)

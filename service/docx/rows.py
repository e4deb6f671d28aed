"""A repeating table read back into rows: wherever the table went, however many rows were added
in Word (copied rows keep their column tags), in the designer's column order if it differs from
ours. A row left empty is not a row; a header row, or a copy of it, is skipped."""

from __future__ import annotations

from lxml import etree

from ..errors import DocumentError
from ..layout import RepeatPlan
from .locate import cells as row_cells
from .locate import has_controls, is_header, rows
from .ns import qn
from .sources import FieldReader

_SDT, _TR = qn("w:sdt"), qn("w:tr")
ROWS_BEYOND = 4  # a table may hold this many times the rows its form allows (blank ones, copies) and no more


def _row_limit(rp: RepeatPlan) -> int:
    return ROWS_BEYOND * (rp.field.max_rows or 500)


def _too_many(rp: RepeatPlan) -> DocumentError:
    return DocumentError(f'The table "{rp.field.label}" has far more rows than the form allows '
                         f"({rp.field.max_rows or 500}); it was not read.", "too_many_rows")


def read_repeat(reader: FieldReader, rp: RepeatPlan, table: etree._Element | None) -> list[dict]:
    if table is None:
        return _by_tags(reader, rp)
    table_rows = rows(table)
    if len(table_rows) > _row_limit(rp):
        raise _too_many(rp)
    columns, header = _columns(reader, rp, table_rows)
    out: list[dict] = []
    for r, cells in enumerate(table_rows):
        if not any(has_controls(c) for c in cells) and (r == 0 and header or is_header(cells, rp.headers, any_order=True)):
            continue  # the header row, or a copy of it (its columns perhaps moved)
        row = _row(reader, rp, cells, len(out), columns)
        if row is not None:
            out.append(row)
    return out


def _columns(reader: FieldReader, rp: RepeatPlan, table_rows: list[list]) -> tuple[dict[str, int], bool]:
    """Which cell of a row holds each field: where the tagged controls are (a designer may
    order columns differently), else our layout's order; and whether the first row is a header
    (it has no controls)."""
    header = bool(table_rows) and not any(has_controls(c) for c in table_rows[0])
    columns: dict[str, int] = {}
    prefix = rp.path + "[]."
    for cells in table_rows:
        for i, cell in enumerate(cells):
            for e in cell.iter(_SDT):
                info = reader.index.infos.get(id(e))
                if info is not None and info.tag and info.tag.startswith(prefix):
                    columns.setdefault(info.tag[len(prefix):].split(":")[0], i)
        if columns:
            break
    for j, f in enumerate(rp.field.fields):
        columns.setdefault(f.key, rp.offset + j)
    return columns, header


def _row(reader: FieldReader, rp: RepeatPlan, cells: list, index: int, columns: dict[str, int]) -> dict | None:
    row: dict = {}
    paths = []
    for f in rp.field.fields:
        col = columns[f.key]
        cell = cells[col] if col < len(cells) else None
        paths.append(f"{rp.path}[{index}].{f.key}")
        row[f.key] = reader.simple(paths[-1], f, cell, row_key=f"{rp.path}[].{f.key}")
    if all(v in (None, [], False) for v in row.values()):
        for path in paths:  # an empty row is not a row: nothing of it is reported as read
            reader.reading.sources.pop(path, None)
        return None
    return row


def _by_tags(reader: FieldReader, rp: RepeatPlan) -> list[dict]:
    """No table matched the plan (a designer layout): group tagged controls by table row."""
    by_row: dict[int, etree._Element] = {}
    for f in rp.field.fields:
        if len(reader.index.by_key.get(f"{rp.path}[].{f.key}", [])) > _row_limit(rp):
            raise _too_many(rp)
        for info, _ in reader.index.by_key.get(f"{rp.path}[].{f.key}", []):
            tr = next(info.element.iterancestors(_TR), None)
            if tr is not None:
                by_row.setdefault(id(tr), tr)
    out: list[dict] = []
    for tr in by_row.values():
        cells = row_cells(tr)
        row: dict = {}
        for f in rp.field.fields:
            tag = f"{rp.path}[].{f.key}"
            cell = next((c for c in cells if any(
                (info := reader.index.infos.get(id(e))) is not None and info.tag == tag for e in c.iter(_SDT))), None)
            row[f.key] = reader.simple(f"{rp.path}[{len(out)}].{f.key}", f, cell, row_key=tag)
        if any(v not in (None, [], False) for v in row.values()):
            out.append(row)
    return out

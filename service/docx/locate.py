"""Where the fields sit in a document's layout: its tables, their rows and cells, and which
document table is which table of our layout plan (found by its labels and headers, so a table a
person moved, or one whose controls are gone, is still found)."""

from __future__ import annotations

from lxml import etree

from ..layout import Label, RepeatPlan, TablePlan
from .ns import qn

_TC, _TR, _TBL, _SDT, _SDT_CONTENT, _T = (qn("w:tc"), qn("w:tr"), qn("w:tbl"), qn("w:sdt"), qn("w:sdtContent"),
                                          qn("w:t"))
MATCH_SHARE = 0.6  # share of a planned table's labels that must be where the plan puts them


def ancestor(el: etree._Element, tag: str) -> etree._Element | None:
    p = el.getparent()
    while p is not None and p.tag != tag:
        p = p.getparent()
    return p


def top_tables(body: etree._Element) -> list[etree._Element]:
    """The tables not nested in another table, in document order."""
    return [t for t in body.iter(_TBL) if ancestor(t, _TBL) is None]


def cells(tr: etree._Element) -> list[etree._Element]:
    """Cells of a row, including any wrapped in a row-level content control."""
    out = []
    for child in tr:
        if child.tag == _TC:
            out.append(child)
        elif child.tag == _SDT:
            content = child.find(_SDT_CONTENT)
            if content is not None:
                out.extend(c for c in content if c.tag == _TC)
    return out


def rows(tbl: etree._Element) -> list[list[etree._Element]]:
    """The cells of each row of a table, rows wrapped in a content control included."""
    out = []
    for child in tbl:
        if child.tag == _TR:
            out.append(cells(child))
        elif child.tag == _SDT:
            content = child.find(_SDT_CONTENT)
            if content is not None:
                out.extend(cells(tr) for tr in content if tr.tag == _TR)
    return out


def cell_at(table_rows: list, r: int, c: int) -> etree._Element | None:
    return table_rows[r][c] if r < len(table_rows) and c < len(table_rows[r]) else None


def has_controls(cell: etree._Element) -> bool:
    return next(cell.iter(_SDT), None) is not None


def _norm(text: str) -> str:
    return " ".join(text.split()).casefold()


def label_text(cell: etree._Element) -> str:
    """A label or header cell's words, whitespace-normalised (cheaper than block_text)."""
    return _norm(" ".join(cell.itertext(_T)))


def is_header(row_cells: list, headers: list[str], *, any_order: bool = False) -> bool:
    """Does the row hold exactly the header labels (in their order, or in any order: a
    designer may have moved the columns)?"""
    got, want = [label_text(c) for c in row_cells], [_norm(h) for h in headers]
    return sorted(got) == sorted(want) if any_order else got == want


def matches(block: TablePlan | RepeatPlan, table: etree._Element) -> bool:
    """Is ``table`` the document's copy of ``block``? A repeat by its header row; a plain table
    when most of its labels are in their planned cells."""
    table_rows = rows(table)
    if isinstance(block, RepeatPlan):
        return bool(table_rows) and is_header(table_rows[0], block.headers)
    labels = [(r, c, cell.text) for r, row in enumerate(block.rows) for c, cell in enumerate(row)
              if isinstance(cell, Label) and cell.text]
    if not labels:
        return False
    hits = sum(1 for r, c, text in labels if (cell := cell_at(table_rows, r, c)) is not None
               and label_text(cell) == _norm(text))
    return hits >= max(1, -(-len(labels) * 3 // 5))  # at least MATCH_SHARE of them, rounded up


def align(wanted: list, tables: list[etree._Element]) -> list[tuple[object, etree._Element | None]]:
    """Pair each planned table with the document table that matches it, in order (a table
    that matches nothing is paired with None, and the search goes on after the last match)."""
    out, pos = [], 0
    for block in wanted:
        found = None
        for j in range(pos, len(tables)):
            if matches(block, tables[j]):
                found, pos = tables[j], j + 1
                break
        out.append((block, found))
    return out

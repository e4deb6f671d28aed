"""The page layout of a form, worked out once from its spec, for every document format.

The Word and PDF writers draw these blocks; the Word reader walks the same blocks to find
values by position when an editor has stripped the controls' tags or the controls themselves.
Keeping one plan means writers and readers never disagree about where a field is, and the
Word and PDF versions of a form look alike.

Blocks, in document order:

    TitleBlock      title, subtitle, organisation
    HeadingBlock    a section heading (Heading 1) or a sub-heading (Heading 2)
    TextBlock       guidance under a heading
    AgendaBlock     a numbered list that is shown, not filled
    TablePlan       a fixed grid of cells: labels, headers and value slots
    RepeatPlan      a table whose rows grow: a header row, then one row per entry
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .cache import PerObject
from .spec.model import FormSpec, GroupField, RepeatField

# Widths are in twentieths of a point (Word's twips): the text width of A4 between 2 cm margins.
TEXT_WIDTH = 9638


@dataclass(frozen=True)
class Slot:
    """A cell that holds one field's value."""

    path: str
    field: object


@dataclass(frozen=True)
class Label:
    text: str
    header: bool = False  # a column header (shaded) rather than a row label


EMPTY = Label("")
CellSpec = Slot | Label


@dataclass
class TitleBlock:
    title: str
    subtitle: str
    organisation: str


@dataclass
class HeadingBlock:
    text: str
    level: int = 1


@dataclass
class TextBlock:
    text: str


@dataclass
class AgendaBlock:
    items: list[str]


@dataclass
class TablePlan:
    rows: list[list[CellSpec]]
    widths: list[int]
    header_rows: int = 0

    def slots(self):
        for r, row in enumerate(self.rows):
            for c, cell in enumerate(row):
                if isinstance(cell, Slot):
                    yield r, c, cell


@dataclass
class RepeatPlan:
    path: str
    field: RepeatField
    widths: list[int] = field(default_factory=list)

    @property
    def headers(self) -> list[str]:
        return (["No."] if self.field.numbered else []) + [f.label for f in self.field.fields]

    def row_count(self, filled: list) -> int:
        """Rows a document shows: the filled ones, or the spec's blank rows when there are none."""
        return max(len(filled), self.field.blank_rows if not filled else 0, self.field.min_rows, 1)

    @property
    def offset(self) -> int:
        """Columns before the first field column (the rank number)."""
        return 1 if self.field.numbered else 0


Block = TitleBlock | HeadingBlock | TextBlock | AgendaBlock | TablePlan | RepeatPlan


def plan(spec: FormSpec) -> tuple[Block, ...]:
    """The blocks of ``spec``, worked out once per loaded spec."""
    return _PLANS.get(spec)


def _plan(spec: FormSpec) -> list[Block]:
    blocks: list[Block] = [TitleBlock(spec.title, spec.subtitle, spec.organisation)]
    for section in spec.sections:
        heading = f"{section.number}. {section.heading}" if section.number else section.heading
        blocks.append(HeadingBlock(heading))
        if section.guidance:
            blocks.append(TextBlock(section.guidance))
        if section.agenda:
            blocks.append(AgendaBlock(list(section.agenda)))
        columns = section.columns if section.layout == "grid" else 1
        pending: list[Slot] = []
        for f in section.fields:
            if isinstance(f, (GroupField, RepeatField)):
                if pending:
                    blocks.append(_pairs(pending, columns))
                    pending = []
                blocks.extend(_container(f, f.key, show_label=len(section.fields) > 1))
            else:
                pending.append(Slot(f.key, f))
        if pending:
            blocks.append(_pairs(pending, columns))
    return blocks


_PLANS: PerObject[FormSpec, tuple[Block, ...]] = PerObject(lambda spec: tuple(_plan(spec)))


def _pairs(slots: list[Slot], columns: int, headers: list[str] | None = None) -> TablePlan:
    """Label | value pairs, ``columns`` pairs to a row."""
    label_w = TEXT_WIDTH // columns * 2 // 5 if columns > 1 else TEXT_WIDTH * 7 // 20
    value_w = TEXT_WIDTH // columns - label_w
    rows: list[list[CellSpec]] = []
    if headers:
        rows.append([Label(h, header=True) for h in headers] * columns)
    for i in range(0, len(slots), columns):
        chunk = slots[i:i + columns]
        row: list[CellSpec] = []
        for s in chunk:
            row += [Label(s.field.label), s]
        row += [EMPTY, EMPTY] * (columns - len(chunk))
        rows.append(row)
    return TablePlan(rows, [label_w, value_w] * columns, header_rows=1 if headers else 0)


def _container(f: GroupField | RepeatField, path: str, show_label: bool) -> list[Block]:
    if isinstance(f, RepeatField):
        headers = (["No."] if f.numbered else []) + [s.label for s in f.fields]
        kinds = (["number"] if f.numbered else []) + [s for s in f.fields]
        widths = column_widths(headers, kinds)
        out: list[Block] = [HeadingBlock(f.label, 2)] if show_label else []
        return out + [RepeatPlan(path, f, widths)]
    subs = [Slot(f"{path}.{s.key}", s) for s in f.fields]
    if f.layout == "grid":
        return [_pairs(subs, 2, f.headers)]
    if f.layout == "columns" and all(isinstance(s, GroupField) for s in f.fields):
        if all(s.headers for s in f.fields):
            # One small table per sub-group, its own headers over one row of values (RAMP states).
            return [_row_table(list(s.headers), [Slot(f"{path}.{s.key}.{x.key}", x) for x in s.fields], None)
                    for s in f.fields]
        headers = list(f.headers or [f.label] + [x.label for x in f.fields[0].fields])
        rows = [(s.label, [Slot(f"{path}.{s.key}.{x.key}", x) for x in s.fields]) for s in f.fields]
        return [_columns(headers, rows)]
    out = [HeadingBlock(f.label, 2)] if show_label else []
    return out + [_pairs(subs, 1)]


# Column widths from their content (twips). A column of a fixed kind takes what its values need;
# the others share what is left by weight. None is narrower than the longest word of its header.
_FIXED = {"number": 620, "checkbox": 620, "integer": 900, "date": 1450, "datetime": 2050}
_WEIGHT = {"longtext": 5, "list": 4, "text": 3, "label": 4}
_FLEX_MIN = 1200
_CHAR = 9 * 0.68 * 20  # one character of a 9 pt bold header, generously (DejaVu Sans Bold averages 0.63 em)
_PAD = 260  # cell padding and the field's border


def _word_width(text: str) -> int:
    return int(max((len(w) for w in text.split()), default=0) * _CHAR) + _PAD


def _natural(kind) -> int | None:
    """The width a fixed-kind column needs, or None for one that shares the rest."""
    if isinstance(kind, str):
        return _FIXED.get(kind)
    if kind.type == "choice":
        longest = max((len(o.label) for o in kind.choices), default=8)
        return min(int(longest * 9 * 0.58 * 20) + 500, 3200)  # its longest choice and the drop-down arrow
    return _FIXED.get(kind.type)


def column_widths(headers: list[str], kinds: list, total: int = TEXT_WIDTH) -> list[int]:
    """Widths of table columns: ``kinds`` are the fields (or "label" for a row-label column,
    "number" for a rank) in order, ``headers`` their header texts."""
    floor = [_word_width(h) for h in headers]
    fixed = [_natural(k) for k in kinds]
    widths = [max(n, f) if n is not None else None for n, f in zip(fixed, floor)]
    weights = [_WEIGHT.get(k if isinstance(k, str) else k.type, 3) if w is None else 0 for k, w in zip(kinds, widths)]
    left = total - sum(w for w in widths if w is not None)
    if sum(weights):
        share = [left * w // sum(weights) if w else 0 for w in weights]
        widths = [w if w is not None else max(sh, f, _FLEX_MIN) for w, sh, f in zip(widths, share, floor)]
    used = sum(widths)
    if used > total or not sum(weights):  # more than fits (or nothing flexible): scale to the width
        widths = [w * total // used for w in widths]
    widths[-1] += total - sum(widths)
    return widths


def _row_table(headers: list[str], slots: list[Slot], label: str | None) -> TablePlan:
    return _columns(headers, [(label, slots)])


def _columns(headers: list[str], rows: list[tuple[str | None, list[Slot]]]) -> TablePlan:
    """A header row, then rows of [row label,] value, value, ... Columns are as wide as their
    content needs: a drop-down or date narrow, long text wide."""
    has_label = rows[0][0] is not None
    kinds = (["label"] if has_label else []) + [s.field for s in rows[0][1]]
    widths = column_widths(headers, kinds)
    grid: list[list[CellSpec]] = [[Label(h, header=True) for h in headers]]
    for label, slots in rows:
        grid.append(([Label(label)] if label is not None else []) + list(slots))
    return TablePlan(grid, widths, header_rows=1)


def field_title(spec: FormSpec, path: str, row: int | None = None) -> str:
    """What a screen reader should say for a field: its label with the group or table it sits
    in ('Has the child or young person set fires? – Answer', 'Attendees, row 2: Name')."""
    ref = spec.field_at(path)
    if ref is None:
        return path
    label = ref.field.label
    if ref.in_repeat is not None:
        table = spec.field_at(ref.in_repeat).field.label
        return f"{table}, row {row + 1}: {label}" if row is not None else f"{table}: {label}"
    parent = path.rsplit(".", 1)[0] if "." in path else None
    if parent:
        return f"{spec.field_at(parent).field.label} – {label}"
    return label

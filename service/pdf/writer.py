"""Generate a fillable PDF (AcroForm) from a spec, laid out like the Word version.

The PDF is written directly (``objects.py`` for the syntax, ``canvas.py`` for pages, text and
pagination, ``fonts.py`` for the embedded DejaVu Sans subsets, ``names.py`` for the PDF names):
every field with its value and its appearance already drawn in DejaVu, so a prefilled value
shows in any viewer without a click. An earlier version drew with reportlab and filled with pypdf; it
took 100 ms for the Key Criteria form, most of it in the two libraries' object models, where
this takes a few (docs/performance.md).

Pages are laid out in two passes (``canvas.paginate``): rows are measured and put on pages
first, so "Page x of y" is known before anything is drawn, and a label never parts from its field.

Field names are the field paths with '/' between segments (``safety/fire_setting/answer``,
``actions/2/due_date``, ``supports_needed/advocate``): a dot inside a PDF field name would be
read as the PDF's own hierarchy. Each field's tooltip is its label (read aloud by screen
readers) and fields are created in reading order, which is the tab order. A field's default
appearance (/DA), for the text a person types later, is the embedded DejaVu Sans at automatic
size: pdf.js then draws Welsh letters such as Ŵ, which Helvetica cannot.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from functools import lru_cache, partial

from ..brand import Brand
from ..cache import PerObject
from ..convert import display
from ..dates import DATE_HINT, DATETIME_HINT
from ..identity import Identity
from ..layout import (
    AgendaBlock, HeadingBlock, Label, RepeatPlan, Slot, TablePlan, TextBlock, TitleBlock, field_title, plan,
)
from ..shape import complete, value_at
from ..spec.model import (
    CheckboxField, ChoiceField, DateField, DateTimeField, FormSpec, ListField, LongTextField, MultiChoiceField,
    TextField,
)
from . import fonts
from .assemble import PdfSource, source_of
from .canvas import (
    GREY, HEADER_FILL, LABEL_FILL, MARGIN, PAD, SUBTITLE_COLOUR, TITLE_COLOUR, Canvas, Row, paginate, space,
    text_row, wrap, wrap_spec_text, write_pages,
)
from .names import (
    ACROFORM, AP, AS, BTN, CH, COMBO, DA, DR, FF, FIELDS, FT, INFO_CREATOR, INFO_PRODUCER, INFO_SUBJECT, INFO_TITLE,
    MULTILINE, OFF, OPT, T, TU, TX, V, YES, field_name, option_segment,
)
from .objects import PdfFile, num, ref, text

LABEL_SIZE, FIELD_SIZE = 9, 9
MIN_SIZE = 6.5  # the smallest a prefilled value is shrunk to before its field grows instead
FIELD_BORDER = 0.6
HINT_SIZE, HINT_ROOM = 6, 8  # a date's "DD/MM/YYYY", inside its cell below the field
# How a widget looks where a viewer draws it again (after an edit, or with NeedAppearances): a
# grey border on white, and for a check box ZapfDingbats' cross (ISO 32000-1, 12.5.6.19).
MK_FIELD = "/MK << /BC [0.6 0.6 0.6] /BG [1 1 1] >> /BS << /W 0.6 /S /S >>"
MK_BOX = "/MK << /BC [0.6 0.6 0.6] /BG [1 1 1] /CA (8) >> /BS << /W 0.6 /S /S >>"
HINTS = {"date": DATE_HINT, "datetime": DATETIME_HINT}
LINE = FIELD_SIZE + 2  # line height inside a multi-line field
_TITLES: PerObject[FormSpec, dict[str, str]] = PerObject(lambda spec: {})  # field name -> its tooltip, per spec


@lru_cache(maxsize=8192)
def _spec_string(value: str) -> str:
    """A PDF string of text from a spec (a tooltip): escaped once a process. Never a value."""
    return text(value)


def fitting_size(line: str, field_width: float) -> float:
    """The font size at which one line fits its field: the usual size, or smaller down to MIN_SIZE."""
    room = field_width - 6
    width = fonts.face(fonts.REGULAR).width(line, FIELD_SIZE)
    return FIELD_SIZE if width <= room else max(MIN_SIZE, FIELD_SIZE * room / width)


def fits_one_line(line: str, field_width: float) -> bool:
    return fonts.face(fonts.REGULAR).width(line, MIN_SIZE) <= field_width - 6


def _wrapped(value: str, field_width: float, memo: dict | None = None) -> list[str]:
    """The lines a multi-line field shows: its paragraphs wrapped to the field, in the font that
    draws them (measuring and drawing with the same metrics keeps every line inside the box).
    ``memo``: the document's own, so a value measured for its row's height is not wrapped again
    to be drawn (it lives as long as the document is being made: values are never kept)."""
    if memo is None:
        return wrap(value, fonts.REGULAR, FIELD_SIZE, field_width - 6)
    lines = memo.get((value, field_width))
    if lines is None:
        lines = memo[(value, field_width)] = wrap(value, fonts.REGULAR, FIELD_SIZE, field_width - 6)
    return lines


class FormCanvas(Canvas):
    """A page canvas that also makes a form's fields: their dictionaries (each merged with its
    widget), values and appearances."""

    def __init__(self, pdf: PdfFile, spec: FormSpec, brand: Brand | None = None, wrapped: dict | None = None) -> None:
        super().__init__(pdf, brand)
        self.spec = spec
        self.wrapped = wrapped if wrapped is not None else {}  # this document's values, as wrapped for their rows
        self.helv, self.zadb = pdf.reserve(), pdf.reserve()  # the AcroForm's fonts for what people type
        self.fields: list[int] = []
        self.values: dict[str, object] = {}  # field name -> value as entered (text, bool, export value)
        self._boxes: dict[float, tuple[int, int]] = {}
        self._options: dict[int, int] = {}

    def title(self, name: str) -> str:
        """The tooltip for a field name ('attendees/2/name' -> 'Attendees, row 3: Name'): from
        the spec alone, so made once a process for each field of each row."""
        titles = _TITLES.get(self.spec)
        found = titles.get(name)
        if found is None:
            parts = name.split("/")
            row = next((int(p) for p in parts if p.isdigit()), None)
            path = ".".join(p for p in parts if not p.isdigit())
            found = titles[name] = field_title(self.spec, path.replace(".", "[].", 1) if row is not None else path, row)
        return found

    def _tooltip(self, tooltip: str) -> str:
        """The tooltip as an indirect string: viewers and screen readers follow the reference,
        and a reader that wants only names and values (ours) skips a third of the text."""
        return ref(self.pdf.add(_spec_string(tooltip)))

    def _widget(self, entries: str, x: float, y: float, w: float, h: float, appearance: int, *,
                mk: str = MK_FIELD) -> None:
        """A field and its widget in one dictionary. Its white box and grey border are drawn on the
        page as well as in the widget, so the box shows whatever a viewer does to appearances.
        ``appearance``: the form it shows now (what a combined PDF draws in its place)."""
        self.ops.append(f"/Artifact BMC 1 g {FIELD_BORDER} G 0.5 w {num(x + 0.25)} {num(y + 0.25)} {num(w - 0.5)} "
                        f"{num(h - 0.5)} re B EMC")
        number = self.pdf.reserve()
        parent = self.structure.annotation(number, "")
        self.pdf.put(number, f"<< /Subtype /Widget /F 4 /Rect [{num(x)} {num(y)} {num(x + w)} {num(y + h)}] "
                             f"/P {ref(self.page_ref)} /StructParent {parent} {mk} {entries} >>")
        self.annots.append(number)
        self.fields.append(number)
        self.drawn.append((x, y, appearance))

    def checkbox(self, name: str, tooltip: str, x: float, y: float, size: float, checked: bool) -> None:
        on, off = self._box_appearances(size)
        state = YES if checked else OFF
        self._widget(f"{FT} {BTN} {T} {text(name)} {TU} {self._tooltip(tooltip)} {V} {state} {AS} {state} "
                     f"{DA} (/ZaDb 0 Tf 0 g) {AP} << /N << {YES} {ref(on)} {OFF} {ref(off)} >> >>",
                     x, y, size, size, on if checked else off, mk=MK_BOX)
        self.values[name] = checked

    def _box_appearances(self, size: float) -> tuple[int, int]:
        """The ticked and empty appearances of a check box of ``size``, shared by every box of
        that size: a grey-bordered square, with a cross when ticked."""
        if size not in self._boxes:
            frame = f"1 g {FIELD_BORDER} G 0.5 w 0.25 0.25 {num(size - 0.5)} {num(size - 0.5)} re B"
            cross = f" 0 G 1 w 2.5 2.5 m {num(size - 2.5)} {num(size - 2.5)} l 2.5 {num(size - 2.5)} m {num(size - 2.5)} 2.5 l S"
            entries = f"/Type /XObject /Subtype /Form /BBox [0 0 {num(size)} {num(size)}]"
            self._boxes[size] = (self.pdf.stream(entries, (frame + cross).encode(), compress=False),
                                 self.pdf.stream(entries, frame.encode(), compress=False))
        return self._boxes[size]

    def textfield(self, name: str, tooltip: str, x: float, y: float, w: float, h: float, *, multiline: bool,
                  value: str) -> None:
        entries = f"{FT} {TX} {T} {text(name)} {TU} {self._tooltip(tooltip)}"
        if multiline:
            entries += f" {FF} {MULTILINE}"
        else:  # a viewer shrinks what a person types to fit, as the appearance below does
            entries += f" {DA} (/F1 0 Tf 0 g)"
        if value:
            entries += f" {V} {text(value)}"
        shown = self._appearance(w, h, multiline, value)
        self._widget(f"{entries} {AP} << /N {ref(shown)} >>", x, y, w, h, shown)
        self.values[name] = value

    def choice(self, name: str, tooltip: str, x: float, y: float, w: float, h: float, f: ChoiceField,
               value: str | None) -> None:
        if id(f) not in self._options:  # one options array per field, shared by its rows
            self._options[id(f)] = self.pdf.add(
                "[" + " ".join(f"[{text(o.value)} {text(o.label)}]" for o in f.choices) + "]")
        entries = (f"{FT} {CH} {FF} {COMBO} {T} {text(name)} {TU} {self._tooltip(tooltip)} "
                   f"{OPT} {ref(self._options[id(f)])} {DA} (/F1 0 Tf 0 g)")
        if value:
            entries += f" {V} {text(value)}"
        shown = self._appearance(w, h, False, display(f, value))
        self._widget(f"{entries} {AP} << /N {ref(shown)} >>", x, y, w, h, shown)
        self.values[name] = value if value is not None else ""

    def _appearance(self, w: float, h: float, multiline: bool, shown: str) -> int:
        """A field's normal appearance: the value in DejaVu Sans, on nothing (its white box and
        border are on the page, so a viewer that redraws the field after an edit keeps them)."""
        ops = ["/Tx BMC"]
        if shown:
            face = fonts.face(fonts.REGULAR)
            self.chars[fonts.REGULAR].update(shown)
            if multiline:
                ops.append(f"q 1 1 {num(w - 2)} {num(h - 2)} re W n BT /F1 {FIELD_SIZE} Tf 0 g")
                for j, line in enumerate(_wrapped(shown, w, self.wrapped)):
                    y = h - 2 - (j + 1) * LINE
                    if y < 1:
                        break
                    ops.append(f"1 0 0 1 3 {num(y)} Tm {face.encode(line)} Tj")
            else:
                line = shown.split("\n")[0]
                size = fitting_size(line, w)
                ops.append(f"q 1 1 {num(w - 2)} {num(h - 2)} re W n BT /F1 {num(size)} Tf 0 g")
                ops.append(f"1 0 0 1 3 {num((h - size) / 2 + size / 6)} Tm {face.encode(line)} Tj")
            ops.append("ET Q")
        ops.append("EMC")
        return self.pdf.stream(f"/Type /XObject /Subtype /Form /BBox [0 0 {num(w)} {num(h)}] "
                               f"/Resources {self.font_resources}", " ".join(ops).encode("latin-1"))

    def write_fonts(self) -> None:
        super().write_fonts()
        self.pdf.put(self.helv, "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>")
        self.pdf.put(self.zadb, "<< /Type /Font /Subtype /Type1 /BaseFont /ZapfDingbats >>")


# -- layout -----------------------------------------------------------------------------------

def _rows(spec: FormSpec, values: dict, wrapped: dict) -> list[Row]:
    rows: list[Row] = []
    spec_text = partial(text_row, from_spec=True)  # titles, headings, help: laid out once a process
    for block in plan(spec):
        if isinstance(block, TitleBlock):  # the title is the first heading; a form's sections are the next level
            rows.append(spec_text(block.title, fonts.BOLD, 17, 0, True, TITLE_COLOUR, roles=("H1",)))
            for line in filter(None, (block.subtitle, block.organisation)):
                rows.append(spec_text(line, fonts.REGULAR, 11, 0, True, SUBTITLE_COLOUR))
        elif isinstance(block, HeadingBlock):
            size = 13 if block.level == 1 else 11
            rows.append(spec_text(block.text, fonts.BOLD, size, 10, True, TITLE_COLOUR, roles=(f"H{block.level + 1}",)))
        elif isinstance(block, TextBlock):
            rows.append(spec_text(block.text, fonts.ITALIC, 8.5, 0, True, GREY))
        elif isinstance(block, AgendaBlock):
            for i, item in enumerate(block.items, 1):
                rows.append(spec_text(f"{i}.  {item}", fonts.REGULAR, 9.5, 0, False, roles=("LI", "LBody"), group=block,
                                      group_role="L"))
        elif isinstance(block, TablePlan):
            widths = [w / 20 for w in block.widths]
            for r, cells in enumerate(block.rows):
                rows.append(_table_row(cells, widths, values, wrapped, header=r < block.header_rows, group=block))
            rows.append(space(8))
        elif isinstance(block, RepeatPlan):
            rows += _repeat_rows(block, values, wrapped)
    return rows


def _table_row(cells: list, widths: list[float], values: dict, wrapped: dict, *, header: bool = False,
               names: list[str] | None = None, group: object = None) -> Row:
    """One table row: labels wrap, fields get the height their type and content need."""
    heights, label_lines = [], {}
    for i, cell in enumerate(cells):
        w = widths[i] if i < len(widths) else widths[-1]
        if isinstance(cell, Label):
            label_lines[i] = wrap_spec_text(cell.text, fonts.BOLD, LABEL_SIZE, w - 2 * PAD) if cell.text else ()
            heights.append(len(label_lines[i]) * 11 + 2 * PAD)
        else:
            value = value_at(values, cell.path) if names is None else values.get(cell.field.key)
            heights.append(_field_height(cell.field, value, w, wrapped))
    height = max(heights + [16])

    def draw(c: FormCanvas, y_top: float) -> None:
        x = MARGIN
        tr = c.structure.open("TR")
        for i, cell in enumerate(cells):
            w = widths[i] if i < len(widths) else widths[-1]
            if isinstance(cell, Label):
                scope = "/Column" if header or cell.header else "/Row"
                c.structure.open("TH" if cell.text else "TD", f"/A << /O /Table /Scope {scope} >>" if cell.text else "")
                shade = HEADER_FILL if (header or cell.header) else (LABEL_FILL if cell.text else None)
                c.rect(x, y_top - height, w, height, fill=shade)
                for j, line in enumerate(label_lines[i]):
                    c.text(fonts.BOLD, LABEL_SIZE, x + PAD, y_top - PAD - 8 - j * 11, line)
            else:
                c.structure.open("TD")
                name = names[i] if names is not None else field_name(cell.path)
                value = value_at(values, cell.path) if names is None else values.get(cell.field.key)
                _draw_field(c, cell.field, name, value, x + PAD, y_top - height + PAD, w - 2 * PAD, height - 2 * PAD)
            c.structure.close(c.structure.current)
            c.rect(x, y_top - height, w, height, stroke=(0.5, 0.5, 0.5))
            x += w
        c.structure.close(tr)

    return Row(height, draw, keep_with_next=header, group=group, group_role="Table" if group is not None else "")


def _repeat_rows(r: RepeatPlan, values: dict, wrapped: dict) -> list[Row]:
    widths = [w / 20 for w in r.widths]
    out = [_table_row([Label(h, header=True) for h in r.headers], widths, values, wrapped, header=True, group=r)]
    filled = value_at(values, r.path) or []
    for i in range(r.row_count(filled)):
        row_values = filled[i] if i < len(filled) else {}
        cells = ([Label(str(i + 1))] if r.field.numbered else []) + [Slot(f"{r.path}[].{f.key}", f) for f in r.field.fields]
        names = ([""] if r.field.numbered else []) + [field_name(f"{r.path}.{i}.{f.key}") for f in r.field.fields]
        out.append(_table_row(cells, widths, row_values, wrapped, names=names, group=r))
    out.append(space(8))
    return out


def _wraps(f, value: object, width: float) -> bool:
    """Does this field show its value on several lines: a multi-line field, or a one-line text
    whose value does not fit even shrunk (it then grows, rather than be cut off)?"""
    if isinstance(f, (LongTextField, ListField)):
        return True
    return isinstance(f, TextField) and bool(value) and not fits_one_line(display(f, value), width - 2 * PAD)


def _field_height(f, value: object, width: float, wrapped: dict) -> float:
    if isinstance(f, MultiChoiceField):
        return len(f.choices) * 13 + 2 * PAD
    if _wraps(f, value, width):
        shown = display(f, value)
        lines = len(_wrapped(shown, width - 2 * PAD, wrapped)) if shown else 0
        least = 40 if isinstance(f, (LongTextField, ListField)) else 18
        return min(max(least, lines * LINE + 6 + 2 * PAD), 500)
    if isinstance(f, (DateField, DateTimeField)):
        return 18 + HINT_ROOM + 2 * PAD
    return 18 + 2 * PAD


def _draw_field(c: FormCanvas, f, name: str, value: object, x: float, y: float, w: float, h: float) -> None:
    if isinstance(f, CheckboxField):
        c.checkbox(name, c.title(name), x, y + h - 13, 11, bool(value))
        return
    if isinstance(f, MultiChoiceField):
        chosen = set(value or [])
        tooltip = c.title(name)
        for i, o in enumerate(f.choices):
            oy = y + h - (i + 1) * 13
            c.checkbox(f"{name}/{option_segment(o.value)}", f"{tooltip}: {o.label}", x, oy, 10, o.value in chosen)
            c.text(fonts.REGULAR, FIELD_SIZE, x + 14, oy + 2, o.label)
        return
    multiline = _wraps(f, value, w + 2 * PAD)
    field_h = h if multiline else 18
    fy = y + h - field_h
    if isinstance(f, ChoiceField):
        c.choice(name, c.title(name), x, fy, w, field_h, f, value)
        return
    tooltip = c.title(name) + (f" ({HINTS[f.type]})" if f.type in HINTS else "")
    c.textfield(name, tooltip, x, fy, w, field_h, multiline=multiline, value=display(f, value))
    if isinstance(f, (DateField, DateTimeField)):  # the hint under the field, inside its cell
        c.text(fonts.REGULAR, HINT_SIZE, x + w - 1, fy - HINT_SIZE - 1, HINTS[f.type], (0.45, 0.45, 0.45),
               align="right")


# -- the document -----------------------------------------------------------------------------

def _build(spec: FormSpec, data: dict | None, document_id: str | None, generated: datetime | None,
           brand: Brand | None = None, keep_source: bool = False):
    values = complete(spec, data)
    wrapped: dict = {}  # the values' lines, measured once for both the layout and the drawing
    pages = paginate(_rows(spec, values, wrapped))
    pdf = PdfFile()
    c = FormCanvas(pdf, spec, brand, wrapped)
    root, info, acroform = pdf.reserve(), pdf.reserve(), pdf.reserve()
    pages_ref = write_pages(c, pages)
    pdf.put(acroform, f"<< {FIELDS} [{' '.join(ref(f) for f in c.fields)}] {DA} (/F1 {FIELD_SIZE} Tf 0 g) "
                      f"{DR} << /Font << /F1 {ref(c.font_refs[fonts.REGULAR])} /Helv {ref(c.helv)} "
                      f"/ZaDb {ref(c.zadb)} >> >> >>")
    pdf.put(root, f"<< /Type /Catalog /Pages {ref(pages_ref)} {ACROFORM} {ref(acroform)} /Lang (en-GB) "
                  f"/ViewerPreferences << /DisplayDocTitle true >> {c.catalog_entries(spec.title)} >>")
    identity = Identity.new(spec, document_id, generated)
    entries = [(INFO_TITLE, spec.title), (INFO_SUBJECT, f"{spec.organisation} – {spec.id} {spec.version}"),
               (INFO_CREATOR, "Step Down Forms"), (INFO_PRODUCER, "Step Down Forms"),
               *((f"/{name}", value) for name, value in identity.properties())]
    created = identity.generated.replace("-", "").replace("T", "").replace(":", "")  # D:YYYYMMDDHHmmSSZ
    pdf.put(info, "<< " + " ".join(f"{k} {text(v)}" for k, v in entries) + f" /CreationDate {text('D:' + created)} >>")
    file_id = uuid.UUID(identity.document_id).hex.upper() if _is_uuid(identity.document_id) else uuid.uuid4().hex.upper()
    source = source_of(pdf, c) if keep_source else None
    return pdf.output(root, info, file_id), c.values, source


def _is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


def generate_pdf(spec: FormSpec, data: dict | None = None, *, document_id: str | None = None,
                 generated: datetime | None = None, brand: Brand | None = None) -> bytes:
    """A fillable PDF of ``spec``, prefilled with ``data`` (checked with validate(partial=True)),
    with an organisation's ``brand`` (its shell's logo, header and footer) in the margins."""
    return _build(spec, data, document_id, generated, brand)[0]


def generate_pdf_source(spec: FormSpec, data: dict | None = None, *, document_id: str | None = None,
                        generated: datetime | None = None, brand: Brand | None = None) -> tuple[bytes, PdfSource]:
    """``generate_pdf``, and the document's objects for a combined PDF (``assemble.combine``)."""
    raw, _, source = _build(spec, data, document_id, generated, brand, keep_source=True)
    return raw, source


def field_values(spec: FormSpec, data: dict | None = None) -> dict[str, object]:
    """Field name -> the value the PDF holds for ``data``: text as shown, True/False for check
    boxes, export values for choices (what a person filling the form in a viewer enters)."""
    return _build(spec, data, None, None)[1]

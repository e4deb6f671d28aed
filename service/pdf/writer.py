"""Generate a fillable PDF (AcroForm) from a spec, laid out like the Word version.

reportlab draws the page (text in embedded DejaVu Sans, so Welsh, Greek and Cyrillic labels
print) and creates the fields, empty; pypdf then fills in the prefill values. (reportlab
crashes on prefilled values beyond Latin-1 and on empty choices, see ../shared/ROUNDTRIP.md.)

Pages are laid out in two passes: rows are measured and put on pages first, so "Page x of y"
is known before anything is drawn, and a label never parts from its field.

Field names are the field paths with '/' between segments (``safety/fire_setting/answer``,
``actions/2/due_date``, ``supports_needed/advocate``): a dot inside a PDF field name would be
read as the PDF's own hierarchy. Each field's tooltip is its label (read aloud by screen
readers) and fields are created in reading order, which is the tab order.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from io import BytesIO

from reportlab.lib.pagesizes import A4
from reportlab.lib.utils import simpleSplit
from reportlab.pdfgen import canvas as rl_canvas

from ..convert import display
from ..layout import (
    AgendaBlock, HeadingBlock, Label, RepeatPlan, Slot, TablePlan, TextBlock, TitleBlock, field_title, plan,
)
from ..shape import complete, value_at
from ..spec.model import (
    CheckboxField, ChoiceField, DateField, DateTimeField, FormSpec, ListField, LongTextField, MultiChoiceField,
)
from . import fonts
from .names import AP, AS, BTN, CH, FT, OFF, T, V, field_name

PAGE_W, PAGE_H = A4
MARGIN = 56.69  # 2 cm
TEXT_W = PAGE_W - 2 * MARGIN
TOP, BOTTOM = PAGE_H - MARGIN, MARGIN + 18  # room for the footer
PAD = 3
LABEL_SIZE, FIELD_SIZE = 9, 9
HEADER_FILL, LABEL_FILL = (0.85, 0.89, 0.95), (0.95, 0.95, 0.95)
HINTS = {"date": "DD/MM/YYYY", "datetime": "DD/MM/YYYY HH:MM"}
LINE = FIELD_SIZE + 2  # line height inside a multi-line field


def _wrapped(text: str, field_width: float) -> list[str]:
    """The lines a multi-line field shows: its paragraphs wrapped to the field, in the font that
    draws them (measuring and drawing with the same metrics keeps every line inside the box)."""
    return [ln for para in text.split("\n") for ln in (simpleSplit(para, fonts.REGULAR, FIELD_SIZE, field_width - 6) or [""])]


@dataclass
class _Row:
    height: float
    draw: object  # callable(canvas, y_top)
    keep_with_next: bool = False


@dataclass
class _Fill:
    """Values for pypdf to put in once the fields exist: field name -> value."""

    values: dict[str, object] = field(default_factory=dict)
    choices: set[str] = field(default_factory=set)
    boxes: dict[str, tuple[float, float, bool, str]] = field(default_factory=dict)  # name -> w, h, multiline, shown
    spec: FormSpec | None = None

    def title(self, name: str) -> str:
        """The tooltip for a field name ('attendees/2/name' -> 'Attendees, row 3: Name')."""
        parts = name.split("/")
        row = next((int(p) for p in parts if p.isdigit()), None)
        path = ".".join(p for p in parts if not p.isdigit())
        return field_title(self.spec, path.replace(".", "[].", 1) if row is not None else path, row)


def generate_pdf_fields(spec: FormSpec, data: dict | None = None, *, document_id: str | None = None,
                        generated: datetime | None = None):
    """The PDF with empty fields, the values to fill in, the identity for its metadata, and each
    text or choice field's box (for its appearance)."""
    fonts.register()
    values = complete(spec, data)
    fill = _Fill()
    rows = _rows(spec, values, fill)
    pages = _paginate(rows)
    buf = BytesIO()
    c = rl_canvas.Canvas(buf, pagesize=A4, pageCompression=1)
    when = (generated or datetime.now(timezone.utc)).astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    identity = {"/StepDownForm": spec.id, "/StepDownSpecVersion": spec.version,
                "/StepDownDocumentId": document_id or str(uuid.uuid4()), "/StepDownGenerated": when}
    c.setTitle(spec.title)
    c.setSubject(f"{spec.organisation} – {spec.id} {spec.version}")
    c.setCreator("Step Down Forms")
    for number, page in enumerate(pages, start=1):
        y = TOP
        for row in page:
            row.draw(c, y)
            y -= row.height
        c.setFont(fonts.REGULAR, 8)
        c.drawCentredString(PAGE_W / 2, MARGIN - 4, f"Page {number} of {len(pages)}")
        c.showPage()
    c.save()
    return buf.getvalue(), fill.values, identity, fill.boxes


# -- rows -------------------------------------------------------------------------------------

def _text_row(text: str, font: str, size: float, space_before: float, keep: bool, colour=(0, 0, 0)) -> _Row:
    lines = simpleSplit(text, font, size, TEXT_W)
    height = space_before + len(lines) * size * 1.25 + 4

    def draw(c, y):
        c.setFillColorRGB(*colour)
        c.setFont(font, size)
        for i, line in enumerate(lines):
            c.drawString(MARGIN, y - space_before - (i + 1) * size * 1.2, line)
        c.setFillColorRGB(0, 0, 0)

    return _Row(height, draw, keep)


def _rows(spec: FormSpec, values: dict, fill: _Fill) -> list[_Row]:
    fill.spec = spec
    rows: list[_Row] = []
    for block in plan(spec):
        if isinstance(block, TitleBlock):
            rows.append(_text_row(block.title, fonts.BOLD, 17, 0, True, (0.12, 0.22, 0.39)))
            for line in filter(None, (block.subtitle, block.organisation)):
                rows.append(_text_row(line, fonts.REGULAR, 11, 0, True, (0.27, 0.33, 0.42)))
        elif isinstance(block, HeadingBlock):
            size = 13 if block.level == 1 else 11
            rows.append(_text_row(block.text, fonts.BOLD, size, 10, True, (0.12, 0.22, 0.39)))
        elif isinstance(block, TextBlock):
            rows.append(_text_row(block.text, fonts.ITALIC, 8.5, 0, True, (0.35, 0.35, 0.35)))
        elif isinstance(block, AgendaBlock):
            for i, item in enumerate(block.items, 1):
                rows.append(_text_row(f"{i}.  {item}", fonts.REGULAR, 9.5, 0, False))
        elif isinstance(block, TablePlan):
            widths = [w / 20 for w in block.widths]
            for r, cells in enumerate(block.rows):
                rows.append(_table_row(cells, widths, values, fill, header=r < block.header_rows))
            rows.append(_Row(8, lambda c, y: None))
        elif isinstance(block, RepeatPlan):
            rows += _repeat_rows(block, values, fill)
    return rows


def _table_row(cells: list, widths: list[float], values: dict, fill: _Fill, *, header: bool = False,
               names: list[str] | None = None) -> _Row:
    """One table row: labels wrap, fields get the height their type and content need."""
    heights = []
    for i, cell in enumerate(cells):
        w = widths[i] if i < len(widths) else widths[-1]
        if isinstance(cell, Label):
            heights.append(len(simpleSplit(cell.text, fonts.BOLD, LABEL_SIZE, w - 2 * PAD)) * 11 + 2 * PAD)
        else:
            value = value_at(values, cell.path) if names is None else values.get(cell.field.key)
            heights.append(_field_height(cell.field, value, w))
    height = max(heights + [16])

    def draw(c, y_top):
        x = MARGIN
        for i, cell in enumerate(cells):
            w = widths[i] if i < len(widths) else widths[-1]
            if isinstance(cell, Label):
                shade = HEADER_FILL if (header or cell.header) else (LABEL_FILL if cell.text else None)
                if shade:
                    c.setFillColorRGB(*shade)
                    c.rect(x, y_top - height, w, height, stroke=0, fill=1)
                    c.setFillColorRGB(0, 0, 0)
                c.setFont(fonts.BOLD, LABEL_SIZE)
                for j, line in enumerate(simpleSplit(cell.text, fonts.BOLD, LABEL_SIZE, w - 2 * PAD)):
                    c.drawString(x + PAD, y_top - PAD - 8 - j * 11, line)
            else:
                name = names[i] if names is not None else field_name(cell.path)
                value = value_at(values, cell.path) if names is None else values.get(cell.field.key)
                _draw_field(c, cell.field, name, value, x + PAD, y_top - height + PAD, w - 2 * PAD,
                            height - 2 * PAD, fill)
            c.setStrokeColorRGB(0.5, 0.5, 0.5)
            c.setLineWidth(0.5)
            c.rect(x, y_top - height, w, height, stroke=1, fill=0)
            x += w

    return _Row(height, draw, keep_with_next=header)


def _repeat_rows(r: RepeatPlan, values: dict, fill: _Fill) -> list[_Row]:
    widths = [w / 20 for w in r.widths]
    out = [_table_row([Label(h, header=True) for h in r.headers], widths, values, fill, header=True)]
    filled = value_at(values, r.path) or []
    count = r.row_count(filled)
    for i in range(count):
        row_values = filled[i] if i < len(filled) else {}
        cells = ([Label(str(i + 1))] if r.field.numbered else []) + [Slot(f"{r.path}[].{f.key}", f) for f in r.field.fields]
        names = ([""] if r.field.numbered else []) + [field_name(f"{r.path}.{i}.{f.key}") for f in r.field.fields]
        out.append(_table_row(cells, widths, row_values, fill, names=names))
    out.append(_Row(8, lambda c, y: None))
    return out


def _field_height(f, value: object, width: float) -> float:
    if isinstance(f, MultiChoiceField):
        return len(f.choices) * 13 + 2 * PAD
    if isinstance(f, (LongTextField, ListField)):
        text = display(f, value)
        lines = len(_wrapped(text, width - 2 * PAD)) if text else 0
        return min(max(40, lines * LINE + 6 + 2 * PAD), 500)
    return 18 + 2 * PAD


def _draw_field(c, f, name: str, value: object, x: float, y: float, w: float, h: float, fill: _Fill) -> None:
    form = c.acroForm
    common = dict(borderWidth=0.5, borderColor=_grey(0.6), fillColor=_grey(1), textColor=_grey(0))
    if isinstance(f, CheckboxField):
        form.checkbox(name=name, tooltip=fill.title(name), x=x, y=y + h - 13, size=11, buttonStyle="cross",
                      fieldFlags="", checked=False, **common)
        fill.values[name] = bool(value)
        return
    if isinstance(f, MultiChoiceField):
        chosen = set(value or [])
        c.setFont(fonts.REGULAR, FIELD_SIZE)
        for i, o in enumerate(f.choices):
            oy = y + h - (i + 1) * 13
            option_name = f"{name}/{o.value.replace('.', '%2E')}"
            form.checkbox(name=option_name, tooltip=f"{fill.title(name)}: {o.label}", x=x, y=oy, size=10,
                          buttonStyle="cross", fieldFlags="", checked=False, **common)
            c.drawString(x + 14, oy + 2, o.label)
            fill.values[option_name] = o.value in chosen
        return
    field_h = min(h, 18) if not isinstance(f, (LongTextField, ListField)) else h
    fy = y + h - field_h
    if isinstance(f, ChoiceField):
        form.choice(name=name, tooltip=fill.title(name), x=x, y=fy, width=w, height=field_h, fieldFlags="combo",
                    options=[(o.label, o.value) for o in f.choices], value=f.choices[0].value,
                    fontName="Helvetica", fontSize=FIELD_SIZE, **common)
        fill.values[name] = value if value is not None else ""
        fill.choices.add(name)
        fill.boxes[name] = (w, field_h, False, display(f, value))
        return
    tooltip = fill.title(name) + (f" ({HINTS[f.type]})" if f.type in HINTS else "")
    flags = "multiline" if isinstance(f, (LongTextField, ListField)) else ""
    form.textfield(name=name, tooltip=tooltip, x=x, y=fy, width=w, height=field_h, fieldFlags=flags,
                   maxlen=None, fontName="Helvetica", fontSize=FIELD_SIZE, value="", **common)
    if isinstance(f, (DateField, DateTimeField)) and not value:
        c.setFont(fonts.REGULAR, 6)
        c.setFillColorRGB(0.55, 0.55, 0.55)
        c.drawRightString(x + w - 2, fy + field_h + 1, HINTS[f.type])
        c.setFillColorRGB(0, 0, 0)
    fill.values[name] = display(f, value)
    fill.boxes[name] = (w, field_h, bool(flags), display(f, value))


def _grey(level: float):
    from reportlab.lib.colors import Color

    return Color(level, level, level)


def _paginate(rows: list[_Row]) -> list[list[_Row]]:
    """Rows onto pages; a row marked keep_with_next moves with the row after it."""
    pages: list[list[_Row]] = [[]]
    space = TOP - BOTTOM
    i = 0
    while i < len(rows):
        group = [rows[i]]
        while group[-1].keep_with_next and i + len(group) < len(rows):
            group.append(rows[i + len(group)])
        need = sum(r.height for r in group)
        if need > space and pages[-1]:
            pages.append([])
            space = TOP - BOTTOM
        for r in group:
            pages[-1].append(r)
            space -= r.height
        i += len(group)
    return pages


def generate_pdf(spec: FormSpec, data: dict | None = None, *, document_id: str | None = None,
                 generated: datetime | None = None) -> bytes:
    """A fillable PDF of ``spec``, prefilled with ``data`` (checked with validate(partial=True))."""
    from pypdf import PdfReader, PdfWriter
    from pypdf.generic import DictionaryObject, NameObject, TextStringObject

    raw, values, identity, boxes = generate_pdf_fields(spec, data, document_id=document_id, generated=generated)
    writer = PdfWriter(clone_from=PdfReader(BytesIO(raw)))
    appearances = _appearances(boxes)
    for page in writer.pages:
        for ref in page.get("/Annots") or []:
            widget = ref.get_object()
            name = widget.get(T)
            if name not in values:
                continue
            value = values[name]
            kind = widget.get(FT)
            if kind == BTN:
                on = next((k for k in widget[AP]["/N"] if k != OFF), "/Yes")
                state = NameObject(on if value else OFF)
                widget[NameObject(V)] = state
                widget[NameObject(AS)] = state
            elif kind == CH and not value:
                widget.pop(NameObject(V), None)
            else:
                if value:
                    widget[NameObject(V)] = TextStringObject(value)
                elif kind == CH:
                    widget[NameObject(V)] = TextStringObject("")
                if name in appearances:
                    widget[NameObject(AP)] = DictionaryObject({NameObject("/N"): appearances[name].clone(writer)})
    writer.set_need_appearances_writer(False)
    writer.add_metadata({"/Title": spec.title, "/Creator": "Step Down Forms", **identity})
    out = BytesIO()
    writer.write(out)
    return out.getvalue()


def _appearances(boxes: dict[str, tuple[float, float, bool, str]]) -> dict:
    """Each filled text or choice field's normal appearance, drawn by reportlab in embedded
    DejaVu Sans (so Welsh accents, £, – and ’, Greek and Cyrillic show in every viewer without a
    click, which pypdf's Helvetica appearances cannot do), as Form XObjects to clone into the form."""
    from pypdf import PdfReader

    shown = {name: box for name, box in boxes.items() if box[3]}
    if not shown:
        return {}
    buf = BytesIO()
    c = rl_canvas.Canvas(buf, pagesize=A4, pageCompression=1)
    keys = {}
    for i, (name, (w, h, multiline, text)) in enumerate(shown.items()):
        key = f"ap{i}"
        keys[name] = f"/FormXob.{key}"
        c.beginForm(key, lowerx=0, lowery=0, upperx=w, uppery=h)
        c.setFillColorRGB(1, 1, 1)
        c.setStrokeColorRGB(0.6, 0.6, 0.6)
        c.setLineWidth(0.5)
        c.rect(0.25, 0.25, w - 0.5, h - 0.5, stroke=1, fill=1)
        c.setFillColorRGB(0, 0, 0)
        c.setFont(fonts.REGULAR, FIELD_SIZE)
        if multiline:
            for j, line in enumerate(_wrapped(text, w)):
                y = h - 2 - (j + 1) * LINE
                if y < 1:
                    break
                c.drawString(3, y, line)
        else:
            line = (simpleSplit(text, fonts.REGULAR, FIELD_SIZE, 10_000) or [""])[0]
            c.drawString(3, (h - FIELD_SIZE) / 2 + 1.5, line)
        c.endForm()
        c.doForm(key)
    c.showPage()
    c.save()
    xobjects = PdfReader(BytesIO(buf.getvalue())).pages[0]["/Resources"]["/XObject"]
    return {name: xobjects.raw_get(key) for name, key in keys.items()}

"""Generate a fillable PDF (AcroForm) from a spec, laid out like the Word version.

The PDF is written directly (``objects.py`` for the syntax, ``fonts.py`` for the embedded
DejaVu Sans subsets): page text in DejaVu so Welsh, Greek and Cyrillic labels print, and every
field with its value and its appearance already drawn in DejaVu, so a prefilled value shows in
any viewer without a click. An earlier version drew with reportlab and filled with pypdf; it
took 100 ms for the Key Criteria form, most of it in the two libraries' object models, where
this takes a few (docs/performance.md).

Pages are laid out in two passes: rows are measured and put on pages first, so "Page x of y"
is known before anything is drawn, and a label never parts from its field.

Field names are the field paths with '/' between segments (``safety/fire_setting/answer``,
``actions/2/due_date``, ``supports_needed/advocate``): a dot inside a PDF field name would be
read as the PDF's own hierarchy. Each field's tooltip is its label (read aloud by screen
readers) and fields are created in reading order, which is the tab order. A field's default
appearance (/DA) is Helvetica, which every viewer has, for the text a person types later.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timezone

from ..convert import display
from ..layout import (
    AgendaBlock, HeadingBlock, Label, RepeatPlan, Slot, TablePlan, TextBlock, TitleBlock, field_title, plan,
)
from ..shape import complete, value_at
from ..spec.model import (
    CheckboxField, ChoiceField, DateField, DateTimeField, FormSpec, ListField, LongTextField, MultiChoiceField,
)
from . import fonts
from .names import field_name, option_segment
from .objects import PdfFile, num, ref, text

PAGE_W, PAGE_H = 595.2756, 841.8898  # A4
MARGIN = 56.69  # 2 cm
TEXT_W = PAGE_W - 2 * MARGIN
TOP, BOTTOM = PAGE_H - MARGIN, MARGIN + 18  # room for the footer
PAD = 3
LABEL_SIZE, FIELD_SIZE = 9, 9
HEADER_FILL, LABEL_FILL = (0.85, 0.89, 0.95), (0.95, 0.95, 0.95)
BORDER, FIELD_BORDER = 0.5, 0.6
HINTS = {"date": "DD/MM/YYYY", "datetime": "DD/MM/YYYY HH:MM"}
LINE = FIELD_SIZE + 2  # line height inside a multi-line field
COMBO, MULTILINE = 1 << 17, 1 << 12
RESOURCE = {fonts.REGULAR: "F1", fonts.BOLD: "F2", fonts.ITALIC: "F3"}


def wrap(value: str, font: str, size: float, width: float) -> list[str]:
    """Greedy word wrap in the font that draws the text; a word wider than the line is broken."""
    face = fonts.face(font)
    space = face.width(" ", size)
    lines: list[str] = []
    for para in value.split("\n"):
        line: list[str] = []
        used = 0.0
        for word in para.split():
            ww = face.width(word, size)
            if line and used + space + ww <= width:
                line.append(word)
                used += space + ww
                continue
            if line:
                lines.append(" ".join(line))
            if ww > width:  # a word longer than the line is cut, in one pass however long it is
                *whole, word = _cut(face, word, size, width)
                lines += whole
                ww = face.width(word, size)
            line, used = [word], ww
        lines.append(" ".join(line))
    return lines


def _cut(face: fonts.Face, word: str, size: float, width: float) -> list[str]:
    pieces, start, used = [], 0, 0.0
    for i, ch in enumerate(word):
        w = face.advance.get(ch, face.missing_width) * size / 1000
        if used + w > width and i > start:
            pieces.append(word[start:i])
            start, used = i, 0.0
        used += w
    pieces.append(word[start:])
    return pieces


def _wrapped(value: str, field_width: float) -> list[str]:
    """The lines a multi-line field shows: its paragraphs wrapped to the field, in the font that
    draws them (measuring and drawing with the same metrics keeps every line inside the box)."""
    return wrap(value, fonts.REGULAR, FIELD_SIZE, field_width - 6)


def _rgb(colour: tuple[float, float, float], op: str) -> str:
    return f"{colour[0]:g} {colour[1]:g} {colour[2]:g} {op}"


class _Canvas:
    """Page content as PDF operators, and the fields, for one document."""

    def __init__(self, pdf: PdfFile, spec: FormSpec) -> None:
        self.pdf, self.spec = pdf, spec
        self.font_refs = {name: pdf.reserve() for name in RESOURCE}
        self.helv, self.zadb = pdf.reserve(), pdf.reserve()
        self.chars: dict[str, set[str]] = {name: set() for name in RESOURCE}
        self.ops: list[str] = []
        self.annots: list[int] = []
        self.page_ref = 0
        self.fields: list[int] = []
        self.values: dict[str, object] = {}  # field name -> value as entered (text, bool, export value)
        self._boxes: dict[float, tuple[int, int]] = {}
        self._options: dict[int, int] = {}
        self.font_resources = "<< /Font << " + " ".join(f"/{RESOURCE[n]} {ref(r)}" for n, r in self.font_refs.items()) + " >> >>"

    # -- drawing --------------------------------------------------------------------------
    def text(self, font: str, size: float, x: float, y: float, s: str, colour=(0, 0, 0), align: str = "left") -> None:
        if not s:
            return
        self.chars[font].update(s)
        face = fonts.face(font)
        if align != "left":
            x -= face.width(s, size) / (2 if align == "centre" else 1)
        self.ops.append(f"{_rgb(colour, 'rg')} BT /{RESOURCE[font]} {num(size)} Tf 1 0 0 1 {num(x)} {num(y)} Tm "
                        f"{face.encode(s)} Tj ET")

    def rect(self, x: float, y: float, w: float, h: float, *, fill=None, stroke=None) -> None:
        if fill:
            self.ops.append(f"{_rgb(fill, 'rg')} {num(x)} {num(y)} {num(w)} {num(h)} re f")
        if stroke:
            self.ops.append(f"{_rgb(stroke, 'RG')} {BORDER} w {num(x)} {num(y)} {num(w)} {num(h)} re S")

    # -- fields -----------------------------------------------------------------------------
    def title(self, name: str) -> str:
        """The tooltip for a field name ('attendees/2/name' -> 'Attendees, row 3: Name')."""
        parts = name.split("/")
        row = next((int(p) for p in parts if p.isdigit()), None)
        path = ".".join(p for p in parts if not p.isdigit())
        return field_title(self.spec, path.replace(".", "[].", 1) if row is not None else path, row)

    def _tooltip(self, tooltip: str) -> str:
        """The tooltip as an indirect string: viewers and screen readers follow the reference,
        and a reader that wants only names and values (ours) skips a third of the text."""
        return ref(self.pdf.add(text(tooltip)))

    def _widget(self, entries: str, x: float, y: float, w: float, h: float, *, box: bool = True) -> None:
        """A field and its widget in one dictionary; its white box and grey border go on the page."""
        if box:
            self.ops.append(f"1 g {FIELD_BORDER} G 0.5 w {num(x + 0.25)} {num(y + 0.25)} {num(w - 0.5)} {num(h - 0.5)} re B")
        number = self.pdf.add(f"<< /Subtype /Widget /F 4 "
                              f"/Rect [{num(x)} {num(y)} {num(x + w)} {num(y + h)}] {entries} >>")
        self.annots.append(number)
        self.fields.append(number)

    def checkbox(self, name: str, tooltip: str, x: float, y: float, size: float, checked: bool) -> None:
        on, off = self._box_appearances(size)
        state = "/Yes" if checked else "/Off"
        self._widget(f"/FT /Btn /T {text(name)} /TU {self._tooltip(tooltip)} /V {state} /AS {state} "
                     f"/AP << /N << /Yes {ref(on)} /Off {ref(off)} >> >>",
                     x, y, size, size, box=False)
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
        entries = f"/FT /Tx /T {text(name)} /TU {self._tooltip(tooltip)}"
        if multiline:
            entries += f" /Ff {MULTILINE}"
        if value:
            entries += f" /V {text(value)}"
        self._widget(f"{entries} /AP << /N {ref(self._appearance(w, h, multiline, value))} >>", x, y, w, h)
        self.values[name] = value

    def choice(self, name: str, tooltip: str, x: float, y: float, w: float, h: float, f: ChoiceField,
               value: str | None) -> None:
        if id(f) not in self._options:  # one options array per field, shared by its rows
            self._options[id(f)] = self.pdf.add(
                "[" + " ".join(f"[{text(o.value)} {text(o.label)}]" for o in f.choices) + "]")
        entries = f"/FT /Ch /Ff {COMBO} /T {text(name)} /TU {self._tooltip(tooltip)} /Opt {ref(self._options[id(f)])}"
        if value:
            entries += f" /V {text(value)}"
        self._widget(f"{entries} /AP << /N {ref(self._appearance(w, h, False, display(f, value)))} >>", x, y, w, h)
        self.values[name] = value if value is not None else ""

    def _appearance(self, w: float, h: float, multiline: bool, shown: str) -> int:
        """A field's normal appearance: the value in DejaVu Sans, on nothing (its white box and
        border are on the page, so a viewer that redraws the field after an edit keeps them)."""
        ops = ["/Tx BMC"]
        if shown:
            face = fonts.face(fonts.REGULAR)
            self.chars[fonts.REGULAR].update(shown)
            ops.append(f"q 1 1 {num(w - 2)} {num(h - 2)} re W n BT /F1 {FIELD_SIZE} Tf 0 g")
            if multiline:
                for j, line in enumerate(_wrapped(shown, w)):
                    y = h - 2 - (j + 1) * LINE
                    if y < 1:
                        break
                    ops.append(f"1 0 0 1 3 {num(y)} Tm {face.encode(line)} Tj")
            else:
                ops.append(f"1 0 0 1 3 {num((h - FIELD_SIZE) / 2 + 1.5)} Tm {face.encode(shown.split(chr(10))[0])} Tj")
            ops.append("ET Q")
        ops.append("EMC")
        return self.pdf.stream(f"/Type /XObject /Subtype /Form /BBox [0 0 {num(w)} {num(h)}] "
                               f"/Resources {self.font_resources}", " ".join(ops).encode("latin-1"))

    # -- fonts ------------------------------------------------------------------------------
    def write_fonts(self) -> None:
        pdf = self.pdf
        for name, number in self.font_refs.items():
            face = fonts.face(name)
            emb = fonts.embedding(name, fonts.blocks_of(name, self.chars[name]))
            file_ref = pdf.stream(f"/Length1 {emb.length1} /Filter /FlateDecode", emb.font_file, compress=False)
            descriptor = pdf.add(f"<< /Type /FontDescriptor /FontName /{emb.base_font} {face.descriptor} "
                                 f"/FontFile2 {ref(file_ref)} >>")
            cid = pdf.add(f"<< /Type /Font /Subtype /CIDFontType2 /BaseFont /{emb.base_font} /CIDSystemInfo "
                          f"<< /Registry (Adobe) /Ordering (Identity) /Supplement 0 >> /FontDescriptor {ref(descriptor)} "
                          f"/DW {round(face.missing_width)} /W {emb.widths} /CIDToGIDMap /Identity >>")
            cmap = pdf.stream("/Filter /FlateDecode", emb.to_unicode, compress=False)
            pdf.put(number, f"<< /Type /Font /Subtype /Type0 /BaseFont /{emb.base_font} /Encoding /Identity-H "
                            f"/DescendantFonts [{ref(cid)}] /ToUnicode {ref(cmap)} >>")
        pdf.put(self.helv, "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>")
        pdf.put(self.zadb, "<< /Type /Font /Subtype /Type1 /BaseFont /ZapfDingbats >>")


# -- layout -----------------------------------------------------------------------------------

@dataclass
class _Row:
    height: float
    draw: object  # callable(canvas, y_top)
    keep_with_next: bool = False


def _text_row(value: str, font: str, size: float, space_before: float, keep: bool, colour=(0, 0, 0)) -> _Row:
    lines = wrap(value, font, size, TEXT_W)
    height = space_before + len(lines) * size * 1.25 + 4

    def draw(c: _Canvas, y: float) -> None:
        for i, line in enumerate(lines):
            c.text(font, size, MARGIN, y - space_before - (i + 1) * size * 1.2, line, colour)

    return _Row(height, draw, keep)


def _rows(spec: FormSpec, values: dict) -> list[_Row]:
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
                rows.append(_table_row(cells, widths, values, header=r < block.header_rows))
            rows.append(_Row(8, lambda c, y: None))
        elif isinstance(block, RepeatPlan):
            rows += _repeat_rows(block, values)
    return rows


def _table_row(cells: list, widths: list[float], values: dict, *, header: bool = False,
               names: list[str] | None = None) -> _Row:
    """One table row: labels wrap, fields get the height their type and content need."""
    heights, label_lines = [], {}
    for i, cell in enumerate(cells):
        w = widths[i] if i < len(widths) else widths[-1]
        if isinstance(cell, Label):
            label_lines[i] = wrap(cell.text, fonts.BOLD, LABEL_SIZE, w - 2 * PAD) if cell.text else []
            heights.append(len(label_lines[i]) * 11 + 2 * PAD)
        else:
            value = value_at(values, cell.path) if names is None else values.get(cell.field.key)
            heights.append(_field_height(cell.field, value, w))
    height = max(heights + [16])

    def draw(c: _Canvas, y_top: float) -> None:
        x = MARGIN
        for i, cell in enumerate(cells):
            w = widths[i] if i < len(widths) else widths[-1]
            if isinstance(cell, Label):
                shade = HEADER_FILL if (header or cell.header) else (LABEL_FILL if cell.text else None)
                c.rect(x, y_top - height, w, height, fill=shade)
                for j, line in enumerate(label_lines[i]):
                    c.text(fonts.BOLD, LABEL_SIZE, x + PAD, y_top - PAD - 8 - j * 11, line)
            else:
                name = names[i] if names is not None else field_name(cell.path)
                value = value_at(values, cell.path) if names is None else values.get(cell.field.key)
                _draw_field(c, cell.field, name, value, x + PAD, y_top - height + PAD, w - 2 * PAD, height - 2 * PAD)
            c.rect(x, y_top - height, w, height, stroke=(0.5, 0.5, 0.5))
            x += w

    return _Row(height, draw, keep_with_next=header)


def _repeat_rows(r: RepeatPlan, values: dict) -> list[_Row]:
    widths = [w / 20 for w in r.widths]
    out = [_table_row([Label(h, header=True) for h in r.headers], widths, values, header=True)]
    filled = value_at(values, r.path) or []
    for i in range(r.row_count(filled)):
        row_values = filled[i] if i < len(filled) else {}
        cells = ([Label(str(i + 1))] if r.field.numbered else []) + [Slot(f"{r.path}[].{f.key}", f) for f in r.field.fields]
        names = ([""] if r.field.numbered else []) + [field_name(f"{r.path}.{i}.{f.key}") for f in r.field.fields]
        out.append(_table_row(cells, widths, row_values, names=names))
    out.append(_Row(8, lambda c, y: None))
    return out


def _field_height(f, value: object, width: float) -> float:
    if isinstance(f, MultiChoiceField):
        return len(f.choices) * 13 + 2 * PAD
    if isinstance(f, (LongTextField, ListField)):
        shown = display(f, value)
        lines = len(_wrapped(shown, width - 2 * PAD)) if shown else 0
        return min(max(40, lines * LINE + 6 + 2 * PAD), 500)
    return 18 + 2 * PAD


def _draw_field(c: _Canvas, f, name: str, value: object, x: float, y: float, w: float, h: float) -> None:
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
    multiline = isinstance(f, (LongTextField, ListField))
    field_h = h if multiline else min(h, 18)
    fy = y + h - field_h
    if isinstance(f, ChoiceField):
        c.choice(name, c.title(name), x, fy, w, field_h, f, value)
        return
    tooltip = c.title(name) + (f" ({HINTS[f.type]})" if f.type in HINTS else "")
    c.textfield(name, tooltip, x, fy, w, field_h, multiline=multiline, value=display(f, value))
    if isinstance(f, (DateField, DateTimeField)) and not value:
        c.text(fonts.REGULAR, 6, x + w - 2, fy + field_h + 1, HINTS[f.type], (0.55, 0.55, 0.55), align="right")


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


# -- the document -----------------------------------------------------------------------------

def _build(spec: FormSpec, data: dict | None, document_id: str | None, generated: datetime | None):
    values = complete(spec, data)
    pages = _paginate(_rows(spec, values))
    pdf = PdfFile()
    c = _Canvas(pdf, spec)
    root, info, acroform = pdf.reserve(), pdf.reserve(), pdf.reserve()
    pages_ref = write_pages(c, pages)
    pdf.put(acroform, f"<< /Fields [{' '.join(ref(f) for f in c.fields)}] /DA (/Helv {FIELD_SIZE} Tf 0 g) "
                      f"/DR << /Font << /Helv {ref(c.helv)} /ZaDb {ref(c.zadb)} >> >> >>")
    pdf.put(root, f"<< /Type /Catalog /Pages {ref(pages_ref)} /AcroForm {ref(acroform)} /Lang (en-GB) "
                  "/ViewerPreferences << /DisplayDocTitle true >> >>")
    document_id = document_id or str(uuid.uuid4())
    when = (generated or datetime.now(timezone.utc)).astimezone(timezone.utc)
    identity = {"StepDownForm": spec.id, "StepDownSpecVersion": spec.version, "StepDownDocumentId": document_id,
                "StepDownGenerated": when.strftime("%Y-%m-%dT%H:%M:%SZ")}
    entries = {"Title": spec.title, "Subject": f"{spec.organisation} – {spec.id} {spec.version}",
               "Creator": "Step Down Forms", "Producer": "Step Down Forms", **identity}
    pdf.put(info, "<< " + " ".join(f"/{k} {text(v)}" for k, v in entries.items())
            + f" /CreationDate {text(when.strftime('D:%Y%m%d%H%M%SZ'))} >>")
    return pdf.output(root, info, uuid.UUID(document_id).hex.upper() if _is_uuid(document_id) else uuid.uuid4().hex.upper()), c.values


def write_pages(c: _Canvas, pages: list[list[_Row]]) -> int:
    """Draw laid-out pages with their "Page x of y" footers, then the fonts they used; the page
    tree's object number."""
    pdf = c.pdf
    pages_ref = pdf.reserve()
    kids = []
    for number, page in enumerate(pages, start=1):
        c.page_ref, c.ops, c.annots = pdf.reserve(), [], []
        y = TOP
        for row in page:
            row.draw(c, y)
            y -= row.height
        c.text(fonts.REGULAR, 8, PAGE_W / 2, MARGIN - 4, f"Page {number} of {len(pages)}", align="centre")
        content = pdf.stream("", "\n".join(c.ops).encode("latin-1"))
        annots = f" /Annots [{' '.join(ref(a) for a in c.annots)}]" if c.annots else ""
        pdf.put(c.page_ref, f"<< /Type /Page /Parent {ref(pages_ref)} /MediaBox [0 0 {num(PAGE_W)} {num(PAGE_H)}] "
                            f"/Resources {c.font_resources} /Contents {ref(content)}{annots} >>")
        kids.append(c.page_ref)
    c.write_fonts()
    pdf.put(pages_ref, f"<< /Type /Pages /Kids [{' '.join(ref(k) for k in kids)}] /Count {len(kids)} >>")
    return pages_ref


def _is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


def generate_pdf(spec: FormSpec, data: dict | None = None, *, document_id: str | None = None,
                 generated: datetime | None = None) -> bytes:
    """A fillable PDF of ``spec``, prefilled with ``data`` (checked with validate(partial=True))."""
    return _build(spec, data, document_id, generated)[0]


def field_values(spec: FormSpec, data: dict | None = None) -> dict[str, object]:
    """Field name -> the value the PDF holds for ``data``: text as shown, True/False for check
    boxes, export values for choices (what a person filling the form in a viewer enters)."""
    return _build(spec, data, None, None)[1]

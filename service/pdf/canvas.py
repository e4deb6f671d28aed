"""Pages drawn in PDF: the measuring, wrapping, drawing and pagination the form writer and the
cover sheet share.

A page is made of rows (``Row``: a height and a function that draws it at a given top). Rows
are measured first, then put on pages by ``paginate`` (a row marked ``keep_with_next`` moves
with the row after it, so a heading never ends a page), and ``write_pages`` draws them with a
"Page x of y" footer, then embeds the subsets of the fonts the pages used. Text is drawn in
DejaVu Sans (``fonts.py``), so Welsh, Greek and Cyrillic print.

The PDF is tagged as it is drawn (``structure.py``): text is marked content of the element
being filled (a row's roles, a table's rows and cells), everything else is an artifact, and
``catalog_entries`` gives the catalog what a tagged PDF/UA document declares.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Callable

from ..brand import Brand
from ..errors import DocumentError
from . import fonts, images
from .names import ANNOTS, KIDS
from .objects import PdfFile, num, ref
from .structure import Structure, xmp

PAGE_W, PAGE_H = 595.2756, 841.8898  # A4
MARGIN = 56.69  # 2 cm
TEXT_W = PAGE_W - 2 * MARGIN
TOP, BOTTOM = PAGE_H - MARGIN, MARGIN + 18  # room for the footer
PAD = 3
HEADER_FILL, LABEL_FILL = (0.85, 0.89, 0.95), (0.95, 0.95, 0.95)
TITLE_COLOUR, SUBTITLE_COLOUR, GREY = (0.12, 0.22, 0.39), (0.27, 0.33, 0.42), (0.35, 0.35, 0.35)
BORDER = 0.5
RESOURCE = {fonts.REGULAR: "F1", fonts.BOLD: "F2", fonts.ITALIC: "F3"}
LOGO_H = 26  # the logo's height in the top margin; its width follows its proportions
BRAND_SIZE, BRAND_GREY = 7.5, (0.3, 0.3, 0.3)


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


@lru_cache(maxsize=4096)
def wrap_spec_text(value: str, font: str, size: float, width: float) -> tuple[str, ...]:
    """``wrap`` for text that comes from a spec (titles, headings, help, labels): the same few
    hundred strings in every document of a form, so each is laid out once a process. Never for
    a document's values, which are not kept once their document is made."""
    return tuple(wrap(value, font, size, width))


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


def rgb(colour: tuple[float, float, float], op: str) -> str:
    return f"{colour[0]:g} {colour[1]:g} {colour[2]:g} {op}"


class Canvas:
    """Page content as PDF operators for one document, and the characters each font drew."""

    def __init__(self, pdf: PdfFile, brand: Brand | None = None) -> None:
        self.pdf = pdf
        self.brand = brand
        self.structure = Structure()
        self.font_refs = {name: pdf.reserve() for name in RESOURCE}
        self.chars: dict[str, set[str]] = {name: set() for name in RESOURCE}
        self.ops: list[str] = []
        self.annots: list[int] = []  # the current page's annotations (a form's widgets)
        self.drawn: list[tuple[float, float, int]] = []  # and where each widget's appearance is: (x, y, its form)
        self.page_ref = 0
        self.pages: list[PageRecord] = []  # what a combined PDF takes from each page (assemble.py)
        fonts_entry = "/Font << " + " ".join(f"/{RESOURCE[n]} {ref(r)}" for n, r in self.font_refs.items()) + " >>"
        self.font_resources = f"<< {fonts_entry} >>"
        self.in_mark = False  # inside one marked-content sequence holding several lines
        self.logo: tuple[int, float] | None = None  # (XObject, drawn width)
        self.page_resources = self.font_resources
        if brand is not None and brand.logo:
            try:
                image = images.load(brand.logo, brand.logo_kind or "png")
            except DocumentError:
                image = None  # the Word form still has it; the PDF goes without rather than fail
            if image is not None:
                mask = f" /SMask {ref(pdf.stream(image.mask.entries, image.mask.data, compress=False))}" if image.mask else ""
                self.logo = (pdf.stream(image.entries + mask, image.data, compress=False),
                             LOGO_H * image.width / image.height)
                self.page_resources = f"<< {fonts_entry} /XObject << /Logo {ref(self.logo[0])} >> >>"

    def text(self, font: str, size: float, x: float, y: float, s: str, colour=(0, 0, 0), align: str = "left", *,
             artifact: bool = False) -> None:
        """One line of text: content of the current structure element, or (``artifact``) a
        running header or footer that a screen reader skips."""
        if not s:
            return
        self.chars[font].update(s)
        face = fonts.face(font)
        if align != "left":
            x -= face.width(s, size) / (2 if align == "centre" else 1)
        drawn = f"{rgb(colour, 'rg')} BT /{RESOURCE[font]} {num(size)} Tf 1 0 0 1 {num(x)} {num(y)} Tm {face.encode(s)} Tj ET"
        if self.in_mark and not artifact:
            self.ops.append(drawn)
            return
        mark = "/Artifact << /Type /Pagination >> BDC" if artifact else \
            f"/{self.structure.current.role} << /MCID {self.structure.mark()} >> BDC"
        self.ops.append(f"{mark} {drawn} EMC")

    def begin_text(self) -> None:
        """The lines drawn until ``end_text`` are one piece of content of the current element."""
        self.ops.append(f"/{self.structure.current.role} << /MCID {self.structure.mark()} >> BDC")
        self.in_mark = True

    def end_text(self) -> None:
        self.ops.append("EMC")
        self.in_mark = False

    def rect(self, x: float, y: float, w: float, h: float, *, fill=None, stroke=None) -> None:
        """Shading and rules: artifacts."""
        if fill:
            self.ops.append(f"/Artifact BMC {rgb(fill, 'rg')} {num(x)} {num(y)} {num(w)} {num(h)} re f EMC")
        if stroke:
            self.ops.append(f"/Artifact BMC {rgb(stroke, 'RG')} {BORDER} w {num(x)} {num(y)} {num(w)} {num(h)} re S EMC")

    def catalog_entries(self, title: str) -> str:
        """After the pages: what the catalog of a tagged document says (its structure, that it
        is tagged, and its metadata claiming PDF/UA-1)."""
        root = self.structure.write(self.pdf)
        metadata = self.pdf.stream("/Type /Metadata /Subtype /XML", xmp(title), compress=False)
        return f"/StructTreeRoot {ref(root)} /MarkInfo << /Marked true >> /Metadata {ref(metadata)}"

    def margins(self, number: int, total: int) -> None:
        """What every page has outside its body: the organisation's logo and header lines at the
        top, its footer lines (a protective marking among them) and the page number at the foot."""
        if self.brand is not None:
            x = MARGIN
            if self.logo is not None:
                logo, w = self.logo
                self.ops.append(f"/Artifact << /Type /Pagination >> BDC q {num(w)} 0 0 {LOGO_H} {num(MARGIN)} "
                                f"{num(PAGE_H - MARGIN + 8)} cm /Logo Do Q EMC")
                x += w + 8
            for i, line in enumerate(self.brand.header[:3]):
                shown = wrap(line, fonts.BOLD if i == 0 else fonts.REGULAR, BRAND_SIZE, PAGE_W - MARGIN - x)[0]
                self.text(fonts.BOLD if i == 0 else fonts.REGULAR, BRAND_SIZE, x, PAGE_H - MARGIN + 26 - i * 9.5, shown,
                          BRAND_GREY, artifact=True)
            for i, line in enumerate(self.brand.footer[:2]):
                shown = wrap(line, fonts.REGULAR, BRAND_SIZE, TEXT_W)[0]
                self.text(fonts.REGULAR, BRAND_SIZE, PAGE_W / 2, MARGIN + 6 - i * 9, shown, BRAND_GREY, align="centre",
                          artifact=True)
        self.text(fonts.REGULAR, 8, PAGE_W / 2, MARGIN - 8 if self.brand and self.brand.footer else MARGIN - 4,
                  f"Page {number} of {total}", align="centre", artifact=True)

    def source(self) -> tuple[tuple[PageRecord, ...], tuple[tuple[str, int], ...], tuple[tuple[str, int], ...]]:
        """The pages, and the fonts and pictures they use by resource name, for a combined PDF
        (``assemble.py``)."""
        fonts_used = tuple((RESOURCE[font], number) for font, number in self.font_refs.items())
        pictures = (("Logo", self.logo[0]),) if self.logo is not None else ()
        return tuple(self.pages), fonts_used, pictures

    def write_fonts(self) -> None:
        """Embed a subset of each font holding the characters drawn with it (Type 0, Identity-H)."""
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


@dataclass
class PageRecord:
    """A page as a combined PDF redraws it: its content stream, and each widget's appearance
    form with where it stands (x, y of its lower left corner)."""

    content: int
    drawn: list[tuple[float, float, int]]


@dataclass
class Row:
    height: float
    draw: Callable[[Canvas, float], None]  # (canvas, y of the row's top)
    keep_with_next: bool = False
    group: object = None  # the table or list this row is part of (its element spans its rows)
    group_role: str = ""  # that element's role: Table or L


def text_row(value: str, font: str, size: float, space_before: float, keep: bool, colour=(0, 0, 0), *,
             roles: tuple[str, ...] = ("P",), group: object = None, group_role: str = "",
             from_spec: bool = False) -> Row:
    """A paragraph across the text width, tagged with ``roles`` (outermost first: ("H2",), or
    ("LI", "LBody") for a list item). ``from_spec``: the text is the spec's (wrap_spec_text)."""
    lines = (wrap_spec_text if from_spec else wrap)(value, font, size, TEXT_W)
    height = space_before + len(lines) * size * 1.25 + 4

    def draw(c: Canvas, y: float) -> None:
        opened = [c.structure.open(role) for role in roles]
        c.begin_text()
        for i, line in enumerate(lines):
            c.text(font, size, MARGIN, y - space_before - (i + 1) * size * 1.2, line, colour)
        c.end_text()
        c.structure.close(opened[0])

    return Row(height, draw, keep, group, group_role)


def space(height: float) -> Row:
    return Row(height, lambda c, y: None)


def paginate(rows: list[Row]) -> list[list[Row]]:
    """Rows onto pages; a row marked keep_with_next moves with the row after it."""
    pages: list[list[Row]] = [[]]
    room = TOP - BOTTOM
    i = 0
    while i < len(rows):
        group = [rows[i]]
        while group[-1].keep_with_next and i + len(group) < len(rows):
            group.append(rows[i + len(group)])
        need = sum(r.height for r in group)
        if need > room and pages[-1]:
            pages.append([])
            room = TOP - BOTTOM
        for r in group:
            pages[-1].append(r)
            room -= r.height
        i += len(group)
    return pages


def write_pages(c: Canvas, pages: list[list[Row]]) -> int:
    """Draw laid-out pages with their "Page x of y" footers, then the fonts they used; the page
    tree's object number."""
    pdf = c.pdf
    pages_ref = pdf.reserve()
    kids = []
    for number, page in enumerate(pages, start=1):
        c.page_ref, c.ops, c.annots, c.drawn = pdf.reserve(), [], [], []
        parents = c.structure.new_page(c.page_ref)
        y = TOP
        for row in page:
            c.structure.enter_group(row.group, row.group_role)
            row.draw(c, y)
            y -= row.height
        c.margins(number, len(pages))
        content = pdf.stream("", "\n".join(c.ops).encode("latin-1"))
        annots = f" {ANNOTS} [{' '.join(ref(a) for a in c.annots)}]" if c.annots else ""
        pdf.put(c.page_ref, f"<< /Type /Page /Parent {ref(pages_ref)} /MediaBox [0 0 {num(PAGE_W)} {num(PAGE_H)}] "
                            f"/Resources {c.page_resources} /Contents {ref(content)}{annots} "
                            f"/StructParents {parents} /Tabs /S >>")
        kids.append(c.page_ref)
        c.pages.append(PageRecord(content, c.drawn))
    c.structure.leave_group()
    c.write_fonts()
    pdf.put(pages_ref, f"<< /Type /Pages {KIDS} [{' '.join(ref(k) for k in kids)}] /Count {len(kids)} >>")
    return pages_ref

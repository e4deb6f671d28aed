"""Read a completed .docx back into form data, whichever editor touched it last.

Order of trust for each field (see ../shared/ROUNDTRIP.md for why):

1. a content control carrying the field's tag (Word keeps tags);
2. a control bound to the field's node in our data part (LibreOffice drops tags, keeps bindings);
3. the control in the field's cell of the layout plan (tags and bindings both gone);
4. the visible text of that cell (controls flattened, e.g. after a trip through .odt);
5. the data part itself, last, because LibreOffice leaves it stale for check boxes,
   drop-downs and dates.

Placeholder text is never a value. Text typed in a value cell outside its control is kept
(added to a text field, or reported in ``stray_text``) and flagged.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

from lxml import etree

from ..cache import PerObject
from ..convert import Unreadable, choice_value, parse
from ..errors import DocumentError
from ..extract import Extraction, expected_form, finish
from ..shape import complete, empty_value, set_at
from ..spec.model import (
    CheckboxField, ChoiceField, DateField, DateTimeField, FormSpec, GroupField, LongTextField, MultiChoiceField,
    RepeatField, TextField,
)
from ..validation import Issue
from ..layout import Label, RepeatPlan, TablePlan, plan
from .ns import NS, qn
from .oxml import CHECKED, SdtInfo, block_text, read_sdt
from .package import DocxPackage
from .parts import Identity, data_root_identity, path_from_xpath, read_custom_props, read_data_part
from .writer import placeholder_for

WORD_PLACEHOLDERS = {"Choose an item.", "Click or tap here to enter text.", "Click or tap to enter a date.",
                     "Click here to enter text.", "Click here to enter a date."}
_TICKS = (CHECKED, "\u2611", "\u2714", "\u2713", "[x]", "[X]")
_TC, _TR, _TBL, _SDT, _SDT_CONTENT = qn("w:tc"), qn("w:tr"), qn("w:tbl"), qn("w:sdt"), qn("w:sdtContent")
_T, _PPR, _TCPR = qn("w:t"), qn("w:pPr"), qn("w:tcPr")


@dataclass
class DocxExtraction(Extraction):
    stray_text: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict:
        d = super().to_dict()
        d["stray_text"] = self.stray_text
        return d


def extract_docx(raw: bytes, registry, *, form: str | None = None) -> DocxExtraction:
    """Read a .docx; ``registry`` gives the spec (``.get(form_id)``); ``form`` is what the
    caller expects it to be (required for documents without our identity properties)."""
    pkg = DocxPackage(raw)
    pkg.refuse_declarations("customXml/")
    notes: list[Issue] = []
    identity = read_custom_props(_optional_xml(pkg, "docProps/custom.xml", notes))
    part = _LazyPart(pkg, notes)
    if not (identity.form and identity.version and identity.document_id) and part.root is not None:
        from_part = data_root_identity(part.root)
        identity = Identity(identity.form or from_part.form, identity.version or from_part.version,
                            identity.document_id or from_part.document, identity.generated)
    form_id = expected_form(form, identity.form)
    if not form_id:
        raise DocumentError("This Word document was not made by Step Down Forms (it carries no form identity). "
                            "Say which form it is to read it by its layout.", "not_our_form")
    spec = registry.get(form_id)
    document = pkg.xml("word/document.xml")
    body = document.find(qn("w:body")) if document is not None else None
    if body is None:
        raise DocumentError("The Word document has no body.", "not_a_word_document")
    part.form = spec.id
    reader = _Reader(spec, body, part)
    data, issues = reader.read()
    issues = notes + issues
    issues += _version_issues(spec, identity.version, reader.document_keys)
    result = DocxExtraction(
        form=spec.id, spec_version=spec.version, document_version=identity.version,
        document_id=identity.document_id, generated=identity.generated, data=data, sources=reader.sources,
        stray_text=reader.stray,
    )
    return finish(spec, result, issues)


class _LazyPart:
    """The custom XML data part, found and parsed only if something needs it."""

    def __init__(self, pkg: DocxPackage, notes: list[Issue]) -> None:
        self.pkg, self.notes, self.form = pkg, notes, None

    @cached_property
    def root(self) -> etree._Element | None:
        root = _find_data_part(self.pkg, self.notes)
        if root is not None and self.form and root.get("form") not in (None, self.form):
            return None  # a data part of another form (a pasted document): ignore it
        return root


def _optional_xml(pkg: DocxPackage, name: str, notes: list[Issue]) -> etree._Element | None:
    """A part we can do without: if it is damaged (not hostile), say so and carry on."""
    if name not in pkg.names():
        return None
    try:
        return pkg.xml(name)
    except DocumentError as exc:
        if exc.code != "xml_malformed":
            raise
        notes.append(Issue("$", "damaged_part", f"The copy of the answers stored inside the document ({name}) is "
                           "damaged, so it was not used; every value was read from the form itself. (LibreOffice "
                           "does this when an answer contains & or <; blank lines inside long answers may have "
                           "been lost.)", "warning"))
        return None


def _find_data_part(pkg: DocxPackage, notes: list[Issue]) -> etree._Element | None:
    for name in pkg.names():
        if name.startswith("customXml/") and name.endswith(".xml") and "itemProps" not in name and "/_rels/" not in name:
            root = _optional_xml(pkg, name, notes)
            if root is not None and root.tag == qn("sdf:form"):
                return root
    return None


class _Reader:
    def __init__(self, spec: FormSpec, body: etree._Element, part: "_LazyPart") -> None:
        self.spec, self.body = spec, body
        # Innermost controls only: LibreOffice wraps each check box in an outer control with the
        # same binding, and a designer may group controls inside one; the fields are inside.
        # One walk up from each control finds its table cell and marks the controls that only
        # wrap others (LibreOffice wraps check boxes; designers group controls): fields are the
        # innermost controls.
        every = list(body.iter(_SDT))
        containers: set[int] = set()
        cells: dict[int, etree._Element | None] = {}
        for e in every:
            cell = None
            for a in e.iterancestors(_SDT, _TC):
                if a.tag == _SDT:
                    containers.add(id(a))
                elif cell is None:
                    cell = a
            cells[id(e)] = cell
        self.infos = {id(e): read_sdt(e) for e in every if id(e) not in containers}
        self.cell_of = {k: cells[k] for k in self.infos}
        self.controls_in: dict[int, int] = {}
        for cell in self.cell_of.values():
            if cell is not None:
                self.controls_in[id(cell)] = self.controls_in.get(id(cell), 0) + 1
        self.part_source = part
        self.keys = _KEYS.get(spec)
        self.sources: dict[str, str] = {}
        self.stray: dict[str, str] = {}
        self.issues: list[Issue] = []
        self.used: set[int] = set()
        self.by_key: dict[str, list[tuple[SdtInfo, str]]] = {}
        self.lost_controls: list[Issue] = []
        self.own_layout = False
        for info in self.infos.values():
            key, how = self._identify(info)
            if key:
                self.by_key.setdefault(key, []).append((info, how))
        self.tables = [t for t in body.iter(_TBL) if _ancestor(t, _TBL) is None]

    @cached_property
    def part(self) -> dict[str, object]:
        """The data part's texts, read only if a field needs them (a damaged or missing control)."""
        root = self.part_source.root
        return read_data_part(self.spec, root) if root is not None else {}

    # -- identity of a control ---------------------------------------------------------
    def _identify(self, info: SdtInfo) -> tuple[str | None, str]:
        if info.tag and info.tag in self.keys:
            return info.tag, "control"
        if info.xpath:
            found = path_from_xpath(info.xpath)
            if found:
                path, option = found
                ref = self.spec.field_at(path)
                if ref is not None and option is None and path in self.keys:
                    return path, "binding"
                if ref is not None and option is not None and isinstance(ref.field, MultiChoiceField) \
                        and option < len(ref.field.choices):
                    return f"{path}:{ref.field.choices[option].value}", "binding"
        return None, ""

    def document_keys(self) -> set[str]:
        """Field paths the document itself declares (tags, bindings, data part), for version checks."""
        root = self.part_source.root
        keys = _part_keys(self.spec, root) if root is not None else set()
        for info in self.infos.values():
            if info.tag:
                keys.add(info.tag.split(":")[0])
            if info.xpath and (found := path_from_xpath(info.xpath)):
                keys.add(found[0])
        return {k for k in keys if "[]." not in k}

    # -- the whole document ----------------------------------------------------------------
    def read(self) -> tuple[dict, list[Issue]]:
        data = complete(self.spec, {})
        tables = [b for b in plan(self.spec) if isinstance(b, (TablePlan, RepeatPlan))]
        flattened = not self.infos
        if all(self._has_control(b) for b in tables):
            aligned = [(b, self._tagged_table(b)) for b in tables]  # every field found: no layout search
        else:
            aligned = self._align(tables)
        # A designer's own layout (tagged controls, none of our tables): fields it leaves out
        # are simply not on it, not "removed".
        self.own_layout = bool(self.by_key) and not any(t is not None for b, t in aligned if isinstance(b, TablePlan))
        if flattened:
            self.issues.append(Issue("$", "no_controls", "This document has no form controls left (it was probably "
                                     "saved through another format); values were read from the text in each field's "
                                     "cell. Check them before accepting.", "warning"))
        for block, table in aligned:
            if isinstance(block, TablePlan):
                rows = _rows(table) if table is not None else []
                for r, c, slot in block.slots():
                    set_at(data, slot.path, self._read_simple(slot.path, slot.field, _cell_at(rows, r, c), flattened))
            else:
                set_at(data, block.path, self._read_repeat(block, table))
        if len(self.lost_controls) > 3:
            self.issues.append(Issue("$", "controls_removed", f"{len(self.lost_controls)} form boxes were removed from "
                                     "this document (it was probably saved through another format); their values were "
                                     "read from the text in each field's cell. Check them before accepting.", "warning"))
        else:
            self.issues += self.lost_controls
        unread = {i.tag or i.alias or "(untitled)" for k, i in self.infos.items()
                  if k not in self.used and self._identify(i)[0] is None}
        for name in sorted(unread):
            self.issues.append(Issue("$", "unknown_control", f"A control named '{name[:80]}' is not part of this "
                                     "form; it was ignored.", "warning"))
        return data, self.issues

    def _has_control(self, block) -> bool:
        if isinstance(block, RepeatPlan):
            return self._tagged_table(block) is not None
        return all(slot.path in self.by_key or any(k.startswith(slot.path + ":") for k in self.by_key)
                   for _, _, slot in block.slots())

    def _tagged_table(self, block) -> etree._Element | None:
        """The table holding a repeat's tagged cells (a plain table needs none: its fields are tagged)."""
        if isinstance(block, TablePlan):
            return None
        for f in block.field.fields:
            for info, _ in self.by_key.get(f"{block.path}[].{f.key}", []):
                table = _ancestor(info.element, _TBL)
                if table is not None:
                    return table
        return None

    def _align(self, wanted: list) -> list[tuple[object, etree._Element | None]]:
        """Pair each planned table with the document table that matches it, in order."""
        out, pos = [], 0
        for block in wanted:
            found = None
            for j in range(pos, len(self.tables)):
                if _matches(block, self.tables[j]):
                    found, pos = self.tables[j], j + 1
                    break
            out.append((block, found))
        return out

    # -- one simple field --------------------------------------------------------------------
    def _read_simple(self, path: str, f, cell: etree._Element | None, flattened: bool,
                     row_key: str | None = None) -> object:
        """The value of field ``f`` (reported as ``path``); ``row_key`` is its column tag in a repeat."""
        key = row_key or path

        def found(value: object, source: str) -> object:
            if value not in (None, [], False) or source in ("control", "binding", "position"):
                self.sources[path] = source
            return value

        if isinstance(f, MultiChoiceField):
            value, source = self._read_multichoice(f, path, key, cell)
            return found(value, source)
        tagged = [] if row_key and cell is not None else self._take(key)
        if tagged:
            info, how = tagged[0]
            if len(tagged) > 1:
                self.issues.append(Issue(path, "duplicate_control", f'"{f.label}" appears more than once in the '
                                         "document; the first one was read.", "warning"))
            return found(self._with_outside(info, f, path, row_key), how)
        controls = self._free_controls(cell, key if row_key else None) if cell is not None else []
        if controls:
            self.used.add(id(controls[0].element))
            how = "control" if row_key and controls[0].tag == row_key else "position"
            return found(self._with_outside(controls[0], f, path, row_key), how)
        if cell is not None and (text := block_text(cell)).strip():
            if not flattened:
                self.lost_controls.append(Issue(path, "control_missing", f'The control for "{f.label}" was removed; '
                                                "its value was read from the text in its cell.", "warning"))
            return found(self._text_value(text, f, path), "text")
        if row_key is None and _has_content(self.part.get(path)):
            self.issues.append(Issue(path, "control_missing", f'The control for "{f.label}" is missing; its value was '
                                     "taken from the data stored in the document, which may be out of date.", "warning"))
            return found(self._text_value(self.part[path], f, path, stored=True), "customxml")
        if cell is None and not flattened and row_key is None and not self.own_layout:
            self.issues.append(Issue(path, "control_missing", f'"{f.label}" could not be found in the document '
                                     "(its control or table was deleted).", "error" if f.required else "warning"))
        return empty_value(f)

    def _take(self, key: str) -> list[tuple[SdtInfo, str]]:
        found = [(i, h) for i, h in self.by_key.get(key, []) if id(i.element) not in self.used]
        for i, _ in found:
            self.used.add(id(i.element))
        return found

    def _free_controls(self, cell: etree._Element, row_key: str | None) -> list[SdtInfo]:
        """Controls in ``cell`` not claimed by another field; in a row, those tagged for this column first."""
        infos = [self.infos[id(e)] for e in cell.iter(_SDT) if id(e) in self.infos and id(e) not in self.used]
        if row_key:
            exact = [i for i in infos if i.tag == row_key]
            return exact or [i for i in infos if not i.tag or i.tag not in self.keys]
        return [i for i in infos if self._identify(i)[0] is None]

    def _control_value(self, info: SdtInfo, f, path: str, column: str | None = None) -> object:
        if isinstance(f, CheckboxField):
            return bool(info.checked) if info.kind == "checkbox" else info.text.strip().startswith(_TICKS)
        if info.showing_placeholder or _is_placeholder(info.text, f):
            return empty_value(f)
        if isinstance(f, ChoiceField):
            value = choice_value(f, info.text)
            if value is None:  # the shown text is a list item's display text with another value?
                value = next((v for v, shown in info.items if shown.strip() == info.text.strip() and f.label_for(v)), None)
            if value is None:
                self.issues.append(Issue(path, "unknown_choice", f'"{f.label}" shows a choice that is not in its list.'))
            return value
        return self._text_value(self._line_breaks_from_part(info, path, column), f, path)

    def _line_breaks_from_part(self, info: SdtInfo, path: str, column: str | None) -> str:
        """LibreOffice moves each line break out of a control on save (blank lines are then lost
        from the body) but keeps bound text in the data part exact, and row cells there as
        generated. Only when that damage is visible (n breaks beside the control) is a stored
        text with the same characters and n breaks taken as the true one; a text edited since
        cannot match, so a stale part is never believed."""
        if not info.multiline:
            return info.text
        moved = info.breaks_beside
        if not moved or info.text.count("\n") == moved:
            return info.text
        candidates = (self.part.get(column) or []) if column else ([self.part.get(path)] if info.xpath else [])
        flat = info.text.replace("\n", "")
        for stored in candidates:
            if isinstance(stored, str):
                stored = stored.replace("\r\n", "\n")
                if stored.count("\n") == moved and stored.replace("\n", "") == flat:
                    return stored
        return info.text

    def _text_value(self, text: str, f, path: str, stored: bool = False) -> object:
        if isinstance(f, CheckboxField):
            t = text.strip()
            return t.startswith(_TICKS) or t.lower() in ("true", "1", "yes")
        if _is_placeholder(text, f):
            return empty_value(f)
        try:
            return parse(f, text)
        except Unreadable as exc:
            if stored and isinstance(f, (DateField, DateTimeField)) and len(text) >= 10:
                return text[:10] if isinstance(f, DateField) else text[:16]
            label = f'"{f.label}" ' if exc.code == "unreadable_date" else ""
            self.issues.append(Issue(path, exc.code, f"{label}{exc}"))
            return None

    def _with_outside(self, info: SdtInfo, f, path: str, column: str | None = None) -> object:
        """The control's value, plus any text typed beside it in the same cell (kept and flagged)."""
        value = self._control_value(info, f, path, column)
        cell = self.cell_of.get(id(info.element))
        if cell is None or self.controls_in.get(id(cell)) != 1:
            return value
        parent = info.element.getparent()
        if parent is not None and _only_child(parent, info.element, _PPR) and _only_child(cell, parent, _TCPR):
            return value  # the cell is one paragraph holding just the control (as generated)
        if sum(1 for _ in cell.iter(_T)) == sum(1 for _ in info.element.iter(_T)):
            return value  # no text of its own beside the control
        extra = block_text(cell, skip=info.element).strip()
        if not extra:
            return value
        self.issues.append(Issue(path, "text_outside_control", f'Text was typed in the "{f.label}" cell outside its '
                                 "box. It has been kept; check it is in the right place.", "warning"))
        if isinstance(f, (TextField, LongTextField)):
            sep = "\n" if isinstance(f, LongTextField) else " "
            return f"{value}{sep}{extra}" if value else extra
        self.stray[path] = extra
        return value

    def _read_multichoice(self, f: MultiChoiceField, path: str, key: str, cell) -> tuple[list[str], str]:
        chosen, source = [], None
        for o in f.choices:
            tagged = self._take(f"{key}:{o.value}")
            if tagged:
                source = source or tagged[0][1]
                if tagged[0][0].checked:
                    chosen.append(o.value)
        if source is None and cell is not None:
            boxes = [i for i in self._free_controls(cell, None) if i.kind == "checkbox"]
            if len(boxes) == len(f.choices):
                source = "position"
                for i, o in zip(boxes, f.choices):
                    self.used.add(id(i.element))
                    if i.checked:
                        chosen.append(o.value)
            elif (text := block_text(cell)).strip():
                source = "text"
                for line in text.split("\n"):
                    line = line.strip()
                    if line.startswith(_TICKS):
                        v = choice_value(f, line.lstrip("".join(_TICKS) + "[]xX ").strip())
                        if v:
                            chosen.append(v)
        if source is None and _has_content(self.part.get(path)):
            source = "customxml"
            chosen = [v for v, on in self.part[path] if on and f.label_for(v)]
        return chosen, source or "missing"

    # -- a repeating table -------------------------------------------------------------------
    def _read_repeat(self, rp: RepeatPlan, table: etree._Element | None) -> list[dict]:
        if table is None:
            return self._repeat_by_tags(rp)
        rows = _rows(table)
        columns = self._columns(rp, rows)
        out: list[dict] = []
        for r, cells in enumerate(rows):
            if not any(True for c in cells for _ in c.iter(_SDT)) and \
                    (r == 0 and columns.get("$header") or _is_header(cells, rp.headers)):
                continue  # the header row, or a copy of it
            row = self._row(rp, cells, len(out), columns)
            if row is not None:
                out.append(row)
        return out

    def _columns(self, rp: RepeatPlan, rows: list[list]) -> dict:
        """Which cell of a row holds each field: where the tagged controls are (a designer may
        order columns differently), else our layout's order. '$header': the first row has no
        controls (it is a header row)."""
        columns: dict = {"$header": bool(rows) and not any(True for c in rows[0] for _ in c.iter(_SDT))}
        for cells in rows:
            for i, cell in enumerate(cells):
                for e in cell.iter(_SDT):
                    info = self.infos.get(id(e))
                    tag = info.tag if info else None
                    if tag and tag.startswith(rp.path + "[]."):
                        columns.setdefault(tag.split("[].", 1)[1].split(":")[0], i)
            if len(columns) > 1:
                break
        for j, f in enumerate(rp.field.fields):
            columns.setdefault(f.key, rp.offset + j)
        return columns

    def _row(self, rp: RepeatPlan, cells: list, index: int, columns: dict) -> dict | None:
        row: dict = {}
        before = set(self.sources)
        for f in rp.field.fields:
            col = columns[f.key]
            cell = cells[col] if col < len(cells) else None
            row[f.key] = self._read_simple(f"{rp.path}[{index}].{f.key}", f, cell, not self.infos,
                                           row_key=f"{rp.path}[].{f.key}")
        if all(v in (None, [], False) for v in row.values()):
            for k in set(self.sources) - before:
                del self.sources[k]
            return None
        return row

    def _repeat_by_tags(self, rp: RepeatPlan) -> list[dict]:
        """No table matched the plan (a designer layout): group tagged controls by table row."""
        by_row: dict[int, tuple[etree._Element, list]] = {}
        for f in rp.field.fields:
            for info, _ in self.by_key.get(f"{rp.path}[].{f.key}", []):
                tr = _ancestor(info.element, _TR)
                if tr is not None:
                    by_row.setdefault(id(tr), (tr, []))[1].append(info)
        out: list[dict] = []
        for tr, _ in by_row.values():
            cells = _cells(tr)
            row: dict = {}
            for f in rp.field.fields:
                cell = next((c for c in cells if any(
                    self.infos.get(id(e)) and self.infos[id(e)].tag == f"{rp.path}[].{f.key}" for e in c.iter(_SDT))), None)
                row[f.key] = self._read_simple(f"{rp.path}[{len(out)}].{f.key}", f, cell, False,
                                               row_key=f"{rp.path}[].{f.key}")
            if any(v not in (None, [], False) for v in row.values()):
                out.append(row)
        return out


# -- helpers --------------------------------------------------------------------------------

def _only_child(parent: etree._Element, child: etree._Element, props: str) -> bool:
    """``child`` is ``parent``'s only child apart from a leading properties element."""
    n = len(parent)
    return (n == 1 and parent[0] is child) or (n == 2 and parent[0].tag == props and parent[1] is child)


def _has_content(stored: object) -> bool:
    """A data-part value worth falling back on: text with something in it (an unticked box is
    stored as 'false', which says nothing), or a ticked option."""
    if isinstance(stored, str):
        return bool(stored.strip()) and stored.strip() != "false"
    if isinstance(stored, list):
        return any(on for _, on in stored)
    return False


def _is_placeholder(text: str, f) -> bool:
    t = text.strip()
    return t == placeholder_for(f) or t in WORD_PLACEHOLDERS


def _ancestor(el: etree._Element, tag: str) -> etree._Element | None:
    p = el.getparent()
    while p is not None and p.tag != tag:
        p = p.getparent()
    return p


def _cells(tr: etree._Element) -> list[etree._Element]:
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


def _rows(tbl: etree._Element) -> list[list[etree._Element]]:
    rows = []
    for child in tbl:
        if child.tag == _TR:
            rows.append(_cells(child))
        elif child.tag == _SDT:
            content = child.find(_SDT_CONTENT)
            if content is not None:
                rows.extend(_cells(tr) for tr in content if tr.tag == _TR)
    return rows


def _cell_at(rows: list, r: int, c: int) -> etree._Element | None:
    return rows[r][c] if r < len(rows) and c < len(rows[r]) else None


def _norm(text: str) -> str:
    return " ".join(text.split()).casefold()


def _label_text(cell: etree._Element) -> str:
    """A label or header cell's words, whitespace-normalised (cheaper than block_text)."""
    return _norm(" ".join(cell.itertext(_T)))


def _is_header(cells: list, headers: list[str]) -> bool:
    return [_label_text(c) for c in cells] == [_norm(h) for h in headers]


def _matches(block, table: etree._Element) -> bool:
    rows = _rows(table)
    if isinstance(block, RepeatPlan):
        return bool(rows) and _is_header(rows[0], block.headers)
    labels = [(r, c, cell.text) for r, row in enumerate(block.rows) for c, cell in enumerate(row)
              if isinstance(cell, Label) and cell.text]
    if not labels:
        return False
    hits = sum(1 for r, c, text in labels if (cell := _cell_at(rows, r, c)) is not None
               and _label_text(cell) == _norm(text))
    return hits >= max(1, (len(labels) * 3 + 4) // 5)


def _known_keys(spec: FormSpec) -> frozenset[str]:
    keys: set[str] = set()
    for ref in spec.walk():
        f = ref.field
        if isinstance(f, (GroupField, RepeatField)):
            continue
        keys.add(ref.path)
        if isinstance(f, MultiChoiceField):
            keys.update(f"{ref.path}:{o.value}" for o in f.choices)
    return frozenset(keys)


_KEYS: PerObject[FormSpec, frozenset[str]] = PerObject(_known_keys)


def _part_keys(spec: FormSpec, root: etree._Element) -> set[str]:
    """Field paths the data part declares (its element names), whatever spec version wrote it:
    leaves and option lists are fields, elements of rows are repeats, other parents are groups."""
    sdf = "{%s}" % NS["sdf"]
    out: set[str] = set()

    def walk(node: etree._Element, prefix: str) -> None:
        for child in node:
            if not isinstance(child.tag, str) or not child.tag.startswith(sdf):
                continue
            path = prefix + child.tag[len(sdf):]
            kids = {k.tag for k in child if isinstance(k.tag, str)}
            if not kids or kids == {sdf + "opt"} or kids == {sdf + "row"} or _is_repeat(spec, path):
                out.add(path)
            else:
                walk(child, path + ".")

    walk(root, "")
    return out


def _is_repeat(spec: FormSpec, path: str) -> bool:
    ref = spec.field_at(path)
    return ref is not None and isinstance(ref.field, RepeatField)


def _version_issues(spec: FormSpec, doc_version: str | None, document_keys) -> list[Issue]:
    if not doc_version or doc_version == spec.version:
        return []
    doc_keys = document_keys()
    spec_keys = {ref.path for ref in spec.walk() if ref.in_repeat is None and not isinstance(ref.field, GroupField)}
    only_doc = sorted(doc_keys - spec_keys)
    only_spec = sorted(spec_keys - doc_keys) if doc_keys else []
    if not only_doc and not only_spec:
        return [Issue("$", "other_version", f"This document was made from version {doc_version} of the form and read "
                      f"with version {spec.version}; their fields match.", "warning")]
    parts = []
    if only_doc:
        parts.append("fields only in the document: " + ", ".join(only_doc[:20]))
    if only_spec:
        parts.append(f"fields only in version {spec.version}: " + ", ".join(only_spec[:20]))
    return [Issue("$", "version_mismatch", f"This document was made from version {doc_version} of the form, which "
                  f"differs from the current version {spec.version}: " + "; ".join(parts) + ".")]

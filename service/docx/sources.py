"""One field's value from a Word document, trying each place it can be, in order of trust
(docs/word.md says why):

1. a content control carrying the field's tag (Word keeps tags);
2. a control bound to the field's node in our data part (LibreOffice drops tags, keeps bindings);
3. the control in the field's cell of the layout plan (tags and bindings both gone);
4. the visible text of that cell (controls flattened, e.g. after a trip through .odt);
5. the data part itself, last, because LibreOffice leaves it stale for check boxes,
   drop-downs and dates.

Placeholder text is never a value. Text typed in a value cell outside its control is kept
(added to a text field, or reported in ``stray_text``) and flagged. Where each value came from
is recorded in ``sources`` (the names in ``service.extract``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property

from lxml import etree

from ..convert import choice_value, parse
from ..dates import iso_date, iso_datetime
from ..errors import Unreadable
from ..shape import empty_value
from ..spec.model import (
    CheckboxField, ChoiceField, DateField, DateTimeField, ListField, LongTextField, MultiChoiceField, TextField,
)
from ..validation import Issue
from .controls import ControlIndex
from .ns import qn
from .oxml import CHECKED
from .oxml_read import SdtInfo, block_text
from .placeholders import is_placeholder
from .repairs import line_breaks_from_part

TICKS = (CHECKED, "\u2611", "\u2714", "\u2713", "[x]", "[X]")
_T, _PPR, _TCPR = qn("w:t"), qn("w:pPr"), qn("w:tcPr")


@dataclass
class Reading:
    """What reading a document collects as it goes."""

    sources: dict[str, str] = field(default_factory=dict)
    issues: list[Issue] = field(default_factory=list)
    stray: dict[str, str] = field(default_factory=dict)
    lost_controls: list[Issue] = field(default_factory=list)  # summarised when there are many


def iso_value(f, text: str) -> bool:
    """Is ``text`` a valid ISO value of date field ``f``?"""
    return (iso_date(text) if isinstance(f, DateField) else iso_datetime(text)) is not None


def has_content(stored: object) -> bool:
    """A data-part value worth falling back on: text with something in it (an unticked box is
    stored as 'false', which says nothing), or a ticked option."""
    if isinstance(stored, str):
        return bool(stored.strip()) and stored.strip() != "false"
    if isinstance(stored, list):
        return any(on for _, on in stored)
    return False


class FieldReader:
    """Reads simple fields (and multiple choices) wherever they are. ``stored`` gives the data
    part's texts by path, and is called only if a field needs them."""

    def __init__(self, index: ControlIndex, stored: Callable[[], dict[str, object]], reading: Reading) -> None:
        self.index, self._stored, self.reading = index, stored, reading
        self.own_layout = False  # a designer's layout: a field it leaves out is not "removed"

    @cached_property
    def part(self) -> dict[str, object]:
        return self._stored()

    def _issue(self, *args) -> None:
        self.reading.issues.append(Issue(*args))

    # -- a simple field ------------------------------------------------------------------------
    def simple(self, path: str, f, cell: etree._Element | None, row_key: str | None = None) -> object:
        """The value of field ``f`` (reported as ``path``); ``row_key`` is its column's tag in a
        repeat, whose cell is searched before any tag elsewhere."""
        key, flattened = row_key or path, self.index.empty

        def found(value: object, source: str) -> object:
            if value not in (None, [], False) or source in ("control", "binding", "position"):
                self.reading.sources[path] = source
            return value

        if isinstance(f, MultiChoiceField):
            return found(*self.multichoice(f, path, key, cell))
        tagged = [] if row_key and cell is not None else self.index.take(key)
        if tagged:
            info, how = tagged[0]
            if len(tagged) > 1:
                self._issue(path, "duplicate_control", f'"{f.label}" appears more than once in the document; the first '
                            "one was read.", "warning")
            return found(self._with_outside(info, f, path, row_key), how)
        controls = self.index.free_in(cell, key if row_key else None) if cell is not None else []
        if controls:
            self.index.claim(controls[0])
            how = "control" if row_key and controls[0].tag == row_key else "position"
            return found(self._with_outside(controls[0], f, path, row_key), how)
        if cell is not None and (text := block_text(cell)).strip():
            if not flattened:
                self.reading.lost_controls.append(Issue(path, "control_missing", f'The control for "{f.label}" was '
                                                        "removed; its value was read from the text in its cell.",
                                                        "warning"))
            return found(self.text_value(text, f, path), "text")
        if row_key is None and has_content(self.part.get(path)):
            self._issue(path, "control_missing", f'The control for "{f.label}" is missing; its value was taken from '
                        "the data stored in the document, which may be out of date.", "warning")
            return found(self.text_value(self.part[path], f, path, stored=True), "customxml")
        if cell is None and not flattened and row_key is None and not self.own_layout:
            self._issue(path, "control_missing", f'"{f.label}" could not be found in the document (its control or '
                        "table was deleted).", "error" if f.required else "warning")
        return empty_value(f)

    def control_value(self, info: SdtInfo, f, path: str, column: str | None = None) -> object:
        """The value a control holds. Where a control carries its answer twice (a check box's
        glyph and its ticked flag, a date's text and its stored date, a drop-down's text and its
        stored value) and the two disagree, what the person sees wins and the field is warned
        about (a drop-down or date showing text that cannot be read is an error, never replaced
        by what the box stored, which may be the very answer the text replaced); a control still flagged as showing its placeholder but holding an answer is
        read, with a warning (docs/word.md, "How a document is read")."""
        if isinstance(f, CheckboxField):
            return self.box_state(info, f.label, path)
        if not info.text.strip() or is_placeholder(info.text, f):
            stored = self._stored_date(info, f)
            if stored is not None:  # a date set in the box whose text was not written (LibreOffice's API)
                self._issue(path, "date_not_shown", f'"{f.label}" shows no date, but its box holds one, which was read. '
                            "Check it.", "warning")
                return stored
            return empty_value(f)
        if info.showing_placeholder:
            self._issue(path, "placeholder_flag_left", f'"{f.label}" was still marked as showing its placeholder '
                        "although it holds an answer (an editor left the mark in place); the answer was read.",
                        "warning")
        if isinstance(f, ChoiceField):
            return self._choice(info, f, path)
        if isinstance(f, (DateField, DateTimeField)) and info.kind == "date":
            return self._date(info, f, path)
        text = info.text
        if info.multiline and (info.breaks_uncertain or (info.breaks_beside and text.count("\n") < info.breaks_beside)):
            stored = (self.part.get(column) or []) if column else ([self.part.get(path)] if info.xpath else [])
            repaired = line_breaks_from_part(info, stored)
            if repaired != text:
                text = repaired
            elif info.breaks_uncertain and not isinstance(f, ListField):  # (a list has no blank lines to lose)
                # keep the text with its certain breaks, and say so at the field
                self._issue(path, "line_breaks_uncertain", f'"{f.label}": this answer was saved by LibreOffice, which '
                            "keeps its lines but not the blank lines between paragraphs; a line break was put back "
                            "between each of its lines. Check its paragraphs.", "warning")
        return self.text_value(text, f, path)

    def box_state(self, info: SdtInfo, label: str, path: str) -> bool:
        """A check box: the glyph it shows, when it shows one; its flag otherwise."""
        if info.kind != "checkbox":
            return info.text.strip().startswith(TICKS)
        if info.glyph_checked is None or info.glyph_checked == bool(info.checked):
            return bool(info.checked)
        shown, stored = ("ticked", "unticked") if info.glyph_checked else ("unticked", "ticked")
        self._issue(path, "checkbox_disagrees", f'"{label}" shows a {shown} box but is marked {stored} inside; the box '
                    "as shown was read. Check it.", "warning")
        return info.glyph_checked

    def _choice(self, info: SdtInfo, f: ChoiceField, path: str) -> str | None:
        value = choice_value(f, info.text)
        if value is None:  # the shown text is a list item's display text with another value?
            value = next((v for v, shown in info.items if shown.strip() == info.text.strip() and f.label_for(v)), None)
        stored = info.last_value if info.last_value and f.label_for(info.last_value) else None
        if value is None:  # not taken from the stored choice: that may be the one the text replaced
            before = f" (the box had \"{f.label_for(stored)}\" chosen before)" if stored else ""
            self._issue(path, "unknown_choice", f'"{f.label}" shows a choice that is not in its list{before}.')
        elif stored is not None and stored != value:
            self._issue(path, "choice_disagrees", f'"{f.label}" shows one choice and stores another; the one shown was '
                        "read. Check it.", "warning")
        return value

    @staticmethod
    def _stored_date(info: SdtInfo, f) -> str | None:
        """The date a date picker holds in ``w:fullDate``, when it is a valid one for ``f``."""
        if info.kind != "date" or not isinstance(f, (DateField, DateTimeField)) or not info.full_date:
            return None
        n = 10 if isinstance(f, DateField) else 16
        stored = info.full_date[:n]
        return stored if len(stored) == n and iso_value(f, stored) else None

    def _date(self, info: SdtInfo, f, path: str) -> str | None:
        """A date picker: the date shown (an unreadable one is an error, never replaced by the
        date stored in the box, which may be the one it replaced); a stored date that differs
        from a readable one shown is warned about."""
        value = self.text_value(info.text, f, path)
        stored = self._stored_date(info, f)
        if value is not None and stored is not None and stored != value:
            self._issue(path, "date_disagrees", f'"{f.label}" shows one date and stores another; the date shown was '
                        "read. Check it.", "warning")
        return value

    def text_value(self, text: str, f, path: str, stored: bool = False) -> object:
        if isinstance(f, CheckboxField):
            t = text.strip()
            return t.startswith(TICKS) or t.lower() in ("true", "1", "yes")
        if is_placeholder(text, f):
            return empty_value(f)
        try:
            return parse(f, text)
        except Unreadable as exc:
            if stored and isinstance(f, (DateField, DateTimeField)) and len(text) >= 10:
                return text[:10] if isinstance(f, DateField) else text[:16]
            label = f'"{f.label}" ' if exc.code == "unreadable_date" else ""
            self._issue(path, exc.code, f"{label}{exc}")
            return None

    def _with_outside(self, info: SdtInfo, f, path: str, column: str | None = None) -> object:
        """The control's value, plus any text typed beside it in the same cell (kept and flagged)."""
        value = self.control_value(info, f, path, column)
        if not self.index.alone_in_cell(info):
            return value
        cell = self.index.cell_of(info)
        parent = info.element.getparent()
        if parent is not None and _only_child(parent, info.element, _PPR) and _only_child(cell, parent, _TCPR):
            return value  # the cell is one paragraph holding just the control (as generated)
        if sum(1 for _ in cell.iter(_T)) == sum(1 for _ in info.element.iter(_T)):
            return value  # no text of its own beside the control
        extra = block_text(cell, skip=info.element).strip()
        if not extra:
            return value
        self._issue(path, "text_outside_control", f'Text was typed in the "{f.label}" cell outside its box. It has been '
                    "kept; check it is in the right place.", "warning")
        if isinstance(f, (TextField, LongTextField)):
            sep = "\n" if isinstance(f, LongTextField) else " "
            return f"{value}{sep}{extra}" if value else extra
        self.reading.stray[path] = extra
        return value

    # -- a multiple choice -------------------------------------------------------------------
    def multichoice(self, f: MultiChoiceField, path: str, key: str, cell) -> tuple[list[str], str]:
        """The ticked options and where they were read: a box per option by tag or binding,
        else the boxes of the cell in option order, else ticked lines of its text, else the
        data part."""
        chosen, source = [], None
        for o in f.choices:
            tagged = self.index.take(f"{key}:{o.value}")
            if tagged:
                source = source or tagged[0][1]
                if self.box_state(tagged[0][0], f"{f.label}: {o.label}", path):
                    chosen.append(o.value)
        if source is None and cell is not None:
            boxes = [i for i in self.index.free_in(cell, None) if i.kind == "checkbox"]
            if len(boxes) == len(f.choices):
                source = "position"
                for i, o in zip(boxes, f.choices):
                    self.index.claim(i)
                    if self.box_state(i, f"{f.label}: {o.label}", path):
                        chosen.append(o.value)
            elif (text := block_text(cell)).strip():
                source = "text"
                for line in text.split("\n"):
                    line = line.strip()
                    if line.startswith(TICKS):
                        v = choice_value(f, line.lstrip("".join(TICKS) + "[]xX ").strip())
                        if v:
                            chosen.append(v)
        if source is None and has_content(self.part.get(path)):
            source = "customxml"
            chosen = [v for v, on in self.part[path] if on and f.label_for(v)]
        return chosen, source or "missing"


def _only_child(parent: etree._Element, child: etree._Element, props: str) -> bool:
    """``child`` is ``parent``'s only child apart from a leading properties element."""
    n = len(parent)
    return (n == 1 and parent[0] is child) or (n == 2 and parent[0].tag == props and parent[1] is child)

"""Typed model of a form spec. YAML becomes these objects at the edge (``loader.py``); nothing
downstream looks at raw dicts.

A spec is: identity (id, title, version, organisation, source notes), ordered sections of
fields, named option sets, and policy rules (``rules.py``). The JSON data a form carries is one
object keyed by the top-level field keys; sections only arrange fields on the page, so a key is
unique across the whole form. ``group`` fields nest an object, ``repeat`` fields an array of rows.

Field paths, used in rules, error reports and document tags, are dotted keys with
``[n]`` for a row: ``safety.fire_setting.answer``, ``actions[2].due_date``.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import cached_property
from typing import Annotated, Literal, Union

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from ..case_record import CASE_KEYS
from .migrations import Migration
from .rules import Rule

Key = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]*$", max_length=64)]
Slug = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9-]*$", max_length=64)]
OptionValue = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$", max_length=64)]
Text = Annotated[str, StringConstraints(min_length=1, max_length=2000)]
SemVer = Annotated[str, StringConstraints(pattern=r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)$")]

# Who may see a field, besides professionals (who see everything): a pack is built for each
# audience it names, and an audience's documents contain only what it may see (audiences.py).
Audience = Literal["professionals", "carers", "family", "child"]
AUDIENCES: tuple[str, ...] = ("professionals", "carers", "family", "child")

# Longest value any text field may hold, whatever its spec says: a guard against abuse, far
# above what a real answer needs.
HARD_MAX_LENGTH = 100_000


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class Option(_Model):
    value: OptionValue
    label: Text


class _FieldBase(_Model):
    key: Key
    label: Text
    help: str = ""
    required: bool = False
    placeholder: str | None = None
    case: Key | None = Field(
        default=None, description="The case-record attribute that can prefill this field."
    )
    audience: list[Audience] | None = Field(
        default=None, description="Who may see it (professionals always may); default: as its section or table, "
                                  "else professionals only."
    )
    plain_label: Text | None = Field(default=None, description="The question in plain words, for the child's version.")

    @property
    def is_container(self) -> bool:
        return False


class TextField(_FieldBase):
    """One line of text."""

    type: Literal["text"]
    max_length: int = Field(default=500, ge=1, le=HARD_MAX_LENGTH)
    format: Literal["email", "phone"] | None = None


class LongTextField(_FieldBase):
    """Several lines or paragraphs of text."""

    type: Literal["longtext"]
    max_length: int = Field(default=20_000, ge=1, le=HARD_MAX_LENGTH)


class ListField(_FieldBase):
    """A list of short items, shown one per line (triggers, techniques)."""

    type: Literal["list"]
    max_items: int = Field(default=50, ge=1, le=500)
    item_max_length: int = Field(default=500, ge=1, le=5000)


class IntegerField(_FieldBase):
    type: Literal["integer"]
    minimum: int | None = None
    maximum: int | None = None

    @model_validator(mode="after")
    def _range(self) -> "IntegerField":
        if self.minimum is not None and self.maximum is not None and self.minimum > self.maximum:
            raise ValueError("minimum is greater than maximum")
        return self


class DateField(_FieldBase):
    type: Literal["date"]


class DateTimeField(_FieldBase):
    """A date with a time of day (local UK time), for timescales counted in hours."""

    type: Literal["datetime"]


class CheckboxField(_FieldBase):
    """A yes/no tick box. Unticked is a real answer (false); ``required`` means it must be ticked."""

    type: Literal["checkbox"]


class _OptionsMixin(_Model):
    # A list of options, or the name of one of the spec's option_sets (resolved on load).
    options: list[Option] | Key

    @property
    def choices(self) -> list[Option]:
        assert isinstance(self.options, list), "option set not resolved; load specs with the loader"
        return self.options

    def label_for(self, value: str) -> str | None:
        return next((o.label for o in self.choices if o.value == value), None)


class ChoiceField(_FieldBase, _OptionsMixin):
    """Pick one option: a drop-down list in Word and PDF."""

    type: Literal["choice"]


class MultiChoiceField(_FieldBase, _OptionsMixin):
    """Pick any number of options: a tick box per option."""

    type: Literal["multichoice"]
    min_items: int = Field(default=0, ge=0)
    max_items: int | None = Field(default=None, ge=1)


Layout = Literal["table", "grid", "columns"]


class GroupField(_FieldBase):
    """A fixed set of sub-fields under one key (a JSON object), e.g. one anxiety state."""

    type: Literal["group"]
    fields: list["AnyField"] = Field(min_length=1)
    layout: Layout = "table"
    headers: list[str] | None = None

    @property
    def is_container(self) -> bool:
        return True


class RepeatField(_FieldBase):
    """Table rows: each row an object of the same simple fields (attendees, actions)."""

    type: Literal["repeat"]
    fields: list["SimpleField"] = Field(min_length=1)
    min_rows: int = Field(default=0, ge=0)
    max_rows: int | None = Field(default=None, ge=1, le=500)
    blank_rows: int = Field(default=3, ge=0, le=50, description="Empty rows a blank document shows.")
    numbered: bool = Field(default=False, description="Rows are ranked: show 1, 2, 3... beside them.")

    @property
    def is_container(self) -> bool:
        return True

    @model_validator(mode="after")
    def _rows(self) -> "RepeatField":
        if self.max_rows is not None:
            if self.min_rows > self.max_rows:
                raise ValueError("min_rows is greater than max_rows")
            if self.blank_rows > self.max_rows:
                raise ValueError("blank_rows is greater than max_rows")
        return self


SimpleField = Annotated[
    Union[
        TextField, LongTextField, ListField, IntegerField, DateField, DateTimeField,
        CheckboxField, ChoiceField, MultiChoiceField,
    ],
    Field(discriminator="type"),
]
AnyField = Annotated[
    Union[
        TextField, LongTextField, ListField, IntegerField, DateField, DateTimeField,
        CheckboxField, ChoiceField, MultiChoiceField, GroupField, RepeatField,
    ],
    Field(discriminator="type"),
]
FIELD_TYPES = (
    "text", "longtext", "list", "integer", "date", "datetime",
    "checkbox", "choice", "multichoice", "group", "repeat",
)
GroupField.model_rebuild()
RepeatField.model_rebuild()


class Section(_Model):
    id: Slug
    heading: Text
    number: str | None = Field(default=None, max_length=8, description="Shown before the heading.")
    guidance: str = ""
    layout: Layout = "table"
    columns: int = Field(default=1, ge=1, le=4, description="Label/value pairs per table row.")
    agenda: list[Text] = Field(default_factory=list, description="A numbered list shown, not filled.")
    fields: list[AnyField] = Field(default_factory=list)
    audience: list[Audience] | None = Field(default=None, description="Who may see its fields (see _FieldBase).")
    plain_heading: Text | None = Field(default=None, description="The heading in plain words, for the child's version.")
    plain_guidance: str = Field(default="", description="Guidance in plain words, for the child's version.")

    @model_validator(mode="after")
    def _has_content(self) -> "Section":
        if not self.fields and not self.agenda and not self.guidance:
            raise ValueError("a section needs fields, an agenda or guidance")
        return self


class Source(_Model):
    document: Text
    notes: str = ""


class FieldRef:
    """A field found by path, with the path of the repeat it sits in (if any)."""

    __slots__ = ("path", "field", "in_repeat")

    def __init__(self, path: str, field: _FieldBase, in_repeat: str | None) -> None:
        self.path, self.field, self.in_repeat = path, field, in_repeat


class FormSpec(_Model):
    id: Slug
    title: Text
    subtitle: str = ""
    version: SemVer
    organisation: Text
    source: Source
    option_sets: dict[Key, list[Option]] = Field(default_factory=dict)
    sections: list[Section] = Field(min_length=1)
    rules: list[Rule] = Field(default_factory=list)
    migration: Migration | None = Field(
        default=None, description="How data of the version before this one becomes this version's data."
    )
    restricted_to: Audience | None = Field(
        default=None, description="Set by audiences.restricted() on the copy made for one audience; never in a file."
    )

    # -- navigation -----------------------------------------------------------------------
    @property
    def fields(self) -> list[AnyField]:
        """Top-level fields in document order (the keys of the JSON data)."""
        return [f for s in self.sections for f in s.fields]

    def walk(self) -> Iterator[FieldRef]:
        """Every field, depth first in document order, with its path (rows as ``name[]``)."""
        yield from _walk(self.fields, "", None)

    def field_at(self, path: str) -> FieldRef | None:
        return self._index.get(path)

    @cached_property
    def _index(self) -> dict[str, FieldRef]:
        return {ref.path: ref for ref in self.walk()}

    # -- checks across the whole spec ----------------------------------------------------
    @model_validator(mode="after")
    def _consistent(self) -> "FormSpec":
        _check_unique([s.id for s in self.sections], "section id")
        _check_keys(self.fields, "")
        for ref in self.walk():
            f = ref.field
            if f.case is not None and f.case not in CASE_KEYS:
                raise ValueError(f"field {ref.path!r} names case attribute {f.case!r}; known: {', '.join(sorted(CASE_KEYS))}")
            if isinstance(f, (ChoiceField, MultiChoiceField)):
                if isinstance(f.options, str):
                    if f.options not in self.option_sets:
                        raise ValueError(f"field {ref.path!r} names option set {f.options!r}, which is not defined")
                    f.options = self.option_sets[f.options]
                if not f.options:
                    raise ValueError(f"field {ref.path!r} has no options")
                _check_unique([o.value for o in f.options], f"option value in field {ref.path!r}")
        for i, rule in enumerate(self.rules):
            try:
                rule.check_against(self)
            except ValueError as exc:
                raise ValueError(f"rules[{i}] ({rule.id}): {exc}") from None
        _check_unique([r.id for r in self.rules], "rule id")
        return self


def _walk(fields: list, prefix: str, in_repeat: str | None) -> Iterator[FieldRef]:
    for f in fields:
        path = f"{prefix}{f.key}"
        yield FieldRef(path, f, in_repeat)
        if isinstance(f, GroupField):
            yield from _walk(f.fields, path + ".", in_repeat)
        elif isinstance(f, RepeatField):
            yield from _walk(f.fields, path + "[].", path)


def _check_unique(items: list[str], what: str) -> None:
    seen: set[str] = set()
    for item in items:
        if item in seen:
            raise ValueError(f"{what} {item!r} is used twice")
        seen.add(item)


def _check_keys(fields: list, prefix: str) -> None:
    _check_unique([f.key for f in fields], f"key{' inside ' + prefix.rstrip('.') if prefix else ''}")
    for f in fields:
        if isinstance(f, (GroupField, RepeatField)):
            _check_keys(f.fields, f"{prefix}{f.key}.")

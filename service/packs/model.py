"""Pack definitions: what one meeting needs, as data (``form_specs/packs/<id>.yaml``).

A pack names its forms in order, the meeting's own columns (beyond the standard ones every
meeting has), which meeting values prefill which form fields, the agenda (its own, or a form's),
and the timescales the cover sheet checks. A ``per_option`` pack is not for meetings: it makes
one document for each option of a form's field (the SUSD expressions of interest, one per Welsh
local authority, whose list lives in that form's spec).
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator

from ..case_record import ATTRIBUTES, LABELS
from ..spec.durations import Duration
from ..spec.model import Audience

Key = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$", max_length=60)]
Slug = Annotated[str, Field(pattern=r"^[a-z][a-z0-9-]*$", max_length=80)]
Text = Annotated[str, Field(min_length=1, max_length=500)]
DurationField = Annotated[Duration, BeforeValidator(Duration.parse)]
ColumnType = Literal["text", "longtext", "date", "datetime", "time", "choice", "people"]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", arbitrary_types_allowed=True)


class Column(_Model):
    """One column of the meeting row (a spreadsheet column)."""

    key: Key
    label: Text
    type: ColumnType = "text"
    required: bool = False
    options: list[Text] | None = None
    help: str = ""

    @model_validator(mode="after")
    def _options(self) -> "Column":
        if (self.type == "choice") != bool(self.options):
            raise ValueError(f"column {self.key!r}: a choice column lists its options, and only a choice column does")
        return self


# Every meeting pack has these columns first; the child's case attributes may follow as columns too.
STANDARD_COLUMNS = [
    Column(key="su_number", label=LABELS["su_number"], required=True,
           help="The child's SU number; it also names the folder"),
    Column(key="child_name", label=LABELS["child_name"]),
    Column(key="meeting_date", label="Meeting date", type="date", required=True),
    Column(key="meeting_time", label="Start time", type="time", help="24-hour clock, e.g. 14:30"),
    Column(key="venue", label="Venue"),
    Column(key="chair", label="Chair"),
    Column(key="chair_role", label="Chair's role"),
    Column(key="invitees", label="Invitees", type="people",
           help="One person per line (or separated by ;), each as Name – Role"),
]
# The case attributes a meeting row may carry, after the pack's own columns.
_COLUMN_TYPE = {"date": "date", "lines": "longtext", "text": "text"}
CASE_COLUMNS = [Column(key=a.key, label=a.label, type=_COLUMN_TYPE[a.kind], help=a.help)
                for a in ATTRIBUTES if a.in_rows]


Path = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*$", max_length=200)]


class CarryActions(_Model):
    """The last meeting's actions brought into this one: those not done start as carried; every
    one, with its status, is listed on the cover sheet (and in ``summary`` if given)."""

    rows: Path = Field(description="the form's table of actions")
    status: Key = Field(description="its status column (a choice)")
    done: list[Key] = Field(default_factory=lambda: ["done"], description="status values that mean done")
    carried: Key = Field(default="carried", description="the status a carried action starts with")
    summary: Path | None = Field(default=None, description="a text field that lists the last meeting's actions")


class FromLast(_Model):
    """A recurring meeting: the form starts from the child's last accepted record of it."""

    date: Path = Field(description="the last record's field saying when the last meeting was")
    into: Path | None = Field(default=None, description="this form's field that shows the last meeting's date")
    copy_fields: list[Path] | Literal["all"] = Field(
        default_factory=list, alias="copy", description="fields whose last answers are this meeting's starting point "
                                                        "(all: the whole record, for a plan that is reviewed)")
    actions: CarryActions | None = None


class PackForm(_Model):
    form: Slug
    prefill: dict[str, Key] = Field(default_factory=dict,
                                    description="form field path -> meeting column (a people column fills a table)")
    from_last: FromLast | None = None


class During(_Model):
    """A timescale that applies only for a while: from a column's date, for a duration."""

    start: Key
    within: DurationField


class Timescale(_Model):
    """A check on the meeting row, said on the cover sheet when it fails. ``start`` and ``end``
    are columns, or ``last_meeting_date``: when the child's last meeting of this pack was (from
    the last accepted record of its first ``from_last`` form)."""

    id: Slug
    start: Key
    end: Key
    within: DurationField | None = None
    at_least: DurationField | None = None
    during: During | None = None
    message: Text

    @model_validator(mode="after")
    def _bounds(self) -> "Timescale":
        if self.within is None and self.at_least is None:
            raise ValueError(f"timescale {self.id!r} needs 'within' or 'at_least'")
        return self


class Since(_Model):
    """A cover sheet line saying how long before the meeting a column's date was."""

    column: Key
    label: Text


class PerOption(_Model):
    form: Slug
    field: Key  # a choice field of the form, one document per option


class PackSpec(_Model):
    id: Slug
    title: Text
    kind: Literal["meeting", "per_option"] = "meeting"
    purpose: Text
    chair: str = ""
    agenda: list[Text] = Field(default_factory=list)
    agenda_from: Slug | None = None
    columns: list[Column] = Field(default_factory=list)
    forms: list[PackForm] = Field(min_length=1)
    timescales: list[Timescale] = Field(default_factory=list)
    since: list[Since] = Field(default_factory=list)
    audiences: list[Audience] = Field(
        default_factory=lambda: ["professionals"],
        description="Whom the pack is built for: professionals get everything, each other audience a folder of "
                    "its own with only what it may see (the forms' field audiences)")
    per_option: PerOption | None = None

    @property
    def all_columns(self) -> list[Column]:
        """The standard columns (a pack's own column of the same key takes its place: a choice
        of chair's roles, say), the pack's own, then the case columns."""
        if self.kind == "per_option":
            return self.columns
        own = {c.key: c for c in self.columns}
        standard = [own.get(c.key, c) for c in STANDARD_COLUMNS]
        extra = [c for c in self.columns if c.key not in {s.key for s in STANDARD_COLUMNS}]
        return standard + extra + [c for c in CASE_COLUMNS if c.key not in own]

    @property
    def last_meeting_form(self) -> PackForm | None:
        """The form whose last accepted record says when the child's last meeting was."""
        return next((f for f in self.forms if f.from_last is not None), None)

    @model_validator(mode="after")
    def _consistent(self) -> "PackSpec":
        keys = [c.key for c in self.all_columns]
        if len(keys) != len(set(keys)):
            raise ValueError("a column key is used twice")
        if len({c.key for c in self.columns}) != len(self.columns):
            raise ValueError("a column key is used twice")
        for f in self.forms:
            for path, key in f.prefill.items():
                if key not in keys and key != "meeting_at":
                    raise ValueError(f"form {f.form!r} prefills {path!r} from {key!r}, which is not a column")
        for item in self.since:
            if item.column not in keys:
                raise ValueError(f"'since' names {item.column!r}, which is not a column")
        recurring = self.last_meeting_form is not None
        for t in self.timescales:
            for key in (t.start, t.end) + ((t.during.start,) if t.during else ()):
                if key == "last_meeting_date" and not recurring:
                    raise ValueError(f"timescale {t.id!r} uses the last meeting's date, but no form of the pack "
                                     "starts from the last record (from_last)")
                if key not in keys and key not in ("meeting_at", "last_meeting_date"):
                    raise ValueError(f"timescale {t.id!r} uses {key!r}, which is not a column")
        if (self.kind == "per_option") != (self.per_option is not None):
            raise ValueError("a per_option pack says which form field to go through, and only such a pack does")
        if "professionals" not in self.audiences or len(set(self.audiences)) != len(self.audiences):
            raise ValueError("audiences lists each audience once, professionals among them")
        if self.kind == "per_option" and self.audiences != ["professionals"]:
            raise ValueError("a per_option pack is for professionals only")
        if self.agenda and self.agenda_from:
            raise ValueError("give an agenda or agenda_from, not both")
        return self

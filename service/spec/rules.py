"""Policy rules as data: a small vocabulary every form shares.

    interval     the gap from one date field to another must lie within [min, max]
                 ("a stability meeting within 48h of the request", "introductions 6w to 8w")
    when         a condition on the data is true: say something
                 ("an SDQ score of 17 or more needs discussion in care planning")
    required_if  a condition is true, so other fields ought to be filled
                 ("a 'Yes' in How to keep me safe wants the date of the last incident")
    date_limit   a date must not fall before / after a fixed day ("submissions closed 5 Dec 2022")

Conditions test one field (``in``, ``not_in``, ``equals``, ``min``/``max``, ``filled``) or
combine conditions with ``all`` / ``any``. Rules refer to fields by path. A rule with
``each: <repeat>`` runs once per row of that repeat, and its paths name fields of the row
("an action marked done needs its date"); otherwise paths name fields outside any repeat. Each rule's ``message`` is the policy in plain English; the
validator adds what it found. Rules never run code from the spec.

This module holds the models and checks them against a spec on load; evaluation is in
``service.validation.rules``.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Annotated, Literal, Union

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StringConstraints, model_validator

from .durations import Duration

if TYPE_CHECKING:
    from .model import FormSpec  # here: model.py imports this module

RuleId = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9-]*$", max_length=64)]
Path = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*$", max_length=200)]
DurationField = Annotated[Duration, BeforeValidator(Duration.parse)]
Scalar = Union[bool, int, str]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True, arbitrary_types_allowed=True)


class Condition(_Model):
    field: Path | None = None
    in_: list[Scalar] | None = Field(default=None, alias="in")
    not_in: list[Scalar] | None = None
    equals: Scalar | None = None
    min: int | None = None
    max: int | None = None
    filled: bool | None = None
    all: list["Condition"] | None = None
    any: list["Condition"] | None = None

    @model_validator(mode="after")
    def _one_test(self) -> "Condition":
        if self.all is not None or self.any is not None:
            if self.field is not None or self._tests() or (self.all is not None and self.any is not None):
                raise ValueError("a condition with 'all' or 'any' has nothing else")
            if not (self.all or self.any):
                raise ValueError("'all' / 'any' needs at least one condition")
            return self
        if self.field is None:
            raise ValueError("a condition names a 'field' (or combines conditions with 'all' / 'any')")
        tests = self._tests()
        if len(tests) != 1:
            raise ValueError("a condition has exactly one test: in, not_in, equals, min/max or filled")
        return self

    def _tests(self) -> list[str]:
        found = [n for n in ("in_", "not_in", "equals", "filled") if getattr(self, n) is not None]
        if self.min is not None or self.max is not None:
            found.append("range")
        return found

    def fields(self) -> list[str]:
        if self.field:
            return [self.field]
        return [p for c in (self.all or self.any or []) for p in c.fields()]

    def check_against(self, spec: "FormSpec", each: str | None = None) -> None:
        from .model import CheckboxField, ChoiceField, IntegerField, MultiChoiceField  # here: model.py imports this module

        for sub in self.all or self.any or []:
            sub.check_against(spec, each)
        if not self.field:
            return
        f = _simple_field(spec, self.field, each)
        if self.min is not None or self.max is not None:
            if not isinstance(f, IntegerField):
                raise ValueError(f"min/max test on {self.field!r}, which is not a whole number")
        for values in (self.in_, self.not_in, [self.equals] if self.equals is not None else None):
            if values is None:
                continue
            if isinstance(f, (ChoiceField, MultiChoiceField)):
                known = {o.value for o in f.choices}
                unknown = [v for v in values if v not in known]
                if unknown:
                    raise ValueError(f"{unknown!r} are not options of {self.field!r}")
            elif isinstance(f, CheckboxField):
                if any(not isinstance(v, bool) for v in values):
                    raise ValueError(f"{self.field!r} is a check box: compare it with true or false")


Condition.model_rebuild()


class _RuleBase(_Model):
    id: RuleId
    message: Annotated[str, StringConstraints(min_length=1, max_length=500)]
    severity: Literal["warning", "error"] = "warning"
    each: Path | None = Field(default=None, description="Run once per row of this repeat; paths are row fields.")

    def check_against(self, spec: "FormSpec") -> None:
        if self.each is not None:
            from .model import RepeatField  # here: model.py imports this module

            ref = spec.field_at(self.each)
            if ref is None or not isinstance(ref.field, RepeatField) or ref.in_repeat is not None:
                raise ValueError(f"'each' names {self.each!r}, which is not a repeating table of the form")
        self._check_fields(spec)

    def _check_fields(self, spec: "FormSpec") -> None:  # pragma: no cover - overridden
        raise NotImplementedError


class IntervalRule(_RuleBase):
    rule: Literal["interval"]
    from_: Path = Field(alias="from")
    to: Path
    min: DurationField | None = None
    max: DurationField | None = None

    @model_validator(mode="after")
    def _bounds(self) -> "IntervalRule":
        if self.min is None and self.max is None:
            raise ValueError("an interval rule needs min, max or both")
        return self

    def _check_fields(self, spec: "FormSpec") -> None:
        from .model import DateField, DateTimeField  # here: model.py imports this module

        for path in (self.from_, self.to):
            f = _simple_field(spec, path, self.each)
            if not isinstance(f, (DateField, DateTimeField)):
                raise ValueError(f"interval names {path!r}, which is not a date")
        clock = [d for d in (self.min, self.max) if d is not None and d.is_clock]
        if clock:
            for path in (self.from_, self.to):
                if not isinstance(_simple_field(spec, path, self.each), DateTimeField):
                    raise ValueError(f"an interval in hours needs date-and-time fields; {path!r} is a date only")


class WhenRule(_RuleBase):
    rule: Literal["when"]
    when: Condition
    path: Path | None = Field(default=None, description="Field the issue is reported on (default: the first tested).")

    def _check_fields(self, spec: "FormSpec") -> None:
        self.when.check_against(spec, self.each)
        if self.path:
            _simple_field(spec, self.path, self.each)


class RequiredIfRule(_RuleBase):
    rule: Literal["required_if"]
    when: Condition
    fields: list[Path] = Field(min_length=1)

    def _check_fields(self, spec: "FormSpec") -> None:
        self.when.check_against(spec, self.each)
        for path in self.fields:
            _simple_field(spec, path, self.each)


class DateLimitRule(_RuleBase):
    rule: Literal["date_limit"]
    field: Path
    not_before: date | None = None
    not_after: date | None = None

    @model_validator(mode="after")
    def _bounds(self) -> "DateLimitRule":
        if self.not_before is None and self.not_after is None:
            raise ValueError("a date_limit rule needs not_before, not_after or both")
        return self

    def _check_fields(self, spec: "FormSpec") -> None:
        from .model import DateField, DateTimeField  # here: model.py imports this module

        if not isinstance(_simple_field(spec, self.field, self.each), (DateField, DateTimeField)):
            raise ValueError(f"date_limit names {self.field!r}, which is not a date")


Rule = Annotated[Union[IntervalRule, WhenRule, RequiredIfRule, DateLimitRule], Field(discriminator="rule")]


def _simple_field(spec: "FormSpec", path: str, each: str | None = None):
    ref = spec.field_at(f"{each}[].{path}" if each else path)
    if ref is None:
        where = f"the rows of {each!r}" if each else "this form"
        raise ValueError(f"no field {path!r} in {where}")
    if ref.in_repeat != each:
        raise ValueError(f"{path!r} is inside repeating rows; name the repeat with 'each' to check it row by row")
    if ref.field.is_container:
        raise ValueError(f"{path!r} is a group of fields, not a single field")
    return ref.field

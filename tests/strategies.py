"""Hypothesis strategies that build valid data for any form spec, straight from the spec."""

from __future__ import annotations

from datetime import date, datetime, time

from hypothesis import strategies as st

from service.spec.model import (
    CheckboxField, ChoiceField, DateField, DateTimeField, GroupField, IntegerField, ListField,
    LongTextField, MultiChoiceField, RepeatField, TextField,
)

# Letters from many scripts, punctuation, symbols (£, ’, emoji); no control characters or
# surrogates, which no document can carry, and no private-use or unassigned code points, which
# are not text (LibreOffice 7.4 writes an empty data part when it meets some of them).
_CHARS = st.characters(blacklist_categories=("Cs", "Cc", "Zl", "Zp", "Co", "Cn"), blacklist_characters="\ufffe\uffff")
_DATES = st.dates(min_value=date(2000, 1, 1), max_value=date(2040, 12, 31))


# Without the characters LibreOffice 7.4 cannot write back into a data part (& and <).
LIBREOFFICE_SAFE = st.characters(blacklist_categories=("Cs", "Cc", "Zl", "Zp", "Co", "Cn"),
                                 blacklist_characters="\ufffe\uffff&<")


def _line(min_size: int, max_size: int, chars=_CHARS):
    return st.text(chars, min_size=min_size, max_size=max_size).filter(lambda s: not min_size or s.strip())


def _paragraphs(min_size: int, max_size: int, chars=_CHARS):
    return st.lists(_line(0, 40, chars), min_size=1, max_size=4).map("\n".join).filter(
        lambda s: len(s) <= max_size and (not min_size or s.strip()))


def value_for(f, *, required: bool | None = None, chars=_CHARS):
    """A strategy for one valid value of field ``f``; optional fields may come out empty."""
    need = f.required if required is None else required
    if isinstance(f, GroupField):
        return object_for(f.fields, chars)
    if isinstance(f, RepeatField):
        lo = max(f.min_rows, 1 if f.required else 0)
        hi = min(f.max_rows or lo + 3, lo + 3)
        return st.lists(row_for(f.fields, chars), min_size=lo, max_size=hi)
    if isinstance(f, CheckboxField):
        return st.just(True) if need else st.booleans()
    if isinstance(f, TextField):
        if f.format == "email":
            s = st.from_regex(r"\A[a-z]{1,10}@[a-z]{1,10}\.org\Z")
        elif f.format == "phone":
            s = st.from_regex(r"\A0[0-9]{4} [0-9]{6}\Z")
        else:
            s = _line(1, min(f.max_length, 80), chars)
    elif isinstance(f, LongTextField):
        s = _paragraphs(1, f.max_length, chars)
    elif isinstance(f, ListField):
        s = st.lists(_line(1, min(f.item_max_length, 40), chars), min_size=1, max_size=min(f.max_items, 5))
    elif isinstance(f, IntegerField):
        s = st.integers(min_value=f.minimum if f.minimum is not None else -10**6,
                        max_value=f.maximum if f.maximum is not None else 10**6)
    elif isinstance(f, DateField):
        s = _DATES.map(date.isoformat)
    elif isinstance(f, DateTimeField):
        s = st.builds(lambda d, h, m: datetime.combine(d, time(h, m)).isoformat(timespec="minutes"),
                      _DATES, st.integers(0, 23), st.integers(0, 59))
    elif isinstance(f, ChoiceField):
        s = st.sampled_from([o.value for o in f.choices])
    elif isinstance(f, MultiChoiceField):
        values = [o.value for o in f.choices]
        s = st.lists(st.sampled_from(values), unique=True, min_size=max(f.min_items, 1),
                     max_size=f.max_items or len(values))
    else:  # pragma: no cover - a new field type needs a strategy here
        raise TypeError(type(f).__name__)
    return s if need else st.one_of(st.none(), s)


def object_for(fields: list, chars=_CHARS):
    return st.fixed_dictionaries({f.key: value_for(f, chars=chars) for f in fields})


def row_for(fields: list, chars=_CHARS):
    """A row with at least one field filled (the validator rejects empty rows)."""
    first_optional = next((f for f in fields if not f.required), None)
    strategies = {f.key: value_for(f, required=True if f is first_optional else None, chars=chars) for f in fields}
    return st.fixed_dictionaries(strategies)


def data_for(spec, chars=_CHARS):
    return object_for(spec.fields, chars)


def texts_in(value):
    """Every string inside a data value (for filtering drawn examples)."""
    if isinstance(value, dict):
        for v in value.values():
            yield from texts_in(v)
    elif isinstance(value, list):
        for v in value:
            yield from texts_in(v)
    elif isinstance(value, str):
        yield value

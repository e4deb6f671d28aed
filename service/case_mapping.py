"""Between a form's data and a child's case record, both ways, in one place.

A form field takes part when its spec names a case attribute (``case: child_name``) and it is
not inside a table. Then:

- **case → form** (``prefill_from_case``): a download, a meeting pack. A choice is matched by
  its label (the case keeps what people read, not option codes); a value that does not fit its
  field (an age in a text field is fine, a label no option has is not) is left out and its path
  reported, never forced in.
- **form → case** (``case_values_from``): an accepted submission. A choice gives its label; the
  value is cleaned as the case would store it (``case_record``), and one the case cannot hold is
  left out. When two fields name the same attribute the first with a value wins.
- ``compare`` says, per attribute, whether the form's value is new to the case, the same, or a
  conflict a person must settle.
"""

from __future__ import annotations

from .cache import PerObject
from .case_record import BY_KEY
from .convert import choice_value
from .errors import RecordInvalid
from .shape import set_at, value_at
from .spec.model import ChoiceField, FieldRef, FormSpec, IntegerField
from .validation import validate


def _linked(spec: FormSpec) -> list[tuple[FieldRef, str]]:
    return [(ref, ref.field.case) for ref in spec.walk()
            if getattr(ref.field, "case", None) is not None and ref.in_repeat is None]


_LINKED: PerObject[FormSpec, list[tuple[FieldRef, str]]] = PerObject(_linked)


def prefill_from_case(spec: FormSpec, values: dict) -> tuple[dict, list[str]]:
    """Form data from case values; and the paths of fields whose case value does not fit
    them (left empty)."""
    data: dict = {}
    skipped: set[str] = set()
    for ref, key in _LINKED.get(spec):
        value = values.get(key)
        if value in (None, ""):
            continue
        f = ref.field
        if isinstance(f, ChoiceField):
            value = choice_value(f, str(value))
        elif isinstance(f, IntegerField):
            value = value if isinstance(value, int) and not isinstance(value, bool) else None
        else:
            value = str(value)
        if value is None:
            skipped.add(ref.path)
            continue
        set_at(data, ref.path, value)
    linked = {ref.path for ref, _ in _LINKED.get(spec)}
    for issue in validate(spec, data, partial=True).errors:
        if issue.path in linked:
            set_at(data, issue.path, None)
            skipped.add(issue.path)
    return data, sorted(skipped)


def left_out(spec: FormSpec, values: dict, skipped: list[str]) -> list[dict]:
    """Why each skipped field was left empty (``{"path", "message"}``), in words for the person
    downloading: the field's label and the reason, never the value. The case keeps its value."""
    said = []
    for path in skipped:
        f = spec.field_at(path).field
        value = values.get(getattr(f, "case", "") or "")
        limit = getattr(f, "max_length", None)
        if isinstance(f, ChoiceField):
            why = "the case's value is not one of this form's choices"
        elif isinstance(value, str) and limit is not None and len(value) > limit:
            why = f"the case's value is {len(value):,} characters and this form's field takes {limit:,}"
        else:
            why = "the case's value does not fit this form's field"
        said.append({"path": path, "message": f"'{f.label}' is left empty: {why}. The case keeps its value; type "
                                              "what the form should say into the document, or change the case."})
    return said


def case_values_from(spec: FormSpec, data: dict) -> dict:
    """The case attributes a form's data holds, as the case would store them."""
    out: dict[str, object] = {}
    for ref, key in _LINKED.get(spec):
        if key in out:
            continue
        value = value_at(data, ref.path)
        if value in (None, "", []):
            continue
        if isinstance(ref.field, ChoiceField):
            value = ref.field.label_for(value) or value
        try:
            cleaned = BY_KEY[key].clean(value)
        except RecordInvalid:
            continue
        if cleaned is not None:
            out[key] = cleaned
    return out


def compare(case_values: dict, form_values: dict) -> list[dict]:
    """Each case attribute in the form: new (the case lacks it), same, or conflict."""
    rows = []
    for key, form_value in form_values.items():
        current = case_values.get(key)
        status = "new" if current in (None, "") else ("same" if current == form_value else "conflict")
        rows.append({"key": key, "case_value": current, "form_value": form_value, "status": status})
    return rows

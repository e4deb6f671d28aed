"""The placeholder text a control shows while empty: what the writer puts in, and what the
reader must never take for a value (ours, and the ones Word itself writes)."""

from __future__ import annotations

from ..dates import DATE_HINT, DATETIME_HINT

DEFAULT_PLACEHOLDERS = {
    "text": "Type here", "longtext": "Type here", "list": "One item per line", "integer": "Type a number",
    "date": DATE_HINT, "datetime": DATETIME_HINT, "choice": "Choose an item.",
}
# What Word shows in controls a designer inserts from the Developer tab.
WORD_PLACEHOLDERS = frozenset({"Choose an item.", "Click or tap here to enter text.", "Click or tap to enter a date.",
                               "Click here to enter text.", "Click here to enter a date."})


def placeholder_for(f) -> str:
    """The placeholder of field ``f``: its spec's own, else the default for its type."""
    return f.placeholder or DEFAULT_PLACEHOLDERS.get(f.type, "Type here")


def is_placeholder(text: str, f) -> bool:
    t = text.strip()
    return t == placeholder_for(f) or t in WORD_PLACEHOLDERS

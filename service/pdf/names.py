"""PDF field names for field paths, and the PDF dictionary keys we use (ISO 32000-1, 12.7)."""

from __future__ import annotations

# Field dictionary keys (12.7.3.1) and widget keys (12.5.6.19)
FT, T, TU, V, FF, OPT, AP, AS, KIDS, PARENT = "/FT", "/T", "/TU", "/V", "/Ff", "/Opt", "/AP", "/AS", "/Kids", "/Parent"
BTN, TX, CH = "/Btn", "/Tx", "/Ch"
OFF = "/Off"


def field_name(path: str) -> str:
    """'safety.fire_setting.answer' -> 'safety/fire_setting/answer'; rows carry their index
    ('actions.2.due_date' -> 'actions/2/due_date'). No dot survives: PDF would read it as nesting."""
    return path.replace(".", "/")


def option_segment(value: str) -> str:
    return value.replace(".", "%2E")


def option_value(segment: str) -> str:
    return segment.replace("%2E", ".")

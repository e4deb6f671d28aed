"""A layout made 'in Word' by a designer for the stability meeting: paragraphs with controls,
its own table shapes and column order (Role before Name), tagged with spec paths."""

from __future__ import annotations

from io import BytesIO

import docx

from service.docx import oxml
from tests.conftest import REGISTRY

SPEC = REGISTRY.get("placement-stability-meeting")


def _ctl(path: str, kind: str | None = None) -> str:
    ids = oxml.SdtIds(5000 + sum(map(ord, path)))
    ref = SPEC.field_at(path)
    if ref is None:  # a tag the spec does not know
        return oxml.text_control(alias=path, tag=path, ids=ids, text="", placeholder="Click to type", multiline=False)
    f = ref.field
    kind = kind or f.type
    if kind in ("date", "datetime"):
        return oxml.date_control(alias=f.label, tag=path, ids=ids, iso=None, shown="", placeholder="Pick a date",
                                 with_time=kind == "datetime")
    if kind == "choice":
        return oxml.dropdown_control(alias=f.label, tag=path, ids=ids, value=None, shown="", placeholder="Choose an item.",
                                     items_xml=oxml.dropdown_items([(o.value, o.label) for o in f.choices], "Choose an item."))
    return oxml.text_control(alias=f.label, tag=path, ids=ids, text="", placeholder="Click to type",
                             multiline=kind == "longtext")


def build(*, extra: list[tuple[str, str | None]] = (), skip: set[str] = frozenset(), kinds: dict[str, str] = {}) -> bytes:
    d = docx.Document()
    d.add_heading("Stability meeting (our own layout)", 1)

    def para(label: str, path: str) -> None:
        if path in skip:
            return
        p = d.add_paragraph(label + ": ")
        p._p.append(oxml.fragment(_ctl(path, kinds.get(path))))

    for label, path in [("Child", "child_name"), ("Requested", "requested_at"), ("By", "requested_by"),
                        ("Held", "meeting_at"), ("Chair", "chair"), ("History", "overview"),
                        ("Worries", "reason"), ("Going well", "working_well"), ("Now", "current_situation"),
                        ("Next meeting", "next_meeting_date"), *extra]:
        para(label, path)
    for repeat, columns in (("present", ["role", "name"]), ("actions", ["who", "action", "when"])):
        table = d.add_table(rows=2, cols=len(columns))
        for i, col in enumerate(columns):
            table.rows[0].cells[i].text = col.title()
            cell = table.rows[1].cells[i]
            cell.paragraphs[0]._p.append(oxml.fragment(_ctl(f"{repeat}[].{col}")))
    out = BytesIO()
    d.save(out)
    return out.getvalue()

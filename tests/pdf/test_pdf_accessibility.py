"""Tagged, accessible PDFs: every form and cover sheet passes the machine-checkable PDF/UA-1
conditions that the pdfua package checks, and our own structure checks beyond them — every
piece of text drawn belongs to an element of the structure tree or is an artifact, every field
has its Form element, headings start at H1 and never skip a level, tables have header cells
with their scope, each page is tabbed in structure order, the language and title are set."""

from __future__ import annotations

from io import BytesIO

import pikepdf
import pytest
from pdfua import validate

import service
from service.packs import default_packs
from service.packs.build import build_pack
from service.packs.meeting import read_row
from tests.conftest import FORM_IDS, REGISTRY, load_sample


def _forms() -> list[tuple[str, bytes]]:
    out = []
    for form_id in FORM_IDS:
        spec = REGISTRY.get(form_id)
        out.append((form_id, service.generate_document(spec, load_sample(form_id), format="pdf", shell="auto")))
    out.append(("blank", service.generate_document(REGISTRY.get("ramp"), None, format="pdf")))
    return out


def _cover() -> bytes:
    pack = default_packs().get("placement-stability-meeting")
    meeting, _ = read_row(pack, 2, {"su_number": "SU-EX-1", "meeting_date": "02/12/2026", "meeting_time": "10:30",
                                    "invitees": "Jo Sample – Social worker\nLee Demo – Foster carer",
                                    "requested_at": "01/12/2026 09:00"})
    built = build_pack(pack, REGISTRY, meeting, formats=("pdf",), combined=False)
    return next(f.data for f in built.files if f.name == "00-cover-sheet.pdf")


DOCUMENTS = _forms() + [("cover-sheet", _cover())]


@pytest.mark.parametrize("name, raw", DOCUMENTS, ids=[n for n, _ in DOCUMENTS])
def test_the_pdfua_checks_find_nothing(tmp_path, name, raw):
    path = tmp_path / f"{name}.pdf"
    path.write_bytes(raw)
    report = validate(str(path))
    assert [(f.rule_id, f.message) for f in report.findings] == []
    assert not report.skipped, report.skipped


def _elements(root) -> list:
    out, todo = [], [root]
    while todo:
        node = todo.pop(0)
        if isinstance(node, pikepdf.Dictionary) and node.get("/Type") == "/StructElem":
            out.append(node)
        kids = node.get("/K") if isinstance(node, pikepdf.Dictionary) else None
        if isinstance(kids, pikepdf.Array):
            todo = list(kids) + todo  # depth first, in document order
        elif kids is not None:
            todo.insert(0, kids)
    return out


def _page_marks(pdf) -> dict[int, set[int]]:
    """MCID marks in each page's content, and a check that every text operator is inside one
    or inside an artifact."""
    marks = {}
    for n, page in enumerate(pdf.pages):
        stack, seen = [], set()
        for operands, op in pikepdf.parse_content_stream(page):
            name = str(op)
            if name in ("BDC", "BMC"):
                tag = str(operands[0])
                mcid = int(operands[1].get("/MCID")) if name == "BDC" and isinstance(operands[1], pikepdf.Dictionary) \
                    and "/MCID" in operands[1] else None
                stack.append((tag, mcid))
                if mcid is not None:
                    seen.add(mcid)
            elif name == "EMC":
                stack.pop()
            elif name in ("Tj", "TJ"):
                assert stack and (stack[-1][0] == "/Artifact" or stack[-1][1] is not None), f"page {n + 1}: untagged text"
        assert stack == []
        marks[n] = seen
    return marks


@pytest.mark.parametrize("name, raw", DOCUMENTS, ids=[n for n, _ in DOCUMENTS])
def test_the_structure_holds_every_text_and_field(name, raw):
    with pikepdf.open(BytesIO(raw)) as pdf:
        root = pdf.Root
        assert root.MarkInfo.Marked is True and str(root.Lang) == "en-GB"
        assert root.ViewerPreferences.DisplayDocTitle is True
        assert b"pdfuaid:part>1<" in root.Metadata.read_bytes()
        tree = root.StructTreeRoot
        parents = dict(zip(list(tree.ParentTree.Nums)[0::2], list(tree.ParentTree.Nums)[1::2]))
        page_of = {p.objgen: n for n, p in enumerate(pdf.pages)}
        marked = _page_marks(pdf)
        for n, page in enumerate(pdf.pages):
            assert page.Tabs == "/S"
            assert len(parents[int(page.StructParents)]) == len(marked[n]) == max(marked[n], default=-1) + 1
            for widget in page.get("/Annots", []):
                form = parents[int(widget.StructParent)]
                assert form.S == "/Form" and form.K.Obj.objgen == widget.objgen and str(widget.get("/TU", ""))
        roles = [str(e.S) for e in _elements(tree)]
        headings = [int(r[2]) for r in roles if len(r) == 3 and r.startswith("/H")]
        assert headings[0] == 1 and all(b - a <= 1 for a, b in zip(headings, headings[1:]))
        for table in (e for e in _elements(tree) if e.S == "/Table"):
            rows = [k for k in (table.K if isinstance(table.K, pikepdf.Array) else [table.K])]
            assert all(r.S == "/TR" for r in rows)
            cells = [c for r in rows for c in (r.K if isinstance(r.K, pikepdf.Array) else [r.K])]
            heads = [c for c in cells if c.S == "/TH"]
            assert heads and all(str(c.A.Scope) in ("/Column", "/Row") for c in heads)
        assert page_of  # every page was seen

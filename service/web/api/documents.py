"""Documents: a fillable Word or PDF form, blank, from JSON, or prefilled from a case."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import Response

from ... import generate_document
from ...records import prefill_for_case
from ..deps import ApiUser, Db, Forms
from .schemas import ERRORS, GenerateRequest

router = APIRouter(prefix="/documents", tags=["documents"], responses=ERRORS)
MEDIA = {"docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document", "pdf": "application/pdf"}


def build_document(db, registry, user, form: str, fmt: str, data: dict | None, case_id: str | None) -> tuple[bytes, str]:
    """The document and its file name (the form id and format: never a child's name)."""
    spec = registry.get(form)
    prefill: dict = {}
    if case_id:
        prefill, _skipped = prefill_for_case(db, user, spec, case_id)
    if data:
        prefill = _merge(prefill, data)
    raw = generate_document(spec, prefill or None, format=fmt, shell="auto")
    return raw, f"{spec.id}.{fmt}"


def _merge(base: dict, over: dict) -> dict:
    out = dict(base)
    for key, value in over.items():
        out[key] = _merge(out[key], value) if isinstance(value, dict) and isinstance(out.get(key), dict) else value
    return out


@router.post("", response_class=Response,
             responses={200: {"content": {MEDIA["docx"]: {}, MEDIA["pdf"]: {}}, "description": "The document"}})
def generate(body: GenerateRequest, user: ApiUser, db: Db, registry: Forms) -> Response:
    raw, name = build_document(db, registry, user, body.form, body.format, body.data, body.case_id)
    return Response(raw, media_type=MEDIA[body.format], headers={"Content-Disposition": f'attachment; filename="{name}"'})

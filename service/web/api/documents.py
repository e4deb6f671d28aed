"""Documents: a fillable Word or PDF form, blank, from JSON, or prefilled from a case."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from ... import generate_document
from ...records import prefill_for_case
from ...spec.model import FormSpec
from ..deps import ApiUser, Db, Forms
from ..work import on_core
from .schemas import ERRORS, GenerateRequest

router = APIRouter(prefix="/documents", tags=["documents"], responses=ERRORS)
MEDIA = {"docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document", "pdf": "application/pdf"}


def document_data(db, registry, user, form: str, data: dict | None, case_id: str | None) -> tuple[FormSpec, dict]:
    """The form and what to prefill it with: the case's values (read and audited) under ``data``."""
    spec = registry.get(form)
    prefill: dict = {}
    if case_id:
        prefill, _skipped = prefill_for_case(db, user, spec, case_id)
    if data:
        prefill = _merge(prefill, data)
    return spec, prefill


def make_document(spec: FormSpec, prefill: dict, fmt: str) -> tuple[bytes, str]:
    """The document and its file name (the form id and format: never a child's name)."""
    return generate_document(spec, prefill or None, format=fmt, shell="auto"), f"{spec.id}.{fmt}"


def build_document(db, registry, user, form: str, fmt: str, data: dict | None, case_id: str | None) -> tuple[bytes, str]:
    return make_document(*document_data(db, registry, user, form, data, case_id), fmt)


def _merge(base: dict, over: dict) -> dict:
    out = dict(base)
    for key, value in over.items():
        out[key] = _merge(out[key], value) if isinstance(value, dict) and isinstance(out.get(key), dict) else value
    return out


@router.post("", response_class=Response,
             responses={200: {"content": {MEDIA["docx"]: {}, MEDIA["pdf"]: {}}, "description": "The document"}})
async def generate(body: GenerateRequest, user: ApiUser, db: Db, registry: Forms) -> Response:
    if body.case_id:  # the database, in the thread pool; the document alone takes the core
        spec, prefill = await run_in_threadpool(document_data, db, registry, user, body.form, body.data, body.case_id)
    else:
        spec, prefill = document_data(db, registry, user, body.form, body.data, None)
    raw, name = await on_core(make_document, spec, prefill, body.format)
    return Response(raw, media_type=MEDIA[body.format], headers={"Content-Disposition": f'attachment; filename="{name}"'})

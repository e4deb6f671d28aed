"""Documents: a fillable Word or PDF form, blank, from JSON, or prefilled from a case."""

from __future__ import annotations

import re

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from ... import generate_document
from ...case_mapping import case_values_from
from ...records import prefill_for_case
from ...spec.audiences import only_what_it_holds, restricted
from ...spec.model import FormSpec
from ..deps import ApiUser, Db, Forms
from ..work import on_core
from .schemas import ERRORS, GenerateRequest

router = APIRouter(prefix="/documents", tags=["documents"], responses=ERRORS)
LEFT_OUT = "X-Prefill-Left-Out"  # the fields a case value could not go into
IN_PLACE_BYTES = 64 * 1024  # a Word document from a body this size takes about 1.5 ms at most (Preparation Plan)
MEDIA = {"docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document", "pdf": "application/pdf"}


def document_data(db, registry, user, form: str, data: dict | None, case_id: str | None, *,
                  use: str = "always", audience: str = "professionals") -> tuple[FormSpec, dict, list[dict]]:
    """The form (as ``audience`` may have it), what to prefill it with (the case's values, read
    and audited, under ``data``; only what that version holds) and the case values left out
    because they do not fit the form (``case_mapping.left_out``). ``use``: when the case page
    lists the document as made (``prefill_for_case``)."""
    spec = restricted(registry.get(form), audience)
    prefill: dict = {}
    left: list[dict] = []
    if case_id:
        prefill, left = prefill_for_case(db, user, spec, case_id, use=use)
    if data:
        prefill = only_what_it_holds(spec, _merge(prefill, data)) if spec.restricted_to else _merge(prefill, data)
    return spec, prefill, left


def make_document(spec: FormSpec, prefill: dict, fmt: str) -> tuple[bytes, str]:
    return generate_document(spec, prefill or None, format=fmt, shell="auto"), download_name(spec, prefill, fmt)


def download_name(spec: FormSpec, prefill: dict, fmt: str) -> str:
    """The form's id and the child's SU number (letters, digits and '-' only): never a name."""
    su = case_values_from(spec, prefill).get("su_number") if prefill else None
    safe = re.sub(r"[^A-Za-z0-9]+", "-", str(su or "")).strip("-")[:40]
    stem = f"{spec.id}-{spec.restricted_to}" if spec.restricted_to else spec.id
    return f"{stem}-{safe}.{fmt}" if safe else f"{stem}.{fmt}"


def _merge(base: dict, over: dict) -> dict:
    out = dict(base)
    for key, value in over.items():
        out[key] = _merge(out[key], value) if isinstance(value, dict) and isinstance(out.get(key), dict) else value
    return out


@router.post("", response_class=Response,
             responses={200: {"content": {MEDIA["docx"]: {}, MEDIA["pdf"]: {}}, "description": "The document",
                              "headers": {LEFT_OUT: {"description": "Fields left empty because the case's value does "
                                                     "not fit them (the case keeps it)", "schema": {"type": "string"}}}}})
async def generate(request: Request, body: GenerateRequest, user: ApiUser, db: Db, registry: Forms) -> Response:
    if body.case_id:  # the database, in the thread pool; the document alone takes the core
        spec, prefill, left = await run_in_threadpool(document_data, db, registry, user, body.form, body.data,
                                                      body.case_id, audience=body.audience)
    else:
        spec, prefill, left = document_data(db, registry, user, body.form, body.data, None, audience=body.audience)
    # a Word document from a small body is made in place (see work.py); a PDF takes several ms
    size = request.headers.get("content-length", "")
    quick = body.format == "docx" and size.isdigit() and int(size) <= IN_PLACE_BYTES
    raw, name = await on_core(make_document, spec, prefill, body.format, in_place=quick)
    headers = {"Content-Disposition": f'attachment; filename="{name}"'}
    if left:  # the case values the form could not take, by field path (the page says why, in words)
        headers[LEFT_OUT] = ", ".join(item["path"] for item in left)
    return Response(raw, media_type=MEDIA[body.format], headers=headers)

"""Forms: list, spec, JSON Schema, and the register of accepted submissions."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import Response

from ... import json_schema
from ...records import register_xlsx
from ..deps import ApiUser, Db, Forms
from .schemas import ERRORS, FormSummary

router = APIRouter(prefix="/forms", tags=["forms"], responses=ERRORS)
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@router.get("", response_model=list[FormSummary])
def list_forms(user: ApiUser, registry: Forms) -> list[dict]:
    return [{"id": s.id, "title": s.title, "version": s.version, "organisation": s.organisation} for s in registry.all()]


@router.get("/{form_id}", response_model=dict)
def get_spec(form_id: str, user: ApiUser, registry: Forms) -> dict:
    return registry.get(form_id).model_dump(mode="json", by_alias=True, exclude_none=True)


@router.get("/{form_id}/schema", response_model=dict)
def get_schema(form_id: str, user: ApiUser, registry: Forms) -> dict:
    return json_schema(registry.get(form_id))


@router.get("/{form_id}/register.xlsx", response_class=Response,
            responses={200: {"content": {XLSX: {}}, "description": "The register workbook"}})
def register(form_id: str, user: ApiUser, db: Db, registry: Forms) -> Response:
    spec = registry.get(form_id)
    return Response(register_xlsx(db, user, registry, spec.id), media_type=XLSX,
                    headers={"Content-Disposition": f'attachment; filename="{spec.id}-register.xlsx"'})

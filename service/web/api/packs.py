"""Meeting packs and batch jobs: list packs, their spreadsheet templates, start a batch, follow
its progress, cancel it, download its ZIP."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Query, Request, UploadFile
from fastapi.responses import FileResponse, Response
from starlette.concurrency import run_in_threadpool

from ...packs.template import template_xlsx
from ...records.jobs import delete_job, download_job, get_job, list_jobs
from ..deps import ApiUser, Db
from .forms import XLSX
from .schemas import ERRORS, JobOut, PackSummary
from .submissions import read_upload

router = APIRouter(tags=["packs"], responses=ERRORS)


def pack_summary(pack) -> dict:
    return {"id": pack.id, "title": pack.title, "kind": pack.kind, "purpose": pack.purpose,
            "forms": [f.form for f in pack.forms], "columns": [c.label for c in pack.all_columns]}


@router.get("/packs", response_model=list[PackSummary])
def packs(request: Request, user: ApiUser) -> list[dict]:
    return [pack_summary(p) for p in request.app.state.packs.all()]


@router.get("/packs/{pack_id}/template.xlsx", response_class=Response,
            responses={200: {"content": {XLSX: {}}, "description": "The input template"}})
def template(request: Request, pack_id: str, user: ApiUser) -> Response:
    pack = request.app.state.packs.get(pack_id)
    return Response(template_xlsx(pack), media_type=XLSX,
                    headers={"Content-Disposition": f'attachment; filename="{pack.id}-meetings.xlsx"'})


@router.post("/packs/{pack_id}/jobs", response_model=JobOut, status_code=202)
async def start(request: Request, pack_id: str, user: ApiUser, db: Db,
                file: Annotated[UploadFile | None, File(description="Meetings: .xlsx, .csv or .json")] = None) -> dict:
    raw = await read_upload(file, db.settings.max_upload_bytes) if file is not None else None
    return await run_in_threadpool(request.app.state.jobs.submit, user, pack_id, raw)


@router.get("/jobs", response_model=list[JobOut],
            responses={200: {"headers": {"X-Total-Count": {"description": "How many batches in all",
                                                           "schema": {"type": "integer"}}}}})
def jobs(response: Response, user: ApiUser, db: Db, page: Annotated[int, Query(ge=1, le=1_000_000)] = 1,
         per_page: Annotated[int, Query(ge=1, le=500)] = 100) -> list[dict]:
    """Newest first, a page at a time (``X-Total-Count`` says how many in all)."""
    found = list_jobs(db, user, page=page, per_page=per_page)
    response.headers["X-Total-Count"] = str(found["total"])
    return found["items"] if found["page"] == page else []


@router.get("/jobs/{job_id}", response_model=JobOut)
def job(job_id: str, user: ApiUser, db: Db) -> dict:
    return get_job(db, user, job_id)


@router.post("/jobs/{job_id}/cancel", response_model=JobOut)
def cancel(request: Request, job_id: str, user: ApiUser) -> dict:
    return request.app.state.jobs.cancel(user, job_id)


@router.delete("/jobs/{job_id}", response_model=JobOut)
def delete(job_id: str, user: ApiUser, db: Db) -> dict:
    """Delete an ended batch: its ZIP and the meetings it held (a running one: cancel it first)."""
    return delete_job(db, user, job_id)


@router.get("/jobs/{job_id}/download", response_class=FileResponse,
            responses={200: {"content": {"application/zip": {}}, "description": "The batch ZIP"}})
def download(job_id: str, user: ApiUser, db: Db) -> FileResponse:
    path = download_job(db, user, job_id)
    return FileResponse(path, media_type="application/zip", filename=f"meeting-packs-{job_id[:8]}.zip")

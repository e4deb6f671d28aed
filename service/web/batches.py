"""The pages for meeting packs: the packs and their spreadsheet templates, a batch started from
a spreadsheet, its progress (and the JSON the page's script reads), cancel, download."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import FileResponse, JSONResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from ..errors import StepDownError
from ..packs.template import template_xlsx
from ..records.jobs import delete_job, download_job, get_job, list_jobs
from .api.forms import XLSX
from .api.submissions import read_upload
from .deps import check_csrf, get_db
from .errors import status_for
from .pages import PageUser, _error, _page, login_redirect

router = APIRouter(include_in_schema=False)


def _packs_page(request: Request, user, csrf: str, *, message: str | None = None, status: int = 200,
                page: int = 1) -> Response:
    try:
        found = list_jobs(get_db(request), user, page=page)
    except StepDownError as exc:
        return _error(request, exc, user, csrf)
    return _page(request, "packs.html", {"user": user, "csrf": csrf, "packs": request.app.state.packs.all(),
                                          "registry": request.app.state.registry, "jobs": found["items"],
                                          "found": found, "link": lambda n: f"/packs?page={n}", "message": message,
                                          "titles": {p.id: p.title for p in request.app.state.packs.all()}},
                 status)


@router.get("/packs")
def packs_page(request: Request, session: PageUser, page: Annotated[int, Query(ge=1, le=1_000_000)] = 1) -> Response:
    return _packs_page(request, *session, page=page)


@router.get("/packs/{pack_id}/template.xlsx")
def pack_template(request: Request, session: PageUser, pack_id: str) -> Response:
    try:
        pack = request.app.state.packs.get(pack_id)
    except StepDownError as exc:
        return _error(request, exc, *session)
    return Response(template_xlsx(pack), media_type=XLSX,
                    headers={"Content-Disposition": f'attachment; filename="{pack.id}-meetings.xlsx"'})


@router.post("/packs/{pack_id}/jobs")
async def start_batch(request: Request, session: PageUser, pack_id: str) -> Response:
    user, token = session
    db = get_db(request)
    try:
        async with request.form() as form:  # closes the uploaded file's temporary copy
            check_csrf(token, str(form.get("csrf", "")))
            upload = form.get("file")
            raw = await read_upload(upload, db.settings.max_upload_bytes) if getattr(upload, "filename", "") else None
        job = await run_in_threadpool(request.app.state.jobs.submit, user, pack_id, raw)
    except StepDownError as exc:
        if exc.code == "unauthenticated":
            return login_redirect(request)
        return _packs_page(request, user, token, message=exc.message, status=status_for(exc))
    return RedirectResponse(f"/jobs/{job['id']}", status_code=303)


@router.get("/jobs/{job_id}")
def job_page(request: Request, session: PageUser, job_id: str) -> Response:
    user, csrf = session
    try:
        job = get_job(get_db(request), user, job_id)
        pack = request.app.state.packs.get(job["pack"])
    except StepDownError as exc:
        return _error(request, exc, user, csrf)
    return _page(request, "job.html", {"user": user, "csrf": csrf, "job": job, "pack": pack})


@router.get("/jobs/{job_id}/progress")
def job_progress(request: Request, session: PageUser, job_id: str) -> Response:
    """The batch's progress as JSON, for the job page's script (with the session, no token)."""
    user, csrf = session
    try:
        job = get_job(get_db(request), user, job_id)
    except StepDownError as exc:
        return JSONResponse({"error": {"code": exc.code, "message": exc.message}}, status_code=status_for(exc))
    return JSONResponse({k: job[k] for k in ("status", "done", "total", "current_row")})


@router.post("/jobs/{job_id}/cancel")
async def cancel_batch(request: Request, session: PageUser, job_id: str) -> Response:
    user, token = session
    form = await request.form()
    try:
        check_csrf(token, str(form.get("csrf", "")))
        request.app.state.jobs.cancel(user, job_id)
    except StepDownError as exc:
        if exc.code != "job_finished":
            return _error(request, exc, user, token)
    return RedirectResponse(f"/jobs/{job_id}", status_code=303)


@router.get("/jobs/{job_id}/download")
def download_batch(request: Request, session: PageUser, job_id: str) -> Response:
    user, csrf = session
    try:
        path = download_job(get_db(request), user, job_id)
    except StepDownError as exc:
        return _error(request, exc, user, csrf)
    return FileResponse(path, media_type="application/zip", filename=f"meeting-packs-{job_id[:8]}.zip")


@router.post("/jobs/{job_id}/delete")
def delete_batch(request: Request, session: PageUser, job_id: str, csrf: Annotated[str, Form(max_length=100)]) -> Response:
    """Delete an ended batch (its ZIP and the meetings it held)."""
    user, token = session
    try:
        check_csrf(token, csrf)
        delete_job(get_db(request), user, job_id)
    except StepDownError as exc:
        return _error(request, exc, user, token)
    return RedirectResponse("/packs?deleted=1", status_code=303)

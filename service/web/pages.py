"""The web pages: plain server-rendered HTML in the GOV.UK style, no script needed.

Every page needs a login (the session cookie); every form that changes something carries the
session's CSRF token. The pages call the same core functions as the API."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, File, Form, Query, Request, UploadFile
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from starlette.concurrency import run_in_threadpool

from ..case_record import ATTRIBUTES, BY_KEY, LABELS, values_from_text
from ..dates import uk_moment
from ..errors import AccessError, StepDownError
from ..records import (
    accept_submission, case_history, create_case, get_case, get_submission, list_cases, list_submissions,
    receive_submission, update_case,
)
from ..packs.template import template_xlsx
from ..records.jobs import download_job, get_job, list_jobs
from .api.forms import XLSX
from .api.documents import MEDIA, document_data, make_document
from .api.submissions import read_upload
from .deps import check_csrf, get_db, page_session
from .errors import status_for
from .review import review

router = APIRouter(include_in_schema=False)
templates = Jinja2Templates(directory=Path(__file__).with_name("templates"))
templates.env.filters["uk_time"] = uk_moment  # stored moments are UTC; people read UK time


def _page(request: Request, name: str, context: dict, status: int = 200) -> HTMLResponse:
    return templates.TemplateResponse(request, name, context, status_code=status)


def _error(request: Request, exc: StepDownError, user=None, csrf: str = "") -> Response:
    if exc.code == "unauthenticated":
        return login_redirect(request)
    return _page(request, "error.html", {"user": user, "csrf": csrf, "error": exc}, status_for(exc))


def error_page(request: Request, status: int, message: str, headers: dict | None = None) -> Response:
    """The HTML answer to a failed page request (``errors.py`` keeps JSON for the API)."""
    session = _session(request)
    user, csrf = session if session else (None, "")
    response = _page(request, "error.html", {"user": user, "csrf": csrf, "error": {"message": message}}, status)
    for name, value in (headers or {}).items():
        if name.lower() != "www-authenticate":
            response.headers[name] = value
    return response


def _session(request: Request):
    """(actor, csrf), or None when not logged in."""
    try:
        return page_session(request)
    except AccessError:
        return None


class LoginRequired(Exception):
    """Raised by ``page_user``; the app answers it with a redirect to the login page, which
    comes back to the page asked for."""


def login_redirect(request: Request, _exc: object = None) -> RedirectResponse:
    asked = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    target = "/login" if request.method != "GET" or asked == "/" else f"/login?{urlencode({'next': asked})}"
    return RedirectResponse(target, status_code=303)


def page_user(request: Request) -> tuple:
    session = _session(request)
    if session is None:
        raise LoginRequired
    return session


PageUser = Annotated[tuple, Depends(page_user)]


# -- forms and downloads --------------------------------------------------------------------

@router.get("/")
def forms_page(request: Request, session: PageUser) -> Response:
    user, csrf = session
    return _page(request, "forms.html", {"user": user, "csrf": csrf, "forms": request.app.state.registry.all()})


@router.get("/forms/{form_id}")
def form_page(request: Request, session: PageUser, form_id: str, case: str | None = None) -> Response:
    return _form_page(request, *session, form_id, chosen=case)


def _form_page(request: Request, user, csrf: str, form_id: str, *, chosen: str | None = None, fmt: str = "docx",
               left: list[dict] | None = None) -> Response:
    try:
        spec = request.app.state.registry.get(form_id)
        cases = list_cases(get_db(request), user)
    except StepDownError as exc:
        return _error(request, exc, user, csrf)
    return _page(request, "form.html", {"user": user, "csrf": csrf, "spec": spec, "cases": cases, "chosen": chosen,
                                         "format": fmt, "left": left or []})


@router.post("/forms/{form_id}/download")
def download(request: Request, session: PageUser, form_id: str, csrf: Annotated[str, Form(max_length=100)],
             format: Annotated[str, Form(pattern="^(docx|pdf)$")] = "docx",
             case_id: Annotated[str, Form(max_length=36)] = "",
             anyway: Annotated[str, Form(max_length=3)] = "") -> Response:
    """The form, prefilled. If some of the case's values cannot go into it (too long for a
    field, not one of its choices), the page says which first, and the person downloads it
    anyway or changes the case: nothing is left out without their knowing."""
    user, token = session
    try:
        check_csrf(token, csrf)
        spec, prefill, left = document_data(get_db(request), request.app.state.registry, user, form_id, None,
                                            case_id or None)
        if left and anyway != "yes":
            return _form_page(request, user, token, form_id, chosen=case_id, fmt=format, left=left)
        raw, name = make_document(spec, prefill, format)
    except StepDownError as exc:
        return _error(request, exc, user, token)
    return Response(raw, media_type=MEDIA[format], headers={"Content-Disposition": f'attachment; filename="{name}"'})


# -- cases ----------------------------------------------------------------------------------

def _cases_page(request: Request, user, csrf: str, *, q: str = "", values: dict | None = None,
                error: StepDownError | None = None, status: int = 200) -> Response:
    try:
        cases = list_cases(get_db(request), user, search=q)
    except StepDownError as exc:
        return _error(request, exc, user, csrf)
    return _page(request, "cases.html", {"user": user, "csrf": csrf, "cases": cases, "labels": LABELS,
                                          "attributes": ATTRIBUTES, "values": values or {}, "error": error, "q": q,
                                          "dob": BY_KEY["date_of_birth"]},
                 status)


@router.get("/cases")
def cases_page(request: Request, session: PageUser, q: Annotated[str, Query(max_length=100)] = "") -> Response:
    return _cases_page(request, *session, q=q)


def _typed(form) -> dict[str, str]:
    """The case attributes as the person typed them (shown again if they need correcting)."""
    return {a.key: str(form.get(a.key, "")) for a in ATTRIBUTES if a.key in form}


@router.post("/cases")
async def new_case(request: Request, session: PageUser) -> Response:
    user, token = session
    form = await request.form()
    values = _typed(form)
    try:
        check_csrf(token, str(form.get("csrf", "")))
        case = create_case(get_db(request), user, values_from_text(values))
    except StepDownError as exc:
        if exc.code in ("invalid", "case_exists"):
            return _cases_page(request, user, token, values=values, error=exc, status=status_for(exc))
        return _error(request, exc, user, token)
    return RedirectResponse(f"/cases/{case['id']}", status_code=303)


@router.get("/cases/{case_id}")
def case_page(request: Request, session: PageUser, case_id: str) -> Response:
    return _case_page(request, *session, case_id)


def _case_page(request: Request, user, csrf: str, case_id: str, *, typed: dict | None = None,
               error: StepDownError | None = None, status: int = 200) -> Response:
    db = get_db(request)
    try:
        case = get_case(db, user, case_id)
        history = case_history(db, user, case_id)
    except StepDownError as exc:
        return _error(request, exc, user, csrf)
    return _page(request, "case.html", {"user": user, "csrf": csrf, "case": case, "history": history,
                                         "labels": LABELS, "attributes": ATTRIBUTES, "typed": typed, "error": error,
                                         "forms": request.app.state.registry.all()}, status)


@router.post("/cases/{case_id}")
async def edit_case(request: Request, session: PageUser, case_id: str) -> Response:
    user, token = session
    form = await request.form()
    try:
        check_csrf(token, str(form.get("csrf", "")))
        update_case(get_db(request), user, case_id, values_from_text(_typed(form)))
    except StepDownError as exc:
        if exc.code in ("invalid", "case_exists"):  # shown at the field, with everything typed kept
            return _case_page(request, user, token, case_id, typed=_typed(form), error=exc, status=status_for(exc))
        return _error(request, exc, user, token)
    return RedirectResponse(f"/cases/{case_id}", status_code=303)


# -- uploads and review ---------------------------------------------------------------------

@router.get("/upload")
def upload_page(request: Request, session: PageUser) -> Response:
    user, csrf = session
    return _upload_page(request, user, csrf)


def _upload_page(request: Request, user, csrf: str, *, message: str | None = None, chosen: str = "",
                 status: int = 200) -> Response:
    return _page(request, "upload.html", {"user": user, "csrf": csrf, "message": message, "chosen": chosen,
                                           "forms": request.app.state.registry.all()}, status)


@router.post("/upload")
async def upload(request: Request, session: PageUser, file: Annotated[UploadFile, File()],
                 csrf: Annotated[str, Form(max_length=100)], form: Annotated[str, Form(max_length=80)] = "") -> Response:
    """Read an upload; ``form``: which form it is, for a file that no longer says (chosen by the
    person; a file that says another form is refused)."""
    user, token = session
    db = get_db(request)
    try:
        check_csrf(token, csrf)
        if form:
            request.app.state.registry.get(form)  # a form we have, or the page says so
        raw = await read_upload(file, db.settings.max_upload_bytes)
        sub = await run_in_threadpool(receive_submission, db, user, request.app.state.registry, raw, form=form or None)
    except StepDownError as exc:
        if exc.code == "unauthenticated":
            return login_redirect(request)
        return _upload_page(request, user, token, message=exc.message, chosen=form, status=status_for(exc))
    return RedirectResponse(f"/submissions/{sub['id']}", status_code=303)


@router.get("/submissions")
def submissions_page(request: Request, session: PageUser) -> Response:
    user, csrf = session
    try:
        subs = list_submissions(get_db(request), user)
    except StepDownError as exc:
        return _error(request, exc, user, csrf)
    titles = {s.id: s.title for s in request.app.state.registry.all()}
    return _page(request, "submissions.html", {"user": user, "csrf": csrf, "submissions": subs, "titles": titles})


def _submission_page(request: Request, user, csrf: str, submission_id: str, message: str | None = None,
                     status: int = 200) -> Response:
    db, registry = get_db(request), request.app.state.registry
    try:
        sub = get_submission(db, user, registry, submission_id)
        cases = list_cases(db, user) if not sub["case_id"] else []
    except StepDownError as exc:
        return _error(request, exc, user, csrf)
    spec = registry.get(sub["form"])
    return _page(request, "submission.html", {
        "user": user, "csrf": csrf, "sub": sub, "spec": spec, "sections": review(spec, sub["result"]),
        "labels": LABELS, "cases": cases, "message": message}, status)


@router.get("/submissions/{submission_id}")
def submission_page(request: Request, session: PageUser, submission_id: str) -> Response:
    return _submission_page(request, *session, submission_id)


@router.post("/submissions/{submission_id}/accept")
async def accept(request: Request, session: PageUser, submission_id: str) -> Response:
    user, token = session
    form = await request.form()
    resolutions = {k[len("keep_"):]: str(v) for k, v in form.items() if k.startswith("keep_") and str(v) in ("form", "case")}
    case_choice = str(form.get("case_id", ""))
    try:
        check_csrf(token, str(form.get("csrf", "")))
        accept_submission(get_db(request), user, request.app.state.registry, submission_id,
                          case_id=case_choice if case_choice not in ("", "new") else None,
                          create_case=case_choice == "new", resolutions=resolutions)
    except StepDownError as exc:
        if exc.code in ("unresolved_conflicts", "no_case", "submission_invalid", "already_accepted", "older_revision",
                        "invalid"):
            return _submission_page(request, user, token, submission_id, exc.message, status_for(exc))
        return _error(request, exc, user, token)
    return RedirectResponse(f"/submissions/{submission_id}?accepted=1", status_code=303)


# -- meeting packs and batches --------------------------------------------------------------

def _packs_page(request: Request, user, csrf: str, *, message: str | None = None, status: int = 200) -> Response:
    try:
        jobs = list_jobs(get_db(request), user)
    except StepDownError as exc:
        return _error(request, exc, user, csrf)
    return _page(request, "packs.html", {"user": user, "csrf": csrf, "packs": request.app.state.packs.all(),
                                          "registry": request.app.state.registry, "jobs": jobs, "message": message},
                 status)


@router.get("/packs")
def packs_page(request: Request, session: PageUser) -> Response:
    return _packs_page(request, *session)


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

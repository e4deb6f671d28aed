"""The pages for uploads: upload a completed form, the list of submissions (filtered, a page at
a time), the review of one (answers by section, problems linked from the summary, the case
comparison, the document's other uploads) with Accept and Discard."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, File, Form, Query, Request, UploadFile
from fastapi.responses import RedirectResponse, Response

from ..case_record import LABELS
from ..errors import StepDownError
from ..spec.diff import describe_applied
from ..records import (
    accept_submission, discard_submission, get_submission, list_cases, list_submissions, receive_submission_async,
)
from .api.submissions import read_upload
from .deps import check_csrf, get_db
from .errors import status_for
from .pages import PageUser, _error, _page, login_redirect
from .review import review

router = APIRouter(include_in_schema=False)


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
        sub = await receive_submission_async(db, user, request.app.state.registry, raw, form=form or None)
    except StepDownError as exc:
        if exc.code == "unauthenticated":
            return login_redirect(request)
        return _upload_page(request, user, token, message=exc.message, chosen=form, status=status_for(exc))
    return RedirectResponse(f"/submissions/{sub['id']}", status_code=303)


@router.get("/submissions")
def submissions_page(request: Request, session: PageUser, form: Annotated[str, Query(max_length=80)] = "",
                     status: Annotated[str, Query(pattern="^(|received|accepted|discarded)$")] = "",
                     case: Annotated[str, Query(max_length=36)] = "",
                     page: Annotated[int, Query(ge=1, le=1_000_000)] = 1) -> Response:
    """The team's submissions, 50 a page, filtered by form, status and case (from a case page)."""
    user, csrf = session
    try:
        found = list_submissions(get_db(request), user, form=form or None, status=status or None, case_id=case or None,
                                 page=page)
    except StepDownError as exc:
        return _error(request, exc, user, csrf)
    forms = request.app.state.registry.all()
    filters = {k: v for k, v in (("form", form), ("status", status), ("case", case)) if v}
    return _page(request, "submissions.html", {
        "user": user, "csrf": csrf, "found": found, "titles": {s.id: s.title for s in forms}, "forms": forms,
        "filters": filters, "link": lambda n: "/submissions?" + urlencode({**filters, "page": n})})


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
        "migrated": describe_applied(sub["result"]["migration"]) if sub["result"].get("migration") else [],
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




@router.post("/submissions/{submission_id}/discard")
def discard(request: Request, session: PageUser, submission_id: str, csrf: Annotated[str, Form(max_length=100)]) -> Response:
    """Set aside an upload that could not be used (what was read from it is removed)."""
    user, token = session
    try:
        check_csrf(token, csrf)
        discard_submission(get_db(request), user, submission_id)
    except StepDownError as exc:
        if exc.code == "not_discardable":
            return _submission_page(request, user, token, submission_id, exc.message, status_for(exc))
        return _error(request, exc, user, token)
    return RedirectResponse("/submissions?discarded=1", status_code=303)

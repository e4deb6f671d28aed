"""The web pages: plain server-rendered HTML in the GOV.UK style, no script needed (the job
page's progress script is a nicety). This module: what every page shares (rendering, the login
it needs, error pages), the forms and the cases; ``uploads.py`` the uploads and their review,
``batches.py`` the meeting packs, ``admin.py`` and ``account.py`` the accounts, ``manage.py``
the registers.

Every page needs a login (the session cookie); every form that changes something carries the
session's CSRF token. The pages call the same core functions as the API."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from ..case_record import ATTRIBUTES, BY_KEY, LABELS, values_from_text
from ..dates import uk_moment
from ..errors import AccessError, StepDownError
from ..records import case_history, create_case, get_case, list_cases, list_submissions, update_case
from ..records.cases import case_uses, set_closed
from ..spec.audiences import has_fields_for
from ..spec.model import AUDIENCES
from .api.documents import MEDIA, document_data, make_document
from .deps import check_csrf, get_db, page_session
from .errors import status_for

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
               left: list[dict] | None = None, audience: str = "professionals") -> Response:
    try:
        spec = request.app.state.registry.get(form_id)
        cases = list_cases(get_db(request), user)
    except StepDownError as exc:
        return _error(request, exc, user, csrf)
    return _page(request, "form.html", {"user": user, "csrf": csrf, "spec": spec, "cases": cases, "chosen": chosen,
                                         "format": fmt, "left": left or [], "audience": audience,
                                         "audiences": [a for a in AUDIENCES if has_fields_for(spec, a)]})


@router.post("/forms/{form_id}/download")
def download(request: Request, session: PageUser, form_id: str, csrf: Annotated[str, Form(max_length=100)],
             format: Annotated[str, Form(pattern="^(docx|pdf)$")] = "docx",
             case_id: Annotated[str, Form(max_length=36)] = "",
             anyway: Annotated[str, Form(max_length=3)] = "",
             audience: Annotated[str, Form(pattern="^(professionals|carers|family|child)$")] = "professionals"
             ) -> Response:
    """The form, prefilled. If some of the case's values cannot go into it (too long for a
    field, not one of its choices), the page says which first, and the person downloads it
    anyway or changes the case: nothing is left out without their knowing."""
    user, token = session
    try:
        check_csrf(token, csrf)
        spec, prefill, left = document_data(get_db(request), request.app.state.registry, user, form_id, None,
                                            case_id or None, use="always" if anyway == "yes" else "if_complete",
                                            audience=audience)
        if left and anyway != "yes":
            return _form_page(request, user, token, form_id, chosen=case_id, fmt=format, left=left, audience=audience)
        raw, name = make_document(spec, prefill, format)
    except StepDownError as exc:
        return _error(request, exc, user, token)
    return Response(raw, media_type=MEDIA[format], headers={"Content-Disposition": f'attachment; filename="{name}"'})


# -- cases ----------------------------------------------------------------------------------

CASES_PER_PAGE = 50


def _cases_page(request: Request, user, csrf: str, *, q: str = "", closed: bool = False, page: int = 1,
                values: dict | None = None, error: StepDownError | None = None, status: int = 200) -> Response:
    try:
        cases = list_cases(get_db(request), user, search=q, closed=closed)
    except StepDownError as exc:
        return _error(request, exc, user, csrf)
    pages = max(1, -(-len(cases) // CASES_PER_PAGE))
    page = min(page, pages)
    found = {"items": cases[(page - 1) * CASES_PER_PAGE:page * CASES_PER_PAGE], "total": len(cases), "page": page,
             "pages": pages}
    filters = {k: v for k, v in (("q", q), ("closed", "1" if closed else "")) if v}
    return _page(request, "cases.html", {"user": user, "csrf": csrf, "found": found, "cases": found["items"],
                                          "labels": LABELS, "attributes": ATTRIBUTES, "values": values or {},
                                          "error": error, "q": q, "closed": closed, "dob": BY_KEY["date_of_birth"],
                                          "link": lambda n: "/cases?" + urlencode({**filters, "page": n})}, status)


@router.get("/cases")
def cases_page(request: Request, session: PageUser, q: Annotated[str, Query(max_length=100)] = "",
               closed: Annotated[str, Query(pattern="^(|1)$")] = "",
               page: Annotated[int, Query(ge=1, le=1_000_000)] = 1) -> Response:
    return _cases_page(request, *session, q=q, closed=bool(closed), page=page)


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
        submissions = list_submissions(db, user, case_id=case_id, per_page=10)
        uses = case_uses(db, user, case_id)
    except StepDownError as exc:
        return _error(request, exc, user, csrf)
    registry, packs = request.app.state.registry, request.app.state.packs
    titles = {**{s.id: s.title for s in registry.all()}, **{p.id: p.title for p in packs.all()}}
    return _page(request, "case.html", {"user": user, "csrf": csrf, "case": case, "history": history,
                                         "labels": LABELS, "attributes": ATTRIBUTES, "typed": typed, "error": error,
                                         "forms": registry.all(), "submissions": submissions, "uses": uses,
                                         "titles": titles}, status)


@router.post("/cases/{case_id}/closed")
def close_case(request: Request, session: PageUser, case_id: str, csrf: Annotated[str, Form(max_length=100)],
               closed: Annotated[str, Form(pattern="^(yes|no)$")]) -> Response:
    """Close (archive) a case, or reopen it; its record and history are kept either way."""
    user, token = session
    try:
        check_csrf(token, csrf)
        set_closed(get_db(request), user, case_id, closed == "yes")
    except StepDownError as exc:
        return _error(request, exc, user, token)
    return RedirectResponse(f"/cases/{case_id}", status_code=303)


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

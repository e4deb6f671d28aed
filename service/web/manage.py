"""The managers' page: each form's register as a workbook, downloaded with the session (no API
token needed), and for administrators the audit log's check. The core decides who may: a
practitioner asking is refused there, and the refusal audited."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response

from ..errors import AccessError, StepDownError
from ..records import check_audit, register_xlsx
from .api.forms import XLSX
from .deps import check_csrf, get_db
from .pages import PageUser, _error, _page

router = APIRouter(include_in_schema=False)


def _manage_page(request: Request, user, csrf: str, check=None) -> Response:
    return _page(request, "manage.html", {"user": user, "csrf": csrf, "forms": request.app.state.registry.all(),
                                          "check": check, "admin": user.at_least("admin")})


@router.get("/manage")
def manage_page(request: Request, session: PageUser) -> Response:
    user, csrf = session
    if not user.at_least("manager"):
        return _page(request, "error.html", {"user": user, "csrf": csrf, "error": _NOT_A_MANAGER}, 403)
    return _manage_page(request, user, csrf)


@router.get("/forms/{form_id}/register.xlsx")
def register(request: Request, session: PageUser, form_id: str) -> Response:
    user, csrf = session
    try:
        spec = request.app.state.registry.get(form_id)
        book = register_xlsx(get_db(request), user, request.app.state.registry, spec.id)
    except StepDownError as exc:
        return _error(request, exc, user, csrf)
    return Response(book, media_type=XLSX,
                    headers={"Content-Disposition": f'attachment; filename="{spec.id}-register.xlsx"'})


@router.post("/manage/audit-check")
def audit_check(request: Request, session: PageUser, csrf: Annotated[str, Form(max_length=100)]) -> Response:
    user, session_csrf = session
    try:
        check_csrf(session_csrf, csrf)
        check = check_audit(get_db(request), user)
    except StepDownError as exc:
        return _error(request, exc, user, session_csrf)
    return _manage_page(request, user, session_csrf, check)

_NOT_A_MANAGER = AccessError("This page is for managers and administrators.", "forbidden")

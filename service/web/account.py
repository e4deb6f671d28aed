"""A person's own page: who they are, their password (changed here; every other session ends),
their live sessions (ended here, this one too) and their API tokens (made here, shown once, and
revoked). Ending a session and revoking a token go through the routes in ``admin.py``, which
serve the administrators' pages as well."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response

from ..errors import RecordInvalid, StepDownError
from ..records import admin, create_token, list_tokens
from ..records.accounts import session_id
from .admin import Csrf, _days, _done, _said
from .deps import SESSION_COOKIE, check_csrf, get_db
from .errors import status_for
from .pages import PageUser, _error, _page

router = APIRouter(include_in_schema=False)

SAID = {"password": "Your password was changed. Your other sessions have ended."}


def _account_page(request: Request, user, csrf: str, *, shown: dict | None = None, error=None, status: int = 200,
                  done: str | None = None, form: dict | None = None) -> Response:
    db = get_db(request)
    try:
        sessions = admin.list_sessions(db, user)
        tokens = [t for t in list_tokens(db, user) if t["owner"] == user.username]  # an admin's own only
    except StepDownError as exc:
        return _error(request, exc, user, csrf)
    return _page(request, "account.html", {
        "user": user, "csrf": csrf, "sessions": sessions, "tokens": tokens, "shown": shown or {}, "error": error,
        "message": SAID.get(done or "") or _said(done), "form": form or {},
        "current": session_id(request.cookies.get(SESSION_COOKIE, "")),
        "passwords": request.app.state.settings.local_passwords}, status)


@router.get("/account")
def account_page(request: Request, session: PageUser, done: str | None = None) -> Response:
    user, csrf = session
    return _account_page(request, user, csrf, done=done)


@router.post("/account/password")
def change_password(request: Request, session: PageUser, csrf: Csrf, current: Annotated[str, Form(max_length=200)],
                    new: Annotated[str, Form(max_length=200)], again: Annotated[str, Form(max_length=200)]) -> Response:
    user, token = session
    try:
        check_csrf(token, csrf)
        if new != again:
            raise RecordInvalid("The new password and its repeat are not the same.")
        admin.change_password(get_db(request), user, current, new,
                              keep=session_id(request.cookies.get(SESSION_COOKIE, "")))
    except StepDownError as exc:
        if exc.code == "csrf_failed":
            return _error(request, exc, user, token)
        return _account_page(request, user, token, error=exc, status=status_for(exc), form={"password": True})
    return _done("/account", "password")


@router.post("/account/tokens")
def new_token(request: Request, session: PageUser, csrf: Csrf, name: Annotated[str, Form(max_length=80)],
              days: Annotated[str, Form(max_length=20)] = "90") -> Response:
    user, token = session
    try:
        check_csrf(token, csrf)
        made = create_token(get_db(request), user, name, days=_days(days))
    except StepDownError as exc:
        if exc.code == "csrf_failed":
            return _error(request, exc, user, token)
        return _account_page(request, user, token, error=exc, status=status_for(exc),
                             form={"token": True, "name": name, "days": days})
    return _account_page(request, user, token, shown={"token": made}, status=201)

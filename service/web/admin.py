"""The administrators' pages (admin role, their own team): users — add, change role or team,
deactivate, reset a password, unlock; teams; API tokens; live sessions. The core
(``records/admin.py``) decides who may and audits every change; a practitioner asking anyway is
refused there. After a change the browser is sent back to the page (so a reload repeats
nothing), except where a password or token is shown once: that page is the answer itself."""

from __future__ import annotations

from typing import Annotated, Callable

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from ..errors import RecordInvalid, StepDownError
from ..records import admin, list_tokens, revoke_token
from ..records.accounts import session_id
from ..settings import ROLES
from .deps import SESSION_COOKIE, check_csrf, get_db
from .errors import status_for
from .pages import PageUser, _error, _page

router = APIRouter(include_in_schema=False)
Csrf = Annotated[str, Form(max_length=100)]

DONE = {  # what a change did, said on the page it comes back to
    "role": "The role was changed.", "active": "The account was reactivated.", "inactive":
    "The account was deactivated: its sessions ended and its tokens stopped working.",
    "unlocked": "The account was unlocked: its owner can log in again now.", "team": "The team was added.",
    "ended": "The session was ended.", "revoked": "The token was revoked.",
}


def _done(path: str, key: str) -> RedirectResponse:
    return RedirectResponse(f"{path}?done={key}", status_code=303)


def _said(done: str | None) -> str | None:
    return DONE.get(done or "")


def _users_page(request: Request, user, csrf: str, *, form: dict | None = None, error=None, status: int = 200,
                done: str | None = None) -> Response:
    try:
        users = admin.list_users(get_db(request), user)
    except StepDownError as exc:
        return _error(request, exc, user, csrf)
    return _page(request, "admin_users.html", {
        "user": user, "csrf": csrf, "users": users, "roles": ROLES, "form": form or {}, "error": error,
        "message": _said(done), "passwords": request.app.state.settings.local_passwords}, status)


def _user_page(request: Request, user, csrf: str, user_id: int, *, shown: dict | None = None, error=None,
               status: int = 200, done: str | None = None) -> Response:
    db = get_db(request)
    try:
        person = admin.get_user(db, user, user_id)
        teams = admin.list_teams(db, user)
    except StepDownError as exc:
        return _error(request, exc, user, csrf)
    return _page(request, "admin_user.html", {
        "user": user, "csrf": csrf, "person": person, "teams": teams, "roles": ROLES, "shown": shown or {},
        "error": error, "message": _said(done), "passwords": request.app.state.settings.local_passwords}, status)


@router.get("/admin")
def users_page(request: Request, session: PageUser, done: str | None = None) -> Response:
    user, csrf = session
    return _users_page(request, user, csrf, done=done)


@router.post("/admin/users")
def add_user(request: Request, session: PageUser, csrf: Csrf, username: Annotated[str, Form(max_length=80)],
             role: Annotated[str, Form(max_length=20)], signin: Annotated[str, Form(pattern="^(password|sso)$")]
             = "password") -> Response:
    user, token = session
    try:
        check_csrf(token, csrf)
        made, password = admin.add_user(get_db(request), user, username, role, with_password=signin == "password")
    except StepDownError as exc:
        if exc.code in ("forbidden", "csrf_failed"):
            return _error(request, exc, user, token)
        return _users_page(request, user, token, form={"username": username, "role": role, "signin": signin},
                           error=exc, status=status_for(exc))
    return _user_page(request, user, token, made["id"], shown={"password": password, "added": True}, status=201)


@router.get("/admin/users/{user_id}")
def user_page(request: Request, session: PageUser, user_id: int, done: str | None = None) -> Response:
    user, csrf = session
    return _user_page(request, user, csrf, user_id, done=done)


def _change(request: Request, session: tuple, csrf: str, user_id: int, act: Callable[[], Response]) -> Response:
    """Run one change to a user (``act`` makes it and gives the answer); on a problem, the user's
    page says it (refusals and users out of reach get the error page)."""
    user, token = session
    try:
        check_csrf(token, csrf)
        return act()
    except StepDownError as exc:
        if exc.code in ("forbidden", "csrf_failed") or status_for(exc) == 404:
            return _error(request, exc, user, token)
        return _user_page(request, user, token, user_id, error=exc, status=status_for(exc))


@router.post("/admin/users/{user_id}/role")
def change_role(request: Request, session: PageUser, user_id: int, csrf: Csrf,
                role: Annotated[str, Form(max_length=20)]) -> Response:
    def act() -> Response:
        admin.set_role(get_db(request), session[0], user_id, role)
        return _done(f"/admin/users/{user_id}", "role")
    return _change(request, session, csrf, user_id, act)


@router.post("/admin/users/{user_id}/active")
def change_active(request: Request, session: PageUser, user_id: int, csrf: Csrf,
                  active: Annotated[str, Form(pattern="^(yes|no)$")]) -> Response:
    def act() -> Response:
        admin.set_active(get_db(request), session[0], user_id, active == "yes")
        return _done(f"/admin/users/{user_id}", "active" if active == "yes" else "inactive")
    return _change(request, session, csrf, user_id, act)


@router.post("/admin/users/{user_id}/unlock")
def unlock(request: Request, session: PageUser, user_id: int, csrf: Csrf) -> Response:
    def act() -> Response:
        admin.unlock_user(get_db(request), session[0], user_id)
        return _done(f"/admin/users/{user_id}", "unlocked")
    return _change(request, session, csrf, user_id, act)


@router.post("/admin/users/{user_id}/team")
def change_team(request: Request, session: PageUser, user_id: int, csrf: Csrf,
                team: Annotated[str, Form(max_length=120)]) -> Response:
    def act() -> Response:
        moved = admin.move_user(get_db(request), session[0], user_id, team)
        return _page(request, "admin_moved.html", {"user": session[0], "csrf": session[1], "moved": moved})
    return _change(request, session, csrf, user_id, act)


@router.post("/admin/users/{user_id}/password")
def reset_password(request: Request, session: PageUser, user_id: int, csrf: Csrf) -> Response:
    def act() -> Response:
        _, password = admin.reset_password(get_db(request), session[0], user_id)
        return _user_page(request, *session, user_id, shown={"password": password})
    return _change(request, session, csrf, user_id, act)


@router.post("/admin/users/{user_id}/tokens")
def token_for(request: Request, session: PageUser, user_id: int, csrf: Csrf, name: Annotated[str, Form(max_length=80)],
              days: Annotated[str, Form(max_length=20)] = "90") -> Response:
    def act() -> Response:
        made = admin.token_for(get_db(request), session[0], user_id, name, _days(days))
        return _user_page(request, *session, user_id, shown={"token": made}, status=201)
    return _change(request, session, csrf, user_id, act)


def _days(days: str) -> int | None:
    """'' or 'never': no expiry; otherwise a whole number of days (the core checks the range)."""
    text = days.strip().lower()
    if text in ("", "never", "0"):
        return None
    if not text.isdigit():
        raise RecordInvalid("Days the token lasts: a whole number of days, or 'never'.")
    return int(text)


# -- teams, tokens and sessions of the whole team ----------------------------------------------

@router.get("/admin/teams")
def teams_page(request: Request, session: PageUser, done: str | None = None) -> Response:
    user, csrf = session
    return _teams_page(request, user, csrf, done=done)


def _teams_page(request: Request, user, csrf: str, *, name: str = "", error=None, status: int = 200,
                done: str | None = None) -> Response:
    try:
        teams = admin.list_teams(get_db(request), user)
    except StepDownError as exc:
        return _error(request, exc, user, csrf)
    return _page(request, "admin_teams.html", {"user": user, "csrf": csrf, "teams": teams, "name": name,
                                                "error": error, "message": _said(done)}, status)


@router.post("/admin/teams")
def add_team(request: Request, session: PageUser, csrf: Csrf, name: Annotated[str, Form(max_length=200)]) -> Response:
    user, token = session
    try:
        check_csrf(token, csrf)
        admin.add_team(get_db(request), user, name)
    except StepDownError as exc:
        if exc.code in ("forbidden", "csrf_failed"):
            return _error(request, exc, user, token)
        return _teams_page(request, user, token, name=name, error=exc, status=status_for(exc))
    return _done("/admin/teams", "team")


@router.get("/admin/access")
def access_page(request: Request, session: PageUser, done: str | None = None) -> Response:
    """Every live session and every API token of the team, to end or revoke."""
    user, csrf = session
    db = get_db(request)
    try:
        sessions = admin.list_sessions(db, user, team=True)
        tokens = list_tokens(db, user)
    except StepDownError as exc:
        return _error(request, exc, user, csrf)
    return _page(request, "admin_access.html", {"user": user, "csrf": csrf, "sessions": sessions, "tokens": tokens,
                                                 "message": _said(done), "current": _current(request)})


def _current(request: Request) -> str:
    return session_id(request.cookies.get(SESSION_COOKIE, ""))


_BACK = {"access": "/admin/access", "account": "/account"}


@router.post("/sessions/end")
def end_session(request: Request, session: PageUser, csrf: Csrf, id: Annotated[str, Form(max_length=64)],
                back: Annotated[str, Form(pattern="^(access|account|user)$")] = "account",
                user_id: Annotated[int, Form()] = 0) -> Response:
    """End a session: one's own (from the account page), or a team member's (administrators)."""
    user, token = session
    try:
        check_csrf(token, csrf)
        admin.end_user_session(get_db(request), user, id)
    except StepDownError as exc:
        return _error(request, exc, user, token)
    if id == _current(request):  # one's own, this one: a log-out
        response = RedirectResponse("/login", status_code=303)
        response.delete_cookie(SESSION_COOKIE)
        return response
    return _done(f"/admin/users/{user_id}" if back == "user" else _BACK[back], "ended")


@router.post("/tokens/{token_id}/revoke")
def revoke(request: Request, session: PageUser, token_id: int, csrf: Csrf,
           back: Annotated[str, Form(pattern="^(access|account|user)$")] = "account",
           user_id: Annotated[int, Form()] = 0) -> Response:
    user, token = session
    try:
        check_csrf(token, csrf)
        revoke_token(get_db(request), user, token_id)
    except StepDownError as exc:
        return _error(request, exc, user, token)
    return _done(f"/admin/users/{user_id}" if back == "user" else _BACK[back], "revoked")

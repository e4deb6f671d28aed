"""Logging in and out of the pages: a username and password, and single sign-on with the
organisation's OpenID Connect provider (``records/sso.py`` does the protocol; this file only
speaks HTTP). After either, the person lands on the page they first asked for."""

from __future__ import annotations

import secrets
from typing import Annotated

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import RedirectResponse, Response

from ..errors import AccessError, NotFound, SignInRefused
from ..records import authenticate, end_session, start_session
from ..records.sso import Provider, begin_sign_in, finish_sign_in, safe_next
from .deps import LOGIN_CSRF_COOKIE, SESSION_COOKIE, check_csrf, get_db
from .pages import _page, _session

router = APIRouter(include_in_schema=False)
SSO_COOKIE = "stepdown_sso"  # the sign-in's state, to check the answer comes back to this browser
SSO_PATH = "/login/sso"


def provider(request: Request) -> Provider:
    """This process's provider client (made on first use; its configuration is fetched then)."""
    sso = request.app.state.settings.sso
    if sso is None:
        raise NotFound("Single sign-on is not set up on this service.")
    if getattr(request.app.state, "sso", None) is None:
        request.app.state.sso = Provider(sso)
    return request.app.state.sso


def _login_page(request: Request, *, next_path: str = "/", message: str | None = None, status: int = 200) -> Response:
    settings = request.app.state.settings
    token = request.cookies.get(LOGIN_CSRF_COOKIE) or secrets.token_urlsafe(32)
    response = _page(request, "login.html", {"user": None, "csrf": token, "message": message, "next": next_path,
                                             "sso": settings.sso, "passwords": settings.local_passwords}, status)
    response.set_cookie(LOGIN_CSRF_COOKIE, token, httponly=True, samesite="strict", secure=settings.secure_cookies,
                        max_age=3600)
    return response


def _signed_in(request: Request, actor, target: str, *, same_site: bool) -> Response:
    """The session cookie, and on to ``target``. After single sign-on the browser arrives from
    the provider's site, so a redirect would still count as cross-site and the (SameSite=Strict)
    session cookie would not be sent with it: a page of ours moves on instead."""
    db = get_db(request)
    session = start_session(db, actor, via="password" if same_site else "sso")
    if same_site:
        response: Response = RedirectResponse(target, status_code=303)
    else:
        response = _page(request, "signed_in.html", {"user": None, "csrf": "", "next": target})
    response.set_cookie(SESSION_COOKIE, session.token, httponly=True, samesite="strict",
                        secure=request.app.state.settings.secure_cookies, max_age=db.settings.session_hours * 3600)
    response.delete_cookie(LOGIN_CSRF_COOKIE)
    return response


@router.get("/login")
def login_page(request: Request, next: Annotated[str, Query(max_length=300)] = "/") -> Response:
    return _login_page(request, next_path=safe_next(next))


@router.post("/login")
def login(request: Request, username: Annotated[str, Form(max_length=80)], password: Annotated[str, Form(max_length=200)],
          csrf: Annotated[str, Form(max_length=100)], next: Annotated[str, Form(max_length=300)] = "/") -> Response:
    if not request.app.state.settings.local_passwords:
        return _login_page(request, message="Log in with your organisation's account: passwords are switched off "
                                            "on this service.", status=403)
    try:
        check_csrf(request.cookies.get(LOGIN_CSRF_COOKIE, ""), csrf)
        actor = authenticate(get_db(request), username, password)
    except AccessError as exc:
        response = _login_page(request, next_path=safe_next(next), message=exc.message,
                               status=429 if exc.code == "too_many_attempts" else 401)
        return response
    return _signed_in(request, actor, safe_next(next), same_site=True)


def _return_address(request: Request) -> str:
    base = request.app.state.settings.public_url or str(request.base_url).rstrip("/")
    return f"{base}{SSO_PATH}/callback"


@router.get(SSO_PATH)
def sso_start(request: Request, next: Annotated[str, Query(max_length=300)] = "/") -> Response:
    try:
        url, state = begin_sign_in(get_db(request), provider(request), _return_address(request), next)
    except SignInRefused as exc:
        return _login_page(request, next_path=safe_next(next), message=exc.message, status=503)
    response = RedirectResponse(url, status_code=303)
    # Lax, not Strict: it must come back with the provider's (cross-site) redirect to the callback
    response.set_cookie(SSO_COOKIE, state, httponly=True, samesite="lax", path=SSO_PATH, max_age=600,
                        secure=request.app.state.settings.secure_cookies)
    return response


@router.get(f"{SSO_PATH}/callback")
def sso_callback(request: Request, state: Annotated[str, Query(max_length=100)] = "",
                 code: Annotated[str | None, Query(max_length=4000)] = None,
                 error: Annotated[str | None, Query(max_length=200)] = None) -> Response:
    try:
        actor, target = finish_sign_in(get_db(request), provider(request), _return_address(request), state=state,
                                       cookie_state=request.cookies.get(SSO_COOKIE, ""), code=code, error=error)
    except SignInRefused as exc:
        response = _login_page(request, message=exc.message, status=503 if exc.code == "sign_in_unavailable" else 403)
    else:
        response = _signed_in(request, actor, target, same_site=False)
    response.delete_cookie(SSO_COOKIE, path=SSO_PATH)
    return response


@router.post("/logout")
def logout(request: Request, csrf: Annotated[str, Form(max_length=100)]) -> Response:
    """Ends this service's session (the provider's own sign-in is the provider's to end)."""
    session = _session(request)
    if session is not None:
        check_csrf(session[1], csrf)
        end_session(get_db(request), request.cookies[SESSION_COOKIE])
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE)
    return response

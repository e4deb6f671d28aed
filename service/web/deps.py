"""Request dependencies: the database, the form registry, and who is asking.

The API takes a bearer token (``Authorization: Bearer sdf_...``); the pages take the session
cookie, and every page form that changes something carries the session's CSRF token."""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from ..errors import AccessError
from ..records import Actor, resolve_session, resolve_token
from ..spec import Registry
from ..store import Database

SESSION_COOKIE = "sdf_session"
LOGIN_CSRF_COOKIE = "sdf_login_csrf"
_bearer = HTTPBearer(auto_error=False, description="An API token from `stepdown-forms create-token` or POST /api/tokens")


def get_db(request: Request) -> Database:
    return request.app.state.db


def get_registry(request: Request) -> Registry:
    return request.app.state.registry


def api_actor(request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]) -> Actor:
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise AccessError("Send an API token: Authorization: Bearer <token>.", "unauthenticated")
    return resolve_token(get_db(request), credentials.credentials)


def page_session(request: Request) -> tuple[Actor, str]:
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        raise AccessError("Please log in.", "unauthenticated")
    return resolve_session(get_db(request), token)


def check_csrf(expected: str, given: str | None) -> None:
    if not given or not hmac.compare_digest(expected.encode(), given.encode()):
        raise AccessError("The form was out of date or not sent from this site; please try again.", "csrf_failed")


Db = Annotated[Database, Depends(get_db)]
Forms = Annotated[Registry, Depends(get_registry)]
ApiUser = Annotated[Actor, Depends(api_actor)]

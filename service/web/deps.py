"""Request dependencies: the database, the form registry, and who is asking.

Dependencies that only look at the request are ``async`` (they run on the event loop, not in a
thread of their own); those that read the database are plain functions, run in the thread pool,
except the API token's check, answered in place when it can be (``api_actor``).

The API takes a bearer token (``Authorization: Bearer sdf_...``); the pages take the session
cookie, and every page form that changes something carries the session's CSRF token."""

from __future__ import annotations

import hmac
from collections import Counter
from types import UnionType
from typing import Annotated, Union, get_args, get_origin

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.concurrency import run_in_threadpool

from ..cache import PerObject
from ..errors import AccessError, DataError
from ..records import Actor, resolve_session, resolve_token, resolve_token_in_place
from ..spec import Registry
from ..store import Database

SESSION_COOKIE = "sdf_session"
LOGIN_CSRF_COOKIE = "sdf_login_csrf"
_bearer = HTTPBearer(auto_error=False, description="An API token from `stepdown-forms create-token` or POST /api/tokens")


def get_db(request: Request) -> Database:
    return request.app.state.db


def get_registry(request: Request) -> Registry:
    return request.app.state.registry


async def api_actor(request: Request,
                    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]) -> Actor:
    """The token's user, found here on the event loop when it can be (a thread hand-off cost
    more than the read): the row PostgreSQL's check kept, or SQLite's one-row read; otherwise
    the read is made in the thread pool."""
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise AccessError("Send an API token: Authorization: Bearer <token>.", "unauthenticated")
    db = get_db(request)
    actor = resolve_token_in_place(db, credentials.credentials)
    return actor if actor is not None else await run_in_threadpool(resolve_token, db, credentials.credentials)


def page_session(request: Request) -> tuple[Actor, str]:
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        raise AccessError("Please log in.", "unauthenticated")
    return resolve_session(get_db(request), token)


def check_csrf(expected: str, given: str | None) -> None:
    if not given or not hmac.compare_digest(expected.encode(), given.encode()):
        raise AccessError("The form was out of date or not sent from this site; please try again.", "csrf_failed")


def _takes_many(annotation: object) -> bool:
    """A list (or an optional list) of values: the only kind of parameter given more than once."""
    if get_origin(annotation) in (list, tuple, set, frozenset):
        return True
    return any(_takes_many(a) for a in get_args(annotation) if get_origin(annotation) in (Union, UnionType))


def _declared_query(dependant) -> dict[str, bool]:
    """Query parameter name -> whether it takes several values, for an operation and its dependencies."""
    names = {f.alias: _takes_many(f.field_info.annotation) for f in dependant.query_params}
    for sub in dependant.dependencies:
        names.update(_declared_query(sub))
    return names


_QUERY: PerObject[object, dict[str, bool]] = PerObject(lambda route: _declared_query(route.dependant))


async def known_query_only(request: Request) -> None:
    """Refuse a query parameter the operation does not declare, or one given twice that takes
    one value (a misspelt ``q`` would otherwise be ignored silently, a repeated one would have
    all but its last value dropped, and the answer taken for a filtered one)."""
    route = request.scope.get("route")
    if route is None or not hasattr(route, "dependant"):
        return
    declared = _QUERY.get(route)
    given = request.query_params.multi_items()
    unknown = sorted({k for k, _ in given if k not in declared})
    if unknown:
        names = ", ".join(repr(k[:40]) for k in unknown[:5])
        raise DataError(f"This operation takes no query parameter {names}.", "unknown_parameter")
    counts = Counter(k for k, _ in given)
    repeated = sorted(k for k, n in counts.items() if n > 1 and not declared[k])
    if repeated:
        raise DataError(f"The query parameter {repeated[0]!r} takes one value and was given {counts[repeated[0]]}.",
                        "repeated_parameter")


async def _db(request: Request) -> Database:
    return get_db(request)


async def _registry(request: Request) -> Registry:
    return get_registry(request)


Db = Annotated[Database, Depends(_db)]
Forms = Annotated[Registry, Depends(_registry)]
ApiUser = Annotated[Actor, Depends(api_actor)]

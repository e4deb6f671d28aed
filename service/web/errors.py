"""Errors leave the service one way: a status and ``{"error": {"code", "message", "details"}}``
(pages render the same message in HTML). ``code`` is stable; ``message`` is plain English and
never quotes a value from a child's record."""

from __future__ import annotations

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from .. import errors as e

# Every class of the tree has a status (a test holds this list to the tree). Problems of our own
# files or the machine are the service's fault (500); the rest are the request's.
STATUS_BY_CLASS: dict[type[e.StepDownError], int] = {
    e.SpecError: 500, e.SettingsError: 500, e.InstallationError: 500, e.SealError: 500,
    e.UnknownFormError: 404, e.UnknownPackError: 404, e.NotFound: 404,
    e.DataError: 422, e.InputMissing: 422, e.DocumentError: 422, e.Unreadable: 422, e.RecordInvalid: 422,
    e.AccessError: 403, e.SignInRefused: 403, e.Conflict: 409, e.Cancelled: 409, e.Busy: 429,
    e.AuditUnavailable: 503,
}
# Codes whose status differs from their class's.
STATUS_BY_CODE = {"unauthenticated": 401, "too_many_attempts": 429, "file_too_large": 413,
                  "not_a_zip": 415, "not_a_word_document": 415}


def status_for(exc: e.StepDownError) -> int:
    if exc.code in STATUS_BY_CODE:
        return STATUS_BY_CODE[exc.code]
    return STATUS_BY_CLASS.get(type(exc), 500)


def error_body(code: str, message: str, details: object = None) -> dict:
    body = {"code": code, "message": message}
    if details is not None:
        body["details"] = details
    return {"error": body}


def json_error(status: int, code: str, message: str, details: object = None, headers: dict | None = None) -> JSONResponse:
    return JSONResponse(error_body(code, message, details), status_code=status, headers=headers)


def for_a_browser(request: Request) -> bool:
    """A page's request from a browser, answered with an HTML page; the API (and anything that
    does not ask for HTML) keeps JSON."""
    path = request.url.path
    return not path.startswith(("/api/", "/static/")) and "text/html" in request.headers.get("accept", "")


def _page_or_json(request: Request, status: int, code: str, message: str, details: object = None,
                  headers: dict | None = None) -> Response:
    page = getattr(request.app.state, "error_page", None)  # set by the app: pages render it (pages.error_page)
    if page is not None and for_a_browser(request):
        return page(request, status, message, headers)
    return json_error(status, code, message, details, headers)


async def stepdown_error(request: Request, exc: e.StepDownError) -> Response:
    status = status_for(exc)
    headers = {"Retry-After": "5"} if status == 429 else ({"WWW-Authenticate": "Bearer"} if status == 401 else None)
    return _page_or_json(request, status, exc.code, exc.message, getattr(exc, "details", None), headers)


async def validation_error(request: Request, exc: RequestValidationError) -> Response:
    details = [{"where": ".".join(str(p) for p in e.get("loc", ())), "problem": e.get("msg", "")} for e in exc.errors()]
    if for_a_browser(request):
        named = "; ".join(f"{d['where'].split('.')[-1]}: {d['problem']}" for d in details[:3])
        return _page_or_json(request, 422, "invalid_request", f"The form could not be used ({named}). Go back, "
                             "check what was typed and try again.")
    return json_error(422, "invalid_request", "The request is not in the expected form.", details)


async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
    codes = {400: "bad_request", 404: "not_found", 405: "method_not_allowed", 401: "unauthenticated", 403: "forbidden"}
    headers = getattr(exc, "headers", None)
    if exc.status_code == 405:  # Starlette names only the first matching route's methods
        headers = {"Allow": ", ".join(_allowed(request))}
    message = "There is no page at this address." if exc.status_code == 404 and for_a_browser(request) else str(exc.detail)
    return _page_or_json(request, exc.status_code, codes.get(exc.status_code, "http_error"), message, headers=headers)


def _allowed(request: Request) -> list[str]:
    path = request.url.path
    methods: set[str] = set()
    for route in request.app.routes:
        regex, route_methods = getattr(route, "path_regex", None), getattr(route, "methods", None)
        if regex is not None and route_methods and regex.match(path):
            methods |= set(route_methods)
    return sorted(methods)

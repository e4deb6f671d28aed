"""The upload size limit, enforced before the body is read: a declared Content-Length over the
limit is refused at once with 413; a body sent without one (chunked) is counted as it arrives
and cut off at the limit. Pure ASGI, so nothing is buffered first.

Only file uploads (``multipart/form-data``) may be that large: any other body (JSON for the
API, a page's form fields) is limited to ``OTHER_BYTES``, since parsing 20 MiB of JSON into
Python objects can cost half a gigabyte (seven million empty objects took 560 MB).

A body must also keep coming: a client that sends nothing for ``idle`` seconds, or, once
``grace`` seconds have passed, less than ``min_rate`` bytes a second on average (20 clients
sending a byte a second held their connections for a minute), is answered 408 and its
connection closed, so slow clients cannot tie up the service for everyone else."""

from __future__ import annotations

import asyncio
import json
import time

from ..limits import MIB

OVERHEAD = 64 * 1024  # multipart framing and the other form fields around the file
OTHER_BYTES = 2 * MIB  # any body that is not a file upload (JSON, a page's form): far more than a form's data


IDLE_SECONDS = 15.0  # the longest a body may pause
GRACE_SECONDS = 10.0  # how long before a body's pace is looked at
MIN_RATE = 2048  # bytes a second, on average, after the grace period (a slow mobile link sends far more)


class BodyLimit:
    def __init__(self, app, limit: int, *, idle: float = IDLE_SECONDS, grace: float = GRACE_SECONDS,
                 min_rate: int = MIN_RATE) -> None:
        self.app, self.limit = app, limit + OVERHEAD
        self.megabytes = limit // MIB
        self.idle, self.grace, self.min_rate = idle, grace, min_rate

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        upload = headers.get(b"content-type", b"").lower().startswith(b"multipart/form-data")
        limit = self.limit if upload else min(self.limit, OTHER_BYTES)
        declared = headers.get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > limit):
            await self._refuse(send, upload)
            return
        received, started, refused, complete = 0, False, False, False
        began = time.monotonic()

        async def counted_receive():
            nonlocal received, refused, complete
            if refused:
                return {"type": "http.disconnect"}
            if complete:  # the body is in: the app is only waiting to hear of a disconnect
                return await receive()
            try:
                async with asyncio.timeout(self.idle):  # a timer on this task: wait_for made a task a message
                    message = await receive()
            except TimeoutError:
                message = None
            if message is not None and message["type"] == "http.request":
                received += len(message.get("body", b""))
                complete = not message.get("more_body", False)
                if received > limit:
                    # answer 413 now, and tell the app the client went away, whatever it was parsing
                    refused = True
                    if not started:
                        await self._refuse(send, upload)
                    return {"type": "http.disconnect"}
            elapsed = time.monotonic() - began
            if message is None or (not complete and elapsed > self.grace and received < self.min_rate * elapsed):
                refused = True
                if not started:
                    await self._slow(send)
                return {"type": "http.disconnect"}
            return message

        async def watched_send(message):
            nonlocal started
            if refused:
                return  # the 413 has been sent; the app's own answer is dropped
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counted_receive, watched_send)
        except Exception:
            if not refused:
                raise

    async def _slow(self, send) -> None:
        body = json.dumps({"error": {"code": "request_timeout", "message":
                                     "The upload came too slowly and was stopped; try again on a better connection."}}
                          ).encode()
        await send({"type": "http.response.start", "status": 408,
                    "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                                (b"connection", b"close")]})
        await send({"type": "http.response.body", "body": body})

    async def _refuse(self, send, upload: bool) -> None:
        message = (f"The upload is larger than the limit of {self.megabytes} MiB." if upload else
                   f"The request is larger than {OTHER_BYTES // MIB} MiB; only uploaded files may be larger.")
        body = json.dumps({"error": {"code": "file_too_large", "message": message}}).encode()
        await send({"type": "http.response.start", "status": 413,
                    "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                                (b"connection", b"close")]})
        await send({"type": "http.response.body", "body": body})


class SecurityHeaders:
    """Headers for pages that show children's data: no caching, no framing, no sniffing, and a
    content security policy that allows only our own scripts, styles and images."""

    HEADERS = [(b"x-content-type-options", b"nosniff"), (b"x-frame-options", b"DENY"),
               (b"referrer-policy", b"no-referrer"), (b"cache-control", b"no-store"),
               (b"content-security-policy", b"default-src 'self'; img-src 'self' data:; frame-ancestors 'none'; "
                                            b"form-action 'self'; base-uri 'none'")]

    # The interactive API docs (Swagger UI, served from here) start with one inline script; that
    # page alone allows it. It shows no child data. Nothing is loaded from another site.
    DOCS_HEADERS = HEADERS[:4] + [(b"content-security-policy",
                                   b"default-src 'self'; script-src 'self' 'unsafe-inline'; img-src 'self' data:; "
                                   b"frame-ancestors 'none'")]

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        headers = self.DOCS_HEADERS if scope.get("path") == "/api/docs" else self.HEADERS

        async def with_headers(message):
            if message["type"] == "http.response.start":
                names = {k.lower() for k, _ in message.get("headers", [])}
                message["headers"] = list(message.get("headers", [])) + [h for h in headers if h[0] not in names]
            await send(message)

        await self.app(scope, receive, with_headers)

"""The upload size limit, enforced before the body is read: a declared Content-Length over the
limit is refused at once with 413; a body sent without one (chunked) is counted as it arrives
and cut off at the limit. Pure ASGI, so nothing is buffered first."""

from __future__ import annotations

import json

from ..limits import MIB

OVERHEAD = 64 * 1024  # multipart framing and the other form fields around the file


class BodyLimit:
    def __init__(self, app, limit: int) -> None:
        self.app, self.limit = app, limit + OVERHEAD
        self.megabytes = limit // MIB

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.limit):
            await self._refuse(send)
            return
        received, started, refused = 0, False, False

        async def counted_receive():
            nonlocal received, refused
            if refused:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.limit:
                    # answer 413 now, and tell the app the client went away, whatever it was parsing
                    refused = True
                    if not started:
                        await self._refuse(send)
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

    async def _refuse(self, send) -> None:
        body = json.dumps({"error": {"code": "file_too_large", "message":
                                     f"The upload is larger than the limit of {self.megabytes} MiB."}}).encode()
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

    # The interactive API docs (Swagger UI) load their script and styles from jsDelivr, with one
    # inline script to start; that page alone allows them. It shows no child data.
    DOCS_HEADERS = HEADERS[:4] + [(b"content-security-policy",
                                   b"default-src 'self'; script-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; "
                                   b"style-src 'self' https://cdn.jsdelivr.net; img-src 'self' data: https://fastapi.tiangolo.com; "
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

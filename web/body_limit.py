"""Request bodies over the limit get 413 before anything parses them.

A declared Content-Length over the limit is refused at once, before the app sees the request; a body sent
without one (chunked) is counted as it arrives and refused the moment it passes the limit, so no handler ever
holds more than the limit in memory. (Starlette's own limiter answers in plain text, outside the error pages
and the security headers; this one goes through both.)
"""

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from web.error_pages import error_response

MAX_BODY_BYTES = 256 * 1024
# A roster of every school in England (about 24,000 rows of a few hundred bytes) is the one large upload.
LARGER_BODIES = {"/admin/roster": 16 * 1024 * 1024}


class BodyLimit:
    def __init__(self, app: ASGIApp, max_bytes: int = MAX_BODY_BYTES, larger: dict[str, int] | None = None) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.larger = LARGER_BODIES if larger is None else larger

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.larger.get(scope["path"], self.max_bytes)
        size = f"{limit // 1024 // 1024} MB" if limit >= 1024 * 1024 else f"{limit // 1024} KB"
        detail = f"the request body is larger than {size}; nothing was read or recorded"
        declared = dict(scope.get("headers", [])).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > limit):
            await error_response(scope["path"], 413, detail)(scope, receive, send)
            return
        received = 0

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    # An HTTPException: body parsers let it through to the error pages.
                    raise HTTPException(413, detail)
            return message

        await self.app(scope, counted, send)

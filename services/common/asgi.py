"""ASGI pieces shared by the HTTP services (intake, the aggregator API)."""

from __future__ import annotations

from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send


def too_large(max_bytes: int) -> Response:
    return JSONResponse(
        {
            "error": "payload_too_large",
            "message": f"Het verzoek is te groot: hoogstens {max_bytes} bytes.",
            "problems": [],
        },
        status_code=413,
    )


class BodySizeLimit:
    """Refuse bodies over the limit with 413 without reading them whole.

    A declared Content-Length is checked before anything is read. A chunked body is read up to
    the limit (never more is held in memory) and then either refused or handed on; FastAPI
    itself would turn an error raised while it reads the body into a vague 400.
    Paths in ``larger`` (intake's batch endpoint) have their own, larger limit.
    """

    def __init__(
        self, app: ASGIApp, *, max_bytes: int, larger: dict[str, int] | None = None
    ) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.larger = larger or {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        max_bytes = self.larger.get(scope["path"], self.max_bytes)
        declared = dict(scope.get("headers", [])).get(b"content-length")
        if declared is not None:
            if declared.isdigit() and int(declared) > max_bytes:
                await too_large(max_bytes)(scope, receive, send)
                return
            await self.app(scope, receive, send)
            return
        chunks: list[Message] = []
        size = 0
        while True:
            message = await receive()
            chunks.append(message)
            size += len(message.get("body", b""))
            if size > max_bytes:
                await too_large(max_bytes)(scope, receive, send)
                return
            if message["type"] != "http.request" or not message.get("more_body", False):
                break

        async def replay() -> Message:
            return chunks.pop(0) if chunks else await receive()

        await self.app(scope, replay, send)

"""Conditional requests: Web API GETs carry an ``ETag``; ``If-None-Match`` with it gets ``304 Not Modified``."""

from __future__ import annotations

import hashlib

from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send


class ETagMiddleware:
    """Tag every successful ``GET /v1/...`` JSON answer by its content and honour ``If-None-Match``."""

    def __init__(self, app: ASGIApp) -> None:
        self._app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Buffer a GET answer, tag it, and send it whole or as a 304."""
        if scope["type"] != "http" or scope["method"] != "GET" or not scope["path"].startswith("/v1/"):
            await self._app(scope, receive, send)
            return
        wanted = Headers(scope=scope).get("if-none-match")
        start: Message | None = None
        chunks: list[bytes] = []

        async def buffer(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                start = message
                return
            if message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))
                if message.get("more_body", False):
                    return
                assert start is not None
                await _finish(start, b"".join(chunks), wanted, send)

        await self._app(scope, receive, buffer)


async def _finish(start: Message, body: bytes, wanted: str | None, send: Send) -> None:
    headers = MutableHeaders(raw=list(start["headers"]))
    if start["status"] != 200 or not headers.get("content-type", "").startswith("application/json"):
        await send(start)
        await send({"type": "http.response.body", "body": body})
        return
    etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
    headers["etag"] = etag
    if wanted is not None and etag in (t.strip() for t in wanted.split(",")):
        del headers["content-type"]
        del headers["content-length"]
        await send({"type": "http.response.start", "status": 304, "headers": headers.raw})
        await send({"type": "http.response.body", "body": b""})
        return
    await send({**start, "headers": headers.raw})
    await send({"type": "http.response.body", "body": body})

"""Injected failures, and the ASGI middleware that records API calls and serves those failures."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import anyio
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

if TYPE_CHECKING:
    from spotify_mcp.emulator.world import World

DEFAULT_MESSAGES = {
    400: "Bad request",
    401: "Invalid access token",
    403: "Forbidden",
    404: "Service not found",
    429: "API rate limit exceeded",
    500: "Server error.",
    502: "Bad gateway.",
    503: "Service unavailable",
}

FaultBody = Mapping[str, Any] | str | bytes | None


@dataclass
class Fault:
    """A canned response served for the next ``remaining`` requests whose path starts with ``path_prefix``."""

    path_prefix: str
    status: int
    body: FaultBody
    headers: Mapping[str, str]
    remaining: int

    def response(self, path: str) -> Response:
        """The response to serve; the default body is Spotify's error shape for that path."""
        body = self.body
        if body is None and path.startswith("/v1"):
            body = {"error": {"status": self.status, "message": DEFAULT_MESSAGES.get(self.status, "Error")}}
        elif body is None:
            body = {"error": "server_error", "error_description": DEFAULT_MESSAGES.get(self.status, "Error")}
        if isinstance(body, str | bytes):
            media_type = "text/plain"
            content = body.encode() if isinstance(body, str) else body
        else:
            media_type = "application/json"
            content = json.dumps(body).encode()
        return Response(content, status_code=self.status, headers=dict(self.headers), media_type=media_type)


@dataclass
class Hold:
    """Requests under ``path_prefix`` wait for ``release`` (``remaining`` more of them)."""

    path_prefix: str
    release: anyio.Event
    remaining: int


class WorldMiddleware:
    """Records each ``/v1`` call in ``world.api_calls``, then serves an injected fault if one is due."""

    def __init__(self, app: ASGIApp, world: World) -> None:
        self.app = app
        self.world = world

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Handle one ASGI connection."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        if path == "/v1" or path.startswith("/v1/"):
            self.world.api_calls.append((scope["method"], path))
            if self.world.api_latency > 0:
                await self.world.clock.sleep(self.world.api_latency)
        release = self.world.take_hold(path)
        if release is not None:
            self.world.note_held(+1)
            try:
                await release.wait()
            finally:
                self.world.note_held(-1)
        fault = self.world.take_fault(path)
        if fault is None:
            await self.app(scope, receive, send)
        else:
            await fault.response(path)(scope, receive, send)

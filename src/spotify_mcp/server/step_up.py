"""Step-up authorization: a JSON-RPC request that needs scopes the bearer lacks gets HTTP 403.

The answer is the MCP spec's ``insufficient_scope`` challenge naming every scope the operation needs
(what the token already has plus what it lacks), so a client re-authorizes once instead of meeting
Spotify's own, confusing 403 later. The body is read once here and replayed to the transport.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from mcp.server.auth.middleware.bearer_auth import AuthenticatedUser
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from spotify_mcp.scopes import format_scope, missing

MAX_INSPECTED_BODY = 1024 * 1024

RequiredScopes = Callable[[str, Any], tuple[str, ...]]
"""Given a JSON-RPC method and its params, the scopes the operation needs."""


class ScopeStepUp:
    """ASGI wrapper (inside BearerAuth) that answers 403 insufficient_scope before the transport runs."""

    def __init__(self, app: ASGIApp, required: RequiredScopes, *, resource_metadata: str) -> None:
        self._app = app
        self._required = required
        self._resource_metadata = resource_metadata

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Check the scopes of a POSTed JSON-RPC request, then pass it on with its body replayed."""
        user = scope.get("user")
        if scope["type"] != "http" or scope.get("method") != "POST" or not isinstance(user, AuthenticatedUser):
            await self._app(scope, receive, send)
            return
        messages, body, complete = await _read_body(receive)
        if complete:
            needed = self._needed(body)
            lacking = missing(needed, user.access_token.scopes)
            if lacking:
                await self._refuse(send, needed, user.access_token.scopes, lacking)
                return
        await self._app(scope, _replay(messages, receive), send)

    def _needed(self, body: bytes) -> tuple[str, ...]:
        try:
            parsed = json.loads(body)
        except ValueError:
            return ()
        requests = parsed if isinstance(parsed, list) else [parsed]
        needed: dict[str, None] = {}
        for request in requests:
            if isinstance(request, dict) and isinstance(request.get("method"), str):
                for name in self._required(request["method"], request.get("params")):
                    needed[name] = None
        return tuple(needed)

    async def _refuse(self, send: Send, needed: tuple[str, ...], granted: list[str], lacking: tuple[str, ...]) -> None:
        ask = format_scope(dict.fromkeys([*granted, *needed]))
        description = f"this operation needs the scopes {format_scope(lacking)}"
        challenge = (
            f'Bearer error="insufficient_scope", scope="{ask}", resource_metadata="{self._resource_metadata}", '
            f'error_description="{description}"'
        )
        body = json.dumps({"error": "insufficient_scope", "error_description": description, "scope": ask}).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 403,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                    (b"www-authenticate", challenge.encode()),
                    (b"cache-control", b"no-store"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})


async def _read_body(receive: Receive) -> tuple[list[Message], bytes, bool]:
    """Read the request body up to the inspection limit; ``complete`` is False when it was larger."""
    messages: list[Message] = []
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        messages.append(message)
        if message["type"] != "http.request":
            return messages, b"", False
        chunk = message.get("body", b"")
        size += len(chunk)
        chunks.append(chunk)
        if not message.get("more_body", False):
            return messages, b"".join(chunks), True
        if size > MAX_INSPECTED_BODY:
            return messages, b"", False


def _replay(messages: list[Message], receive: Receive) -> Receive:
    pending = list(messages)

    async def replay() -> Message:
        if pending:
            return pending.pop(0)
        return await receive()

    return replay

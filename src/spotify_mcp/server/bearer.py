"""Bearer authentication in front of the MCP transports.

Only our own access tokens are accepted (never a Spotify token); a request without a valid one gets a
401 whose ``WWW-Authenticate`` names the protected-resource metadata and the scopes to ask for. A request
with no Bearer credentials gets the bare challenge; an empty or malformed Bearer credential gets
``invalid_token``; a token in the query string or two ``Authorization`` headers get 400 ``invalid_request``.
When the store cannot be asked, the answer is 503 with ``Retry-After``: never a pass (fail closed).
"""

from __future__ import annotations

import json

from mcp.server.auth.middleware.auth_context import auth_context_var
from mcp.server.auth.middleware.bearer_auth import AuthenticatedUser
from starlette.authentication import AuthCredentials
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Receive, Scope, Send

from spotify_mcp.oauth.client_request import STORE_RETRY_AFTER
from spotify_mcp.services import Runtime
from spotify_mcp.store.base import StoreError


class BearerAuth:
    """ASGI wrapper that authenticates every request before the transport sees it."""

    def __init__(self, app: ASGIApp, runtime: Runtime, *, resource_metadata: str, scopes: str) -> None:
        self._app = app
        self._runtime = runtime
        self._challenge = f'Bearer resource_metadata="{resource_metadata}", scope="{scopes}"'

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Authenticate, then pass the request on with the user attached."""
        if scope["type"] != "http" or scope.get("method") == "OPTIONS":
            await self._app(scope, receive, send)
            return
        authorization = Headers(scope=scope).getlist("authorization")
        if b"access_token=" in scope.get("query_string", b""):
            await self._deny(send, 400, "invalid_request", "tokens are accepted only in the Authorization header")
            return
        if len(authorization) > 1:
            await self._deny(send, 400, "invalid_request", "send one Authorization header")
            return
        credentials = authorization[0].split(None, 1) if authorization else []
        scheme = credentials[0] if credentials else ""
        token = credentials[1].strip() if len(credentials) > 1 else ""
        if scheme.lower() != "bearer":
            await self._deny(send, 401, None, "authentication required")
            return
        if not token:
            await self._deny(send, 401, "invalid_token", "the Bearer credentials carry no token")
            return
        try:
            access = await self._runtime.services.tokens.verify_access(token)
        except StoreError:
            await self._send(
                send,
                503,
                {"error": "temporarily_unavailable", "error_description": "the server cannot check tokens right now"},
                [(b"retry-after", str(STORE_RETRY_AFTER).encode())],
            )
            return
        if access is None:
            await self._deny(send, 401, "invalid_token", "the access token is invalid, expired or revoked")
            return
        user = AuthenticatedUser(access)
        scope["user"] = user
        scope["auth"] = AuthCredentials(access.scopes)
        reset = auth_context_var.set(user)
        try:
            await self._app(scope, receive, send)
        finally:
            auth_context_var.reset(reset)

    async def _deny(self, send: Send, status: int, error: str | None, description: str) -> None:
        challenge = self._challenge
        if error is not None:
            challenge += f', error="{error}", error_description="{description}"'
        await self._send(
            send,
            status,
            {"error": error or "unauthorized", "error_description": description},
            [(b"www-authenticate", challenge.encode())],
        )

    async def _send(self, send: Send, status: int, body: dict[str, str], headers: list[tuple[bytes, bytes]]) -> None:
        content = json.dumps(body).encode()
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(content)).encode()),
                    *headers,
                    (b"cache-control", b"no-store"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": content})

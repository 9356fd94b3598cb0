"""Bearer authentication in front of the MCP transports.

Only our own access tokens are accepted (never a Spotify token); a request without a valid one gets a
401 whose ``WWW-Authenticate`` names the protected-resource metadata and the scopes to ask for.
"""

from __future__ import annotations

import json

from mcp.server.auth.middleware.auth_context import auth_context_var
from mcp.server.auth.middleware.bearer_auth import AuthenticatedUser
from starlette.authentication import AuthCredentials
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Receive, Scope, Send

from spotify_mcp.services import Runtime


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
        headers = Headers(scope=scope)
        scheme, _, token = headers.get("authorization", "").partition(" ")
        if b"access_token=" in scope.get("query_string", b""):
            await self._deny(send, 400, "invalid_request", "tokens are accepted only in the Authorization header")
            return
        if scheme.lower() != "bearer" or not token.strip():
            await self._deny(send, 401, None, "authentication required")
            return
        access = await self._runtime.services.tokens.verify_access(token.strip())
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
        body = json.dumps({"error": error or "unauthorized", "error_description": description}).encode()
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                    (b"www-authenticate", challenge.encode()),
                    (b"cache-control", b"no-store"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})

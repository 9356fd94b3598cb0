"""``/revoke`` (RFC 7009), for public and confidential clients alike.

Revoking either token of a grant revokes the grant: the access and refresh tokens go together.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from spotify_mcp.crypto import hash_secret
from spotify_mcp.oauth.client_request import authenticated_form
from spotify_mcp.services import Runtime
from spotify_mcp.web.responses import NO_STORE, oauth_error


class RevokeEndpoint:
    """Revokes a token's grant if the authenticated client owns it; always 200 otherwise."""

    def __init__(self, runtime: Runtime) -> None:
        self._runtime = runtime

    async def __call__(self, request: Request) -> Response:
        """Handle a revocation request."""
        services = self._runtime.services
        authenticated = await authenticated_form(request, services.clients)
        if isinstance(authenticated, Response):
            return authenticated
        client, form = authenticated
        token = form.get("token")
        if not isinstance(token, str) or not token:
            return oauth_error("invalid_request", "token is required")
        record = await services.store.get_token(hash_secret(token))
        if record is not None and record.client_id == client.client_id:
            await services.store.revoke_grant(record.grant_id)
        return Response(status_code=200, headers=NO_STORE)

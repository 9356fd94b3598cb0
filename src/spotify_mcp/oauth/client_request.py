"""The common start of /token and /revoke: a bounded form and an authenticated client."""

from __future__ import annotations

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response

from spotify_mcp.oauth.body import BadForm, BodyTooLarge, read_form
from spotify_mcp.oauth.clients import Client, ClientAuthError, ClientRegistry
from spotify_mcp.web.responses import oauth_error


async def authenticated_form(request: Request, clients: ClientRegistry) -> tuple[Client, FormData] | Response:
    """Read the form and authenticate its client; an error response when either fails."""
    try:
        form = await read_form(request)
    except BodyTooLarge as exc:
        return oauth_error("invalid_request", str(exc), 413)
    except BadForm as exc:
        return oauth_error("invalid_request", str(exc))
    try:
        client = await clients.authenticate(request, form)
    except ClientAuthError as exc:
        headers = {"WWW-Authenticate": 'Basic realm="spotify-mcp"'} if exc.used_basic else None
        return oauth_error("invalid_client", exc.description, 401, headers)
    return client, form

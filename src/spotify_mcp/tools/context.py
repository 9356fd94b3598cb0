"""What every tool needs: who is calling, whether their grant covers the tool, and friendly errors."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from mcp.server.auth.middleware.auth_context import get_access_token
from mcp.server.auth.middleware.bearer_auth import AuthenticatedUser
from mcp.server.auth.provider import AccessToken
from mcp.server.mcpserver import Context
from mcp.server.mcpserver.exceptions import ToolError

from spotify_mcp.scopes import missing


class ToolFailure(ToolError):
    """A failure the model should read: the message says what happened and what to do next."""


@dataclass(frozen=True, slots=True)
class Caller:
    """The authenticated user behind a tool call."""

    user_id: str
    client_id: str
    scopes: tuple[str, ...]


def caller(ctx: Context, required_scopes: Sequence[str] = ()) -> Caller:
    """Identify the caller from the request's bearer and check the tool's Spotify scopes."""
    access = _access_token(ctx)
    if access is None or not access.subject:
        raise ToolFailure("This call is not authenticated; connect to this server with OAuth first.")
    lacking = missing(required_scopes, access.scopes)
    if lacking:
        raise ToolFailure(
            "Your authorization does not include the Spotify permissions this tool needs: "
            f"{' '.join(lacking)}. Reconnect to this server and approve them."
        )
    return Caller(user_id=access.subject, client_id=access.client_id, scopes=tuple(access.scopes))


def _access_token(ctx: Context) -> AccessToken | None:
    request = getattr(ctx.request_context, "request", None)
    user = getattr(request, "scope", {}).get("user") if request is not None else None
    if isinstance(user, AuthenticatedUser):
        return user.access_token
    return get_access_token()

"""Per-user resources: the current playback and the profile, read with the caller's own Spotify access."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable

from mcp.server.mcpserver import Context
from mcp.server.mcpserver.exceptions import ResourceError
from mcp.server.mcpserver.resources import Resource

from spotify_mcp.tools.context import ToolFailure, caller
from spotify_mcp.tools.formatting import profile
from spotify_mcp.tools.kit import ToolKit
from spotify_mcp.tools.player import READ_STATE
from spotify_mcp.tools.results import Playback, playback

PLAYBACK_URI = "spotify://me/player"
PROFILE_URI = "spotify://me/profile"


class UserResource(Resource):
    """A resource whose content depends on who reads it; the server renders it with the request's context."""

    scopes: tuple[str, ...]
    render: Callable[[ToolKit, str], Awaitable[str]]

    async def read(self) -> str:
        """Refuse a read without a request: there is no user to read for."""
        raise ResourceError("this resource is read per user, through an authenticated MCP request")

    async def read_for(self, kit: ToolKit, ctx: Context) -> str:
        """Render the resource for the authenticated caller."""
        try:
            who = caller(ctx, self.scopes)
            return await self.render(kit, who.user_id)
        except ToolFailure as exc:
            raise ResourceError(str(exc)) from None


async def _playback(kit: ToolKit, user_id: str) -> str:
    reply = await kit.spotify(user_id, "GET", "/me/player")
    state = playback(reply.object()) if reply.data else Playback(is_playing=False)
    return json.dumps(state.model_dump(mode="json"))


async def _profile(kit: ToolKit, user_id: str) -> str:
    reply = await kit.spotify(user_id, "GET", "/me")
    return json.dumps(profile(reply.object()).model_dump(mode="json"))


def user_resources() -> list[UserResource]:
    """The per-user resources, in listing order."""
    return [
        UserResource(
            uri=PLAYBACK_URI,
            name="current-playback",
            title="Current playback",
            description="What is playing now, on which device, with progress and shuffle/repeat state.",
            mime_type="application/json",
            scopes=READ_STATE,
            render=_playback,
        ),
        UserResource(
            uri=PROFILE_URI,
            name="profile",
            title="Spotify profile",
            description="The signed-in Spotify user's profile.",
            mime_type="application/json",
            scopes=(),
            render=_profile,
        ),
    ]

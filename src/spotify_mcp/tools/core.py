"""The first tools: who am I, and track search. The rest of the toolset builds on the same path."""

from __future__ import annotations

from typing import Annotated, Any

from mcp.server.mcpserver import Context, MCPServer
from mcp.types import ToolAnnotations
from pydantic import BaseModel, Field

from spotify_mcp.services import Runtime
from spotify_mcp.spotify.errors import ReconnectRequired, SpotifyAPIError, SpotifyUnavailable
from spotify_mcp.tools.context import ToolFailure, caller
from spotify_mcp.tools.formatting import Track, UserProfile, profile, track

SEARCH_PAGE = 10
MAX_SEARCH_RESULTS = 50


class TrackSearch(BaseModel):
    """One page of track search results."""

    query: str
    tracks: list[Track]
    total: int
    offset: int
    next_offset: int | None = Field(description="pass as offset to get the next page; null at the end")


def register_core_tools(server: MCPServer, runtime: Runtime) -> None:
    """Add getCurrentUserProfile and searchTracks to ``server``."""

    @server.tool(
        name="getCurrentUserProfile",
        description="Get the signed-in Spotify user's profile (id, display name, profile URL).",
        annotations=ToolAnnotations(
            title="Current user profile", read_only_hint=True, idempotent_hint=True, open_world_hint=True
        ),
    )
    async def get_current_user_profile(ctx: Context) -> UserProfile:
        who = caller(ctx, ("user-read-private",))
        data = await _get(runtime, who.user_id, "/me")
        return profile(data)

    @server.tool(
        name="searchTracks",
        description="Search Spotify for tracks; returns track URIs to use with play, queue and playlist tools.",
        annotations=ToolAnnotations(
            title="Search tracks", read_only_hint=True, idempotent_hint=True, open_world_hint=True
        ),
    )
    async def search_tracks(
        ctx: Context,
        query: Annotated[
            str,
            Field(
                min_length=1,
                max_length=500,
                description="Search text; filters like artist:, album:, year: work",
            ),
        ],
        limit: Annotated[int, Field(ge=1, le=MAX_SEARCH_RESULTS, description="How many tracks")] = 20,
        offset: Annotated[int, Field(ge=0, le=990, description="Index of the first result")] = 0,
        market: Annotated[
            str | None, Field(pattern=r"^[A-Z]{2}$", description="ISO 3166-1 alpha-2 country code")
        ] = None,
    ) -> TrackSearch:
        who = caller(ctx)
        found: list[Track] = []
        total = 0
        position = offset
        while len(found) < limit and position < 1000:
            size = min(SEARCH_PAGE, limit - len(found), 1000 - position)
            params: dict[str, str | int] = {"q": query, "type": "track", "limit": size, "offset": position}
            if market:
                params["market"] = market
            page = (await _get(runtime, who.user_id, "/search", params)).get("tracks") or {}
            items = [i for i in page.get("items") or [] if isinstance(i, dict)]
            total = int(page.get("total") or 0)
            found.extend(track(i) for i in items)
            position += size
            if len(items) < size or position >= total:
                break
        end = offset + len(found)
        return TrackSearch(
            query=query,
            tracks=found,
            total=total,
            offset=offset,
            next_offset=end if end < min(total, 1000) else None,
        )


async def _get(runtime: Runtime, user_id: str, path: str, params: dict[str, str | int] | None = None) -> Any:
    """GET a Spotify resource for the user, turning failures into advice for the model."""
    try:
        response = await runtime.services.spotify.request(user_id, "GET", path, params=params)
    except ReconnectRequired:
        raise ToolFailure(
            "Spotify access for this account has ended (revoked, or older than Spotify's 6-month limit). "
            "Ask the user to reconnect this server to Spotify."
        ) from None
    except SpotifyUnavailable:
        raise ToolFailure("Spotify could not be reached just now; try again in a moment.") from None
    except SpotifyAPIError as exc:
        if exc.status == 429:
            wait = f" after {int(exc.retry_after)} seconds" if exc.retry_after else " later"
            raise ToolFailure(f"Spotify is rate-limiting requests; try again{wait}.") from None
        if exc.status == 403:
            raise ToolFailure(f"Spotify refused this request: {exc.message}") from None
        raise ToolFailure(f"Spotify returned an error ({exc.status}): {exc.message}") from None
    return response.data if isinstance(response.data, dict) else {}

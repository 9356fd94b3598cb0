"""Who the user is, and what they listen to: profile, recently played, top tracks and artists."""

from __future__ import annotations

from typing import Annotated, Any

from mcp.server.mcpserver import Context
from mcp.types import CallToolResult
from pydantic import Field

from spotify_mcp.tools.context import caller
from spotify_mcp.tools.formatting import Artist, Track, UserProfile, artist, profile, track
from spotify_mcp.tools.kit import ToolKit, answer
from spotify_mcp.tools.paging import gather, page
from spotify_mcp.tools.params import Limit, Offset, TimeRange
from spotify_mcp.tools.results import CursorPage, Page

TOP_PAGE = 50
TOP_CEILING = 100
RANGE_NAMES = {"short_term": "last 4 weeks", "medium_term": "last 6 months", "long_term": "last year"}

Before = Annotated[
    str | None,
    Field(pattern=r"^[0-9]{1,16}$", description="Unix time in ms: list plays before it (from next_cursor)"),
]


async def _top(
    kit: ToolKit, ctx: Context, kind: str, limit: int, offset: int, time_range: str
) -> tuple[list[dict[str, Any]], int]:
    """Gather a page of the caller's top tracks or artists."""
    who = caller(ctx)
    params = {"time_range": time_range}
    return await gather(
        kit,
        who.user_id,
        f"/me/top/{kind}",
        params=params,
        limit=limit,
        offset=offset,
        page_max=TOP_PAGE,
        ceiling=TOP_CEILING,
    )


def register_profile_tools(kit: ToolKit) -> None:
    """Add getCurrentUserProfile, getRecentlyPlayed, getTopTracks and getTopArtists."""

    @kit.tool(
        "getCurrentUserProfile",
        title="Current user profile",
        description="Get the signed-in Spotify user's profile (id, display name, link).",
        scopes=(),
        read_only=True,
    )
    async def get_current_user_profile(ctx: Context) -> Annotated[CallToolResult, UserProfile]:
        who = caller(ctx)
        return answer(profile((await kit.spotify(who.user_id, "GET", "/me")).object()))

    @kit.tool(
        "getRecentlyPlayed",
        title="Recently played",
        description="List the tracks the user played most recently, newest first.",
        scopes=("user-read-recently-played",),
        read_only=True,
    )
    async def get_recently_played(
        ctx: Context, limit: Limit = 20, before: Before = None
    ) -> Annotated[CallToolResult, CursorPage[Track]]:
        who = caller(ctx)
        params: dict[str, str | int] = {"limit": limit}
        if before:
            params["before"] = before
        body = (await kit.spotify(who.user_id, "GET", "/me/player/recently-played", params=params)).object()
        items: list[Track] = []
        for entry in body.get("items") or []:
            if isinstance(entry, dict) and isinstance(entry.get("track"), dict):
                items.append(track(entry["track"]).model_copy(update={"played_at": entry.get("played_at")}))
        cursors = body.get("cursors") or {}
        more = body.get("next") and isinstance(cursors, dict) and cursors.get("before")
        return answer(
            CursorPage[Track](
                title="Recently played", items=items, cursor_param="before", next_cursor=str(more) if more else None
            )
        )

    @kit.tool(
        "getTopTracks",
        title="Top tracks",
        description="List the user's most-played tracks over a time range.",
        scopes=("user-top-read",),
        read_only=True,
    )
    async def get_top_tracks(
        ctx: Context, limit: Limit = 20, offset: Offset = 0, timeRange: TimeRange = "medium_term"
    ) -> Annotated[CallToolResult, Page[Track]]:
        raw, total = await _top(kit, ctx, "tracks", limit, offset, timeRange)
        items = [track(i) for i in raw]
        title = f"Top tracks, {RANGE_NAMES[timeRange]}"
        return answer(page(Page[Track], title, items, total, offset, TOP_CEILING))

    @kit.tool(
        "getTopArtists",
        title="Top artists",
        description="List the user's most-played artists over a time range.",
        scopes=("user-top-read",),
        read_only=True,
    )
    async def get_top_artists(
        ctx: Context, limit: Limit = 20, offset: Offset = 0, timeRange: TimeRange = "medium_term"
    ) -> Annotated[CallToolResult, Page[Artist]]:
        raw, total = await _top(kit, ctx, "artists", limit, offset, timeRange)
        items = [artist(i) for i in raw]
        title = f"Top artists, {RANGE_NAMES[timeRange]}"
        return answer(page(Page[Artist], title, items, total, offset, TOP_CEILING))

"""Search tools: tracks, artists, albums, playlists, and new releases (the ``tag:new`` album search)."""

from __future__ import annotations

from typing import Annotated

from mcp.server.mcpserver import Context
from mcp.types import CallToolResult

from spotify_mcp.tools.context import caller
from spotify_mcp.tools.formatting import Album, Artist, Playlist, Track, album, artist, playlist, track
from spotify_mcp.tools.kit import ToolKit, answer
from spotify_mcp.tools.paging import gather, page
from spotify_mcp.tools.params import Limit, Market, Offset, OptionalQuery, Query, market_params
from spotify_mcp.tools.results import Page

SEARCH_PAGE = 10
SEARCH_CEILING = 1000


async def _search(
    kit: ToolKit, ctx: Context, query: str, kind: str, limit: int, offset: int, market: str | None
) -> tuple[list[dict[str, object]], int]:
    who = caller(ctx)
    params: dict[str, str | int] = {"q": query, "type": kind, **market_params(market)}
    return await gather(
        kit,
        who.user_id,
        "/search",
        params=params,
        key=f"{kind}s",
        limit=limit,
        offset=offset,
        page_max=SEARCH_PAGE,
        ceiling=SEARCH_CEILING,
    )


def register_search_tools(kit: ToolKit) -> None:
    """Add searchTracks, searchArtists, searchAlbums, searchPlaylists and getNewReleases."""

    @kit.tool(
        "searchTracks",
        title="Search tracks",
        description="Search Spotify for tracks; returns track URIs to use with play, queue and playlist tools.",
        scopes=(),
        read_only=True,
    )
    async def search_tracks(
        ctx: Context, query: Query, limit: Limit = 20, offset: Offset = 0, market: Market = None
    ) -> Annotated[CallToolResult, Page[Track]]:
        raw, total = await _search(kit, ctx, query, "track", limit, offset, market)
        items = [track(i) for i in raw]
        return answer(page(Page[Track], f"Tracks matching {query!r}", items, total, offset, SEARCH_CEILING))

    @kit.tool(
        "searchArtists",
        title="Search artists",
        description="Search Spotify for artists; returns artist URIs (play them, or list their albums).",
        scopes=(),
        read_only=True,
    )
    async def search_artists(
        ctx: Context, query: Query, limit: Limit = 20, offset: Offset = 0, market: Market = None
    ) -> Annotated[CallToolResult, Page[Artist]]:
        raw, total = await _search(kit, ctx, query, "artist", limit, offset, market)
        items = [artist(i) for i in raw]
        return answer(page(Page[Artist], f"Artists matching {query!r}", items, total, offset, SEARCH_CEILING))

    @kit.tool(
        "searchAlbums",
        title="Search albums",
        description="Search Spotify for albums; returns album URIs to play or to list tracks of.",
        scopes=(),
        read_only=True,
    )
    async def search_albums(
        ctx: Context, query: Query, limit: Limit = 20, offset: Offset = 0, market: Market = None
    ) -> Annotated[CallToolResult, Page[Album]]:
        raw, total = await _search(kit, ctx, query, "album", limit, offset, market)
        items = [album(i) for i in raw]
        return answer(page(Page[Album], f"Albums matching {query!r}", items, total, offset, SEARCH_CEILING))

    @kit.tool(
        "searchPlaylists",
        title="Search playlists",
        description="Search Spotify for public playlists; returns playlist URIs to play or read.",
        scopes=(),
        read_only=True,
    )
    async def search_playlists(
        ctx: Context, query: Query, limit: Limit = 20, offset: Offset = 0, market: Market = None
    ) -> Annotated[CallToolResult, Page[Playlist]]:
        raw, total = await _search(kit, ctx, query, "playlist", limit, offset, market)
        items = [playlist(i) for i in raw]
        return answer(page(Page[Playlist], f"Playlists matching {query!r}", items, total, offset, SEARCH_CEILING))

    @kit.tool(
        "getNewReleases",
        title="New releases",
        description="List albums released in the last two weeks (optionally narrowed by a search query).",
        scopes=(),
        read_only=True,
    )
    async def get_new_releases(
        ctx: Context,
        query: OptionalQuery = None,
        limit: Limit = 20,
        offset: Offset = 0,
        market: Market = None,
    ) -> Annotated[CallToolResult, Page[Album]]:
        text = f"tag:new {query}" if query else "tag:new"
        raw, total = await _search(kit, ctx, text, "album", limit, offset, market)
        items = [album(i) for i in raw]
        return answer(
            page(
                Page[Album],
                "New releases" + (f" matching {query!r}" if query else ""),
                items,
                total,
                offset,
                SEARCH_CEILING,
            )
        )

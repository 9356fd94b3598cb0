"""Catalog details: tracks, albums with their tracks, artists and their albums."""

from __future__ import annotations

from typing import Annotated

from mcp.server.mcpserver import Context
from mcp.types import CallToolResult
from pydantic import Field

from spotify_mcp.tools.context import caller
from spotify_mcp.tools.formatting import Album, Artist, Track, album, artist, track
from spotify_mcp.tools.ids import parse_ref
from spotify_mcp.tools.kit import ToolKit, answer
from spotify_mcp.tools.paging import gather, page
from spotify_mcp.tools.params import Limit, Market, Offset, market_params
from spotify_mcp.tools.results import Page

ALBUM_TRACKS_PAGE = 50
ARTIST_ALBUMS_PAGE = 10
NO_TRACK = "Spotify has no track with that ID; searchTracks finds tracks and their URIs."
NO_ALBUM = "Spotify has no album with that ID; searchAlbums finds albums and their URIs."
NO_ARTIST = "Spotify has no artist with that ID; searchArtists finds artists and their URIs."

Ref = Annotated[str, Field(min_length=1, max_length=200, description="Spotify ID, URI or open.spotify.com link")]
Groups = Annotated[
    str | None,
    Field(
        pattern=r"^(album|single|appears_on|compilation)(,(album|single|appears_on|compilation))*$",
        description="Comma-separated: album, single, appears_on, compilation (default: all)",
    ),
]


def register_catalog_tools(kit: ToolKit) -> None:
    """Add getTrack, getAlbum, getAlbumTracks, getArtist and getArtistAlbums."""

    @kit.tool("getTrack", title="Track details", description="Get a track's details.", scopes=(), read_only=True)
    async def get_track(ctx: Context, trackId: Ref, market: Market = None) -> Annotated[CallToolResult, Track]:
        who = caller(ctx)
        ref = parse_ref(trackId, ("track",), field="trackId")
        reply = await kit.spotify(
            who.user_id, "GET", f"/tracks/{ref.id}", params=market_params(market), not_found=NO_TRACK
        )
        found = track(reply.object())
        return answer(found, text=found.line())

    @kit.tool(
        "getAlbum",
        title="Album details",
        description="Get an album's details (artists, release date, track count).",
        scopes=(),
        read_only=True,
    )
    async def get_album(ctx: Context, albumId: Ref, market: Market = None) -> Annotated[CallToolResult, Album]:
        who = caller(ctx)
        ref = parse_ref(albumId, ("album",), field="albumId")
        reply = await kit.spotify(
            who.user_id, "GET", f"/albums/{ref.id}", params=market_params(market), not_found=NO_ALBUM
        )
        found = album(reply.object())
        return answer(found, text=found.line())

    @kit.tool(
        "getAlbumTracks",
        title="Album tracks",
        description="List an album's tracks in order.",
        scopes=(),
        read_only=True,
    )
    async def get_album_tracks(
        ctx: Context, albumId: Ref, limit: Limit = 20, offset: Offset = 0, market: Market = None
    ) -> Annotated[CallToolResult, Page[Track]]:
        who = caller(ctx)
        ref = parse_ref(albumId, ("album",), field="albumId")
        raw, total = await gather(
            kit,
            who.user_id,
            f"/albums/{ref.id}/tracks",
            params=market_params(market),
            limit=limit,
            offset=offset,
            page_max=ALBUM_TRACKS_PAGE,
            not_found=NO_ALBUM,
        )
        return answer(page(Page[Track], "Album tracks", [track(i) for i in raw], total, offset))

    @kit.tool(
        "getArtist",
        title="Artist details",
        description="Get an artist's name, URI and link (list their albums with getArtistAlbums).",
        scopes=(),
        read_only=True,
    )
    async def get_artist(ctx: Context, artistId: Ref) -> Annotated[CallToolResult, Artist]:
        who = caller(ctx)
        ref = parse_ref(artistId, ("artist",), field="artistId")
        reply = await kit.spotify(who.user_id, "GET", f"/artists/{ref.id}", not_found=NO_ARTIST)
        found = artist(reply.object())
        return answer(found, text=found.line())

    @kit.tool(
        "getArtistAlbums",
        title="Artist's albums",
        description="List an artist's albums, singles, compilations and appearances; newest first within each group.",
        scopes=(),
        read_only=True,
    )
    async def get_artist_albums(
        ctx: Context,
        artistId: Ref,
        includeGroups: Groups = None,
        limit: Limit = 20,
        offset: Offset = 0,
        market: Market = None,
    ) -> Annotated[CallToolResult, Page[Album]]:
        who = caller(ctx)
        ref = parse_ref(artistId, ("artist",), field="artistId")
        params = market_params(market)
        if includeGroups:
            params["include_groups"] = includeGroups
        raw, total = await gather(
            kit,
            who.user_id,
            f"/artists/{ref.id}/albums",
            params=params,
            limit=limit,
            offset=offset,
            page_max=ARTIST_ALBUMS_PAGE,
            not_found=NO_ARTIST,
        )
        return answer(page(Page[Album], "Albums", [album(i) for i in raw], total, offset))

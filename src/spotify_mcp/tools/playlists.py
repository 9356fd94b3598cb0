"""Playlist tools: list, read, create, add, remove, reorder, and change details (2026 ``/items`` endpoints)."""

from __future__ import annotations

from typing import Annotated, Any

from mcp.server.mcpserver import Context
from mcp.types import CallToolResult
from pydantic import Field

from spotify_mcp.tools.context import ToolFailure, caller
from spotify_mcp.tools.formatting import Playlist, Track, playlist, track
from spotify_mcp.tools.ids import parse_ref, parse_refs
from spotify_mcp.tools.kit import ToolKit, answer
from spotify_mcp.tools.paging import gather, page
from spotify_mcp.tools.params import Limit, Market, Offset, PlaylistId, market_params
from spotify_mcp.tools.results import Done, Page

PAGE_MAX = 50
MAX_URIS = 100
READ = ("playlist-read-private", "playlist-read-collaborative")
MODIFY = ("playlist-modify-public", "playlist-modify-private")
NOT_FOUND = "Spotify has no playlist with that ID, or it is not visible to this user; getUserPlaylists lists theirs."

TrackUris = Annotated[
    list[Annotated[str, Field(min_length=1, max_length=200)]],
    Field(min_length=1, max_length=MAX_URIS, description="Track URIs (spotify:track:...), IDs or links; up to 100"),
]
Name = Annotated[str, Field(min_length=1, max_length=100, description="Playlist name")]
Description = Annotated[str, Field(max_length=300, description="Playlist description")]
SnapshotId = Annotated[
    str | None, Field(max_length=200, description="Playlist version the change applies to (from a previous change)")
]


def _playlist_path(value: str, suffix: str = "") -> str:
    return f"/playlists/{parse_ref(value, ('playlist',), field='playlistId').id}{suffix}"


def _entry(raw: dict[str, Any]) -> Track | None:
    item = raw.get("item") if isinstance(raw.get("item"), dict) else raw.get("track")
    if not isinstance(item, dict) or not item.get("id"):
        return None
    return track(item).model_copy(update={"added_at": raw.get("added_at")})


def register_playlist_tools(kit: ToolKit) -> None:
    """Add the playlist tools."""

    @kit.tool(
        "getUserPlaylists",
        title="My playlists",
        description="List the playlists the user owns or follows, with their URIs and item counts.",
        scopes=READ,
        read_only=True,
    )
    async def get_user_playlists(
        ctx: Context, limit: Limit = 20, offset: Offset = 0
    ) -> Annotated[CallToolResult, Page[Playlist]]:
        who = caller(ctx)
        raw, total = await gather(kit, who.user_id, "/me/playlists", limit=limit, offset=offset, page_max=PAGE_MAX)
        return answer(page(Page[Playlist], "Your playlists", [playlist(i) for i in raw], total, offset))

    @kit.tool(
        "getPlaylistTracks",
        title="Playlist tracks",
        description="List the tracks of a playlist in order (positions count from 0 for reordering).",
        scopes=READ,
        read_only=True,
    )
    async def get_playlist_tracks(
        ctx: Context, playlistId: PlaylistId, limit: Limit = 20, offset: Offset = 0, market: Market = None
    ) -> Annotated[CallToolResult, Page[Track]]:
        who = caller(ctx)
        raw, total = await gather(
            kit,
            who.user_id,
            _playlist_path(playlistId, "/items"),
            params=market_params(market),
            limit=limit,
            offset=offset,
            page_max=PAGE_MAX,
            not_found=NOT_FOUND,
        )
        items = [t for t in (_entry(i) for i in raw) if t is not None]
        return answer(page(Page[Track], "Playlist tracks", items, total, offset))

    @kit.tool(
        "createPlaylist",
        title="Create playlist",
        description="Create a playlist in the user's account; add tracks to it with addTracksToPlaylist.",
        scopes=MODIFY,
    )
    async def create_playlist(
        ctx: Context, name: Name, description: Description | None = None, public: bool = True
    ) -> Annotated[CallToolResult, Playlist]:
        who = caller(ctx)
        body: dict[str, Any] = {"name": name, "public": public}
        if description:
            body["description"] = description
        created = (await kit.spotify(who.user_id, "POST", "/me/playlists", json=body)).object()
        made = playlist(created)
        return answer(made, text=f"Created playlist {made.line()}")

    @kit.tool(
        "addTracksToPlaylist",
        title="Add tracks to playlist",
        description="Add tracks (URIs from search) to a playlist, at the end or at a position.",
        scopes=MODIFY,
    )
    async def add_tracks_to_playlist(
        ctx: Context,
        playlistId: PlaylistId,
        trackUris: TrackUris,
        position: Annotated[int | None, Field(ge=0, description="Insert at this position (0 = top)")] = None,
    ) -> Annotated[CallToolResult, Done]:
        who = caller(ctx)
        path = _playlist_path(playlistId, "/items")
        uris = [r.uri for r in parse_refs(trackUris, ("track", "episode"), field="trackUris")]
        body: dict[str, Any] = {"uris": uris}
        if position is not None:
            body["position"] = position
        reply = await kit.spotify(who.user_id, "POST", path, json=body, not_found=NOT_FOUND)
        where = f" at position {position}" if position is not None else ""
        message = f"Added {len(uris)} track{'s' if len(uris) != 1 else ''}{where}."
        return answer(Done(message=message, snapshot_id=reply.object().get("snapshot_id")))

    @kit.tool(
        "removeTracksFromPlaylist",
        title="Remove tracks from playlist",
        description="Remove every occurrence of the given tracks from a playlist.",
        scopes=MODIFY,
        destructive=True,
        idempotent=True,
    )
    async def remove_tracks_from_playlist(
        ctx: Context, playlistId: PlaylistId, trackUris: TrackUris, snapshotId: SnapshotId = None
    ) -> Annotated[CallToolResult, Done]:
        who = caller(ctx)
        path = _playlist_path(playlistId, "/items")
        uris = [r.uri for r in parse_refs(trackUris, ("track", "episode"), field="trackUris")]
        body: dict[str, Any] = {"items": [{"uri": u} for u in uris]}
        if snapshotId:
            body["snapshot_id"] = snapshotId
        reply = await kit.spotify(who.user_id, "DELETE", path, json=body, not_found=NOT_FOUND)
        message = f"Removed {len(uris)} track{'s' if len(uris) != 1 else ''} (every occurrence)."
        return answer(Done(message=message, snapshot_id=reply.object().get("snapshot_id")))

    @kit.tool(
        "reorderPlaylistTracks",
        title="Reorder playlist",
        description="Move a run of tracks in a playlist to before another position (positions from 0).",
        scopes=MODIFY,
    )
    async def reorder_playlist_tracks(
        ctx: Context,
        playlistId: PlaylistId,
        rangeStart: Annotated[int, Field(ge=0, description="Position of the first track to move")],
        insertBefore: Annotated[int, Field(ge=0, description="Position to move them before")],
        rangeLength: Annotated[int, Field(ge=1, le=10_000, description="How many tracks to move")] = 1,
        snapshotId: SnapshotId = None,
    ) -> Annotated[CallToolResult, Done]:
        who = caller(ctx)
        body: dict[str, Any] = {"range_start": rangeStart, "insert_before": insertBefore, "range_length": rangeLength}
        if snapshotId:
            body["snapshot_id"] = snapshotId
        path = _playlist_path(playlistId, "/items")
        reply = await kit.spotify(who.user_id, "PUT", path, json=body, not_found=NOT_FOUND)
        message = (
            f"Moved {rangeLength} track{'s' if rangeLength != 1 else ''} from {rangeStart} to before {insertBefore}."
        )
        return answer(Done(message=message, snapshot_id=reply.object().get("snapshot_id")))

    @kit.tool(
        "updatePlaylistDetails",
        title="Change playlist details",
        description="Rename a playlist, or change its description, visibility or collaborative setting.",
        scopes=MODIFY,
        idempotent=True,
    )
    async def update_playlist_details(
        ctx: Context,
        playlistId: PlaylistId,
        name: Name | None = None,
        description: Description | None = None,
        public: bool | None = None,
        collaborative: bool | None = None,
    ) -> Annotated[CallToolResult, Done]:
        who = caller(ctx)
        changes = {"name": name, "description": description, "public": public, "collaborative": collaborative}
        body = {k: v for k, v in changes.items() if v is not None}
        if not body:
            raise ToolFailure("Nothing to change: give at least one of name, description, public, collaborative.")
        if body.get("collaborative") and body.get("public", False):
            raise ToolFailure("A collaborative playlist must be private: pass public=false with collaborative=true.")
        await kit.spotify(who.user_id, "PUT", _playlist_path(playlistId), json=body, not_found=NOT_FOUND)
        return answer(Done(message="Changed " + ", ".join(body) + "."))

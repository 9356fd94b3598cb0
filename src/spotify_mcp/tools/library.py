"""The user's library: saved tracks and albums, followed artists, and saving, removing and checking items.

Saving and removing go through ``/me/library`` with Spotify URIs, where Spotify moved them in 2026.
"""

from __future__ import annotations

from typing import Annotated, Any

from mcp.server.mcpserver import Context
from mcp.types import CallToolResult
from pydantic import BaseModel, Field

from spotify_mcp.tools.context import caller
from spotify_mcp.tools.formatting import Album, Artist, Track, album, artist, track
from spotify_mcp.tools.ids import parse_refs
from spotify_mcp.tools.kit import ToolKit, answer
from spotify_mcp.tools.paging import gather, page
from spotify_mcp.tools.params import Limit, Market, Offset, market_params
from spotify_mcp.tools.results import CursorPage, Done, Page

PAGE_MAX = 50
MAX_LIBRARY_URIS = 40
LIBRARY_KINDS = ("track", "album", "artist", "playlist", "episode", "show", "audiobook")
MODIFY = ("user-library-modify", "user-follow-modify", "playlist-modify-public")
READ = ("user-library-read", "user-follow-read", "playlist-read-private")
UNKNOWN_ITEM = (
    "Nothing was saved: one of the items does not exist on Spotify (or is a playlist this user cannot see). "
    "Check the URIs; search tools give valid ones."
)

LibraryUris = Annotated[
    list[Annotated[str, Field(min_length=1, max_length=200)]],
    Field(
        min_length=1,
        max_length=MAX_LIBRARY_URIS,
        description="Spotify URIs or links of tracks, albums, artists, playlists, episodes or shows; up to 40",
    ),
]


class Saved(BaseModel):
    """Whether each item is in the user's library."""

    items: dict[str, bool]

    def text(self) -> str:
        """One line per item."""
        return "\n".join(f"{uri}: {'saved' if saved else 'not saved'}" for uri, saved in self.items.items())


async def _saved(
    kit: ToolKit, ctx: Context, kind: str, limit: int, offset: int, market: str | None
) -> tuple[list[tuple[dict[str, Any], str | None]], int]:
    """Gather a page of the caller's saved tracks or albums, each with when it was saved."""
    who = caller(ctx)
    raw, total = await gather(
        kit, who.user_id, f"/me/{kind}s", params=market_params(market), limit=limit, offset=offset, page_max=PAGE_MAX
    )
    return [(i[kind], i.get("added_at")) for i in raw if isinstance(i.get(kind), dict)], total


def register_library_tools(kit: ToolKit) -> None:
    """Add the library tools."""

    @kit.tool(
        "getSavedTracks",
        title="Liked songs",
        description="List the user's saved tracks (Liked Songs), most recently saved first.",
        scopes=("user-library-read",),
        read_only=True,
    )
    async def get_saved_tracks(
        ctx: Context, limit: Limit = 20, offset: Offset = 0, market: Market = None
    ) -> Annotated[CallToolResult, Page[Track]]:
        saved, total = await _saved(kit, ctx, "track", limit, offset, market)
        items = [track(item).model_copy(update={"added_at": added_at}) for item, added_at in saved]
        return answer(page(Page[Track], "Liked songs", items, total, offset))

    @kit.tool(
        "getSavedAlbums",
        title="Saved albums",
        description="List the albums the user saved, most recently saved first.",
        scopes=("user-library-read",),
        read_only=True,
    )
    async def get_saved_albums(
        ctx: Context, limit: Limit = 20, offset: Offset = 0, market: Market = None
    ) -> Annotated[CallToolResult, Page[Album]]:
        saved, total = await _saved(kit, ctx, "album", limit, offset, market)
        items = [album(item).model_copy(update={"added_at": added_at}) for item, added_at in saved]
        return answer(page(Page[Album], "Saved albums", items, total, offset))

    @kit.tool(
        "getFollowedArtists",
        title="Followed artists",
        description="List the artists the user follows.",
        scopes=("user-follow-read",),
        read_only=True,
    )
    async def get_followed_artists(
        ctx: Context,
        limit: Limit = 20,
        after: Annotated[
            str | None, Field(pattern=r"^[0-9A-Za-z]{22}$", description="Artist ID to continue after (next_cursor)")
        ] = None,
    ) -> Annotated[CallToolResult, CursorPage[Artist]]:
        who = caller(ctx)
        params: dict[str, str | int] = {"type": "artist", "limit": limit}
        if after:
            params["after"] = after
        body = (await kit.spotify(who.user_id, "GET", "/me/following", params=params)).object()
        found = body.get("artists")
        listing: dict[str, Any] = found if isinstance(found, dict) else {}
        items = [artist(a) for a in listing.get("items") or [] if isinstance(a, dict)]
        cursors = listing.get("cursors")
        more = cursors.get("after") if isinstance(cursors, dict) and listing.get("next") else None
        total = listing.get("total")
        return answer(
            CursorPage[Artist](
                title="Followed artists",
                items=items,
                total=total if isinstance(total, int) else None,
                cursor_param="after",
                next_cursor=str(more) if more else None,
            )
        )

    @kit.tool(
        "saveToLibrary",
        title="Save to library",
        description="Save tracks, albums, episodes or shows to the library; follow artists or playlists.",
        scopes=MODIFY,
        idempotent=True,
    )
    async def save_to_library(ctx: Context, uris: LibraryUris) -> Annotated[CallToolResult, Done]:
        who = caller(ctx)
        refs = parse_refs(uris, LIBRARY_KINDS, field="uris")
        await kit.spotify(
            who.user_id, "PUT", "/me/library", params={"uris": ",".join(r.uri for r in refs)}, not_found=UNKNOWN_ITEM
        )
        return answer(Done(message=f"Saved {len(refs)} item{'s' if len(refs) != 1 else ''} to the library."))

    @kit.tool(
        "removeFromLibrary",
        title="Remove from library",
        description="Remove items from the library; unfollow artists or playlists.",
        scopes=MODIFY,
        destructive=True,
        idempotent=True,
    )
    async def remove_from_library(ctx: Context, uris: LibraryUris) -> Annotated[CallToolResult, Done]:
        who = caller(ctx)
        refs = parse_refs(uris, LIBRARY_KINDS, field="uris")
        await kit.spotify(who.user_id, "DELETE", "/me/library", params={"uris": ",".join(r.uri for r in refs)})
        return answer(Done(message=f"Removed {len(refs)} item{'s' if len(refs) != 1 else ''} from the library."))

    @kit.tool(
        "checkLibrary",
        title="Check library",
        description="Check whether items are saved in (or artists and playlists followed by) the user's library.",
        scopes=READ,
        read_only=True,
    )
    async def check_library(ctx: Context, uris: LibraryUris) -> Annotated[CallToolResult, Saved]:
        who = caller(ctx)
        refs = parse_refs(uris, LIBRARY_KINDS, field="uris")
        reply = await kit.spotify(
            who.user_id, "GET", "/me/library/contains", params={"uris": ",".join(r.uri for r in refs)}
        )
        flags = reply.data if isinstance(reply.data, list) else []
        return answer(Saved(items={r.uri: bool(f) for r, f in zip(refs, flags, strict=False)}))

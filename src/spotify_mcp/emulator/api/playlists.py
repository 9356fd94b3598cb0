"""Reading playlists: the user's list, one playlist, and its items (owner or collaborator only, 2026)."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from spotify_mcp.emulator.api.common import ApiError, Session, authenticate, int_param, kept_params, paging
from spotify_mcp.emulator.fields import apply_fields, parse_fields
from spotify_mcp.emulator.model import Playlist, is_spotify_id

READ_PRIVATE = "playlist-read-private"
READ_COLLABORATIVE = "playlist-read-collaborative"
MAX_OFFSET = 100_000
PLAYLIST_ITEMS_PAGE = 100


def _listable(playlist: Playlist, session: Session) -> bool:
    if playlist.public:
        return True
    return (READ_COLLABORATIVE if playlist.collaborative else READ_PRIVATE) in session.scopes


def _visible_playlist(request: Request, session: Session) -> Playlist:
    playlist_id = request.path_params["playlist_id"]
    if not is_spotify_id(playlist_id):
        raise ApiError(400, "Invalid base62 id")
    playlist = session.world.playlists.get(playlist_id)
    if playlist is None or not (playlist.public or playlist.can_read_items(session.user.id)):
        raise ApiError(404, "Resource not found")
    return playlist


def _filtered(request: Request, body: dict[str, Any]) -> JSONResponse:
    fields = request.query_params.get("fields")
    if fields is None:
        return JSONResponse(body)
    try:
        selection = parse_fields(fields)
    except ValueError:
        raise ApiError(400, "Invalid fields parameter") from None
    return JSONResponse(apply_fields(selection, body))


async def my_playlists(request: Request) -> JSONResponse:
    """``GET /me/playlists``: owned and followed playlists the token's scopes let it see."""
    session = authenticate(request)
    limit = int_param(request, "limit", 20, 1, 50)
    offset = int_param(request, "offset", 0, 0, MAX_OFFSET)
    followed = [session.world.playlists[p] for p in session.world.followed_playlists.get(session.user.id, [])]
    visible = [p for p in followed if _listable(p, session)]
    base = f"{session.render.api_base}/me/playlists"
    return JSONResponse(paging(base, [], visible, session.render.simplified_playlist, offset=offset, limit=limit))


async def playlist(request: Request) -> JSONResponse:
    """``GET /playlists/{id}``: metadata, with the first 100 items only for its owner or collaborators."""
    session = authenticate(request)
    found = _visible_playlist(request, session)
    items = None
    if found.can_read_items(session.user.id):
        base = f"{session.render.api_base}/playlists/{found.id}/items"
        params = kept_params(request, "market", "additional_types")
        items = paging(base, params, found.entries, session.render.playlist_item, offset=0, limit=PLAYLIST_ITEMS_PAGE)
    return _filtered(request, session.render.playlist(found, items))


async def playlist_items(request: Request) -> JSONResponse:
    """``GET /playlists/{id}/items``: 403 unless the user owns or collaborates on the playlist."""
    session = authenticate(request)
    found = _visible_playlist(request, session)
    if not found.can_read_items(session.user.id):
        raise ApiError(403, "Forbidden")
    limit = int_param(request, "limit", 20, 1, 50)
    offset = int_param(request, "offset", 0, 0, MAX_OFFSET)
    base = f"{session.render.api_base}/playlists/{found.id}/items"
    params = kept_params(request, "market", "fields", "additional_types")
    page = paging(base, params, found.entries, session.render.playlist_item, offset=offset, limit=limit)
    return _filtered(request, page)


routes = [
    Route("/me/playlists", my_playlists, methods=["GET"]),
    Route("/playlists/{playlist_id}", playlist, methods=["GET"]),
    Route("/playlists/{playlist_id}/items", playlist_items, methods=["GET"]),
]

"""Playlists: the user's list, one playlist and its items (owner or collaborator only, 2026), and the writes.

Writes need ``playlist-modify-public`` or ``playlist-modify-private`` by the playlist's visibility; items may be
changed by the owner and the collaborators, details only by the owner. Every write moves the ``snapshot_id`` on.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from spotify_mcp.emulator.api.common import ApiError, Session, authenticate, int_param, kept_params, paging
from spotify_mcp.emulator.api.library import SpotifyUri, csv, follow_playlist, json_body, parse_uri, string_list
from spotify_mcp.emulator.fields import apply_fields, parse_fields
from spotify_mcp.emulator.model import Playlist, PlaylistEntry, is_spotify_id, spotify_id

READ_PRIVATE = "playlist-read-private"
READ_COLLABORATIVE = "playlist-read-collaborative"
MODIFY_PUBLIC = "playlist-modify-public"
MODIFY_PRIVATE = "playlist-modify-private"
MAX_OFFSET = 100_000
PLAYLIST_ITEMS_PAGE = 100
MAX_ITEMS_PER_REQUEST = 100
ITEM_KINDS = ("track", "episode")


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


def _with_items(request: Request, session: Session, found: Playlist) -> dict[str, Any]:
    items = None
    if found.can_read_items(session.user.id):
        base = f"{session.render.api_base}/playlists/{found.id}/items"
        params = kept_params(request, "market", "additional_types")
        items = paging(base, params, found.entries, session.render.playlist_item, offset=0, limit=PLAYLIST_ITEMS_PAGE)
    return session.render.playlist(found, items)


async def playlist(request: Request) -> JSONResponse:
    """``GET /playlists/{id}``: metadata, with the first 100 items only for its owner or collaborators."""
    session = authenticate(request)
    found = _visible_playlist(request, session)
    return _filtered(request, _with_items(request, session, found))


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


def _modify_scope(public: bool) -> str:
    return MODIFY_PUBLIC if public else MODIFY_PRIVATE


def _writable_playlist(request: Request, session: Session, *, details: bool = False) -> Playlist:
    found = _visible_playlist(request, session)
    if _modify_scope(found.public) not in session.scopes:
        raise ApiError(403, "Insufficient client scope")
    allowed = session.user.id == found.owner_id if details else found.can_read_items(session.user.id)
    if not allowed:
        raise ApiError(403, "Forbidden")
    return found


def _optional(body: dict[str, Any], name: str, kind: type) -> Any:
    value = body.get(name)
    if value is not None and (not isinstance(value, kind) or (kind is int and isinstance(value, bool))):
        raise ApiError(400, f"Invalid value for {name}")
    return value


def _check_snapshot(found: Playlist, body: dict[str, Any] | None) -> None:
    snapshot = _optional(body or {}, "snapshot_id", str)
    if snapshot is not None and not found.had_snapshot(snapshot):
        raise ApiError(400, "Invalid snapshot_id")


def _item_uris(values: list[str], session: Session, *, must_exist: bool) -> list[SpotifyUri]:
    if len(values) > MAX_ITEMS_PER_REQUEST:
        raise ApiError(400, f"You can send a maximum of {MAX_ITEMS_PER_REQUEST} items per request")
    uris = [parse_uri(value, ITEM_KINDS) for value in values]
    if must_exist and any(u.kind != "track" or u.id not in session.world.tracks for u in uris):
        raise ApiError(400, "Payload contains a non-existing ID")
    return uris


def _entries(uris: list[SpotifyUri], session: Session) -> list[PlaylistEntry]:
    now = session.world.clock.now()
    return [PlaylistEntry(u.id, now, session.user.id) for u in uris]


def _snapshot_response(found: Playlist, status: int) -> JSONResponse:
    found.version += 1
    return JSONResponse({"snapshot_id": found.snapshot_id}, status_code=status)


async def create_playlist(request: Request) -> JSONResponse:
    """``POST /me/playlists``: 201 with the new, empty playlist, now first in the user's playlists."""
    session = authenticate(request)
    body = await json_body(request) or {}
    name = _optional(body, "name", str)
    if name is None:
        raise ApiError(400, "Missing required field: name")
    public = _optional(body, "public", bool)
    public = True if public is None else public
    collaborative = bool(_optional(body, "collaborative", bool))
    description = _optional(body, "description", str) or ""
    if collaborative and public:
        raise ApiError(400, "Collaborative playlists can only be private")
    needed = {MODIFY_PUBLIC, MODIFY_PRIVATE} if collaborative else {_modify_scope(public)}
    if not needed <= session.scopes:
        raise ApiError(403, "Insufficient client scope")
    world, user_id, now = session.world, session.user.id, session.world.clock.now()
    playlist_id = spotify_id("playlist", "created", user_id, str(now), str(len(world.playlists)))
    created = Playlist(playlist_id, name, user_id, public, collaborative, description, entries=[])
    world.playlists[playlist_id] = created
    follow_playlist(world, user_id, created)
    return JSONResponse(_with_items(request, session, created), status_code=201)


async def change_details(request: Request) -> Response:
    """``PUT /playlists/{id}``: rename, describe, make public, private or collaborative (owner only); 200."""
    session = authenticate(request)
    found = _writable_playlist(request, session, details=True)
    body = await json_body(request) or {}
    name = _optional(body, "name", str)
    public = _optional(body, "public", bool)
    collaborative = _optional(body, "collaborative", bool)
    description = _optional(body, "description", str)
    will_be_public = found.public if public is None else public
    will_be_collaborative = found.collaborative if collaborative is None else collaborative
    if will_be_public and will_be_collaborative:
        raise ApiError(400, "Collaborative playlists can only be private")
    if _modify_scope(will_be_public) not in session.scopes:
        raise ApiError(403, "Insufficient client scope")
    changes = {"name": name, "public": public, "collaborative": collaborative, "description": description}
    changes = {key: value for key, value in changes.items() if value is not None}
    if changes:
        for key, value in changes.items():
            setattr(found, key, value)
        found.version += 1
    return Response(status_code=200)


async def add_items(request: Request) -> JSONResponse:
    """``POST /playlists/{id}/items``: insert ≤ 100 track URIs at ``position`` (default: append); 201."""
    session = authenticate(request)
    found = _writable_playlist(request, session)
    body = await json_body(request)
    raw = request.query_params.get("uris")
    values = csv(raw) if raw is not None else string_list(body, "uris")
    if not values:
        raise ApiError(400, "No uris provided")
    uris = _item_uris(values, session, must_exist=True)
    raw_position = request.query_params.get("position")
    if raw_position is not None:
        position = int_param(request, "position", 0, 0, len(found.entries))
    else:
        position = _optional(body or {}, "position", int)
        if position is not None and not 0 <= position <= len(found.entries):
            raise ApiError(400, "Invalid position")
    at = len(found.entries) if position is None else position
    found.entries[at:at] = _entries(uris, session)
    return _snapshot_response(found, 201)


async def remove_items(request: Request) -> JSONResponse:
    """``DELETE /playlists/{id}/items``: body ``{items: [{uri}], snapshot_id?}``; every occurrence goes; 200."""
    session = authenticate(request)
    found = _writable_playlist(request, session)
    body = await json_body(request)
    items = (body or {}).get("items")
    if not isinstance(items, list) or not items:
        raise ApiError(400, "Missing required field: items")
    if not all(isinstance(item, dict) and isinstance(item.get("uri"), str) for item in items):
        raise ApiError(400, "Invalid items")
    uris = _item_uris([item["uri"] for item in items], session, must_exist=False)
    _check_snapshot(found, body)
    gone = {u.id for u in uris if u.kind == "track"}
    found.entries = [entry for entry in found.entries if entry.track_id not in gone]
    return _snapshot_response(found, 200)


def _reorder(found: Playlist, body: dict[str, Any]) -> None:
    start = _optional(body, "range_start", int)
    before = _optional(body, "insert_before", int)
    length = _optional(body, "range_length", int)
    length = 1 if length is None else length
    size = len(found.entries)
    if start is None or before is None:
        raise ApiError(400, "Missing range_start or insert_before")
    if start < 0 or length < 1 or start + length > size or not 0 <= before <= size:
        raise ApiError(400, "Index out of bounds")
    moved = found.entries[start : start + length]
    rest = found.entries[:start] + found.entries[start + length :]
    at = before - length if before > start + length else min(before, start)
    found.entries = rest[:at] + moved + rest[at:]


async def update_items(request: Request) -> JSONResponse:
    """``PUT /playlists/{id}/items``: replace with ``uris`` (≤ 100, ``[]`` clears) or reorder a range; 200."""
    session = authenticate(request)
    found = _writable_playlist(request, session)
    body = await json_body(request)
    raw = request.query_params.get("uris")
    replacement = csv(raw) if raw is not None else string_list(body, "uris")
    reordering = body is not None and ("range_start" in body or "insert_before" in body)
    if replacement is not None and reordering:
        raise ApiError(400, "Replace and reorder are mutually exclusive")
    _check_snapshot(found, body)
    if replacement is not None:
        found.entries = _entries(_item_uris(replacement, session, must_exist=True), session)
    elif body is not None and reordering:
        _reorder(found, body)
    else:
        raise ApiError(400, "Either uris or range_start and insert_before are required")
    return _snapshot_response(found, 200)


routes = [
    Route("/me/playlists", my_playlists, methods=["GET"]),
    Route("/me/playlists", create_playlist, methods=["POST"]),
    Route("/playlists/{playlist_id}", playlist, methods=["GET"]),
    Route("/playlists/{playlist_id}", change_details, methods=["PUT"]),
    Route("/playlists/{playlist_id}/items", playlist_items, methods=["GET"]),
    Route("/playlists/{playlist_id}/items", add_items, methods=["POST"]),
    Route("/playlists/{playlist_id}/items", remove_items, methods=["DELETE"]),
    Route("/playlists/{playlist_id}/items", update_items, methods=["PUT"]),
]

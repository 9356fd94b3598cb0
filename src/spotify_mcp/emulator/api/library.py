"""The user's library: saved tracks and albums, followed artists, and the 2026 ``/me/library`` endpoints.

``PUT|DELETE /me/library`` and ``GET /me/library/contains`` replaced the per-type save, follow and contains
endpoints (which answer 403 now, see ``removed``). Saving a playlist URI follows the playlist.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from spotify_mcp.emulator.api.catalog import full_album
from spotify_mcp.emulator.api.common import ApiError, Session, authenticate, int_param, kept_params, paging
from spotify_mcp.emulator.model import Library, Playlist, is_spotify_id
from spotify_mcp.emulator.objects import timestamp
from spotify_mcp.emulator.world import World

LIBRARY_READ = "user-library-read"
LIBRARY_MODIFY = "user-library-modify"
FOLLOW_READ = "user-follow-read"
FOLLOW_MODIFY = "user-follow-modify"
MAX_URIS = 40
MAX_OFFSET = 100_000
SAVED_KINDS = ("track", "album", "episode", "show", "audiobook")
MODIFY_SCOPES = {
    **dict.fromkeys(SAVED_KINDS, LIBRARY_MODIFY),
    "artist": FOLLOW_MODIFY,
    "user": FOLLOW_MODIFY,
    "playlist": "playlist-modify-public",
}
READ_SCOPES = {
    **dict.fromkeys(SAVED_KINDS, LIBRARY_READ),
    "artist": FOLLOW_READ,
    "user": FOLLOW_READ,
    "playlist": "playlist-read-private",
}


@dataclass(frozen=True)
class SpotifyUri:
    """A parsed ``spotify:{kind}:{id}``."""

    kind: str
    id: str


def parse_uri(value: str, kinds: Collection[str]) -> SpotifyUri:
    """Parse a Spotify URI of one of ``kinds``; 400 when malformed, of another kind, or with a bad id."""
    parts = value.strip().split(":")
    if len(parts) != 3 or parts[0] != "spotify" or not parts[2]:
        raise ApiError(400, f"Invalid Spotify URI: {value}")
    _, kind, id_ = parts
    if kind not in kinds:
        raise ApiError(400, f"Unsupported URI type: {kind}")
    if kind != "user" and not is_spotify_id(id_):
        raise ApiError(400, "Invalid base62 id")
    return SpotifyUri(kind, id_)


async def json_body(request: Request) -> dict[str, Any] | None:
    """The request's JSON object, None when there is no body; anything else is 400 ``Error parsing json``."""
    raw = await request.body()
    if not raw.strip():
        return None
    try:
        body = json.loads(raw)
    except ValueError:
        raise ApiError(400, "Error parsing json") from None
    if not isinstance(body, dict):
        raise ApiError(400, "Error parsing json")
    return body


def csv(value: str) -> list[str]:
    """The non-empty members of a comma-separated query value."""
    return [part.strip() for part in value.split(",") if part.strip()]


def string_list(body: Mapping[str, Any] | None, name: str) -> list[str] | None:
    """``body[name]`` as a list of strings, None when absent; 400 when it is something else."""
    if body is None or name not in body:
        return None
    values = body[name]
    if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
        raise ApiError(400, f"Invalid {name}")
    return values


async def _library_uris(request: Request, kinds: Collection[str], *, body_allowed: bool) -> list[SpotifyUri]:
    raw = request.query_params.get("uris")
    values = csv(raw) if raw is not None else None
    if values is None and body_allowed:
        values = string_list(await json_body(request), "uris")
    if not values:
        raise ApiError(400, "Missing required parameter: uris")
    if len(values) > MAX_URIS:
        raise ApiError(400, f"Too many uris requested. Maximum: {MAX_URIS}")
    return [parse_uri(value, kinds) for value in values]


def _require(session: Session, uris: list[SpotifyUri], scopes: Mapping[str, str]) -> None:
    if any(scopes[u.kind] not in session.scopes for u in uris):
        raise ApiError(403, "Insufficient client scope")


def library_of(world: World, user_id: str) -> Library:
    """The user's library (an empty one for users the built-in data does not know)."""
    return world.library.setdefault(user_id, Library())


def follow_playlist(world: World, user_id: str, playlist: Playlist) -> None:
    """Add the playlist to the top of the user's playlists; a follower more unless it is the owner."""
    followed = world.followed_playlists.setdefault(user_id, [])
    if playlist.id not in followed:
        followed.insert(0, playlist.id)
        if user_id != playlist.owner_id:
            playlist.followers += 1


def unfollow_playlist(world: World, user_id: str, playlist: Playlist) -> None:
    """Remove the playlist from the user's playlists."""
    followed = world.followed_playlists.setdefault(user_id, [])
    if playlist.id in followed:
        followed.remove(playlist.id)
        if user_id != playlist.owner_id:
            playlist.followers = max(0, playlist.followers - 1)


def _exists(session: Session, uri: SpotifyUri) -> bool:
    world = session.world
    if uri.kind == "playlist":
        playlist = world.playlists.get(uri.id)
        return playlist is not None and (playlist.public or playlist.can_read_items(session.user.id))
    known: dict[str, Collection[str]] = {
        "track": world.tracks,
        "album": world.albums,
        "artist": world.artists,
        "user": world.users,
    }
    return uri.id in known.get(uri.kind, ())


async def save_to_library(request: Request) -> Response:
    """``PUT /me/library``: save tracks, albums…, follow artists, users and playlists (≤ 40 URIs; query or body)."""
    session = authenticate(request)
    uris = await _library_uris(request, MODIFY_SCOPES, body_allowed=True)
    _require(session, uris, MODIFY_SCOPES)
    if not all(_exists(session, uri) for uri in uris):
        raise ApiError(404, "Resource not found")
    world, user_id, now = session.world, session.user.id, session.world.clock.now()
    for uri in uris:
        if uri.kind == "playlist":
            follow_playlist(world, user_id, world.playlists[uri.id])
        else:
            library_of(world, user_id).save(uri.kind, uri.id, now)
    return Response(status_code=200)


async def remove_from_library(request: Request) -> Response:
    """``DELETE /me/library``: remove saved items, unfollow; URIs that are not in the library are ignored."""
    session = authenticate(request)
    uris = await _library_uris(request, MODIFY_SCOPES, body_allowed=True)
    _require(session, uris, MODIFY_SCOPES)
    world, user_id = session.world, session.user.id
    for uri in uris:
        if uri.kind != "playlist":
            library_of(world, user_id).remove(uri.kind, uri.id)
        elif uri.id in world.playlists:
            unfollow_playlist(world, user_id, world.playlists[uri.id])
    return Response(status_code=200)


async def library_contains(request: Request) -> JSONResponse:
    """``GET /me/library/contains``: one boolean per URI (≤ 40), artists included."""
    session = authenticate(request)
    uris = await _library_uris(request, READ_SCOPES, body_allowed=False)
    _require(session, uris, READ_SCOPES)
    world, user_id = session.world, session.user.id
    followed = world.followed_playlists.get(user_id, [])
    library = library_of(world, user_id)
    return JSONResponse([u.id in followed if u.kind == "playlist" else library.contains(u.kind, u.id) for u in uris])


def _page_params(request: Request) -> tuple[int, int]:
    return int_param(request, "limit", 20, 1, 50), int_param(request, "offset", 0, 0, MAX_OFFSET)


async def saved_tracks(request: Request) -> JSONResponse:
    """``GET /me/tracks``: Liked Songs, most recently saved first, as ``{added_at, track}``."""
    session = authenticate(request, LIBRARY_READ)
    limit, offset = _page_params(request)
    world, render = session.world, session.render
    saved = library_of(world, session.user.id).newest_first("track")

    def saved_track(item: tuple[str, float]) -> dict[str, Any]:
        return {"added_at": timestamp(item[1]), "track": render.track(world.tracks[item[0]])}

    base = f"{render.api_base}/me/tracks"
    params = kept_params(request, "market")
    return JSONResponse(paging(base, params, saved, saved_track, offset=offset, limit=limit))


async def saved_albums(request: Request) -> JSONResponse:
    """``GET /me/albums``: saved albums, most recently saved first, as ``{added_at, album}``."""
    session = authenticate(request, LIBRARY_READ)
    limit, offset = _page_params(request)
    world = session.world
    saved = library_of(world, session.user.id).newest_first("album")

    def saved_album(item: tuple[str, float]) -> dict[str, Any]:
        return {"added_at": timestamp(item[1]), "album": full_album(session, world.albums[item[0]])}

    base = f"{session.render.api_base}/me/albums"
    params = kept_params(request, "market")
    return JSONResponse(paging(base, params, saved, saved_album, offset=offset, limit=limit))


async def nothing_saved(request: Request) -> JSONResponse:
    """``GET /me/episodes|shows|audiobooks``: the emulated catalog has no podcasts or audiobooks, so empty."""
    kind = request.url.path.rsplit("/", 1)[-1]
    scopes = (LIBRARY_READ, "user-read-playback-position") if kind == "episodes" else (LIBRARY_READ,)
    session = authenticate(request, *scopes)
    limit, offset = _page_params(request)
    base = f"{session.render.api_base}/me/{kind}"
    params = kept_params(request, "market")
    return JSONResponse(paging(base, params, [], lambda item: item, offset=offset, limit=limit))


async def followed_artists(request: Request) -> JSONResponse:
    """``GET /me/following?type=artist``: cursor-paged by ``after`` (the last artist id seen), in name order."""
    session = authenticate(request, FOLLOW_READ)
    kind = request.query_params.get("type")
    if kind is None:
        raise ApiError(400, "Missing required parameter: type")
    if kind != "artist":
        raise ApiError(400, "Only type=artist is supported")
    limit = int_param(request, "limit", 20, 1, 50)
    world, render = session.world, session.render
    followed = [world.artists[a] for a, _ in library_of(world, session.user.id).newest_first("artist")]
    followed.sort(key=lambda a: (a.name.casefold(), a.id))
    after = request.query_params.get("after")
    remaining = followed
    if after is not None:
        cursor = world.artists.get(after)
        if cursor is None:
            raise ApiError(400, "Invalid after")
        position = (cursor.name.casefold(), cursor.id)
        remaining = [a for a in followed if (a.name.casefold(), a.id) > position]
    page = remaining[:limit]
    base = f"{render.api_base}/me/following"
    query = "type=artist" + (f"&after={after}" if after is not None else "")
    has_next = len(remaining) > limit
    return JSONResponse(
        {
            "artists": {
                "href": f"{base}?{query}&limit={limit}",
                "items": [render.artist(a) for a in page],
                "limit": limit,
                "next": f"{base}?type=artist&after={page[-1].id}&limit={limit}" if has_next else None,
                "cursors": {"after": page[-1].id} if has_next else {},
                "total": len(followed),
            }
        }
    )


routes = [
    Route("/me/library", save_to_library, methods=["PUT"]),
    Route("/me/library", remove_from_library, methods=["DELETE"]),
    Route("/me/library/contains", library_contains, methods=["GET"]),
    Route("/me/tracks", saved_tracks, methods=["GET"]),
    Route("/me/albums", saved_albums, methods=["GET"]),
    Route("/me/episodes", nothing_saved, methods=["GET"]),
    Route("/me/shows", nothing_saved, methods=["GET"]),
    Route("/me/audiobooks", nothing_saved, methods=["GET"]),
    Route("/me/following", followed_artists, methods=["GET"]),
]

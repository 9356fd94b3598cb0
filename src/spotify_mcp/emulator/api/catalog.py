"""Catalog reads, one object per request (batch ``?ids=`` reads are gone for dev-mode apps, see ``removed``)."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from spotify_mcp.emulator.api.common import ApiError, Session, authenticate, int_param, kept_params, paging
from spotify_mcp.emulator.model import Album, is_spotify_id
from spotify_mcp.emulator.world import World

ALBUM_TRACKS_PAGE = 50
MAX_OFFSET = 100_000
ALBUM_GROUPS = ("album", "single", "compilation", "appears_on")


def catalog_id(request: Request, name: str = "id") -> str:
    """The base62 id in the path; anything else is 400 ``Invalid base62 id``."""
    value: str = request.path_params[name]
    if not is_spotify_id(value):
        raise ApiError(400, "Invalid base62 id")
    return value


def not_found() -> ApiError:
    """The 404 for a well-formed id nothing has."""
    return ApiError(404, "Resource not found")


def album_tracks_page(session: Session, album: Album, *, offset: int = 0, limit: int = ALBUM_TRACKS_PAGE) -> Any:
    """A page of the album's SimplifiedTrackObjects, linked to ``/albums/{id}/tracks``."""
    render = session.render
    tracks = [session.world.tracks[t] for t in album.track_ids]
    market = [("market", render.market)] if render.market else []
    base = f"{render.api_base}/albums/{album.id}/tracks"
    return paging(base, market, tracks, render.simplified_track, offset=offset, limit=limit)


def full_album(session: Session, album: Album) -> Any:
    """The AlbumObject with its first 50 tracks, as the album and saved-album endpoints return it."""
    return session.render.album(album, album_tracks_page(session, album))


def _album(session: Session, request: Request) -> Album:
    album = session.world.albums.get(catalog_id(request))
    if album is None:
        raise not_found()
    return album


async def track(request: Request) -> JSONResponse:
    """``GET /tracks/{id}``: a TrackObject."""
    session = authenticate(request)
    found = session.world.tracks.get(catalog_id(request))
    if found is None:
        raise not_found()
    return JSONResponse(session.render.track(found))


async def album(request: Request) -> JSONResponse:
    """``GET /albums/{id}``: an AlbumObject with its first page of tracks."""
    session = authenticate(request)
    return JSONResponse(full_album(session, _album(session, request)))


async def album_tracks(request: Request) -> JSONResponse:
    """``GET /albums/{id}/tracks``: a Paging object of SimplifiedTrackObjects (limit 1–50, default 20)."""
    session = authenticate(request)
    found = _album(session, request)
    limit = int_param(request, "limit", 20, 1, 50)
    offset = int_param(request, "offset", 0, 0, MAX_OFFSET)
    return JSONResponse(album_tracks_page(session, found, offset=offset, limit=limit))


async def artist(request: Request) -> JSONResponse:
    """``GET /artists/{id}``: an ArtistObject (no ``followers``, ``popularity`` or ``genres``)."""
    session = authenticate(request)
    found = session.world.artists.get(catalog_id(request))
    if found is None:
        raise not_found()
    return JSONResponse(session.render.artist(found))


def _album_group(world: World, album: Album, artist_id: str) -> str | None:
    if artist_id in album.artist_ids:
        return album.album_type
    if any(artist_id in world.tracks[t].artist_ids for t in album.track_ids):
        return "appears_on"
    return None


async def artist_albums(request: Request) -> JSONResponse:
    """``GET /artists/{id}/albums``: albums, singles, compilations, then appearances; newest first in each group.

    The group is the album's type where the artist is credited, ``appears_on`` where they are only featured.
    """
    session = authenticate(request)
    artist_id = catalog_id(request)
    if artist_id not in session.world.artists:
        raise not_found()
    raw_groups = request.query_params.get("include_groups")
    groups: tuple[str, ...] = ALBUM_GROUPS
    if raw_groups is not None:
        groups = tuple(g.strip() for g in raw_groups.split(",") if g.strip())
        if not groups or any(g not in ALBUM_GROUPS for g in groups):
            raise ApiError(400, "Invalid include_groups")
    limit = int_param(request, "limit", 5, 1, 10)
    offset = int_param(request, "offset", 0, 0, MAX_OFFSET)
    chosen: list[tuple[str, Album]] = []
    for candidate in session.world.albums.values():
        group = _album_group(session.world, candidate, artist_id)
        if group is not None and group in groups:
            chosen.append((group, candidate))
    chosen.sort(key=lambda pair: (ALBUM_GROUPS.index(pair[0]), -pair[1].release_date.toordinal()))
    albums = [a for _, a in chosen]
    base = f"{session.render.api_base}/artists/{artist_id}/albums"
    params = kept_params(request, "include_groups", "market")
    return JSONResponse(paging(base, params, albums, session.render.simplified_album, offset=offset, limit=limit))


routes = [
    Route("/tracks/{id}", track, methods=["GET"]),
    Route("/albums/{id}", album, methods=["GET"]),
    Route("/albums/{id}/tracks", album_tracks, methods=["GET"]),
    Route("/artists/{id}", artist, methods=["GET"]),
    Route("/artists/{id}/albums", artist_albums, methods=["GET"]),
]

"""``GET /v1/me/top/{artists|tracks}``: the user's top items over a ``time_range``."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from spotify_mcp.emulator.api.common import ApiError, authenticate, int_param, kept_params, paging

TIME_RANGES = ("short_term", "medium_term", "long_term")


async def top_items(request: Request) -> JSONResponse:
    """A Paging object of ArtistObjects or TrackObjects, best first."""
    session = authenticate(request, "user-top-read")
    kind = request.path_params["type"]
    if kind not in ("artists", "tracks"):
        raise ApiError(404, "Service not found")
    time_range = request.query_params.get("time_range", "medium_term")
    if time_range not in TIME_RANGES:
        raise ApiError(400, "Invalid time range")
    limit = int_param(request, "limit", 20, 1, 50)
    offset = int_param(request, "offset", 0, 0, 100_000)
    world, render, key = session.world, session.render, (session.user.id, time_range)
    base = f"{render.api_base}/me/top/{kind}"
    params = kept_params(request, "time_range")
    if kind == "artists":
        artists = [world.artists[a] for a in world.top_artists.get(key, [])]
        return JSONResponse(paging(base, params, artists, render.artist, offset=offset, limit=limit))
    tracks = [world.tracks[t] for t in world.top_tracks.get(key, [])]
    return JSONResponse(paging(base, params, tracks, render.track, offset=offset, limit=limit))


routes = [Route("/me/top/{type}", top_items, methods=["GET"])]

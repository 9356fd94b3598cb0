"""``GET /v1/search`` with the February 2026 limits: ``limit`` 0–10 (default 5), ``offset + limit`` ≤ 1000."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from spotify_mcp.emulator.api.common import ApiError, authenticate, kept_params, paging
from spotify_mcp.emulator.searching import Searcher, parse_query

TYPES = ("album", "artist", "playlist", "track", "show", "episode", "audiobook")
MAX_LIMIT = 10
MAX_REACH = 1000


def _limit_and_offset(request: Request) -> tuple[int, int]:
    values = []
    for name, default, high in (("limit", 5, MAX_LIMIT), ("offset", 0, MAX_REACH)):
        raw = request.query_params.get(name, str(default))
        try:
            value = int(raw)
        except ValueError:
            raise ApiError(400, f"Invalid {name}") from None
        if not 0 <= value <= high:
            raise ApiError(400, f"Invalid {name}")
        values.append(value)
    limit, offset = values
    if limit + offset > MAX_REACH:
        raise ApiError(400, "Invalid offset")
    return limit, offset


async def search(request: Request) -> JSONResponse:
    """Search the catalog; each requested type gets its own Paging object."""
    session = authenticate(request)
    q = request.query_params.get("q", request.query_params.get("query", "")).strip()
    if not q:
        raise ApiError(400, "No search query")
    raw_types = request.query_params.get("type", "")
    if not raw_types.strip():
        raise ApiError(400, "Missing parameter type")
    types = list(dict.fromkeys(t.strip() for t in raw_types.split(",")))
    for kind in types:
        if kind not in TYPES:
            raise ApiError(400, f"Bad search type field {kind}")
    include_external = request.query_params.get("include_external")
    if include_external not in (None, "audio"):
        raise ApiError(400, "Illegal include_external value")
    limit, offset = _limit_and_offset(request)
    searcher = Searcher(session.world, parse_query(q))
    render = session.render
    base = f"{render.api_base}/search"
    extra = kept_params(request, "market", "include_external")
    result: dict[str, Any] = {}
    for kind in types:
        params = [("query", q), ("type", kind), *extra]
        page_args: dict[str, Any] = {"offset": offset, "limit": limit, "max_end": MAX_REACH}
        if kind == "track":
            result["tracks"] = paging(base, params, searcher.tracks(), render.track, **page_args)
        elif kind == "album":
            result["albums"] = paging(base, params, searcher.albums(), render.simplified_album, **page_args)
        elif kind == "artist":
            result["artists"] = paging(base, params, searcher.artists(), render.artist, **page_args)
        elif kind == "playlist":
            result["playlists"] = paging(base, params, searcher.playlists(), render.simplified_playlist, **page_args)
        else:
            result[f"{kind}s"] = paging(base, params, [], lambda item: item, **page_args)
    return JSONResponse(result)


routes = [Route("/search", search, methods=["GET"])]

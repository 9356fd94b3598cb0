"""Endpoints Spotify withdrew from development-mode apps (Nov 2024, Feb 2026), answering as it does now.

The per-type library writes and checks of before February 2026 are deprecated; for a development-mode Client ID
created since then they answer 403 like the other withdrawn endpoints.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from spotify_mcp.emulator.api.common import ApiError, authenticate

FORBIDDEN = (
    "/tracks",
    "/albums",
    "/artists",
    "/episodes",
    "/shows",
    "/audiobooks",
    "/chapters",
    "/markets",
    "/browse/new-releases",
    "/browse/categories",
    "/browse/categories/{category_id}",
    "/browse/featured-playlists",
    "/browse/categories/{category_id}/playlists",
    "/artists/{id}/top-tracks",
    "/artists/{id}/related-artists",
    "/audio-features",
    "/audio-features/{id}",
    "/audio-analysis/{id}",
    "/users/{user_id}",
    "/users/{user_id}/playlists",
    "/playlists/{playlist_id}/tracks",
)
GONE = ("/recommendations", "/recommendations/available-genre-seeds")
REPLACED_BY_LIBRARY = {
    **dict.fromkeys(("/me/tracks", "/me/albums", "/me/episodes", "/me/shows", "/me/audiobooks"), ("PUT", "DELETE")),
    "/me/following": ("PUT", "DELETE"),
    "/playlists/{playlist_id}/followers": ("PUT", "DELETE"),
    **dict.fromkeys(
        (
            "/me/tracks/contains",
            "/me/albums/contains",
            "/me/episodes/contains",
            "/me/shows/contains",
            "/me/audiobooks/contains",
            "/me/following/contains",
            "/playlists/{playlist_id}/followers/contains",
        ),
        ("GET",),
    ),
}
"""The per-type save, follow and contains endpoints that ``/me/library`` replaced (their reads stay)."""


async def forbidden(request: Request) -> JSONResponse:
    """403 for an endpoint development-mode apps may no longer call."""
    authenticate(request)
    if request.method == "POST" and request.url.path.endswith("/playlists"):
        raise ApiError(403, "You cannot create a playlist for another user")
    raise ApiError(403, "Forbidden")


async def gone(request: Request) -> JSONResponse:
    """404, as Spotify answers for the removed recommendations endpoints."""
    authenticate(request)
    raise ApiError(404, "Service not found")


routes = [
    *(Route(path, forbidden, methods=["GET", "POST", "PUT", "DELETE"]) for path in FORBIDDEN),
    *(Route(path, gone, methods=["GET"]) for path in GONE),
    *(Route(path, forbidden, methods=list(methods)) for path, methods in REPLACED_BY_LIBRARY.items()),
]

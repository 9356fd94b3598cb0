"""The emulated Web API, one module per area; ``routes`` mounts them all under ``/v1``."""

from __future__ import annotations

from starlette.routing import BaseRoute

from spotify_mcp.emulator.api import personalization, player, playlists, profile, removed, search

routes: list[BaseRoute] = [
    *profile.routes,
    *search.routes,
    *player.routes,
    *playlists.routes,
    *personalization.routes,
    *removed.routes,
]

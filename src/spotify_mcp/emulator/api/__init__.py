"""The emulated Web API, one module per area; ``routes`` mounts them all under ``/v1``."""

from __future__ import annotations

from starlette.routing import BaseRoute

from spotify_mcp.emulator.api import (
    catalog,
    library,
    personalization,
    player,
    player_commands,
    playlists,
    profile,
    removed,
    search,
)

routes: list[BaseRoute] = [
    *profile.routes,
    *search.routes,
    *player.routes,
    *player_commands.routes,
    *playlists.routes,
    *personalization.routes,
    *library.routes,
    *catalog.routes,
    *removed.routes,
]

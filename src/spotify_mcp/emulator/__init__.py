"""A faithful emulator of Spotify's accounts service and Web API (development-mode rules of 2026).

Used by ``spotify-mcp demo`` and by the tests: point ``SPOTIFY_ACCOUNTS_URL`` at the app's root and
``SPOTIFY_API_URL`` at its ``/v1``. Tests reach the world, counters and fault injection through
``app.state.world``.
"""

from __future__ import annotations

from spotify_mcp.emulator.app import create_emulator_app
from spotify_mcp.emulator.config import EmulatorConfig
from spotify_mcp.emulator.data import FREE_USER, PREMIUM_USER, UNLISTED_USER
from spotify_mcp.emulator.world import World

__all__ = ["FREE_USER", "PREMIUM_USER", "UNLISTED_USER", "EmulatorConfig", "World", "create_emulator_app"]

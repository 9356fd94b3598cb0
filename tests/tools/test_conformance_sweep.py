"""Over the whole tool catalogue, every request sent to Spotify conforms to the OpenAPI description.

Each tool is called once with realistic arguments; the harness's ConformingTransport checks method, path,
parameters and body of every Web API request, and refuses deprecated operations.
"""

from __future__ import annotations

from typing import Any

import pytest
from mcp.client import Client

from spotify_mcp.emulator import World
from tests.support import Harness
from tests.tools.conftest import text

pytestmark = pytest.mark.anyio


def arguments(world: World) -> dict[str, dict[str, Any]]:
    """Realistic arguments for every tool, taken from the emulator's world."""
    track = world.track_by_name("Polar Night")
    album = world.album_by_name("Glass Satellites")
    artist = world.artist_by_name("Luna Vega")
    mine = world.playlist_by_name("Late Night Focus")
    kitchen = next(d for d in world.devices["premium-user"] if d.name == "Kitchen Speaker")
    return {
        "searchTracks": {"query": "night", "limit": 12, "market": "DE"},
        "searchArtists": {"query": "a"},
        "searchAlbums": {"query": "a", "offset": 2},
        "searchPlaylists": {"query": "jazz"},
        "getNewReleases": {"limit": 3},
        "getCurrentUserProfile": {},
        "getRecentlyPlayed": {"limit": 3},
        "getTopTracks": {"timeRange": "short_term"},
        "getTopArtists": {"limit": 2},
        "getCurrentPlayback": {"market": "DE"},
        "getAvailableDevices": {},
        "getQueue": {},
        "startPlayback": {"contextUri": f"spotify:album:{album.id}", "offset": 1, "positionMs": 1000},
        "pausePlayback": {},
        "resumePlayback": {},
        "skipToNext": {},
        "skipToPrevious": {},
        "seekToPosition": {"positionMs": 5000},
        "setVolume": {"volumePercent": 40},
        "setShuffle": {"state": True},
        "setRepeat": {"state": "context"},
        "transferPlayback": {"deviceId": kitchen.id, "play": True},
        "addToQueue": {"uri": f"spotify:track:{track.id}"},
        "getUserPlaylists": {"limit": 2},
        "getPlaylistTracks": {"playlistId": mine.id, "limit": 3, "market": "DE"},
        "createPlaylist": {"name": "Sweep", "description": "made by the sweep"},
        "addTracksToPlaylist": {"playlistId": mine.id, "trackUris": [track.id], "position": 0},
        "reorderPlaylistTracks": {"playlistId": mine.id, "rangeStart": 0, "insertBefore": 3},
        "removeTracksFromPlaylist": {"playlistId": mine.id, "trackUris": [f"spotify:track:{track.id}"]},
        "updatePlaylistDetails": {"playlistId": mine.id, "description": "tidied"},
        "getSavedTracks": {"limit": 2},
        "getSavedAlbums": {"limit": 2},
        "getFollowedArtists": {"limit": 1},
        "saveToLibrary": {"uris": [f"spotify:track:{track.id}", f"spotify:album:{album.id}"]},
        "checkLibrary": {"uris": [f"spotify:track:{track.id}", f"spotify:artist:{artist.id}"]},
        "removeFromLibrary": {"uris": [f"spotify:track:{track.id}"]},
        "getTrack": {"trackId": track.id, "market": "DE"},
        "getAlbum": {"albumId": f"spotify:album:{album.id}"},
        "getAlbumTracks": {"albumId": album.id, "limit": 2},
        "getArtist": {"artistId": f"https://open.spotify.com/artist/{artist.id}"},
        "getArtistAlbums": {"artistId": artist.id, "includeGroups": "album,single", "limit": 12},
    }


async def test_every_tool_sends_only_requests_the_openapi_description_allows(h: Harness, mcp: Client) -> None:
    listed = {t.name for t in (await mcp.list_tools()).tools}
    plan = arguments(h.world)
    assert set(plan) == listed, "the sweep must cover every tool"
    for name, args in plan.items():
        result = await mcp.call_tool(name, args)
        assert not result.is_error, f"{name}: {text(result)}"
    assert h.upstream.violations == []
    called = {template for _, template in h.upstream.operations}
    assert "/me/library" in called
    assert "/playlists/{playlist_id}/items" in called
    assert not any(template.endswith("/tracks") and "playlists" in template for template in called)

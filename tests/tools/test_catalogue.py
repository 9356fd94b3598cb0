"""The tool catalogue: the seed's tools with their names and parameters, true annotations, schemas, order."""

from __future__ import annotations

from typing import Any

import pytest
from mcp.client import Client

from spotify_mcp.scopes import SPOTIFY_SCOPES

pytestmark = pytest.mark.anyio

SEED_TOOLS = {
    "searchTracks": {"query", "limit", "offset"},
    "searchArtists": {"query", "limit", "offset"},
    "searchAlbums": {"query", "limit", "offset"},
    "searchPlaylists": {"query", "limit", "offset"},
    "getCurrentUserProfile": set(),
    "getCurrentPlayback": set(),
    "pausePlayback": set(),
    "resumePlayback": set(),
    "skipToNext": set(),
    "skipToPrevious": set(),
    "getUserPlaylists": {"limit", "offset"},
    "getPlaylistTracks": {"playlistId", "limit", "offset"},
    "createPlaylist": {"name", "description", "public"},
    "addTracksToPlaylist": {"playlistId", "trackUris"},
    "getRecentlyPlayed": {"limit"},
    "getTopTracks": {"limit", "timeRange"},
    "getTopArtists": {"limit", "timeRange"},
}


async def tools(mcp: Client) -> dict[str, Any]:
    listed = await mcp.list_tools()
    return {t.name: t for t in listed.tools}


async def test_every_seed_tool_is_there_with_the_seed_parameter_names(mcp: Client) -> None:
    catalogue = await tools(mcp)
    for name, params in SEED_TOOLS.items():
        assert name in catalogue, name
        assert params <= set(catalogue[name].input_schema["properties"]), name


async def test_the_seed_defaults_are_kept(mcp: Client) -> None:
    catalogue = await tools(mcp)
    for name in ("searchTracks", "getUserPlaylists", "getTopTracks", "getRecentlyPlayed"):
        assert catalogue[name].input_schema["properties"]["limit"]["default"] == 20
    assert catalogue["createPlaylist"].input_schema["properties"]["public"]["default"] is True
    time_range = catalogue["getTopArtists"].input_schema["properties"]["timeRange"]
    assert time_range["default"] == "medium_term"


async def test_the_catalogue_goes_beyond_the_best_equipped_peer(mcp: Client) -> None:
    assert len(await tools(mcp)) > 33


async def test_the_tool_order_is_the_same_every_time(mcp: Client) -> None:
    first = [t.name for t in (await mcp.list_tools()).tools]
    second = [t.name for t in (await mcp.list_tools()).tools]
    assert first == second
    assert first[:4] == ["searchTracks", "searchArtists", "searchAlbums", "searchPlaylists"]


async def test_every_tool_has_a_one_line_description_annotations_and_an_output_schema(mcp: Client) -> None:
    for tool in (await tools(mcp)).values():
        assert tool.description, tool.name
        assert "\n" not in tool.description, tool.name
        assert len(tool.description) <= 160, tool.name
        assert tool.annotations is not None, tool.name
        assert tool.annotations.title, tool.name
        assert tool.annotations.open_world_hint is True, tool.name
        assert tool.output_schema is not None, tool.name


async def test_read_tools_say_so_and_removals_are_marked_destructive(mcp: Client) -> None:
    catalogue = await tools(mcp)
    for name in ("searchTracks", "getCurrentPlayback", "getUserPlaylists", "checkLibrary", "getArtistAlbums"):
        assert catalogue[name].annotations.read_only_hint is True, name
    for name in ("startPlayback", "createPlaylist", "addTracksToPlaylist", "saveToLibrary", "setVolume"):
        assert catalogue[name].annotations.read_only_hint is False, name
    for name in ("removeTracksFromPlaylist", "removeFromLibrary"):
        assert catalogue[name].annotations.destructive_hint is True, name
    for name in ("createPlaylist", "addTracksToPlaylist", "startPlayback"):
        assert catalogue[name].annotations.destructive_hint is False, name
        assert catalogue[name].annotations.idempotent_hint is False, name


async def test_every_tool_declares_the_spotify_scopes_it_needs(mcp: Client) -> None:
    for tool in (await tools(mcp)).values():
        assert tool.meta is not None, tool.name
        declared = tool.meta["spotify-mcp/scopes"]
        assert set(declared) <= set(SPOTIFY_SCOPES), tool.name
    catalogue = await tools(mcp)
    assert catalogue["pausePlayback"].meta == {"spotify-mcp/scopes": ["user-modify-playback-state"]}
    assert catalogue["searchTracks"].meta == {"spotify-mcp/scopes": []}


async def test_page_sizes_are_bounded(mcp: Client) -> None:
    for tool in (await tools(mcp)).values():
        limit = tool.input_schema["properties"].get("limit")
        if limit is not None:
            assert limit["maximum"] <= 50, tool.name

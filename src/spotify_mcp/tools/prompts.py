"""Prompts for common jobs: each one spells out which tools to use in which order."""

from __future__ import annotations

from typing import Annotated

from mcp.server.mcpserver import MCPServer
from pydantic import Field

from spotify_mcp.tools.params import TimeRange

RANGE_WORDS = {"short_term": "the last 4 weeks", "medium_term": "the last 6 months", "long_term": "the last year"}


def register_prompts(server: MCPServer) -> None:
    """Add playlistFromTopTracks, whatAmIListeningTo and tidyPlaylist."""

    @server.prompt(
        name="playlistFromTopTracks",
        title="Playlist from my top tracks",
        description="Make a playlist of the user's most-played tracks over a time range.",
    )
    def playlist_from_top_tracks(
        timeRange: TimeRange = "short_term",
        name: Annotated[str | None, Field(max_length=100, description="Playlist name")] = None,
    ) -> str:
        title = name or f"My top tracks ({RANGE_WORDS[timeRange]})"
        return (
            f"Make me a playlist called {title!r} from my most-played tracks of {RANGE_WORDS[timeRange]}.\n"
            f"1. Call getTopTracks with timeRange={timeRange} and limit=50.\n"
            f"2. Call createPlaylist with name={title!r} and public=false.\n"
            "3. Call addTracksToPlaylist with the new playlist's id and the track URIs from step 1.\n"
            "Then tell me the playlist's name, how many tracks it has, and its link."
        )

    @server.prompt(
        name="whatAmIListeningTo",
        title="What am I listening to?",
        description="Describe the track playing now and what comes next.",
    )
    def what_am_i_listening_to() -> str:
        return (
            "What am I listening to? Call getCurrentPlayback; if something is playing, call getQueue too. "
            "Tell me the track, artist and album, where I am in it, on which device, and the next three "
            "tracks. If nothing is playing, say so and list my devices with getAvailableDevices."
        )

    @server.prompt(
        name="tidyPlaylist",
        title="Tidy a playlist",
        description="Find duplicate tracks in a playlist and offer to remove them.",
    )
    def tidy_playlist(
        playlistId: Annotated[str, Field(min_length=1, max_length=200, description="Playlist ID, URI or link")],
    ) -> str:
        return (
            f"Tidy my playlist {playlistId}.\n"
            "1. Read every track with getPlaylistTracks (limit=50, following next_offset until it is null).\n"
            "2. Find duplicates: the same URI twice, or the same title and artists under different URIs.\n"
            "3. Show me what you found and ask before changing anything.\n"
            "4. If I agree, call removeTracksFromPlaylist with the duplicate URIs and then addTracksToPlaylist "
            "with one copy of each at its first position, because removal deletes every occurrence of a URI."
        )

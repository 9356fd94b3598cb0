"""The MCPServer: its identity, its guidance for the model, and its tools."""

from __future__ import annotations

from mcp.server.mcpserver import MCPServer

from spotify_mcp.services import Runtime
from spotify_mcp.tools.core import register_core_tools

INSTRUCTIONS = """\
Tools for the signed-in user's Spotify account.
- searchTracks finds tracks and returns their Spotify URIs (spotify:track:...); tools that play, queue or
  add to playlists take those URIs.
- getCurrentUserProfile tells whose account this is.
- Results are paged: when next_offset is not null, call again with offset=next_offset for more.
- When a tool reports that Spotify access has ended, ask the user to reconnect this server.
"""


def build_mcp_server(runtime: Runtime) -> MCPServer:
    """Create the MCPServer with every tool registered in a fixed order."""
    server = MCPServer(
        name="spotify-mcp",
        title="Spotify",
        description="Search, playback, playlists and listening history of your Spotify account.",
        instructions=INSTRUCTIONS,
        version="0.1.0",
    )
    register_core_tools(server, runtime)
    return server

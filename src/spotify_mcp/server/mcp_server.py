"""The MCPServer: its identity, its guidance for the model, its tools, resources and prompts.

``SpotifyMCP`` adds two things the SDK leaves to the application: each tool's Spotify scopes are checked
before the tool runs, and per-user resources are rendered with the reading request's own credentials.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import Any

from mcp.server.lowlevel.helper_types import ReadResourceContents
from mcp.server.mcpserver import Context, MCPServer
from mcp.types import CallToolResult, InputRequiredResult
from pydantic import AnyUrl

from spotify_mcp.observability.metrics import UNKNOWN_TOOL
from spotify_mcp.observability.observers import NO_TOOLS, ToolObserver
from spotify_mcp.observability.request_id import bound_request_id, request_id_of_context
from spotify_mcp.services import Runtime
from spotify_mcp.tools.catalog import register_catalog_tools
from spotify_mcp.tools.context import caller
from spotify_mcp.tools.kit import ToolKit
from spotify_mcp.tools.library import register_library_tools
from spotify_mcp.tools.playback import register_playback_tools
from spotify_mcp.tools.player import register_player_tools
from spotify_mcp.tools.playlists import register_playlist_tools
from spotify_mcp.tools.profile import register_profile_tools
from spotify_mcp.tools.prompts import register_prompts
from spotify_mcp.tools.resources import UserResource, user_resources
from spotify_mcp.tools.search import register_search_tools
from spotify_mcp.tools.upstream import RECONNECT_HINT

INSTRUCTIONS = """\
Tools for the signed-in user's Spotify account.
- Find things first: searchTracks, searchAlbums, searchArtists and searchPlaylists return Spotify URIs
  (spotify:track:..., spotify:album:...). Play, queue, library and playlist tools take those URIs (IDs and
  open.spotify.com links work too).
- Playing: startPlayback plays tracks (uris) or an album/playlist/artist (contextUri); addToQueue queues a
  track; pausePlayback, resumePlayback, skipToNext, skipToPrevious, seekToPosition, setVolume, setShuffle
  and setRepeat control what plays. Playback control needs Spotify Premium.
- Devices: commands act on the active device. If a tool says no device is active, call getAvailableDevices
  and retry with deviceId (or transferPlayback); if there are no devices, ask the user to open Spotify.
- Playlists: getUserPlaylists lists them; getPlaylistTracks reads one; createPlaylist then
  addTracksToPlaylist builds one; removeTracksFromPlaylist, reorderPlaylistTracks and updatePlaylistDetails
  edit one the user owns.
- Listings are paged: when next_offset (or next_cursor) is not null, call again with it for more.
- When a tool says Spotify access has ended, ask the user to reconnect this server.
"""


class SpotifyMCP(MCPServer):
    """MCPServer with per-tool scope checks and per-user resources."""

    tool_metrics: ToolObserver = NO_TOOLS

    def __init__(self, runtime: Runtime, *, reconnect_hint: str = RECONNECT_HINT, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.kit = ToolKit(self, runtime, reconnect_hint=reconnect_hint)
        self._user_resources: dict[str, UserResource] = {}

    @property
    def tool_scopes(self) -> dict[str, tuple[str, ...]]:
        """The Spotify scopes each tool needs, by tool name."""
        return self.kit.scopes

    def required_scopes(self, method: str, params: Any) -> tuple[str, ...]:
        """The Spotify scopes a JSON-RPC request needs: a tool's, or a per-user resource's."""
        if not isinstance(params, dict):
            return ()
        if method == "tools/call" and isinstance(params.get("name"), str):
            return self.kit.scopes.get(params["name"], ())
        if method == "resources/read" and isinstance(params.get("uri"), str):
            resource = self._user_resources.get(params["uri"])
            return resource.scopes if resource is not None else ()
        return ()

    def add_user_resource(self, resource: UserResource) -> None:
        """List a per-user resource and render it per request."""
        self._user_resources[resource.uri] = resource
        self.add_resource(resource)

    async def call_tool(
        self, name: str, arguments: dict[str, Any], context: Context[Any, Any] | None = None
    ) -> CallToolResult | InputRequiredResult:
        """Refuse a tool whose scopes the caller's grant lacks; otherwise run it, counted and timed."""
        started, outcome = time.perf_counter(), "error"
        try:
            with bound_request_id(request_id_of_context(context)):
                if context is not None and name in self.kit.scopes:
                    caller(context, self.kit.scopes[name])
                result = await super().call_tool(name, arguments, context)
            outcome = "error" if isinstance(result, CallToolResult) and result.is_error else "ok"
            return result
        finally:
            tool = name if name in self.kit.scopes else UNKNOWN_TOOL
            self.tool_metrics.tool_call(tool, outcome, time.perf_counter() - started)

    async def read_resource(
        self, uri: AnyUrl | str, context: Context[Any, Any] | None = None
    ) -> Iterable[ReadResourceContents] | InputRequiredResult:
        """Render per-user resources with the request's credentials; others as the SDK does."""
        resource = self._user_resources.get(str(uri))
        if resource is None or context is None:
            return await super().read_resource(uri, context)
        content = await resource.read_for(self.kit, context)
        return [ReadResourceContents(content=content, mime_type=resource.mime_type)]


def build_mcp_server(runtime: Runtime, *, reconnect_hint: str = RECONNECT_HINT) -> SpotifyMCP:
    """Create the server with every tool, resource and prompt registered in a fixed order.

    ``reconnect_hint`` is what a tool says to do once the user's Spotify access has ended (the remote
    server: reconnect it; the local stdio server: run ``spotify-mcp login`` again).
    """
    server = SpotifyMCP(
        runtime,
        reconnect_hint=reconnect_hint,
        name="spotify-mcp",
        title="Spotify",
        description="Search, playback, playlists, library and listening history of your Spotify account.",
        instructions=INSTRUCTIONS,
        version="0.2.0",
    )
    kit = server.kit
    register_search_tools(kit)
    register_profile_tools(kit)
    register_player_tools(kit)
    register_playback_tools(kit)
    register_playlist_tools(kit)
    register_library_tools(kit)
    register_catalog_tools(kit)
    for resource in user_resources():
        server.add_user_resource(resource)
    register_prompts(server)
    return server

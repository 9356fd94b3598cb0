"""``docs/tools.md``: the tool reference, rendered from the registered tools so it cannot drift."""

from __future__ import annotations

import json
from typing import Any

from mcp.server.mcpserver import MCPServer

from spotify_mcp.tools.kit import SCOPES_META_KEY

EXAMPLE_TRACK = "spotify:track:4uLU6hMCjMI75M1A2tKUQC"
EXAMPLE_PLAYLIST = "spotify:playlist:37i9dQZF1DXcBWIGoYBM5M"

EXAMPLES: dict[str, dict[str, Any]] = {
    "searchTracks": {"query": "artist:Radiohead year:1997", "limit": 10},
    "searchArtists": {"query": "Nils Frahm"},
    "searchAlbums": {"query": "Kind of Blue"},
    "searchPlaylists": {"query": "deep focus", "limit": 5},
    "getNewReleases": {"query": "genre:jazz", "limit": 10},
    "getCurrentUserProfile": {},
    "getRecentlyPlayed": {"limit": 10},
    "getTopTracks": {"timeRange": "short_term", "limit": 20},
    "getTopArtists": {"timeRange": "long_term"},
    "getCurrentPlayback": {},
    "getAvailableDevices": {},
    "getQueue": {"limit": 5},
    "startPlayback": {"contextUri": EXAMPLE_PLAYLIST, "offset": 3},
    "resumePlayback": {},
    "pausePlayback": {},
    "skipToNext": {},
    "skipToPrevious": {},
    "seekToPosition": {"positionMs": 90000},
    "setVolume": {"volumePercent": 40},
    "setShuffle": {"state": True},
    "setRepeat": {"state": "context"},
    "transferPlayback": {"deviceId": "74ASZWbe4lXaubB36ztrGX", "play": True},
    "addToQueue": {"uri": EXAMPLE_TRACK},
    "getUserPlaylists": {"limit": 20},
    "getPlaylistTracks": {"playlistId": "https://open.spotify.com/playlist/37i9dQZF1DXcBWIGoYBM5M", "offset": 20},
    "createPlaylist": {"name": "Rainy Sunday", "description": "Slow and warm", "public": False},
    "addTracksToPlaylist": {"playlistId": EXAMPLE_PLAYLIST, "trackUris": [EXAMPLE_TRACK], "position": 0},
    "removeTracksFromPlaylist": {"playlistId": EXAMPLE_PLAYLIST, "trackUris": [EXAMPLE_TRACK]},
    "reorderPlaylistTracks": {"playlistId": EXAMPLE_PLAYLIST, "rangeStart": 5, "insertBefore": 0},
    "updatePlaylistDetails": {"playlistId": EXAMPLE_PLAYLIST, "name": "Rainy Sunday (2026)"},
    "getSavedTracks": {"limit": 20},
    "getSavedAlbums": {},
    "getFollowedArtists": {"limit": 50},
    "saveToLibrary": {"uris": [EXAMPLE_TRACK, "spotify:artist:0OdUWJ0sBjDrqHygGUXeCF"]},
    "removeFromLibrary": {"uris": [EXAMPLE_TRACK]},
    "checkLibrary": {"uris": [EXAMPLE_TRACK, "spotify:album:1DFixLWuPkv3KT3TnV35m3"]},
    "getTrack": {"trackId": EXAMPLE_TRACK},
    "getAlbum": {"albumId": "1DFixLWuPkv3KT3TnV35m3"},
    "getAlbumTracks": {"albumId": "spotify:album:1DFixLWuPkv3KT3TnV35m3"},
    "getArtist": {"artistId": "0OdUWJ0sBjDrqHygGUXeCF"},
    "getArtistAlbums": {"artistId": "0OdUWJ0sBjDrqHygGUXeCF", "includeGroups": "album,single"},
}

HEADER = """\
# Tools

Generated from the server by `make docs` (a test fails when this file and the code disagree).
Every tool takes Spotify IDs, `spotify:` URIs and open.spotify.com links alike, returns a short text and a
compact structured result (its `outputSchema`), and declares the Spotify scopes it needs in its `_meta`
(`spotify-mcp/scopes`). A token without them gets HTTP 403 `insufficient_scope` naming every scope needed,
so the client can ask the user once more (step-up). Listings take `limit` (at most 50) and `offset`, and
return `next_offset` (null at the end).

Resources: `spotify://me/player` (current playback) and `spotify://me/profile`, read with the caller's
own account. Prompts: `playlistFromTopTracks`, `whatAmIListeningTo`, `tidyPlaylist`.

| Tool | What it does | Scopes | Hints |
|---|---|---|---|
"""


async def render_tools_markdown(server: MCPServer) -> str:
    """The Markdown reference of every registered tool, in catalogue order."""
    tools = await server.list_tools()
    rows: list[str] = []
    details: list[str] = []
    for tool in tools:
        scopes = (tool.meta or {}).get(SCOPES_META_KEY, [])
        hints = _hints(tool.annotations)
        rows.append(
            f"| [`{tool.name}`](#{tool.name.lower()}) | {tool.description} | "
            f"{', '.join(f'`{s}`' for s in scopes) or '—'} | {hints} |"
        )
        params = tool.input_schema.get("properties", {})
        required = set(tool.input_schema.get("required", []))
        lines = [f"### {tool.name}", "", tool.description or "", ""]
        if params:
            lines.append("| Parameter | Type | Default | Description |")
            lines.append("|---|---|---|---|")
            for name, schema in params.items():
                default = "required" if name in required else f"`{json.dumps(schema.get('default'))}`"
                lines.append(f"| `{name}` | {_type(schema)} | {default} | {schema.get('description', '')} |")
            lines.append("")
        example = json.dumps({"name": tool.name, "arguments": EXAMPLES.get(tool.name, {})})
        lines += ["Example `tools/call` params:", "", "```json", example, "```", ""]
        details.append("\n".join(lines))
    return HEADER + "\n".join(rows) + "\n\n## Details\n\n" + "\n".join(details)


def _hints(annotations: Any) -> str:
    if annotations is None:
        return ""
    if annotations.read_only_hint:
        return "read-only"
    parts = ["destructive" if annotations.destructive_hint else "writes"]
    if annotations.idempotent_hint:
        parts.append("idempotent")
    return ", ".join(parts)


def _type(schema: dict[str, Any]) -> str:
    if "anyOf" in schema:
        return " or ".join(_type(s) for s in schema["anyOf"] if s.get("type") != "null") + " (optional)"
    kind = str(schema.get("type", "any"))
    if kind == "array":
        return f"array of {_type(schema.get('items', {}))}"
    bounds = []
    if "minimum" in schema or "maximum" in schema:
        bounds.append(f"{schema.get('minimum', '')}–{schema.get('maximum', '')}")
    if "pattern" in schema and schema["pattern"].startswith("^(") and "|" in schema["pattern"]:
        bounds.append(schema["pattern"][2:-2].replace("|", " \\| "))
    return kind + (f" ({'; '.join(bounds)})" if bounds else "")

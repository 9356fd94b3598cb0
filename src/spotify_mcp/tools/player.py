"""Reading the player: current playback, devices and the queue."""

from __future__ import annotations

from typing import Annotated

from mcp.server.mcpserver import Context
from mcp.types import CallToolResult

from spotify_mcp.tools.context import caller
from spotify_mcp.tools.formatting import Device, device, track
from spotify_mcp.tools.kit import ToolKit, answer
from spotify_mcp.tools.params import Limit, Market, market_params
from spotify_mcp.tools.results import Page, Playback, Queue, playback

READ_STATE = ("user-read-playback-state",)


def register_player_tools(kit: ToolKit) -> None:
    """Add getCurrentPlayback, getAvailableDevices and getQueue."""

    @kit.tool(
        "getCurrentPlayback",
        title="Current playback",
        description="Show what is playing, on which device, the progress, and shuffle/repeat state.",
        scopes=READ_STATE,
        read_only=True,
    )
    async def get_current_playback(ctx: Context, market: Market = None) -> Annotated[CallToolResult, Playback]:
        who = caller(ctx)
        reply = await kit.spotify(who.user_id, "GET", "/me/player", params=market_params(market))
        return answer(playback(reply.object()) if reply.data else Playback(is_playing=False))

    @kit.tool(
        "getAvailableDevices",
        title="Available devices",
        description="List the user's Spotify Connect devices and their IDs (to play on or transfer to).",
        scopes=READ_STATE,
        read_only=True,
    )
    async def get_available_devices(ctx: Context) -> Annotated[CallToolResult, Page[Device]]:
        who = caller(ctx)
        body = (await kit.spotify(who.user_id, "GET", "/me/player/devices")).object()
        devices = [device(d) for d in body.get("devices") or [] if isinstance(d, dict)]
        result = Page[Device](title="Devices", items=devices, total=len(devices))
        text = None if devices else "No devices: ask the user to open Spotify on a phone, computer or speaker."
        return answer(result, text=text)

    @kit.tool(
        "getQueue",
        title="Playback queue",
        description="Show the track playing now and the tracks queued after it.",
        scopes=(*READ_STATE, "user-read-currently-playing"),
        read_only=True,
    )
    async def get_queue(ctx: Context, limit: Limit = 20) -> Annotated[CallToolResult, Queue]:
        who = caller(ctx)
        body = (await kit.spotify(who.user_id, "GET", "/me/player/queue")).object()
        now = body.get("currently_playing")
        upcoming = [
            track(t) for t in body.get("queue") or [] if isinstance(t, dict) and t.get("type", "track") == "track"
        ]
        return answer(Queue(currently_playing=track(now) if isinstance(now, dict) else None, queue=upcoming[:limit]))

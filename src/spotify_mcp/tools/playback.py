"""Controlling playback: play, pause, resume, skip, seek, volume, shuffle, repeat, transfer, queue."""

from __future__ import annotations

from typing import Annotated, Any

from mcp.server.mcpserver import Context
from mcp.types import CallToolResult
from pydantic import Field

from spotify_mcp.tools.context import ToolFailure, caller
from spotify_mcp.tools.ids import parse_ref, parse_refs
from spotify_mcp.tools.kit import ToolKit, answer
from spotify_mcp.tools.params import DeviceId
from spotify_mcp.tools.results import Done

MODIFY = ("user-modify-playback-state",)
CONTEXTS = ("album", "playlist", "artist", "show")

Uri = Annotated[str, Field(min_length=1, max_length=200)]


def _device(device_id: str | None) -> dict[str, str | int]:
    return {"device_id": device_id} if device_id else {}


def register_playback_tools(kit: ToolKit) -> None:
    """Add the playback commands."""

    async def command(
        ctx: Context,
        method: str,
        path: str,
        done: str,
        *,
        params: dict[str, str | int] | None = None,
        json: Any = None,
        already: tuple[str, ...] = (),
        already_message: str = "",
    ) -> CallToolResult:
        who = caller(ctx)
        reply = await kit.spotify(who.user_id, method, path, params=params, json=json, tolerate=already)
        return answer(Done(message=already_message if reply.tolerated else done))

    @kit.tool(
        "startPlayback",
        title="Play",
        description="Play tracks (uris) or an album, playlist or artist (contextUri), optionally from a track "
        "and on a given device.",
        scopes=MODIFY,
    )
    async def start_playback(
        ctx: Context,
        uris: Annotated[
            list[Uri] | None, Field(max_length=100, description="Track URIs (spotify:track:...) to play in order")
        ] = None,
        contextUri: Annotated[
            Uri | None, Field(description="An album, playlist or artist URI (spotify:album:...) to play")
        ] = None,
        offset: Annotated[
            int | None, Field(ge=0, description="Start at this position in the album or playlist (0 = first)")
        ] = None,
        offsetUri: Annotated[Uri | None, Field(description="Start at this track of the album or playlist")] = None,
        positionMs: Annotated[int | None, Field(ge=0, description="Start this far into the first track")] = None,
        deviceId: DeviceId = None,
    ) -> Annotated[CallToolResult, Done]:
        if bool(uris) == bool(contextUri):
            raise ToolFailure(
                "Give exactly one of uris (tracks) and contextUri (an album, playlist or artist); "
                "to continue what was playing, use resumePlayback."
            )
        body: dict[str, Any] = {}
        if uris:
            body["uris"] = [r.uri for r in parse_refs(uris, ("track", "episode"), field="uris")]
            what = f"{len(uris)} track{'s' if len(uris) != 1 else ''}"
        else:
            context = parse_ref(contextUri or "", CONTEXTS, field="contextUri")
            body["context_uri"] = context.uri
            what = context.uri
        if offset is not None and offsetUri is not None:
            raise ToolFailure("Give offset or offsetUri, not both.")
        if (offset is not None or offsetUri is not None) and not body.get("context_uri", "").startswith(
            ("spotify:album:", "spotify:playlist:")
        ):
            raise ToolFailure("offset and offsetUri work only when playing an album or playlist (contextUri).")
        if offset is not None:
            body["offset"] = {"position": offset}
        if offsetUri is not None:
            body["offset"] = {"uri": parse_ref(offsetUri, ("track", "episode"), field="offsetUri").uri}
        if positionMs is not None:
            body["position_ms"] = positionMs
        return await command(ctx, "PUT", "/me/player/play", f"Playing {what}.", params=_device(deviceId), json=body)

    @kit.tool(
        "resumePlayback",
        title="Resume",
        description="Resume playback where it was paused, on the active device or a given one.",
        scopes=MODIFY,
        idempotent=True,
    )
    async def resume_playback(ctx: Context, deviceId: DeviceId = None) -> Annotated[CallToolResult, Done]:
        return await command(
            ctx,
            "PUT",
            "/me/player/play",
            "Playback resumed.",
            params=_device(deviceId),
            already=("NOT_PAUSED", "ALREADY_PLAYING"),
            already_message="Playback was already playing.",
        )

    @kit.tool(
        "pausePlayback",
        title="Pause",
        description="Pause playback on the active device or a given one.",
        scopes=MODIFY,
        idempotent=True,
    )
    async def pause_playback(ctx: Context, deviceId: DeviceId = None) -> Annotated[CallToolResult, Done]:
        return await command(
            ctx,
            "PUT",
            "/me/player/pause",
            "Playback paused.",
            params=_device(deviceId),
            already=("ALREADY_PAUSED",),
            already_message="Playback was already paused.",
        )

    @kit.tool("skipToNext", title="Next track", description="Skip to the next track.", scopes=MODIFY)
    async def skip_to_next(ctx: Context, deviceId: DeviceId = None) -> Annotated[CallToolResult, Done]:
        return await command(ctx, "POST", "/me/player/next", "Skipped to the next track.", params=_device(deviceId))

    @kit.tool("skipToPrevious", title="Previous track", description="Skip to the previous track.", scopes=MODIFY)
    async def skip_to_previous(ctx: Context, deviceId: DeviceId = None) -> Annotated[CallToolResult, Done]:
        return await command(
            ctx, "POST", "/me/player/previous", "Skipped to the previous track.", params=_device(deviceId)
        )

    @kit.tool(
        "seekToPosition",
        title="Seek",
        description="Jump to a position in the playing track.",
        scopes=MODIFY,
        idempotent=True,
    )
    async def seek_to_position(
        ctx: Context,
        positionMs: Annotated[int, Field(ge=0, le=24 * 3600 * 1000, description="Position in milliseconds")],
        deviceId: DeviceId = None,
    ) -> Annotated[CallToolResult, Done]:
        params = {"position_ms": positionMs, **_device(deviceId)}
        seconds = positionMs // 1000
        return await command(
            ctx, "PUT", "/me/player/seek", f"Moved to {seconds // 60}:{seconds % 60:02d}.", params=params
        )

    @kit.tool(
        "setVolume",
        title="Set volume",
        description="Set the playback volume (0-100) of the active device or a given one.",
        scopes=MODIFY,
        idempotent=True,
    )
    async def set_volume(
        ctx: Context,
        volumePercent: Annotated[int, Field(ge=0, le=100, description="Volume, 0 to 100")],
        deviceId: DeviceId = None,
    ) -> Annotated[CallToolResult, Done]:
        params = {"volume_percent": volumePercent, **_device(deviceId)}
        return await command(ctx, "PUT", "/me/player/volume", f"Volume set to {volumePercent}%.", params=params)

    @kit.tool(
        "setShuffle",
        title="Shuffle",
        description="Turn shuffle on or off.",
        scopes=MODIFY,
        idempotent=True,
    )
    async def set_shuffle(
        ctx: Context, state: Annotated[bool, Field(description="true for shuffle on")], deviceId: DeviceId = None
    ) -> Annotated[CallToolResult, Done]:
        params = {"state": "true" if state else "false", **_device(deviceId)}
        return await command(ctx, "PUT", "/me/player/shuffle", f"Shuffle {'on' if state else 'off'}.", params=params)

    @kit.tool(
        "setRepeat",
        title="Repeat",
        description="Set repeat: track (repeat this track), context (repeat the album/playlist) or off.",
        scopes=MODIFY,
        idempotent=True,
    )
    async def set_repeat(
        ctx: Context,
        state: Annotated[str, Field(pattern=r"^(track|context|off)$", description="track, context or off")],
        deviceId: DeviceId = None,
    ) -> Annotated[CallToolResult, Done]:
        params = {"state": state, **_device(deviceId)}
        return await command(ctx, "PUT", "/me/player/repeat", f"Repeat set to {state}.", params=params)

    @kit.tool(
        "transferPlayback",
        title="Transfer playback",
        description="Move playback to another device (IDs from getAvailableDevices).",
        scopes=MODIFY,
        idempotent=True,
    )
    async def transfer_playback(
        ctx: Context,
        deviceId: Annotated[str, Field(pattern=r"^[0-9A-Za-z_-]{1,128}$", description="The device to play on")],
        play: Annotated[bool, Field(description="true to start playing there; false keeps the current state")] = False,
    ) -> Annotated[CallToolResult, Done]:
        body = {"device_ids": [deviceId], "play": play}
        done = f"Playback moved to device {deviceId}" + (" and playing." if play else ".")
        return await command(ctx, "PUT", "/me/player", done, json=body)

    @kit.tool(
        "addToQueue",
        title="Add to queue",
        description="Add a track to the end of the user's queue.",
        scopes=MODIFY,
    )
    async def add_to_queue(
        ctx: Context,
        uri: Annotated[Uri, Field(description="Track URI (spotify:track:...), ID or link")],
        deviceId: DeviceId = None,
    ) -> Annotated[CallToolResult, Done]:
        ref = parse_ref(uri, ("track", "episode"), field="uri")
        params = {"uri": ref.uri, **_device(deviceId)}
        return await command(ctx, "POST", "/me/player/queue", f"Queued {ref.uri}.", params=params)

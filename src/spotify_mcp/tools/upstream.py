"""Calling Spotify from a tool: every failure becomes a message that tells the model what to do next."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from spotify_mcp.services import Runtime
from spotify_mcp.spotify.api import QUOTA_EXCEEDED
from spotify_mcp.spotify.errors import ReconnectRequired, SpotifyAPIError, SpotifyUnavailable
from spotify_mcp.tools.context import ToolFailure
from spotify_mcp.tools.formatting import device

NOT_REGISTERED_HINT = "not registered for this application"
RECONNECT_HINT = "Ask the user to reconnect this server to Spotify."
PLAYER_PATH = "/me/player"
PLAY_PATH = "/me/player/play"
PLAYLISTS_PATH = "/playlists/"
PLAYLIST_READ_REFUSED = (
    "Spotify shows a playlist's items only to its owner and collaborators, and this playlist belongs to someone "
    "else; playlists the user owns are listed by getUserPlaylists."
)
PLAYLIST_CHANGE_REFUSED = (
    "Spotify refused: only the playlist's owner can change it (collaborators may add, remove and reorder items "
    "of a collaborative one). Create the user's own playlist (createPlaylist) and add the tracks there instead."
)

PLAYER_ADVICE: dict[str, str] = {
    "PREMIUM_REQUIRED": "Controlling playback needs Spotify Premium, and this account is not Premium. "
    "Search, playlists, the library and listening history still work.",
    "NO_PREV_TRACK": "There is no previous track in what is playing.",
    "NO_NEXT_TRACK": "There is no next track in what is playing.",
    "NO_SPECIFIC_TRACK": "Spotify could not find that track to play; check the URI (search gives valid ones).",
    "NOT_PLAYING_LOCALLY": "Nothing is playing on this device; start playback first (startPlayback).",
    "NOT_PLAYING_TRACK": "No track is playing; start playback first (startPlayback).",
    "NOT_PLAYING_CONTEXT": "No album or playlist is playing; start one first (startPlayback with contextUri).",
    "ENDLESS_CONTEXT": "Shuffle is not possible on what is playing (a radio or endless mix).",
    "CONTEXT_DISALLOW": "What is playing does not allow this command right now.",
    "RATE_LIMITED": "Spotify refused: too many playback commands in a short time. Wait a few seconds and retry.",
    "REMOTE_CONTROL_DISALLOW": "What is playing cannot be controlled remotely.",
    "DEVICE_NOT_CONTROLLABLE": "This device cannot be controlled remotely; transfer playback to another device "
    "(getAvailableDevices lists them).",
    "VOLUME_CONTROL_DISALLOW": "This device does not let apps set its volume (common for phones and smart "
    "speakers); the user can change it on the device itself.",
}


@dataclass(frozen=True, slots=True)
class Reply:
    """A Spotify answer: its JSON (None when empty), or the tolerated player reason it carried."""

    data: Any
    status: int
    tolerated: str | None = None

    def object(self) -> dict[str, Any]:
        """The JSON body as an object ({} when empty or not an object)."""
        return self.data if isinstance(self.data, dict) else {}


async def call(
    runtime: Runtime,
    user_id: str,
    method: str,
    path: str,
    *,
    params: Mapping[str, str | int] | None = None,
    json: Any = None,
    tolerate: tuple[str, ...] = (),
    not_found: str | None = None,
    reconnect_hint: str = RECONNECT_HINT,
) -> Reply:
    """Send a Web API request for the user; ``tolerate`` lists player reasons that mean "already done".

    ``reconnect_hint`` tells the model how the user restores Spotify access once it has ended.
    """
    try:
        response = await runtime.services.spotify.request(user_id, method, path, params=params, json=json)
    except ReconnectRequired:
        raise ToolFailure(
            "Spotify access for this account has ended (revoked, or older than Spotify's 6-month limit). "
            + reconnect_hint
        ) from None
    except SpotifyUnavailable:
        raise ToolFailure("Spotify could not be reached just now; try again in a moment.") from None
    except SpotifyAPIError as exc:
        if exc.reason is not None and exc.reason in tolerate:
            return Reply(data=None, status=exc.status, tolerated=exc.reason)
        raise ToolFailure(await _advice(runtime, user_id, method, path, exc, not_found)) from None
    return Reply(data=response.data, status=response.status)


async def _advice(
    runtime: Runtime, user_id: str, method: str, path: str, exc: SpotifyAPIError, not_found: str | None
) -> str:
    if exc.reason == "NO_ACTIVE_DEVICE":
        return await _no_active_device(runtime, user_id, playing=path == PLAY_PATH)
    if exc.reason in PLAYER_ADVICE:
        return PLAYER_ADVICE[exc.reason]
    if exc.status == 429:
        if exc.reason == QUOTA_EXCEEDED:
            return (
                "This server's Spotify app has used up its Spotify request quota; Spotify does not say when it "
                "resets. Tell the user and try again later (possibly hours)."
            )
        wait = f"after {int(exc.retry_after) + 1} seconds" if exc.retry_after else "in a little while"
        return f"Spotify is rate-limiting requests; try again {wait}."
    if exc.status == 403 and NOT_REGISTERED_HINT in exc.message:
        return (
            "Spotify refused: this Spotify account is not on the app's user allow-list (development mode). "
            "The server operator must add the user in the Spotify developer dashboard."
        )
    if exc.status == 403 and "scope" in exc.message.lower():
        return "Spotify says this authorization lacks a permission for this; reconnect and approve the permissions."
    if exc.status == 404 and path.startswith(PLAYER_PATH) and "device" in exc.message.lower():
        return "Spotify has no device with that deviceId; getAvailableDevices lists the user's devices and their IDs."
    if exc.status == 404 and not_found:
        return not_found
    if exc.status == 403 and path.startswith(PLAYLISTS_PATH) and exc.reason is None:
        return PLAYLIST_READ_REFUSED if method == "GET" else PLAYLIST_CHANGE_REFUSED
    if exc.status == 400:
        return f"Spotify rejected the request: {exc.message}"
    if exc.status == 403:
        return f"Spotify refused this request: {exc.message}"
    return f"Spotify returned an error ({exc.status}): {exc.message}"


async def _no_active_device(runtime: Runtime, user_id: str, *, playing: bool) -> str:
    advice = "No Spotify device is active."
    try:
        listing = await runtime.services.spotify.request(user_id, "GET", "/me/player/devices")
    except (SpotifyAPIError, SpotifyUnavailable, ReconnectRequired):
        return (
            advice + " Ask the user to open Spotify on a device, or call getAvailableDevices and retry with a deviceId."
        )
    raw = listing.data.get("devices") if isinstance(listing.data, dict) else None
    devices = [device(d) for d in raw or [] if isinstance(d, dict) and d.get("id")]
    if not devices:
        return (
            advice
            + " No device is available: ask the user to open Spotify on a phone, computer or speaker, then retry."
        )
    choices = "; ".join(f"{d.name} [{d.type}] deviceId={d.id}" for d in devices)
    retry = (
        "Retry with deviceId set to one (or ask the user which)."
        if playing
        else "Start playback on one first (transferPlayback with play=true, or startPlayback with deviceId), "
        "then retry."
    )
    return f"{advice} Available devices: {choices}. {retry}"

"""Commanding the player (Premium only): play, pause, skip, seek, volume, shuffle, repeat, transfer, queue.

Every command answers 204 without a body. Player failures carry a ``reason`` (``NO_ACTIVE_DEVICE``,
``PREMIUM_REQUIRED``, ``ALREADY_PAUSED``…); the ones Spotify calls restrictions share its message
"Player command failed: Restriction violated".
"""

from __future__ import annotations

import json
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from spotify_mcp.emulator.api.common import ApiError, Session, authenticate
from spotify_mcp.emulator.model import Device, is_spotify_id
from spotify_mcp.emulator.playback import REPEAT_STATES, Durations, Playback
from spotify_mcp.emulator.world import World

MODIFY = "user-modify-playback-state"
RESTRICTED = "Player command failed: Restriction violated"
MALFORMED = "Malformed json"
CONTEXT_KINDS = ("album", "artist", "playlist", "show")
NOT_CONTEXTS = ("track", "episode", "user", "audiobook", "chapter")
MAX_POSITION_MS = 2**31 - 1
NO_CONTENT = 204


def _no_active_device() -> ApiError:
    return ApiError(404, "Player command failed: No active device found", "NO_ACTIVE_DEVICE")


def _commander(request: Request) -> Session:
    session = authenticate(request, MODIFY)
    if session.user.product != "premium":
        raise ApiError(403, "Player command failed: Premium required", "PREMIUM_REQUIRED")
    return session


def _durations(world: World) -> Durations:
    return lambda track_id: world.tracks[track_id].duration_ms


def _device(session: Session, device_id: str) -> Device:
    device = next((d for d in session.world.devices.get(session.user.id, []) if d.id == device_id), None)
    if device is None:
        raise ApiError(404, "Device not found")
    if device.is_restricted:
        raise ApiError(403, RESTRICTED, "DEVICE_NOT_CONTROLLABLE")
    return device


def _controlled(request: Request, session: Session) -> tuple[Playback, Device]:
    """The playback a command acts on, and its device: the active one, which ``device_id`` may name."""
    device_id = request.query_params.get("device_id")
    if device_id is not None:
        _device(session, device_id)
    playback = session.world.current_playback(session.user.id)
    if playback is None or device_id not in (None, playback.device_id):
        raise _no_active_device()
    return playback, _device(session, playback.device_id)


def _activate(session: Session, playback: Playback | None, device: Device) -> None:
    world, user_id = session.world, session.user.id
    for each in world.devices[user_id]:
        each.is_active = each.id == device.id
    if playback is not None:
        playback.device_id = device.id
        world.playback[user_id] = playback


def _required(request: Request, name: str) -> str:
    value = request.query_params.get(name)
    if not value:
        raise ApiError(400, f"Required parameter {name} missing")
    return value


def _required_int(request: Request, name: str, high: int) -> int:
    try:
        value = int(_required(request, name))
    except ValueError:
        raise ApiError(400, f"Invalid {name}") from None
    if not 0 <= value <= high:
        raise ApiError(400, f"Invalid {name}")
    return value


async def _json_object(request: Request) -> dict[str, Any]:
    raw = await request.body()
    if not raw.strip():
        return {}
    try:
        body = json.loads(raw)
    except ValueError:
        raise ApiError(400, MALFORMED) from None
    if not isinstance(body, dict):
        raise ApiError(400, MALFORMED)
    return body


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _track_id(world: World, uri: str) -> str:
    """The id of a catalog track's URI; anything else (the emulator has no episodes) is 400."""
    kind, _, id_ = uri.removeprefix("spotify:").partition(":")
    if uri.startswith("spotify:") and kind == "track" and id_ in world.tracks:
        return id_
    raise ApiError(400, f"Invalid track uri: {uri}")


def _tracks_of(world: World, user_id: str, kind: str, id_: str) -> list[str] | None:
    """The tracks of an album, artist or (visible) playlist in context order; None if there is no such context."""
    if kind == "album" and id_ in world.albums:
        return list(world.albums[id_].track_ids)
    if kind == "artist" and id_ in world.artists:
        return [t for album in world.albums.values() if id_ in album.artist_ids for t in album.track_ids]
    playlist = world.playlists.get(id_) if kind == "playlist" else None
    if playlist is not None and (playlist.public or playlist.can_read_items(user_id)):
        return [entry.track_id for entry in playlist.entries]
    return None


def _context_tracks(session: Session, context_uri: str) -> list[str]:
    parts = context_uri.split(":")
    if len(parts) != 3 or parts[0] != "spotify":
        raise ApiError(400, "Invalid context uri")
    _, kind, id_ = parts
    if kind in NOT_CONTEXTS:
        raise ApiError(400, "Non supported context uri")
    tracks = None
    if kind in CONTEXT_KINDS and is_spotify_id(id_):
        tracks = _tracks_of(session.world, session.user.id, kind, id_)
    if tracks is None:
        raise ApiError(400, "Invalid context uri")
    if not tracks:
        raise ApiError(403, RESTRICTED, "UNKNOWN")
    return tracks


def _start_index(offset: object, context_uri: str | None, track_ids: list[str]) -> int:
    if offset is None:
        return 0
    if not isinstance(offset, dict):
        raise ApiError(400, MALFORMED)
    if context_uri is not None and context_uri.split(":")[1] not in ("album", "playlist"):
        raise ApiError(400, f"Can't have offset for context type: {context_uri.split(':')[1].upper()}")
    if "position" in offset:
        position = offset["position"]
        if not _is_int(position):
            raise ApiError(400, MALFORMED)
        if not 0 <= position < len(track_ids):
            raise ApiError(400, "position out of range")
        return int(position)
    uri = offset.get("uri")
    if not isinstance(uri, str):
        raise ApiError(400, MALFORMED)
    for index, track_id in enumerate(track_ids):
        if uri == f"spotify:track:{track_id}":
            return index
    raise ApiError(403, RESTRICTED, "NO_SPECIFIC_TRACK")


def _from_history(session: Session, device: Device, now: float, *, playing: bool) -> Playback | None:
    """What the user last listened to, loaded again (for waking an idle device); None with no history."""
    history = session.world.history.get(session.user.id, [])
    if not history:
        return None
    last = history[0]
    _, kind, id_ = last.context_uri.split(":")
    tracks = _tracks_of(session.world, session.user.id, kind, id_) or []
    if last.track_id not in tracks:
        return Playback(device.id, None, [last.track_id], 0, 0, playing, now, now)
    return Playback(device.id, last.context_uri, tracks, tracks.index(last.track_id), 0, playing, now, now)


def _requested(session: Session, body: dict[str, Any]) -> tuple[list[str] | None, int, int | None]:
    """What a play request asks for: the tracks to play (None to resume), where to start, and ``position_ms``."""
    context_uri, uris, position_ms = body.get("context_uri"), body.get("uris"), body.get("position_ms")
    if context_uri is not None and not isinstance(context_uri, str):
        raise ApiError(400, MALFORMED)
    if uris is not None and not (isinstance(uris, list) and all(isinstance(u, str) for u in uris)):
        raise ApiError(400, MALFORMED)
    if position_ms is not None and not _is_int(position_ms):
        raise ApiError(400, MALFORMED)
    if position_ms is not None and position_ms < 0:
        raise ApiError(400, "Invalid position_ms")
    if context_uri is not None and uris is not None:
        raise ApiError(400, "Only one of context_uri and uris can be given")
    if context_uri is not None:
        tracks = _context_tracks(session, context_uri)
    elif uris is not None:
        if not uris:
            raise ApiError(400, "Invalid uris")
        tracks = [_track_id(session.world, uri) for uri in uris]
    else:
        return None, 0, position_ms
    return tracks, _start_index(body.get("offset"), context_uri, tracks), position_ms


async def play(request: Request) -> Response:
    """``PUT /me/player/play``: start a context or track list (``offset``, ``position_ms``), or resume."""
    session = _commander(request)
    body = await _json_object(request)
    tracks, index, position_ms = _requested(session, body)
    world = session.world
    playback = world.current_playback(session.user.id)
    device_id = request.query_params.get("device_id")
    if device_id is not None:
        device = _device(session, device_id)
    elif playback is None:
        raise _no_active_device()
    else:
        device = _device(session, playback.device_id)
    now, durations = world.clock.now(), _durations(world)
    if tracks is not None:
        context_uri = body.get("context_uri")
        fresh = Playback(device.id, context_uri, tracks, index, 0, True, now, now)
        if playback is not None:
            fresh.repeat, fresh.queue = playback.repeat, playback.queue
            fresh.set_shuffle(playback.shuffle, f"{context_uri}:{now}")
        playback = fresh
    elif playback is None:
        playback = _from_history(session, device, now, playing=True)
        if playback is None:
            raise ApiError(403, RESTRICTED, "UNKNOWN")
    elif playback.is_playing and playback.device_id == device.id and position_ms is None:
        raise ApiError(403, RESTRICTED, "NOT_PAUSED")
    else:
        playback.resume(now, durations)
    if position_ms is not None:
        playback.seek(now, position_ms, durations)
    _activate(session, playback, device)
    return Response(status_code=NO_CONTENT)


async def transfer(request: Request) -> Response:
    """``PUT /me/player``: move playback to the one device in ``device_ids``; ``play`` makes it play there."""
    session = _commander(request)
    body = await _json_object(request)
    device_ids, play_there = body.get("device_ids"), body.get("play")
    if not device_ids:
        raise ApiError(400, "Required field device_ids missing")
    if not (isinstance(device_ids, list) and all(isinstance(d, str) for d in device_ids)):
        raise ApiError(400, MALFORMED)
    if play_there is not None and not isinstance(play_there, bool):
        raise ApiError(400, MALFORMED)
    if len(device_ids) > 1:
        raise ApiError(400, "Only one device id is supported")
    device = _device(session, device_ids[0])
    world = session.world
    playback = world.current_playback(session.user.id)
    now = world.clock.now()
    if playback is None:
        playback = _from_history(session, device, now, playing=bool(play_there))
    elif play_there and not playback.is_playing:
        playback.resume(now, _durations(world))
    _activate(session, playback, device)
    return Response(status_code=NO_CONTENT)


async def pause(request: Request) -> Response:
    """``PUT /me/player/pause``: 403 ``ALREADY_PAUSED`` when nothing is playing."""
    session = _commander(request)
    playback, _ = _controlled(request, session)
    if not playback.is_playing:
        raise ApiError(403, RESTRICTED, "ALREADY_PAUSED")
    playback.pause(session.world.clock.now())
    return Response(status_code=NO_CONTENT)


async def skip_next(request: Request) -> Response:
    """``POST /me/player/next``: the queue first, then the context; 403 ``NO_NEXT_TRACK`` at its end."""
    session = _commander(request)
    playback, _ = _controlled(request, session)
    if not playback.skip_next(session.world.clock.now()):
        raise ApiError(403, RESTRICTED, "NO_NEXT_TRACK")
    return Response(status_code=NO_CONTENT)


async def skip_previous(request: Request) -> Response:
    """``POST /me/player/previous``: 403 ``NO_PREV_TRACK`` at the start of the context."""
    session = _commander(request)
    playback, _ = _controlled(request, session)
    if not playback.skip_previous(session.world.clock.now()):
        raise ApiError(403, RESTRICTED, "NO_PREV_TRACK")
    return Response(status_code=NO_CONTENT)


async def seek(request: Request) -> Response:
    """``PUT /me/player/seek?position_ms=``: past the end of the track means the next one."""
    session = _commander(request)
    position_ms = _required_int(request, "position_ms", MAX_POSITION_MS)
    playback, _ = _controlled(request, session)
    playback.seek(session.world.clock.now(), position_ms, _durations(session.world))
    return Response(status_code=NO_CONTENT)


async def volume(request: Request) -> Response:
    """``PUT /me/player/volume?volume_percent=``: 403 ``VOLUME_CONTROL_DISALLOW`` on devices without volume."""
    session = _commander(request)
    volume_percent = _required_int(request, "volume_percent", 100)
    _, device = _controlled(request, session)
    if device.volume is None:
        raise ApiError(403, "Player command failed: Cannot control device volume", "VOLUME_CONTROL_DISALLOW")
    device.volume = volume_percent
    return Response(status_code=NO_CONTENT)


async def shuffle(request: Request) -> Response:
    """``PUT /me/player/shuffle?state=true|false``."""
    session = _commander(request)
    state = _required(request, "state")
    if state not in ("true", "false"):
        raise ApiError(400, "Invalid state")
    playback, _ = _controlled(request, session)
    now = session.world.clock.now()
    playback.set_shuffle(state == "true", f"{playback.context_uri}:{now}")
    return Response(status_code=NO_CONTENT)


async def repeat(request: Request) -> Response:
    """``PUT /me/player/repeat?state=track|context|off``."""
    session = _commander(request)
    state = _required(request, "state")
    if state not in REPEAT_STATES:
        raise ApiError(400, "Parameter state must be one of the following: track, context, off")
    playback, _ = _controlled(request, session)
    playback.repeat = state
    return Response(status_code=NO_CONTENT)


async def add_to_queue(request: Request) -> Response:
    """``POST /me/player/queue?uri=``: the track plays after the ones queued before it, then the context goes on."""
    session = _commander(request)
    track_id = _track_id(session.world, _required(request, "uri"))
    playback, _ = _controlled(request, session)
    playback.queue.append(track_id)
    return Response(status_code=NO_CONTENT)


routes = [
    Route("/me/player", transfer, methods=["PUT"]),
    Route("/me/player/play", play, methods=["PUT"]),
    Route("/me/player/pause", pause, methods=["PUT"]),
    Route("/me/player/next", skip_next, methods=["POST"]),
    Route("/me/player/previous", skip_previous, methods=["POST"]),
    Route("/me/player/seek", seek, methods=["PUT"]),
    Route("/me/player/volume", volume, methods=["PUT"]),
    Route("/me/player/shuffle", shuffle, methods=["PUT"]),
    Route("/me/player/repeat", repeat, methods=["PUT"]),
    Route("/me/player/queue", add_to_queue, methods=["POST"]),
]

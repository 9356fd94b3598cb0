"""Reading the player: playback state, currently playing, the queue, devices, recently played."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from spotify_mcp.emulator.api.common import ApiError, Session, authenticate, int_param
from spotify_mcp.emulator.playback import Playback

READ_STATE = "user-read-playback-state"
READ_CURRENT = "user-read-currently-playing"
READ_RECENT = "user-read-recently-played"
QUEUE_LOOKAHEAD = 20


def _disallows(playback: Playback) -> dict[str, bool]:
    disallows = {"pausing": True} if not playback.is_playing else {"resuming": True}
    if not playback.has_previous:
        disallows["skipping_prev"] = True
    return disallows


def _state(session: Session, playback: Playback) -> dict[str, Any]:
    render = session.render
    return {
        "timestamp": int(playback.changed_at * 1000),
        "context": render.context(playback.context_uri) if playback.context_uri else None,
        "progress_ms": playback.progress_ms,
        "item": render.track(session.world.tracks[playback.track_id]),
        "currently_playing_type": "track",
        "actions": {"disallows": _disallows(playback)},
        "is_playing": playback.is_playing,
    }


async def playback_state(request: Request) -> Response:
    """``GET /me/player``: 200 with the state and device, or 204 when no device is active."""
    session = authenticate(request, READ_STATE)
    playback = session.world.current_playback(session.user.id)
    if playback is None:
        return Response(status_code=204)
    device = next(d for d in session.world.devices[session.user.id] if d.id == playback.device_id)
    state = {
        "device": session.render.device(device),
        "shuffle_state": playback.shuffle,
        "repeat_state": playback.repeat,
        **_state(session, playback),
    }
    return JSONResponse(state)


async def currently_playing(request: Request) -> Response:
    """``GET /me/player/currently-playing``: like the state without device, shuffle and repeat; or 204."""
    session = authenticate(request)
    if not session.scopes & {READ_CURRENT, READ_STATE}:
        raise ApiError(403, "Insufficient client scope")
    playback = session.world.current_playback(session.user.id)
    if playback is None:
        return Response(status_code=204)
    return JSONResponse(_state(session, playback))


async def queue(request: Request) -> JSONResponse:
    """``GET /me/player/queue``: the current track and what follows (queued tracks, then the context)."""
    session = authenticate(request, READ_CURRENT, READ_STATE)
    world, render = session.world, session.render
    playback = world.current_playback(session.user.id)
    if playback is None:
        return JSONResponse({"currently_playing": None, "queue": []})
    upcoming = [render.track(world.tracks[t]) for t in playback.upcoming(QUEUE_LOOKAHEAD)]
    return JSONResponse({"currently_playing": render.track(world.tracks[playback.track_id]), "queue": upcoming})


async def devices(request: Request) -> JSONResponse:
    """``GET /me/player/devices``."""
    session = authenticate(request, READ_STATE)
    return JSONResponse({"devices": [session.render.device(d) for d in session.world.devices[session.user.id]]})


async def recently_played(request: Request) -> JSONResponse:
    """``GET /me/player/recently-played``: newest first, cursor-paged by ``before`` or ``after`` (Unix ms)."""
    session = authenticate(request, READ_RECENT)
    limit = int_param(request, "limit", 20, 1, 50)
    after = request.query_params.get("after")
    before = request.query_params.get("before")
    if after is not None and before is not None:
        raise ApiError(400, "Only one of after or before can be specified")
    plays = session.world.history.get(session.user.id, [])
    try:
        if before is not None:
            plays = [p for p in plays if p.played_at_ms < int(before)][:limit]
        elif after is not None:
            plays = [p for p in plays if p.played_at_ms > int(after)][-limit:]
        else:
            plays = plays[:limit]
    except ValueError:
        raise ApiError(400, "Invalid cursor") from None
    base = f"{session.render.api_base}/me/player/recently-played"
    query = [(name, value) for name, value in (("before", before), ("after", after)) if value is not None]
    history = session.world.history.get(session.user.id, [])
    older = bool(plays) and any(p.played_at_ms < plays[-1].played_at_ms for p in history)
    cursors = None
    if plays:
        cursors = {"after": str(plays[0].played_at_ms), "before": str(plays[-1].played_at_ms)}
    return JSONResponse(
        {
            "href": f"{base}?{urlencode([*query, ('limit', str(limit))])}",
            "items": [session.render.play(p) for p in plays],
            "limit": limit,
            "next": f"{base}?{urlencode([('before', cursors['before']), ('limit', str(limit))])}"
            if cursors and older
            else None,
            "cursors": cursors,
        }
    )


routes = [
    Route("/me/player", playback_state, methods=["GET"]),
    Route("/me/player/currently-playing", currently_playing, methods=["GET"]),
    Route("/me/player/queue", queue, methods=["GET"]),
    Route("/me/player/devices", devices, methods=["GET"]),
    Route("/me/player/recently-played", recently_played, methods=["GET"]),
]

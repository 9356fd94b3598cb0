"""``GET /v1/me``: the current user's profile."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from spotify_mcp.emulator.api.common import authenticate


async def me(request: Request) -> JSONResponse:
    """The signed-in user's PrivateUserObject; no scope needed for what dev mode still returns."""
    session = authenticate(request)
    return JSONResponse(session.render.private_user(session.user))


routes = [Route("/me", me, methods=["GET"])]

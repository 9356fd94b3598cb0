"""``create_emulator_app``: the accounts service at the root, the Web API under ``/v1``, in one app."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Mount

from spotify_mcp.clock import Clock, SystemClock
from spotify_mcp.emulator import accounts, api
from spotify_mcp.emulator.api.common import ApiError
from spotify_mcp.emulator.config import EmulatorConfig
from spotify_mcp.emulator.etags import ETagMiddleware
from spotify_mcp.emulator.faults import WorldMiddleware
from spotify_mcp.emulator.world import World


async def _api_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ApiError)
    return exc.response()


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    if request.url.path.startswith("/v1"):
        message = "Service not found" if exc.status_code == 404 else str(exc.detail)
        return ApiError(exc.status_code, message).response()
    return PlainTextResponse(str(exc.detail), status_code=exc.status_code)


def create_emulator_app(config: EmulatorConfig, clock: Clock | None = None) -> Starlette:
    """The emulator as an ASGI app; its ``World`` (data, counters, fault injection) is ``app.state.world``."""
    world = World(clock or SystemClock(), allow_listed_users=config.allow_listed_users)
    app = Starlette(
        routes=[*accounts.routes, Mount("/v1", routes=api.routes)],
        middleware=[Middleware(WorldMiddleware, world=world), Middleware(ETagMiddleware)],
        exception_handlers={ApiError: _api_error, HTTPException: _http_error},
    )
    app.state.config = config
    app.state.world = world
    return app

"""What every Web API endpoint shares: Spotify's error object, bearer auth, parameters and paging."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar, cast
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import JSONResponse

from spotify_mcp.emulator.model import User
from spotify_mcp.emulator.objects import Renderer
from spotify_mcp.emulator.world import World

NOT_REGISTERED = (
    "The user is not registered for this application. "
    "Please check your settings on https://developer.spotify.com/dashboard."
)
MARKET = re.compile(r"[A-Z]{2}|from_token")
T = TypeVar("T")


class ApiError(Exception):
    """An error answered with Spotify's ``{"error": {"status", "message", "reason"?}}`` object."""

    def __init__(self, status: int, message: str, reason: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.reason = reason

    def response(self) -> JSONResponse:
        """The JSON error response."""
        error: dict[str, Any] = {"status": self.status, "message": self.message}
        if self.reason is not None:
            error["reason"] = self.reason
        return JSONResponse({"error": error}, status_code=self.status)


def world_of(request: Request) -> World:
    """The world the app serves."""
    return cast(World, request.app.state.world)


def api_base(request: Request) -> str:
    """The Web API's base URL as the client reached it, e.g. ``http://host:port/v1``."""
    return str(request.base_url).rstrip("/") + "/v1"


@dataclass(frozen=True)
class Session:
    """The authenticated caller: the user, the token's scopes, and a renderer for this request."""

    user: User
    scopes: frozenset[str]
    world: World
    render: Renderer


def authenticate(request: Request, *required_scopes: str) -> Session:
    """Check the bearer token, the allow-list and the scopes, in Spotify's order."""
    world = world_of(request)
    header = request.headers.get("authorization")
    if not header:
        raise ApiError(401, "No token provided")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise ApiError(400, "Only valid bearer authentication supported")
    access = world.access_tokens.get(token.strip())
    if access is None or access.grant.revoked:
        raise ApiError(401, "Invalid access token")
    if world.clock.now() >= access.expires_at:
        raise ApiError(401, "The access token expired")
    user = world.users[access.grant.user_id]
    if user.id not in world.allow_listed_users:
        raise ApiError(403, NOT_REGISTERED)
    scopes = frozenset(access.grant.scopes)
    if any(scope not in scopes for scope in required_scopes):
        raise ApiError(403, "Insufficient client scope")
    market = request.query_params.get("market")
    if market is not None and not MARKET.fullmatch(market):
        raise ApiError(400, "Invalid market code")
    return Session(user, scopes, world, Renderer(world, api_base(request), market))


def int_param(request: Request, name: str, default: int, low: int, high: int) -> int:
    """An integer query parameter within ``[low, high]``; anything else is 400 ``Invalid <name>``."""
    raw = request.query_params.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ApiError(400, f"Invalid {name}") from None
    if not low <= value <= high:
        raise ApiError(400, f"Invalid {name}")
    return value


def page_url(base: str, params: Sequence[tuple[str, str]], offset: int, limit: int) -> str:
    """A paging link: the query's own parameters, then ``offset`` and ``limit``."""
    return f"{base}?{urlencode([*params, ('offset', str(offset)), ('limit', str(limit))])}"


def paging(
    base: str,
    params: Sequence[tuple[str, str]],
    items: Sequence[T],
    render: Callable[[T], Any],
    *,
    offset: int,
    limit: int,
    max_end: int | None = None,
) -> dict[str, Any]:
    """A Paging object over ``items`` (all matches), rendering the page's; ``max_end`` caps ``next``."""
    total = len(items)
    next_offset = offset + limit
    has_next = limit > 0 and next_offset < total and (max_end is None or next_offset + limit <= max_end)
    return {
        "href": page_url(base, params, offset, limit),
        "items": [render(item) for item in items[offset : offset + limit]],
        "limit": limit,
        "next": page_url(base, params, next_offset, limit) if has_next else None,
        "offset": offset,
        "previous": page_url(base, params, max(0, offset - limit), limit) if offset > 0 else None,
        "total": total,
    }


def kept_params(request: Request, *names: str) -> list[tuple[str, str]]:
    """The request's query parameters among ``names``, for paging links."""
    return [(name, request.query_params[name]) for name in names if name in request.query_params]

"""Fixtures: an emulator on a manual clock, an in-process client, and signed-in users."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx2
import pytest
from starlette.applications import Starlette

from spotify_mcp.clock import ManualClock
from spotify_mcp.emulator import EmulatorConfig, World, create_emulator_app
from tests.emulator.flow import CLIENT_ID, CLIENT_SECRET, REDIRECT_URI, bearer, sign_in


@pytest.fixture
def config() -> EmulatorConfig:
    """The emulated app registration."""
    return EmulatorConfig(client_id=CLIENT_ID, client_secret=CLIENT_SECRET, redirect_uris=[REDIRECT_URI])


@pytest.fixture
def app(config: EmulatorConfig, clock: ManualClock) -> Starlette:
    """The emulator."""
    return create_emulator_app(config, clock=clock)


@pytest.fixture
def world(app: Starlette) -> World:
    """The emulator's world."""
    world: World = app.state.world
    return world


@pytest.fixture
async def client(app: Starlette) -> AsyncIterator[httpx2.AsyncClient]:
    """An in-process HTTP client for the emulator."""
    transport = httpx2.ASGITransport(app=app)
    async with httpx2.AsyncClient(transport=transport, base_url="http://emulator") as client:
        yield client


@pytest.fixture
async def premium(client: httpx2.AsyncClient) -> dict[str, str]:
    """Authorization headers of the Premium test user, signed in with every read scope."""
    tokens = await sign_in(client)
    return bearer(tokens["access_token"])


@pytest.fixture
async def free(client: httpx2.AsyncClient) -> dict[str, str]:
    """Authorization headers of the Free test user."""
    tokens = await sign_in(client, user="free-user")
    return bearer(tokens["access_token"])

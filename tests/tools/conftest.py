"""Fixtures for tool tests: a signed-in MCP client on the in-process server and emulator."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx2
import pytest
from mcp.client import Client
from mcp.client.streamable_http import streamable_http_client
from mcp.types import CallToolResult, TextContent

from spotify_mcp.clock import ManualClock
from tests.support import PUBLIC, Harness, harness


@pytest.fixture
def clock() -> ManualClock:
    """A clock the test moves by hand."""
    return ManualClock()


@pytest.fixture
async def h(tmp_path: Path, clock: ManualClock) -> AsyncIterator[Harness]:
    """A running server wired to the emulator."""
    async with harness(tmp_path, clock=clock) as running:
        yield running


@asynccontextmanager
async def connect(h: Harness, access_token: str) -> AsyncIterator[Client]:
    """An MCP client speaking to the in-process server with ``access_token``."""
    mounts = {PUBLIC: httpx2.ASGITransport(app=h.app)}
    headers = {"Authorization": f"Bearer {access_token}"}
    async with (
        httpx2.AsyncClient(mounts=mounts, headers=headers) as http,
        Client(streamable_http_client(f"{PUBLIC}/mcp", http_client=http)) as client,
    ):
        yield client


@pytest.fixture
async def mcp(h: Harness) -> AsyncIterator[Client]:
    """An MCP client signed in as the Premium user with every default scope."""
    tokens = await h.tokens((await h.register())["client_id"])
    async with connect(h, tokens["access_token"]) as client:
        yield client


Call = Callable[..., Awaitable[CallToolResult]]


@pytest.fixture
def call(mcp: Client) -> Call:
    """Call a tool and return its result (success or error)."""

    async def run(tool: str, /, **arguments: Any) -> CallToolResult:
        return await mcp.call_tool(tool, arguments)

    return run


def text(result: CallToolResult) -> str:
    """The text content of a tool result."""
    return "\n".join(c.text for c in result.content if isinstance(c, TextContent))


def data(result: CallToolResult) -> dict[str, Any]:
    """The structured content of a successful tool result."""
    assert not result.is_error, text(result)
    assert result.structured_content is not None
    return result.structured_content

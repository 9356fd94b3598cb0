"""Fixtures for tool tests: a signed-in MCP client on the in-process server and emulator."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
from mcp.client import Client
from mcp.types import CallToolResult, TextContent

from tests.support import Harness
from tests.support import mcp_client as connect


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

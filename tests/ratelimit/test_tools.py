"""The per-user limit on MCP posts (``tools``): keyed by the signed-in Spotify user, not by token or address."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx2
import pytest
from mcp.shared.exceptions import MCPError

from spotify_mcp.clock import ManualClock
from tests.support import PUBLIC, Harness, harness

from .conftest import browser, mcp_session, register, sign_in

pytestmark = pytest.mark.anyio

LIMIT = 5
INITIALIZE = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}},
}


@pytest.fixture
async def h(tmp_path: Path, clock: ManualClock) -> AsyncIterator[Harness]:
    """A server allowing each user five MCP posts a minute (the OAuth endpoints keep their defaults)."""
    async with harness(tmp_path, clock=clock, rate_limits=f"tools={LIMIT}/60") as running:
        yield running


async def post(http: httpx2.AsyncClient, token: str, path: str = "/mcp") -> httpx2.Response:
    """POST an MCP initialize request with ``token``."""
    headers = {"Authorization": f"Bearer {token}", "Accept": "application/json, text/event-stream"}
    return await http.post(f"{PUBLIC}{path}", json=INITIALIZE, headers=headers)


async def token_for(h: Harness, user: str, address: str = "127.0.0.1") -> str:
    """Register a client from ``address`` and sign in there as ``user``; return the access token."""
    async with browser(h, address) as http:
        access: str = (await sign_in(http, await register(http), user))["access_token"]
    return access


async def test_a_user_past_the_limit_gets_429_until_the_next_window(h: Harness, clock: ManualClock) -> None:
    premium, free = await token_for(h, "premium-user"), await token_for(h, "free-user")
    async with browser(h) as http:
        for _ in range(LIMIT):
            assert (await post(http, premium)).status_code == 200
        refused = await post(http, premium)
        assert refused.status_code == 429
        assert refused.headers["retry-after"] == "60"
        assert refused.headers["cache-control"] == "no-store"
        assert refused.headers["content-type"] == "application/json"
        assert refused.json() == {
            "error": "rate_limited",
            "error_description": "too many requests; retry after 60 seconds",
        }
        # The same address, another user: not limited.
        assert (await post(http, free)).status_code == 200
        clock.advance(60)
        assert (await post(http, premium)).status_code == 200


async def test_the_limit_follows_the_user_across_tokens_clients_and_addresses(h: Harness) -> None:
    first = await token_for(h, "premium-user", "192.0.2.1")
    second = await token_for(h, "premium-user", "198.51.100.1")
    async with browser(h, "192.0.2.1") as here, browser(h, "198.51.100.1") as there:
        for i in range(LIMIT):
            assert (await post(here if i % 2 else there, first if i % 2 else second)).status_code == 200
        assert (await post(there, second)).status_code == 429
        assert (await post(here, first)).status_code == 429


async def test_requests_without_a_valid_bearer_are_refused_before_being_counted(h: Harness) -> None:
    token = await token_for(h, "premium-user")
    async with browser(h) as http:
        for _ in range(LIMIT * 2):
            assert (await post(http, "smcp_at_not-a-real-token")).status_code == 401
        for _ in range(LIMIT):
            assert (await post(http, token)).status_code == 200


async def test_legacy_sse_message_posts_share_the_users_count(h: Harness) -> None:
    token = await token_for(h, "premium-user")
    async with browser(h) as http:
        messages = await post(http, token, "/messages/?session_id=" + "0" * 32)
        assert messages.status_code != 429
        for _ in range(LIMIT - 1):
            assert (await post(http, token)).status_code == 200
        assert (await post(http, token, "/messages/?session_id=" + "0" * 32)).status_code == 429


async def test_only_posts_are_counted(h: Harness) -> None:
    token = await token_for(h, "premium-user")
    headers = {"Authorization": f"Bearer {token}", "Mcp-Session-Id": "unknown-session"}
    async with browser(h) as http:
        for _ in range(LIMIT):
            assert (await post(http, token)).status_code == 200
        assert (await post(http, token)).status_code == 429
        assert (await http.delete(f"{PUBLIC}/mcp", headers=headers)).status_code != 429
        preflight = await http.options(
            f"{PUBLIC}/mcp", headers={"Origin": "https://app.example", "Access-Control-Request-Method": "POST"}
        )
        assert preflight.status_code == 200


async def test_an_mcp_client_sees_the_limit_and_carries_on_in_the_next_window(h: Harness, clock: ManualClock) -> None:
    token = await token_for(h, "premium-user")
    async with mcp_session(h, token) as client:  # initialize + the initialized notification: two posts
        for _ in range(LIMIT - 2):
            assert not (await client.call_tool("getCurrentUserProfile", {})).is_error
        with pytest.raises(MCPError, match="error response"):  # the SDK's words for an HTTP error
            await client.call_tool("getCurrentUserProfile", {})
        clock.advance(60)
        assert not (await client.call_tool("getCurrentUserProfile", {})).is_error

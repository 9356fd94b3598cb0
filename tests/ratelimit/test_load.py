"""A bounded load test at the default limits: legitimate traffic is never rate limited.

Six people at four addresses (two share a household NAT, two an office, one is on IPv6, one connects
through a trusted reverse proxy) each register a client, sign in, open an MCP session, call tools, refresh,
sign in again and revoke, all at once and all inside one rate-limit window (the clock does not move), the
worst case for fixed windows. That is well over 200 requests to the server, in-process; not one may be
answered 429 (or 5xx). It bounds the defaults from below; it is not a benchmark.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import anyio
import httpx2
import pytest
from mcp.client import Client
from mcp.client.streamable_http import streamable_http_client
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from spotify_mcp.clock import ManualClock
from tests.support import EMULATOR, PUBLIC, harness

from .conftest import register, sign_in

pytestmark = pytest.mark.anyio

PEOPLE = [
    ("192.0.2.1", {}, "premium-user"),
    ("192.0.2.1", {}, "free-user"),
    ("198.51.100.7", {}, "premium-user"),
    ("198.51.100.7", {}, "free-user"),
    ("2001:db8:42::17", {}, "premium-user"),
    ("10.0.0.2", {"X-Forwarded-For": "203.0.113.80"}, "free-user"),
]
"""(the address the server sees, extra headers, the Spotify user who signs in) per person."""
TOOL_CALLS = 20
REFRESHES = 3


class Recorder:
    """ASGI wrapper that records the status of every response the server sends, by path."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.statuses: list[tuple[str, int]] = []

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Pass the request on, noting the status it is answered with."""

        async def noting(message: Message) -> None:
            if message["type"] == "http.response.start":
                self.statuses.append((scope["path"], message["status"]))
            await send(message)

        await self.app(scope, receive, noting)


async def person(recorder: Recorder, emulator: ASGIApp, address: str, headers: dict[str, str], user: str) -> None:
    """One person's whole session with the server, as a browser, an MCP client and an OAuth client."""
    mounts = {
        PUBLIC: httpx2.ASGITransport(app=recorder, client=(address, 40000)),
        EMULATOR: httpx2.ASGITransport(app=emulator),
    }
    async with httpx2.AsyncClient(mounts=mounts, headers=headers) as http:
        client_id = await register(http)
        tokens: dict[str, Any] = await sign_in(http, client_id, user)
        bearer = {**headers, "Authorization": f"Bearer {tokens['access_token']}"}
        async with (
            httpx2.AsyncClient(mounts=mounts, headers=bearer) as mcp_http,
            Client(streamable_http_client(f"{PUBLIC}/mcp", http_client=mcp_http)) as mcp,
        ):
            await mcp.list_tools()
            for _ in range(TOOL_CALLS):
                assert not (await mcp.call_tool("getCurrentUserProfile", {})).is_error
        for _ in range(REFRESHES):
            form = {"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"], "client_id": client_id}
            refreshed = await http.post(f"{PUBLIC}/token", data=form)
            assert refreshed.status_code == 200, refreshed.text
            tokens = refreshed.json()
        again = await sign_in(http, client_id, user)
        revoked = await http.post(f"{PUBLIC}/revoke", data={"token": again["refresh_token"], "client_id": client_id})
        assert revoked.status_code == 200


async def test_legitimate_traffic_at_the_default_limits_is_never_limited(tmp_path: Path, clock: ManualClock) -> None:
    async with harness(tmp_path, clock=clock, trusted_proxies="10.0.0.0/8") as h:
        recorder = Recorder(h.app)
        async with anyio.create_task_group() as group:
            for address, headers, user in PEOPLE:
                group.start_soon(person, recorder, h.emulator, address, headers, user)
    statuses = Counter(status for _, status in recorder.statuses)
    assert len(recorder.statuses) >= 200
    assert statuses[429] == 0
    assert not [status for status in statuses if status >= 500]
    paths = Counter(path for path, _ in recorder.statuses)
    assert paths["/mcp"] >= len(PEOPLE) * TOOL_CALLS
    assert {"/register", "/authorize", "/consent", "/callback", "/token", "/revoke"} <= set(paths)

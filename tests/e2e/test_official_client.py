"""End to end through real sockets with the official ``mcp`` client and its OAuth provider.

401 → discovery → registration → consent → Spotify sign-in → callback → token → tools/call → refresh → revoke
→ 401, for both protocol eras and the legacy SSE transport.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx2
import pytest
from mcp.client import Client
from mcp.client.auth import OAuthClientProvider
from mcp.client.sse import sse_client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.auth import (
    OAuthClientMetadata,
)
from pydantic import AnyUrl

from tests.e2e.live import Live, live
from tests.oauth_client import HeadlessBrowser, MemoryStorage
from tests.support import CLIENT_REDIRECT

pytestmark = [pytest.mark.anyio, pytest.mark.e2e]


@asynccontextmanager
async def oauth_http(
    server: Live, **provider_args: Any
) -> AsyncIterator[tuple[httpx2.AsyncClient, MemoryStorage, HeadlessBrowser]]:
    storage, browser = MemoryStorage(), HeadlessBrowser(httpx2.AsyncClient(timeout=10), (server.base, server.emulator))
    provider = OAuthClientProvider(
        server.mcp_url,
        OAuthClientMetadata(client_name="e2e client", redirect_uris=[AnyUrl(CLIENT_REDIRECT)]),
        storage,
        redirect_handler=browser.redirect_handler,
        callback_handler=browser.callback_handler,
        **provider_args,
    )
    async with browser.browser, httpx2.AsyncClient(auth=provider, timeout=30) as http:
        yield http, storage, browser


async def check_tools(client: Client) -> None:
    tools = await client.list_tools()
    names = [t.name for t in tools.tools]
    assert "getCurrentUserProfile" in names
    assert "searchTracks" in names
    me = await client.call_tool("getCurrentUserProfile", {})
    assert not me.is_error, me
    assert me.structured_content is not None
    assert me.structured_content["id"] == "premium-user"
    found = await client.call_tool("searchTracks", {"query": "a", "limit": 12})
    assert not found.is_error, found
    assert found.structured_content is not None
    assert len(found.structured_content["items"]) >= 1


async def refresh_then_revoke(server: Live, storage: MemoryStorage) -> None:
    assert storage.tokens is not None
    assert storage.client is not None
    client = storage.client
    auth = httpx2.BasicAuth(client.client_id, client.client_secret) if client.client_secret else None
    async with httpx2.AsyncClient(auth=auth) as raw:
        refreshed = await raw.post(
            f"{server.base}/token",
            data={
                "grant_type": "refresh_token",
                "refresh_token": storage.tokens.refresh_token,
                **({} if auth else {"client_id": client.client_id}),
            },
        )
        assert refreshed.status_code == 200, refreshed.text
        access = refreshed.json()["access_token"]
        call = {"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {}}
        headers = {"Authorization": f"Bearer {access}", "Accept": "application/json, text/event-stream"}
        ok = await raw.post(server.mcp_url, json=call, headers=headers, auth=None)
        assert ok.status_code != 401
        revoked = await raw.post(
            f"{server.base}/revoke",
            data={"token": access, **({} if auth else {"client_id": client.client_id})},
        )
        assert revoked.status_code == 200
        denied = await raw.post(server.mcp_url, json=call, headers=headers, auth=None)
        assert denied.status_code == 401
        assert "resource_metadata=" in denied.headers["www-authenticate"]


@pytest.mark.parametrize("mode", ["auto", "legacy"])
async def test_the_official_client_authorizes_and_calls_tools_over_streamable_http(tmp_path: Path, mode: str) -> None:
    async with live(tmp_path) as server, oauth_http(server) as (http, storage, browser):
        async with Client(streamable_http_client(server.mcp_url, http_client=http), mode=mode) as client:
            if mode == "auto":
                assert client.protocol_version == "2026-07-28"
            await check_tools(client)
        assert browser.visits == 1
        await refresh_then_revoke(server, storage)


async def test_the_official_client_works_over_legacy_sse(tmp_path: Path) -> None:
    async with live(tmp_path) as server, oauth_http(server) as (http, storage, _):
        async with Client(streamable_http_client(server.mcp_url, http_client=http)) as client:
            await client.list_tools()
        assert storage.tokens is not None
        bearer = {"Authorization": f"Bearer {storage.tokens.access_token}"}
        async with Client(sse_client(f"{server.base}/sse", headers=bearer), mode="legacy") as client:
            await check_tools(client)

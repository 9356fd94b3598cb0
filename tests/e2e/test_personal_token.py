"""What LibreChat and scripts do, end to end over real sockets: a personal access token made on /account, sent as
a fixed ``Authorization`` header by the official ``mcp`` client, with no OAuth on the client's side."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urljoin

import httpx2
import pytest
from mcp.client import Client
from mcp.client.streamable_http import streamable_http_client

from tests.account.conftest import form
from tests.e2e.live import Live, live
from tests.support import CLIENT_REDIRECT, parse_form, pkce, walk

pytestmark = [pytest.mark.anyio, pytest.mark.e2e]

TOKEN = re.compile(r"<pre id=token>(smcp_pat_[A-Za-z0-9_-]{43})</pre>")


async def connect_a_client(server: Live, browser: httpx2.AsyncClient) -> None:
    """An MCP client signs premium-user in, so the server holds their Spotify authorization."""
    registered = await browser.post(
        f"{server.base}/register",
        json={"client_name": "Claude", "redirect_uris": [CLIENT_REDIRECT], "token_endpoint_auth_method": "none"},
    )
    _, challenge = pkce()
    params = {
        "response_type": "code",
        "client_id": registered.json()["client_id"],
        "redirect_uri": CLIENT_REDIRECT,
        "code_challenge": challenge,
        "code_challenge_method": "S256",
    }
    url = str(httpx2.URL(f"{server.base}/authorize", params=params))
    final = await walk(browser, url, (server.base, server.emulator))
    assert final.status_code == 302, final.text
    assert "code=" in final.headers["location"]


async def account_page(server: Live, browser: httpx2.AsyncClient) -> str:
    """Sign in on /account with Spotify, as a person would; return the page."""
    start = await browser.get(f"{server.base}/account")
    origin = {"Origin": server.base}
    to_spotify = await browser.post(
        f"{server.base}/account/signin", data=form(start.text, "signin").fields, headers=origin
    )
    assert to_spotify.status_code == 302, to_spotify.text
    sign_in = await browser.get(to_spotify.headers["location"])
    fields = {**parse_form(sign_in.text).fields, "user": "premium-user", "action": "approve"}
    back = await browser.post(f"{server.emulator}/authorize", data=fields, headers={"Origin": server.emulator})
    callback = await browser.get(urljoin(server.emulator, back.headers["location"]))
    assert callback.status_code == 303, callback.text
    return (await browser.get(f"{server.base}/account")).text


async def test_a_personal_access_token_in_a_fixed_header_runs_tools_through_the_official_client(
    tmp_path: Path,
) -> None:
    async with live(tmp_path) as server, httpx2.AsyncClient(timeout=10) as browser:
        await connect_a_client(server, browser)
        page = await account_page(server, browser)
        fields = {**form(page, "tokens").fields, "name": "LibreChat", "expires_days": "30"}
        created = await browser.post(
            f"{server.base}/account/tokens",
            data={**fields, "scope:user-read-private": "1"},
            headers={"Origin": server.base},
        )
        found = TOKEN.search(created.text)
        assert found is not None, created.text
        headers = {"Authorization": f"Bearer {found.group(1)}"}
        async with (
            httpx2.AsyncClient(headers=headers, timeout=10) as http,
            Client(streamable_http_client(server.mcp_url, http_client=http)) as client,
        ):
            result = await client.call_tool("getCurrentUserProfile", {})
        assert not result.is_error
        assert result.structured_content is not None
        assert result.structured_content["id"] == "premium-user"
        # Revoked on the page, the same header is refused.
        page = (await browser.get(f"{server.base}/account")).text
        revoke = form(page, "revoke")
        gone = await browser.post(f"{server.base}/account/revoke", data=revoke.fields, headers={"Origin": server.base})
        assert gone.status_code in (200, 303), gone.text
        refused = await browser.post(
            server.mcp_url,
            json={"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {}},
            headers={**headers, "Accept": "application/json, text/event-stream"},
        )
        assert refused.status_code == 401

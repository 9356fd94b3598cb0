"""The whole sign-in in Chromium: consent page → Allow → Spotify (emulator) sign-in → back to the client with our
code, which then buys a token that calls a tool. Deny sends the browser back to the client with access_denied."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx2
import pytest
from mcp.client import Client
from mcp.client.streamable_http import streamable_http_client
from playwright.async_api import BrowserContext, Route

from spotify_mcp.scopes import DESCRIPTIONS, spotify_only
from tests.browser.chromium import CLIENT_NAME, open_consent
from tests.e2e.live import Live
from tests.support import CLIENT_REDIRECT, code_form

pytestmark = [pytest.mark.anyio, pytest.mark.e2e]


async def catch_client_redirect(context: BrowserContext) -> None:
    """Stand in for the MCP client's loopback listener: answer its redirect URI without a server."""

    async def answer(route: Route) -> None:
        await route.fulfill(status=200, content_type="text/plain", body="signed in; you may close this tab")

    await context.route(f"{CLIENT_REDIRECT}**", answer)


async def test_a_browser_sign_in_ends_at_the_client_with_a_code_that_buys_a_working_token(
    server: Live, context: BrowserContext, http: httpx2.AsyncClient, tmp_path: Path
) -> None:
    await catch_client_redirect(context)
    consent = await open_consent(context, http, server, state="state-from-browser")
    page = consent.page

    # Our consent page: who is asking, where access goes, and what it may do on Spotify.
    assert CLIENT_NAME in await page.locator("h1").inner_text()
    body = await page.locator("main").inner_text()
    assert "127.0.0.1" in body
    assert "your own computer" in body
    permissions = await page.locator("main ul li").all_inner_texts()
    for scope in spotify_only(server.settings.scopes):
        assert any(DESCRIPTIONS[scope] in item and scope in item for item in permissions), scope
    shot = tmp_path / "consent.png"
    await page.screenshot(path=shot, full_page=True)
    assert shot.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
    assert shot.stat().st_size > 10_000

    # Allow → the Spotify sign-in page (the emulator), Premium test user preselected. The post carries our exact
    # origin (a no-referrer page would make Chromium send "Origin: null", which /consent refuses).
    async with page.expect_request(lambda r: r.method == "POST" and r.url == f"{server.base}/consent") as posted:
        await page.get_by_role("button", name="Allow and continue to Spotify").click()
    assert (await (await posted.value).all_headers())["origin"] == server.base
    await consent.reach(f"{server.emulator}/authorize?**")
    assert await page.locator("input[name=user][value=premium-user]").is_checked()
    await page.locator("button[name=action][value=approve]").click()

    # Spotify → our /callback → the client's redirect URI with code, state and iss.
    await consent.reach(f"{CLIENT_REDIRECT}?**")
    query = parse_qs(urlsplit(page.url).query)
    assert query["code"][0].startswith("smcp_ac_")
    assert query["state"] == ["state-from-browser"]
    assert query["iss"] == [server.base]
    assert "error" not in query

    # The code the browser carried is a working grant: token over HTTP, then a tool call with it.
    form = code_form(query["code"][0], consent.verifier, consent.client_id, resource=server.mcp_url)
    response = await http.post(f"{server.base}/token", data=form)
    assert response.status_code == 200, response.text
    tokens = response.json()
    headers = {"Authorization": f"Bearer {tokens['access_token']}"}
    async with (
        httpx2.AsyncClient(headers=headers, timeout=10) as bearer,
        Client(streamable_http_client(server.mcp_url, http_client=bearer)) as client,
    ):
        me = await client.call_tool("getCurrentUserProfile", {})
    assert not me.is_error, me
    assert me.structured_content is not None
    assert me.structured_content["id"] == "premium-user"


async def test_deny_in_the_browser_returns_to_the_client_with_access_denied_and_never_reaches_spotify(
    server: Live, context: BrowserContext, http: httpx2.AsyncClient
) -> None:
    await catch_client_redirect(context)
    consent = await open_consent(context, http, server, state="deny-state")
    visited: list[str] = []
    context.on("request", lambda request: visited.append(request.url))
    await consent.page.get_by_role("button", name="Deny").click()
    await consent.reach(f"{CLIENT_REDIRECT}?**")
    query = parse_qs(urlsplit(consent.page.url).query)
    assert query["error"] == ["access_denied"]
    assert query["state"] == ["deny-state"]
    assert query["iss"] == [server.base]
    assert "code" not in query
    assert not [url for url in visited if url.startswith(server.emulator)]

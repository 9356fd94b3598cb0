"""The account page in Chromium: sign in with Spotify, see the connected applications, create a personal access
token (shown once) that works at /mcp, revoke an application and the token (both then 401), disconnect everything;
and a revoke form posted from another origin is refused."""

from __future__ import annotations

from html import escape
from pathlib import Path

import httpx2
import pytest
from mcp.client import Client
from mcp.client.streamable_http import streamable_http_client
from playwright.async_api import BrowserContext, Response

from tests.browser.chromium import AttackerSite
from tests.browser.screenshot import connect_over_http, create_token, sign_in_to_account
from tests.e2e.live import Live

pytestmark = [pytest.mark.anyio, pytest.mark.e2e]


async def mcp_status(http: httpx2.AsyncClient, server: Live, token: str) -> int:
    """What /mcp answers an initialize request with ``token`` as the bearer."""
    body = {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {}}
    headers = {"Authorization": f"Bearer {token}", "Accept": "application/json, text/event-stream"}
    return (await http.post(server.mcp_url, json=body, headers=headers)).status_code


async def test_the_account_page_lists_issues_revokes_and_deletes_in_a_real_browser(
    server: Live, context: BrowserContext, http: httpx2.AsyncClient, tmp_path: Path
) -> None:
    claude = await connect_over_http(server, "Claude Desktop")
    await connect_over_http(server, "MCP Inspector")
    page = await context.new_page()
    await sign_in_to_account(page, server)

    # Who is signed in, and every application with its permissions one click away.
    main = await page.locator("main").inner_text()
    assert "Signed in as Pia Premium" in main
    assert "Claude Desktop" in main
    assert "MCP Inspector" in main
    assert "last used never" in main
    await page.locator("summary").first.click()
    assert await page.get_by_text("Control playback: play, pause, skip, volume, queue, devices").first.is_visible()
    shot = tmp_path / "account.png"
    await page.screenshot(path=shot, full_page=True)
    assert shot.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")

    # A token, shown once with a ready header, works at /mcp for a tool within its permissions.
    token = await create_token(page, "LibreChat", ["user-read-private"], expiry="7")
    assert token.startswith("smcp_pat_")
    assert f"Authorization: Bearer {token}" in await page.locator("pre#header").inner_text()
    headers = {"Authorization": f"Bearer {token}"}
    async with (
        httpx2.AsyncClient(headers=headers, timeout=10) as bearer,
        Client(streamable_http_client(server.mcp_url, http_client=bearer)) as client,
    ):
        me = await client.call_tool("getCurrentUserProfile", {})
    assert not me.is_error, me
    await page.get_by_role("link", name="Back to your account").click()
    await page.wait_for_url(f"{server.base}/account")
    assert token not in await page.content()
    assert "LibreChat" in await page.locator("main").inner_text()

    # Revoking an application and the token: both get 401 at /mcp, the others keep working.
    await page.get_by_role("button", name="Revoke Claude Desktop").click()
    await page.wait_for_url(f"{server.base}/account")
    assert "Claude Desktop" not in await page.locator("main").inner_text()
    assert await mcp_status(http, server, claude["access_token"]) == 401
    await page.get_by_role("button", name="Revoke LibreChat").click()
    await page.wait_for_url(f"{server.base}/account")
    assert await mcp_status(http, server, token) == 401
    assert "MCP Inspector" in await page.locator("main").inner_text()

    # Disconnect everything: only with the box ticked; then nothing is left and the session is over.
    await page.get_by_label("I understand").check()
    await page.get_by_role("button", name="Disconnect everything and delete my data").click()
    await page.get_by_role("heading", name="Everything is disconnected").wait_for()
    await page.goto(f"{server.base}/account")
    assert await page.get_by_role("button", name="Sign in with Spotify").is_visible()


@pytest.mark.parametrize("kind", ["same-site", "cross-site"])
async def test_a_revoke_posted_from_another_origin_is_refused_even_with_the_victims_fields(
    server: Live, context: BrowserContext, attacker: AttackerSite, kind: str
) -> None:
    await connect_over_http(server, "Victim App")
    page = await context.new_page()
    await sign_in_to_account(page, server)
    form = page.locator("form[action='/account/revoke']")
    fields = {name: await form.locator(f"input[name={name}]").get_attribute("value") for name in ("csrf", "grant")}

    inputs = "".join(f'<input type=hidden name="{escape(k)}" value="{escape(v or "")}">' for k, v in fields.items())
    action = f"{server.base}/account/revoke"
    attacker.publish(
        "prize",
        f'<!doctype html><title>Prize</title><form id=f method=post action="{action}">{inputs}</form>'
        "<script>document.getElementById('f').submit()</script>",
    )
    lure = await context.new_page()

    def is_revoke(response: Response) -> bool:
        return response.url == f"{server.base}/account/revoke" and response.request.method == "POST"

    async with lure.expect_response(is_revoke) as answered:
        await lure.goto(f"{attacker.origin(kind)}/prize")
    response = await answered.value
    assert response.status == 403
    assert (await response.request.all_headers()).get("origin") == attacker.origin(kind)
    await page.reload()
    assert "Victim App" in await page.locator("main").inner_text()

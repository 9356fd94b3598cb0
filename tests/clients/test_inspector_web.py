"""The MCP Inspector web UI instructions of docs/clients.md, clicked through in Debian's Chromium.

Add Servers → Add manually → streamable-http + the /mcp URL → connect → our consent page → the Spotify emulator's
sign-in → back in the Inspector, connected → Tools → getCurrentUserProfile → Execute Tool.
"""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.async_api import Route, async_playwright

from tests.browser.chromium import launch, new_context, require_chromium
from tests.clients.npm_clients import NpmClients, client_env, free_port, running
from tests.e2e.live import Live

pytestmark = [pytest.mark.anyio, pytest.mark.e2e]

LOOPBACK_HOSTS = {"127.0.0.1", "localhost"}
WAIT_MS = 30_000


def leaves_loopback(url: str) -> bool:
    """True for a URL the page may not load: anything off loopback (the UI asks for web fonts)."""
    parts = urlsplit(url)
    return parts.scheme in ("http", "https", "ws", "wss") and parts.hostname not in LOOPBACK_HOSTS


async def refuse(route: Route) -> None:
    """Abort a request before Chromium resolves its host."""
    await route.abort()


async def test_the_inspector_web_ui_adds_the_server_signs_in_and_executes_a_tool(
    npm_clients: NpmClients, server: Live, tmp_path: Path
) -> None:
    require_chromium()
    port = free_port()
    env = client_env(
        tmp_path / "home",
        CLIENT_PORT=str(port),  # the UI's own port (default 6274); the sandbox and app origin take free ones
        MCP_SANDBOX_PORT="0",
        MCP_APP_ORIGIN_PORT="0",
        MCP_AUTO_OPEN_ENABLED="false",
        MCP_INSPECTOR_SECRET_STORE="memory",
    )
    async with running(npm_clients.command("mcp-inspector"), env) as inspector:
        found = await inspector.wait_for(rf"http://127\.0\.0\.1:{port}/?\?MCP_INSPECTOR_API_TOKEN=\w+", seconds=90)
        async with async_playwright() as playwright:
            chromium = await launch(playwright)
            try:
                context = await new_context(chromium)
                context.set_default_timeout(WAIT_MS)  # the UI is a large single-page app; the machine may be busy
                context.set_default_navigation_timeout(WAIT_MS)
                await context.route(leaves_loopback, refuse)
                page = await context.new_page()
                await page.goto(found.group(0))

                await page.get_by_role("button", name="Add Servers").click()
                await page.get_by_text("+ Add manually").click()
                await page.get_by_label("Server ID").fill("spotify")
                await page.get_by_role("textbox", name="Transport").click()
                await page.get_by_role("option", name="streamable-http").click()
                await page.get_by_label("URL").fill(server.mcp_url)
                await page.get_by_role("button", name="Add", exact=True).click()

                switch = page.locator(".mantine-Switch-track")
                card = page.locator("div").filter(has=page.get_by_text("spotify", exact=True)).filter(has=switch).last
                await card.locator(switch).click()  # connect
                await page.wait_for_url(f"{server.base}/consent?**")
                await page.get_by_role("button", name="Allow and continue to Spotify").click()
                await page.wait_for_url(f"{server.emulator}/**")
                await page.locator("button[name=action][value=approve]").click()
                await page.wait_for_url(f"http://127.0.0.1:{port}/**")
                await page.get_by_text("Connected", exact=True).wait_for()

                await page.get_by_text("Tools", exact=True).first.click()
                await page.get_by_text(re.compile(r"^Tools \(\d+\)$")).wait_for()
                await page.get_by_text("getCurrentUserProfile", exact=True).click()
                await page.get_by_role("button", name="Execute Tool").click()
                await page.get_by_text("Pia Premium (spotify:user:premium-user)").wait_for()
            finally:
                await chromium.close()

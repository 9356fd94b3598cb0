"""Regenerate ``docs/consent.png`` and ``docs/account.png``: the pages as Debian's Chromium renders them.

    .venv/bin/python -m tests.browser.screenshot                    # writes docs/consent.png
    .venv/bin/python -m tests.browser.screenshot OUT.png            # writes OUT.png
    .venv/bin/python -m tests.browser.screenshot account [OUT.png]  # writes docs/account.png (or OUT.png)

It starts the server and the Spotify emulator on loopback (as the browser tests do). For the consent page it
registers a client named "MCP Inspector" with a loopback redirect URI, opens its authorization request in
headless Chromium and saves a full-page screenshot of the consent page it lands on. For the account page it
connects two clients over HTTP, signs in to ``/account`` in Chromium, creates a personal access token there and
saves the account page that lists them. Needs /usr/bin/chromium (apt-get install chromium); it never downloads a
browser.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import anyio
import httpx2
from playwright.async_api import Page, async_playwright

from tests.browser.chromium import CHROMIUM, authorize_url, launch, new_context, open_consent, register
from tests.e2e.live import Live, live
from tests.support import code_form, pkce, walk

DOCS_PNG = Path(__file__).resolve().parents[2] / "docs" / "consent.png"
ACCOUNT_PNG = DOCS_PNG.with_name("account.png")
CLIENT_NAME = "MCP Inspector"


async def connect_over_http(server: Live, name: str) -> dict[str, Any]:
    """Connect an MCP client named ``name`` as the Premium user, without a browser; return its token response."""
    async with httpx2.AsyncClient(timeout=10) as http:
        client_id = await register(http, server, name)
        verifier, challenge = pkce()
        final = await walk(http, authorize_url(server, client_id, challenge, "s"), (server.base, server.emulator))
        code = parse_qs(urlsplit(final.headers["location"]).query)["code"][0]
        form = code_form(code, verifier, client_id, resource=server.mcp_url)
        response = await http.post(f"{server.base}/token", data=form)
        assert response.status_code == 200, response.text
        tokens: dict[str, Any] = response.json()
        return tokens


async def sign_in_to_account(page: Page, server: Live) -> None:
    """Open /account in ``page`` and sign in with Spotify (the emulator's preselected Premium user)."""
    await page.goto(f"{server.base}/account")
    await page.get_by_role("button", name="Sign in with Spotify").click()
    await page.wait_for_url(f"{server.emulator}/authorize?**")
    await page.locator("button[name=action][value=approve]").click()
    await page.wait_for_url(f"{server.base}/account")


async def create_token(page: Page, name: str, permissions: list[str], expiry: str = "30") -> str:
    """Fill in and submit the new-token form of the account page; return the token shown."""
    await page.get_by_label("Name").fill(name)
    for permission in permissions:
        await page.locator(f'input[name="scope:{permission}"]').check()
    await page.get_by_label("Expires after").select_option(expiry)
    await page.get_by_role("button", name="Create token").click()
    await page.wait_for_selector("pre#token")
    return (await page.locator("pre#token").inner_text()).strip()


async def capture_account(out: Path) -> None:
    """Save a screenshot of the account page (two applications, one token) to ``out``."""
    with tempfile.TemporaryDirectory() as tmp:
        async with live(Path(tmp)) as server, async_playwright() as playwright:
            await connect_over_http(server, "Claude Desktop")
            await connect_over_http(server, CLIENT_NAME)
            browser = await launch(playwright)
            try:
                context = await new_context(browser)
                page = await context.new_page()
                await sign_in_to_account(page, server)
                await create_token(page, "LibreChat", ["user-read-playback-state", "user-modify-playback-state"])
                await page.goto(f"{server.base}/account")
                await page.screenshot(path=out, full_page=True)
                await context.close()
            finally:
                await browser.close()


async def capture(out: Path) -> None:
    """Save a screenshot of the consent page to ``out``."""
    with tempfile.TemporaryDirectory() as tmp:
        async with (
            live(Path(tmp)) as server,
            httpx2.AsyncClient(timeout=10) as http,
            async_playwright() as playwright,
        ):
            browser = await launch(playwright)
            try:
                context = await new_context(browser)
                consent = await open_consent(context, http, server, name=CLIENT_NAME)
                await consent.page.screenshot(path=out, full_page=True)
                await context.close()
            finally:
                await browser.close()


def main(argv: list[str]) -> None:
    """Entry point: ``[account] [OUT.png]``, default ``docs/consent.png`` (``docs/account.png`` for account)."""
    if not CHROMIUM.exists():
        sys.exit(f"{CHROMIUM} is missing: apt-get install chromium (a downloaded browser is never used)")
    if argv[:1] == ["account"]:
        out = Path(argv[1]) if len(argv) > 1 else ACCOUNT_PNG
        anyio.run(capture_account, out)
    else:
        out = Path(argv[0]) if argv else DOCS_PNG
        anyio.run(capture, out)
    print(f"wrote {out} ({out.stat().st_size} bytes)")


if __name__ == "__main__":
    main(sys.argv[1:])

"""Launching Debian's Chromium (never a downloaded browser) and the browser-side steps of a sign-in."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx2
import pytest
from playwright.async_api import Browser, BrowserContext, Page, Playwright, ViewportSize
from playwright.async_api import TimeoutError as PlaywrightTimeoutError
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from tests.e2e.live import Live, bound_socket, serve
from tests.support import CLIENT_REDIRECT, pkce

CHROMIUM = Path("/usr/bin/chromium")
WAIT_MS = 10_000
CLIENT_NAME = "Browser Test Client"
VIEWPORT: ViewportSize = {"width": 900, "height": 640}


def require_chromium() -> None:
    """Skip without Chromium, except in CI, where it must be installed (``.ci/run`` installs it)."""
    if CHROMIUM.exists():
        return
    if os.environ.get("CI"):
        pytest.fail(f"{CHROMIUM} is missing; CI must install Debian's chromium for the browser tests")
    pytest.skip(f"{CHROMIUM} is missing (apt-get install chromium); browser tests skipped outside CI")


async def launch(playwright: Playwright) -> Browser:
    """Headless Chromium; the sandbox cannot start as root, so it is off there."""
    args = ["--no-sandbox"] if os.geteuid() == 0 else []
    return await playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=args, timeout=WAIT_MS)


async def new_context(browser: Browser) -> BrowserContext:
    """A fresh browser profile (its own cookies) whose every wait is bounded."""
    context = await browser.new_context(viewport=VIEWPORT)
    context.set_default_timeout(WAIT_MS)
    context.set_default_navigation_timeout(WAIT_MS)
    return context


async def register(http: httpx2.AsyncClient, server: Live, name: str = CLIENT_NAME) -> str:
    """Register a public client over HTTP, as an MCP client would; return its client_id."""
    metadata = {
        "client_name": name,
        "redirect_uris": [CLIENT_REDIRECT],
        "token_endpoint_auth_method": "none",
        "grant_types": ["authorization_code", "refresh_token"],
    }
    response = await http.post(f"{server.base}/register", json=metadata)
    assert response.status_code == 201, response.text
    client_id: str = response.json()["client_id"]
    return client_id


def authorize_url(server: Live, client_id: str, challenge: str, state: str) -> str:
    """The authorization request an MCP client opens in the browser (PKCE S256, RFC 8707 resource)."""
    params = {
        "response_type": "code",
        "client_id": client_id,
        "redirect_uri": CLIENT_REDIRECT,
        "code_challenge": challenge,
        "code_challenge_method": "S256",
        "state": state,
        "resource": server.mcp_url,
    }
    return str(httpx2.URL(f"{server.base}/authorize", params=params))


@dataclass
class Consent:
    """A tab showing our consent page for a freshly registered client."""

    page: Page
    client_id: str
    verifier: str
    console: list[str]

    async def reach(self, url_glob: str) -> None:
        """Wait for the tab to navigate to ``url_glob``; on timeout, say what Chromium logged (CSP blocks)."""
        try:
            await self.page.wait_for_url(url_glob)
        except PlaywrightTimeoutError:
            raise AssertionError(f"never reached {url_glob}; at {self.page.url}; console: {self.console}") from None


async def open_consent(
    context: BrowserContext, http: httpx2.AsyncClient, server: Live, *, name: str = CLIENT_NAME, state: str = "s"
) -> Consent:
    """Register a client and open its authorization request in a new tab, which lands on the consent page."""
    client_id = await register(http, server, name)
    verifier, challenge = pkce()
    page = await context.new_page()
    console: list[str] = []
    page.on("console", lambda message: console.append(message.text))
    response = await page.goto(authorize_url(server, client_id, challenge, state))
    assert response is not None
    assert response.status == 200, await response.text()
    assert page.url.startswith(f"{server.base}/consent?request="), page.url
    return Consent(page, client_id, verifier, console)


class AttackerSite:
    """Another web site on loopback, serving the pages a test publishes (404 for anything else)."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.pages: dict[str, str] = {}
        self.app = Starlette(routes=[Route("/{path:path}", self._page)])

    def origin(self, kind: str) -> str:
        """``same-site``: another port of 127.0.0.1 (cookies still flow); ``cross-site``: localhost."""
        host = {"same-site": "127.0.0.1", "cross-site": "localhost"}[kind]
        return f"http://{host}:{self.port}"

    def publish(self, path: str, html: str) -> None:
        """Serve ``html`` at ``/path``."""
        self.pages[path] = html

    async def _page(self, request: Request) -> Response:
        html = self.pages.get(request.path_params["path"])
        if html is None:
            return Response(status_code=404)
        return HTMLResponse(html)


@asynccontextmanager
async def attacker_site() -> AsyncIterator[AttackerSite]:
    """Run an AttackerSite under uvicorn on its own loopback port.

    A real loopback server rather than ``page.route``: Chromium's Local Network Access blocks a page that
    Playwright fulfils (treated as public) from loading anything on 127.0.0.1, frames included.
    """
    sock = bound_socket()
    site = AttackerSite(sock.getsockname()[1])
    async with serve([(site.app, sock)]):
        yield site

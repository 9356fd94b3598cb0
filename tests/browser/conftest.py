"""One headless Chromium per module (module-scoped, on one event loop), a fresh profile and servers per test."""

from __future__ import annotations

import signal
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx2
import pytest
from playwright.async_api import Browser, BrowserContext, async_playwright

from tests.browser.chromium import AttackerSite, attacker_site, launch, new_context, require_chromium
from tests.e2e.live import Live, live


@pytest.fixture(autouse=True)
def restore_signal_handlers() -> Iterator[None]:
    """Put SIGINT/SIGTERM handlers back after each test.

    Each uvicorn server saves the handlers it replaces and restores them when it stops, in stop order, not
    LIFO; with two or more servers (``live()`` runs the server and the emulator) a stopped server's
    ``handle_exit`` stays installed. sse-starlette reads that server's ``should_exit`` and then closes every
    later in-process SSE stream at once, which breaks stateful MCP tests that run after these.
    """
    saved = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    yield
    for sig, handler in saved.items():
        signal.signal(sig, handler)


@pytest.fixture(scope="module")
def anyio_backend() -> str:
    """Module scope, so the module's browser and its tests share one event loop."""
    return "asyncio"


@pytest.fixture(scope="module")
async def browser(anyio_backend: str) -> AsyncIterator[Browser]:
    """Debian's Chromium, headless, for every test of the module."""
    require_chromium()
    async with async_playwright() as playwright:
        chromium = await launch(playwright)
        try:
            yield chromium
        finally:
            await chromium.close()


@pytest.fixture(scope="module")
async def http(anyio_backend: str) -> AsyncIterator[httpx2.AsyncClient]:
    """The MCP client's side of the flow: registration and token requests, over HTTP."""
    async with httpx2.AsyncClient(timeout=10) as client:
        yield client


@pytest.fixture
async def context(browser: Browser) -> AsyncIterator[BrowserContext]:
    """A fresh browser profile: no cookies from other tests."""
    fresh = await new_context(browser)
    try:
        yield fresh
    finally:
        await fresh.close()


@pytest.fixture
async def server(tmp_path: Path) -> AsyncIterator[Live]:
    """The server and the Spotify emulator on real loopback sockets."""
    async with live(tmp_path) as running:
        yield running


@pytest.fixture
async def attacker() -> AsyncIterator[AttackerSite]:
    """Another site on loopback, for pages that frame or post to the server."""
    async with attacker_site() as site:
        yield site

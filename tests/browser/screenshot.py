"""Regenerate ``docs/consent.png``: the consent page as Debian's Chromium renders it.

    .venv/bin/python -m tests.browser.screenshot            # writes docs/consent.png
    .venv/bin/python -m tests.browser.screenshot OUT.png    # writes OUT.png

It starts the server and the Spotify emulator on loopback (as the browser tests do), registers a client
named "MCP Inspector" with a loopback redirect URI, opens its authorization request in headless Chromium and
saves a full-page screenshot of the consent page it lands on. Needs /usr/bin/chromium (apt-get install
chromium); it never downloads a browser.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import anyio
import httpx2
from playwright.async_api import async_playwright

from tests.browser.chromium import CHROMIUM, launch, new_context, open_consent
from tests.e2e.live import live

DOCS_PNG = Path(__file__).resolve().parents[2] / "docs" / "consent.png"
CLIENT_NAME = "MCP Inspector"


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
    """Entry point: ``[OUT.png]``, default ``docs/consent.png``."""
    if not CHROMIUM.exists():
        sys.exit(f"{CHROMIUM} is missing: apt-get install chromium (a downloaded browser is never used)")
    out = Path(argv[0]) if argv else DOCS_PNG
    anyio.run(capture, out)
    print(f"wrote {out} ({out.stat().st_size} bytes)")


if __name__ == "__main__":
    main(sys.argv[1:])

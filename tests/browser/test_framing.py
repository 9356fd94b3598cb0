"""Clickjacking: another origin cannot show our consent page inside an <iframe> (CSP frame-ancestors 'none',
X-Frame-Options: DENY), while the same attacker page frames an unprotected page just fine."""

from __future__ import annotations

import httpx2
import pytest
from playwright.async_api import BrowserContext, ConsoleMessage, Response

from tests.browser.chromium import AttackerSite, open_consent
from tests.e2e.live import Live

pytestmark = [pytest.mark.anyio, pytest.mark.e2e]


@pytest.mark.parametrize("kind", ["same-site", "cross-site"])
async def test_another_origin_cannot_frame_the_consent_page(
    server: Live, context: BrowserContext, http: httpx2.AsyncClient, attacker: AttackerSite, kind: str
) -> None:
    consent = await open_consent(context, http, server)
    consent_url = consent.page.url
    await consent.page.close()
    # The control frame: the emulator's error page sends no framing protection, so it must render.
    attacker.publish(
        "prize",
        "<!doctype html><title>Win a prize</title><h1>Click the green button to win</h1>"
        f'<iframe id=control src="{server.emulator}/authorize"></iframe>'
        f'<iframe id=target src="{consent_url}" width=600 height=600></iframe>',
    )
    page = await context.new_page()

    def is_consent(response: Response) -> bool:
        return response.url == consent_url

    def is_frame_block(message: ConsoleMessage) -> bool:
        return "frame-ancestors 'none'" in message.text

    async with page.expect_console_message(is_frame_block) as blocked, page.expect_response(is_consent) as served:
        await page.goto(f"{attacker.origin(kind)}/prize", wait_until="load")
    response = await served.value
    # The server did answer the framed request with the page and its anti-framing headers...
    assert response.status == 200
    headers = await response.all_headers()
    assert "frame-ancestors 'none'" in headers["content-security-policy"]
    assert headers["x-frame-options"] == "DENY"

    # ...and Chromium refused to show it: the frame holds Chromium's error document, not our form.
    control = page.frame_locator("#control")
    assert "Something went wrong" in await control.locator("h1").inner_text()
    target_element = await page.query_selector("#target")
    assert target_element is not None
    target = await target_element.content_frame()
    assert target is not None
    assert not target.url.startswith(server.base), target.url
    assert "Allow and continue to Spotify" not in await target.content()
    assert await page.frame_locator("#target").locator("button[value=approve]").count() == 0
    report = (await blocked.value).text
    assert report.startswith(f"Framing '{server.base}/'"), report
    assert "blocked" in report, report

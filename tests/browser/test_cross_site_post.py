"""Login CSRF / forced consent: a page on another origin auto-submits `action=approve` to /consent with every
field an attacker can copy (a request id and CSRF token from the attacker's own session). The server refuses
with a 403 page, nothing reaches Spotify, and both sign-ins are still waiting for a real decision."""

from __future__ import annotations

from html import escape

import httpx2
import pytest
from playwright.async_api import Browser, BrowserContext, Request, Response

from tests.browser.chromium import AttackerSite, new_context, open_consent
from tests.e2e.live import Live

pytestmark = [pytest.mark.anyio, pytest.mark.e2e]


async def hidden_fields(page_html_owner: BrowserContext, consent_url: str) -> dict[str, str]:
    """What the attacker copies from the consent form of their own session."""
    page = await page_html_owner.new_page()
    await page.goto(consent_url)
    fields = {
        name: await page.locator(f"form input[name={name}]").get_attribute("value") or ""
        for name in ("request", "csrf")
    }
    await page.close()
    return fields


@pytest.mark.parametrize("kind", ["same-site", "cross-site"])
async def test_a_form_posted_from_another_origin_is_refused_and_never_reaches_spotify(
    server: Live,
    browser: Browser,
    context: BrowserContext,
    http: httpx2.AsyncClient,
    attacker: AttackerSite,
    kind: str,
) -> None:
    # The attacker starts a sign-in of their own and copies its consent form's hidden fields.
    attacker_profile = await new_context(browser)
    try:
        theirs = await open_consent(attacker_profile, http, server, name="Attacker App")
        attacker_url = theirs.page.url
        fields = await hidden_fields(attacker_profile, attacker_url)
    finally:
        await attacker_profile.close()
    assert fields["request"]
    assert fields["csrf"]

    # The victim has a sign-in of their own open (so their browser holds a CSRF cookie for /consent)...
    mine = await open_consent(context, http, server, name="Victim App")
    victim_url = mine.page.url

    # ...and visits the attacker's page, which posts the copied form to /consent as soon as it loads.
    inputs = "".join(
        f'<input type=hidden name="{escape(name)}" value="{escape(value)}">'
        for name, value in {**fields, "action": "approve"}.items()
    )
    attacker.publish(
        "free-prize",
        "<!doctype html><title>Free prize</title>"
        f'<form id=f method=post action="{server.base}/consent">{inputs}</form>'
        "<script>document.getElementById('f').submit()</script>",
    )
    requests: list[Request] = []
    context.on("request", lambda request: requests.append(request))
    page = await context.new_page()

    def is_consent_post(response: Response) -> bool:
        return response.url == f"{server.base}/consent" and response.request.method == "POST"

    async with page.expect_response(is_consent_post) as answered:
        await page.goto(f"{attacker.origin(kind)}/free-prize")
    response = await answered.value
    await page.wait_for_load_state()

    # Refused with our 403 page; the browser stays on it.
    assert response.status == 403
    assert "location" not in await response.all_headers()
    assert page.url == f"{server.base}/consent"
    assert await page.title() == "Request refused"
    assert await page.locator("button").count() == 0
    # The browser really did send it from the attacker's origin (what the server judged).
    sent = await response.request.all_headers()
    assert sent.get("origin") == attacker.origin(kind)
    # Nothing went to Spotify.
    assert not [r.url for r in requests if r.url.startswith(server.emulator)]
    assert server.world.api_calls == []

    # Both sign-ins are still waiting for a real decision: their consent pages still render with Allow.
    for url in (attacker_url, victim_url):
        again = await context.new_page()
        shown = await again.goto(url)
        assert shown is not None
        assert shown.status == 200, url
        assert await again.locator("button[value=approve]").count() == 1
        await again.close()

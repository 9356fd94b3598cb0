"""Signing in to /account with Spotify: the consent page's protections, no scopes asked, stored credentials untouched,
and a session cookie that is signed, bound to the user, short-lived, and ends on sign-out."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx2
import pytest

from spotify_mcp.account.session import SESSION_COOKIE
from spotify_mcp.clock import ManualClock
from tests.account.conftest import ACCOUNT, form, forms, new_browser, post, services, sign_in, to_spotify_and_back
from tests.support import EMULATOR, PUBLIC, Harness, harness, parse_form, pkce

pytestmark = pytest.mark.anyio


async def start(h: Harness, http: httpx2.AsyncClient | None = None) -> httpx2.Response:
    """Open /account and press "Sign in with Spotify"; return the redirect to Spotify."""
    browser = http or h.http
    page = await browser.get(ACCOUNT)
    return await post(browser, "signin", form(page.text, "signin").fields)


async def test_without_a_session_the_page_only_offers_to_sign_in_with_spotify(h: Harness) -> None:
    response = await h.http.get(ACCOUNT, headers={"Origin": "https://evil.example"})
    assert response.status_code == 200
    assert [f.action for f in forms(response.text)] == ["/account/signin"]
    assert form(response.text, "signin").buttons == ["Sign in with Spotify"]
    assert "Revoke" not in response.text
    csp = response.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in csp
    assert f"form-action 'self' {EMULATOR}" in csp
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["referrer-policy"] == "same-origin"
    assert response.headers["x-frame-options"] == "DENY"
    assert "access-control-allow-origin" not in response.headers


async def test_signing_in_asks_spotify_for_no_scopes_through_our_own_state_pkce_and_callback(h: Harness) -> None:
    to_spotify = await start(h)
    assert to_spotify.status_code == 302
    query = parse_qs(urlsplit(to_spotify.headers["location"]).query, keep_blank_values=True)
    assert to_spotify.headers["location"].startswith(f"{EMULATOR}/authorize?")
    assert query["scope"] == [""]
    assert query["redirect_uri"] == [f"{PUBLIC}/callback"]
    assert query["code_challenge_method"] == ["S256"]
    assert len(query["state"][0]) >= 43
    assert any(name.startswith("smcp_bind_") for name in h.http.cookies)


async def test_a_sign_in_shows_the_user_and_stores_no_spotify_tokens(h: Harness) -> None:
    page = await sign_in(h)
    assert "premium-user" in page
    assert "No application has access" in page
    assert await services(h).store.get_spotify_credentials("premium-user") is None
    assert await services(h).store.list_grants() == []


async def test_a_sign_in_leaves_the_stored_spotify_credentials_of_other_clients_untouched(h: Harness) -> None:
    await h.tokens((await h.register())["client_id"])
    store = services(h).store
    before = await store.get_spotify_credentials("premium-user")
    await sign_in(h)
    assert await store.get_spotify_credentials("premium-user") == before


async def test_the_upstream_state_is_single_use_and_bound_to_the_browser_that_started_it(h: Harness) -> None:
    async with new_browser(h) as victim:
        to_spotify = await start(h)
        page = await h.http.get(to_spotify.headers["location"])
        fields = {**parse_form(page.text).fields, "action": "approve"}
        approved = await h.http.post(f"{EMULATOR}/authorize", data=fields)
        callback = approved.headers["location"]
        refused = await victim.get(callback)
        assert refused.status_code == 403
        assert SESSION_COOKIE not in victim.cookies
        assert (await h.http.get(callback)).status_code == 400


async def test_a_sign_in_form_posted_from_another_origin_or_with_another_browsers_token_is_refused(h: Harness) -> None:
    fields = form((await h.http.get(ACCOUNT)).text, "signin").fields
    for headers in (
        {"Origin": "https://evil.example"},
        {"Origin": PUBLIC, "Sec-Fetch-Site": "cross-site"},
        {"Origin": "null"},
        {},
        {"Referer": "https://evil.example/account"},
    ):
        refused = await post(h.http, "signin", fields, headers)
        assert refused.status_code == 403, headers
        assert "location" not in refused.headers
    async with new_browser(h) as victim:
        await victim.get(ACCOUNT)
        assert (await post(victim, "signin", fields)).status_code == 403
    assert (await post(h.http, "signin", fields, {"Referer": f"{PUBLIC}/account"})).status_code == 302
    assert (await post(h.http, "signin", {"csrf": "x"})).status_code == 403


async def test_an_unlisted_user_gets_the_development_mode_page_and_no_session(h: Harness) -> None:
    page = await h.http.get(ACCOUNT)
    to_spotify = await post(h.http, "signin", form(page.text, "signin").fields)
    refused = await to_spotify_and_back(h.http, to_spotify, "unlisted-user")
    assert refused.status_code == 403
    assert "not on its list of allowed users" in refused.text
    assert SESSION_COOKIE not in h.http.cookies
    assert "Sign in with Spotify" in (await h.http.get(ACCOUNT)).text


async def test_declining_at_spotify_signs_nobody_in(h: Harness) -> None:
    to_spotify = await start(h)
    page = await h.http.get(to_spotify.headers["location"])
    fields = parse_form(page.text).fields
    back = await h.http.post(f"{EMULATOR}/authorize", data={**fields, "action": "deny"})
    declined = await h.http.get(back.headers["location"])
    assert declined.status_code == 400
    assert SESSION_COOKIE not in h.http.cookies


async def test_the_session_ends_after_thirty_minutes(h: Harness, clock: ManualClock) -> None:
    await sign_in(h)
    clock.advance(1799)
    assert "Sign out" in (await h.http.get(ACCOUNT)).text
    clock.advance(2)
    assert "Sign in with Spotify" in (await h.http.get(ACCOUNT)).text


async def test_signing_out_ends_the_session_and_needs_the_sessions_csrf_token(h: Harness) -> None:
    page = await sign_in(h)
    signout = form(page, "signout").fields
    assert (await post(h.http, "signout", {"csrf": "forged"})).status_code == 403
    assert "Sign out" in (await h.http.get(ACCOUNT)).text
    out = await post(h.http, "signout", signout)
    assert out.status_code == 303
    assert out.headers["location"] == ACCOUNT
    assert "Sign in with Spotify" in (await h.http.get(ACCOUNT)).text


@pytest.mark.parametrize("tamper", ["none", "user", "expiry", "signature", "garbage"])
async def test_a_forged_or_tampered_session_cookie_signs_nobody_in(h: Harness, tamper: str) -> None:
    await sign_in(h)
    genuine = h.http.cookies[SESSION_COOKIE]
    session_id, expires, user, signature = genuine.split(".", 3)
    other_user = "ZnJlZS11c2Vy"  # base64url("free-user")
    presented = {
        "none": genuine,
        "user": f"{session_id}.{expires}.{other_user}.{signature}",
        "expiry": f"{session_id}.{int(expires) + 60}.{user}.{signature}",
        "signature": f"{session_id}.{expires}.{user}.{signature[:-4]}AAAA",
        "garbage": "not-a-session",
    }[tamper]
    h.http.cookies.clear()
    h.http.cookies.set(SESSION_COOKIE, presented)
    page = (await h.http.get(ACCOUNT)).text
    assert ("Sign out" in page) is (tamper == "none")
    assert "free-user" not in page


async def test_the_reserved_account_client_is_refused_by_every_oauth_endpoint(h: Harness) -> None:
    _, challenge = pkce()
    params = {"response_type": "code", "client_id": "smcp_account", "code_challenge": challenge}
    params |= {"code_challenge_method": "S256", "redirect_uri": f"{PUBLIC}/account"}
    authorize = await h.http.get(f"{PUBLIC}/authorize", params=params)
    assert authorize.status_code == 400
    assert "location" not in authorize.headers
    for endpoint, data in (
        ("token", {"grant_type": "authorization_code", "code": "x", "code_verifier": "y" * 43}),
        ("revoke", {"token": "smcp_at_x"}),
    ):
        refused = await h.http.post(f"{PUBLIC}/{endpoint}", data={**data, "client_id": "smcp_account"})
        assert refused.status_code == 401, endpoint
        assert refused.json()["error"] == "invalid_client"


async def test_on_https_the_session_cookie_is_host_only_secure_httponly_lax_and_short_lived(tmp_path: Path) -> None:
    base = "https://mcp.example.com"
    async with harness(tmp_path, public_url=base) as h:
        mounts = {base: httpx2.ASGITransport(app=h.app), EMULATOR: httpx2.ASGITransport(app=h.emulator)}
        async with httpx2.AsyncClient(mounts=mounts) as http:
            page = await http.get(f"{base}/account")
            assert page.headers["strict-transport-security"].startswith("max-age=")
            fields = form(page.text, "signin").fields
            to_spotify = await http.post(f"{base}/account/signin", data=fields, headers={"Origin": base})
            callback = await to_spotify_and_back(http, to_spotify, "premium-user")
            assert callback.headers["location"] == f"{base}/account"
            cookies = callback.headers.get_list("set-cookie")
            [session] = [c for c in cookies if c.startswith(f"__Host-{SESSION_COOKIE}=")]
            attributes = {part.strip().lower() for part in session.split(";")[1:]}
            assert {"secure", "httponly", "samesite=lax", "path=/", "max-age=1800"} <= attributes
            assert not [a for a in attributes if a.startswith("domain")]
            assert "Sign out" in (await http.get(f"{base}/account")).text

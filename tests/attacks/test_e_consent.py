"""Catalogue group E: the consent page, the MCP confused-deputy defence; and "remember this app".

Policies pinned here:

* E6/E7: redirects after the consent POST are 302 (browsers turn a 302 after a POST into a GET, exactly
  like 303), never 307 or 308.
* E10: HTML pages send ``Referrer-Policy: same-origin``, not ``no-referrer``: ``no-referrer`` would make
  browsers send ``Origin: null`` on our own consent form, which the same-origin check then refuses; to
  every other origin ``same-origin`` sends nothing, the same as ``no-referrer``. Redirects send
  ``no-referrer``.

Remembered consent (issue item 4), the rule that keeps the confused deputy out:

* it is opt-in per approval (an unticked checkbox; ``SPOTIFY_MCP_REMEMBER_CONSENT=false`` removes it) and
  only offered for https redirect URIs on non-loopback hosts (a loopback port or a private-use scheme can
  be claimed by any program on the device);
* it is a signed cookie per (client_id, exact redirect URI string), holding the approved scopes and an
  expiry, bound by its signature to a random per-browser id cookie; a request for another client, another
  redirect URI (even another loopback port) or more scopes is asked again;
* it skips the consent page only for a ``Sec-Fetch-Site: same-origin`` navigation. Every other navigation
  (``cross-site``, ``same-site``, ``none`` as for a link opened from another program, or no Fetch Metadata)
  still gets the consent page, marked as remembered. The /authorize request always arrives as a top-level
  cross-site navigation, and a SameSite=Lax cookie travels with it, so the cookie alone cannot tell a
  sign-in the user started from one an attacker's page or link started: any such sign-in still needs the
  user's click on our own page, which no other site can frame (E3) or forge (E4, E5);
* Deny, or Allow with the box unticked, forgets it; ``prompt=consent`` or ``prompt=login`` ignores it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx2
import pytest

from spotify_mcp.clock import ManualClock
from spotify_mcp.scopes import DESCRIPTIONS, spotify_only
from tests.attacks.conftest import (
    SAME_ORIGIN,
    approve,
    assert_consent_redirect,
    assert_error_page,
    authorize_url,
    consent_form,
    redirect_query,
    sign_in_at_spotify,
)
from tests.support import CLIENT_REDIRECT, EMULATOR, PUBLIC, Harness, harness, parse_form

pytestmark = pytest.mark.anyio

CONSENT = f"{PUBLIC}/consent"
WEB_REDIRECT = "https://app.example/cb"


async def consent_page(h: Harness, client_id: str, **overrides: str | None) -> httpx2.Response:
    page = await h.http.get(assert_consent_redirect(await h.http.get(authorize_url(client_id, **overrides))))
    assert page.status_code == 200, page.text
    return page


def set_cookies(response: httpx2.Response) -> list[str]:
    return response.headers.get_list("set-cookie")


async def pending_still_usable(h: Harness, fields: dict[str, str]) -> None:
    """The request survived the refused attempts: our own page (reloaded) still goes on to Spotify."""
    page = await h.http.get(f"{CONSENT}?request={fields['request']}")
    response = await approve(h, parse_form(page.text).fields)
    assert response.status_code == 302
    assert response.headers["location"].startswith(f"{EMULATOR}/authorize?")


async def test_e01_an_unapproved_client_gets_the_consent_page_even_after_another_was_approved(h: Harness) -> None:
    approved = (await h.register(client_name="Approved"))["client_id"]
    await h.tokens(approved)
    other = (await h.register(client_name="Other"))["client_id"]
    response = await h.http.get(authorize_url(other), headers=SAME_ORIGIN)
    page = await h.http.get(assert_consent_redirect(response))
    assert page.status_code == 200
    assert "Other" in page.text
    assert not response.headers["location"].startswith(EMULATOR)


async def test_e02_the_page_names_the_client_the_redirect_uri_and_the_spotify_scopes(h: Harness) -> None:
    client_id = (await h.register(client_name="Tunes & <Co>", redirect_uris=[WEB_REDIRECT]))["client_id"]
    scope = "user-read-private user-top-read offline_access"
    page = await consent_page(h, client_id, redirect_uri=WEB_REDIRECT, scope=scope)
    assert "Tunes &amp; &lt;Co&gt;" in page.text
    assert "<strong>app.example</strong>" in page.text
    assert f"<code>{WEB_REDIRECT}</code>" in page.text
    for name in spotify_only(scope.split()):
        assert f"<code>{name}</code>" in page.text
        assert DESCRIPTIONS[name] in page.text
    assert "offline_access" not in page.text
    assert "not verified" in page.text


async def test_e02_a_loopback_only_client_gets_the_this_device_warning(h: Harness) -> None:
    loopback = (await h.register())["client_id"]
    text = (await consent_page(h, loopback)).text
    assert "your own computer" in text
    assert "the app runs on this device; make sure you trust it" in text
    web = (await h.register(redirect_uris=[WEB_REDIRECT]))["client_id"]
    assert "runs on this device" not in (await consent_page(h, web, redirect_uri=WEB_REDIRECT)).text


async def test_e03_consent_and_error_pages_cannot_be_framed(h: Harness) -> None:
    client_id = (await h.register())["client_id"]
    pages = [
        await consent_page(h, client_id),
        await h.http.get(authorize_url("nobody")),
        await h.http.get(f"{CONSENT}?request=unknown"),
        await h.http.post(CONSENT, data={"request": "x", "action": "approve"}),
        await h.http.get(f"{PUBLIC}/callback?state=forged&code=x"),
    ]
    for page in pages:
        assert page.headers["content-type"].startswith("text/html")
        assert page.headers["x-frame-options"] == "DENY"
        assert "frame-ancestors 'none'" in page.headers["content-security-policy"]


async def test_e04_a_post_without_or_with_a_foreign_csrf_token_is_refused(h: Harness, tmp_path: Path) -> None:
    client_id = (await h.register())["client_id"]
    fields = await consent_form(h, client_id)
    other = await consent_form(h, client_id)
    attempts: list[dict[str, str]] = [
        {"request": fields["request"], "action": "approve"},
        {**fields, "csrf": "", "action": "approve"},
        {**fields, "csrf": other["csrf"], "action": "approve"},
        {**fields, "csrf": fields["csrf"] + "x", "action": "approve"},
        {**fields, "csrf": "kid.tag", "action": "approve"},
    ]
    for data in attempts:
        response = await h.http.post(CONSENT, data=data, headers=SAME_ORIGIN)
        assert_error_page(response, 403)
        assert not any("smcp_bind_" in cookie for cookie in set_cookies(response))
    # Another browser (its own cookies) replaying this page's token.
    async with httpx2.AsyncClient(mounts={PUBLIC: httpx2.ASGITransport(app=h.app)}) as other_browser:
        await other_browser.get(f"{CONSENT}?request={other['request']}")
        replay = await other_browser.post(CONSENT, data={**fields, "action": "approve"}, headers=SAME_ORIGIN)
        assert_error_page(replay, 403)
    await pending_still_usable(h, fields)


async def test_e05_cross_site_posts_and_gets_never_approve(h: Harness) -> None:
    client_id = (await h.register())["client_id"]
    fields = await consent_form(h, client_id)
    for headers in (
        {"Origin": "https://evil.example"},
        {"Origin": "null"},
        {"Origin": PUBLIC, "Sec-Fetch-Site": "cross-site"},
        {"Sec-Fetch-Site": "same-site"},
        {"Origin": "http://127.0.0.1:8001"},
    ):
        response = await h.http.post(CONSENT, data={**fields, "action": "approve"}, headers=headers)
        assert_error_page(response, 403)
    via_get = await h.http.get(CONSENT, params={**fields, "action": "approve", "approve": "1"})
    assert via_get.status_code == 200
    assert "location" not in via_get.headers
    await pending_still_usable(h, fields)


async def test_e06_deny_sends_access_denied_with_state_and_iss(h: Harness) -> None:
    client_id = (await h.register())["client_id"]
    fields = await consent_form(h, client_id)
    response = await h.http.post(CONSENT, data={**fields, "action": "deny"}, headers=SAME_ORIGIN)
    assert response.status_code == 302
    query = redirect_query(response)
    assert query["error"] == ["access_denied"]
    assert query["state"] == ["s1"]
    assert query["iss"] == [PUBLIC]
    assert "code" not in query


async def test_e07_redirects_after_the_post_are_never_307_or_308(h: Harness) -> None:
    client_id = (await h.register())["client_id"]
    approved = await approve(h, await consent_form(h, client_id))
    denied = await h.http.post(CONSENT, data={**await consent_form(h, client_id), "action": "deny"})
    for response in (approved, denied):
        assert response.status_code in (302, 303)


def cookie_attributes(header: str) -> tuple[str, set[str]]:
    name = header.split("=", 1)[0]
    attributes = {part.strip().lower() for part in header.split(";")[1:]}
    return name, attributes


async def test_e08_cookies_are_host_prefixed_secure_httponly_lax_and_binding_only_after_approval(
    tmp_path: Path,
) -> None:
    issuer = "https://mcp.example"
    async with harness(tmp_path, public_url=issuer) as h:
        client_id = (await h.register())["client_id"]
        to_consent = await h.http.get(authorize_url(client_id))
        assert set_cookies(to_consent) == []
        location = to_consent.headers["location"]
        assert location.startswith(f"{issuer}/consent?request=")
        page = await h.http.get(location.replace(issuer, PUBLIC))
        [csrf] = set_cookies(page)
        name, attributes = cookie_attributes(csrf)
        assert name == "__Host-smcp_csrf"
        assert {"secure", "httponly", "samesite=lax", "path=/"} <= attributes
        assert not any(a.startswith("domain=") for a in attributes)
        nonce = csrf.split("=", 1)[1].split(";")[0]
        fields = parse_form(page.text).fields
        to_spotify = await h.http.post(
            CONSENT,
            data={**fields, "action": "approve"},
            headers={"Origin": issuer, "Cookie": f"__Host-smcp_csrf={nonce}"},
        )
        assert to_spotify.status_code == 302, to_spotify.text
        binding = [c for c in set_cookies(to_spotify) if c.startswith("__Host-smcp_bind_")]
        assert len(binding) == 1
        _, attributes = cookie_attributes(binding[0])
        assert {"secure", "httponly", "samesite=lax", "path=/"} <= attributes
        assert "strict-transport-security" in to_spotify.headers


async def test_e09_hostile_client_metadata_is_inert(h: Harness) -> None:
    for client_uri in ("javascript:alert(1)", "data:text/html,x", "http://evil.example/"):
        response = await h.http.post(
            f"{PUBLIC}/register", json={"redirect_uris": [CLIENT_REDIRECT], "client_uri": client_uri}
        )
        assert response.status_code == 400
        assert response.json()["error"] == "invalid_client_metadata"
    name = '<img src=x onerror="alert(1)">'
    client_id = (await h.register(client_name=name, client_uri="https://app.example/"))["client_id"]
    page = await consent_page(h, client_id)
    assert "<img" not in page.text
    assert "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;" in page.text
    assert "<a " not in page.text


async def test_e10_pages_load_nothing_third_party_and_leak_no_referrer(h: Harness) -> None:
    client_id = (await h.register())["client_id"]
    redirect = await h.http.get(authorize_url(client_id))
    assert redirect.headers["referrer-policy"] == "no-referrer"
    page = await h.http.get(redirect.headers["location"])
    assert page.headers["referrer-policy"] in ("no-referrer", "same-origin")
    csp = page.headers["content-security-policy"]
    assert "default-src 'none'" in csp
    assert "script-src" not in csp
    for tag in ("<script", "<img", "<link", "<iframe", "<a ", "src="):
        assert tag not in page.text, tag


async def test_e11_a_double_submit_gives_one_upstream_redirect(h: Harness) -> None:
    client_id = (await h.register())["client_id"]
    fields = await consent_form(h, client_id)
    first = await approve(h, fields)
    assert first.headers["location"].startswith(f"{EMULATOR}/authorize?")
    second = await h.http.post(CONSENT, data={**fields, "action": "approve"}, headers=SAME_ORIGIN)
    assert second.status_code in (400, 403)
    assert "location" not in second.headers
    deny_after = await h.http.post(CONSENT, data={**fields, "action": "deny"}, headers=SAME_ORIGIN)
    assert "location" not in deny_after.headers


# -- remembered consent ------------------------------------------------------------------------------------


def put_cookie(h: Harness, name: str, value: str) -> None:
    """Replace a cookie the server set (host-only on 127.0.0.1)."""
    h.http.cookies.delete(name)
    h.http.cookies.set(name, value, domain="127.0.0.1", path="/")


def remember_cookies(h: Harness) -> dict[str, str]:
    return {name: value for name, value in h.http.cookies.items() if name.startswith(("smcp_rc_", "smcp_browser"))}


async def web_client(h: Harness, **metadata: Any) -> str:
    return str((await h.register(redirect_uris=[WEB_REDIRECT], **metadata))["client_id"])


async def remember(h: Harness, client_id: str, **overrides: str | None) -> None:
    """Approve with the box ticked and finish the sign-in."""
    page = await consent_page(h, client_id, redirect_uri=WEB_REDIRECT, **overrides)
    assert "name=remember value=1>" in page.text
    to_spotify = await approve(h, parse_form(page.text).fields, remember="1")
    assert "code" in redirect_query(await h.http.get(await sign_in_at_spotify(h, to_spotify)), WEB_REDIRECT)


async def start(h: Harness, client_id: str, site: str | None = "same-origin", **overrides: str | None) -> Any:
    headers = {"Sec-Fetch-Site": site} if site else {}
    return await h.http.get(authorize_url(client_id, redirect_uri=WEB_REDIRECT, **overrides), headers=headers)


async def test_remember_is_an_unticked_box_and_nothing_is_remembered_by_default(h: Harness) -> None:
    client_id = await web_client(h)
    page = await consent_page(h, client_id, redirect_uri=WEB_REDIRECT)
    assert "<input type=checkbox name=remember value=1>" in page.text
    await sign_in_at_spotify(h, await approve(h, parse_form(page.text).fields))
    assert remember_cookies(h) == {}
    assert_consent_redirect(await start(h, client_id))


async def test_remember_is_not_offered_for_loopback_or_when_turned_off(h: Harness, tmp_path: Path) -> None:
    loopback = (await h.register())["client_id"]
    page = await consent_page(h, loopback)
    assert "name=remember" not in page.text
    await sign_in_at_spotify(h, await approve(h, parse_form(page.text).fields, remember="1"))
    assert remember_cookies(h) == {}
    async with harness(tmp_path / "off", remember_consent=False) as off:
        client_id = await web_client(off)
        assert "name=remember" not in (await consent_page(off, client_id, redirect_uri=WEB_REDIRECT)).text


async def test_remembered_consent_skips_the_page_only_for_a_same_origin_navigation(h: Harness) -> None:
    client_id = await web_client(h)
    await remember(h, client_id)
    assert set(remember_cookies(h)) >= {"smcp_browser"}
    skipped = await start(h, client_id)
    callback = await sign_in_at_spotify(h, skipped)
    assert "code" in redirect_query(await h.http.get(callback), WEB_REDIRECT)
    for site in ("cross-site", "same-site", "none", None):
        response = await start(h, client_id, site)
        page = await h.http.get(assert_consent_redirect(response))
        assert "You allowed this application in this browser before" in page.text, site
        assert "name=remember value=1 checked>" in page.text
        assert "<button type=submit name=action value=approve>" in page.text


async def test_remembered_consent_is_bound_to_client_redirect_uri_and_scopes(h: Harness) -> None:
    client_id = await web_client(h, scope="user-read-private user-top-read")
    await remember(h, client_id, scope="user-read-private")
    assert not (await start(h, client_id, scope="user-read-private")).headers["location"].startswith(PUBLIC)
    assert_consent_redirect(await start(h, client_id, scope="user-read-private user-top-read"))
    assert_consent_redirect(await start(h, client_id, scope="user-read-private", prompt="consent"))
    # Another client, even one registered with the same redirect URI, is asked for.
    other = await web_client(h)
    assert_consent_redirect(await start(h, other, scope="user-read-private"))


async def test_remembered_consent_is_refused_when_forged_moved_or_expired(h: Harness, clock: ManualClock) -> None:
    client_id = await web_client(h)
    await remember(h, client_id)
    cookies = remember_cookies(h)
    [rc_name] = [name for name in cookies if name.startswith("smcp_rc_")]
    genuine = cookies[rc_name]
    expires, scopes, signature = genuine.split(".", 2)
    forgeries = [
        f"{int(expires) + 10**6}.{scopes}.{signature}",
        f"{expires}.{scopes}A.{signature}",
        f"{expires}.{scopes}.{signature[:-2]}xx",
        "garbage",
    ]
    for forged in forgeries:
        put_cookie(h, rc_name, forged)
        assert_consent_redirect(await start(h, client_id))
    put_cookie(h, rc_name, genuine)
    put_cookie(h, "smcp_browser", "another-browser")
    assert_consent_redirect(await start(h, client_id))
    put_cookie(h, "smcp_browser", cookies["smcp_browser"])
    assert not (await start(h, client_id)).headers["location"].startswith(PUBLIC)
    clock.advance(h.settings.remember_consent_ttl + 1)
    assert_consent_redirect(await start(h, client_id))


async def test_deny_or_an_unticked_allow_forgets_the_remembered_consent(h: Harness) -> None:
    client_id = await web_client(h)
    await remember(h, client_id)
    fields = parse_form((await h.http.get(assert_consent_redirect(await start(h, client_id, None)))).text).fields
    await h.http.post(CONSENT, data={**fields, "action": "deny"}, headers=SAME_ORIGIN)
    assert_consent_redirect(await start(h, client_id))
    await remember(h, client_id)
    fields = parse_form((await h.http.get(assert_consent_redirect(await start(h, client_id, None)))).text).fields
    await approve(h, fields)
    assert_consent_redirect(await start(h, client_id))


async def test_remembered_consent_never_reaches_an_attackers_redirect(h: Harness) -> None:
    """The confused-deputy attack: a client with the attacker's redirect URI is never pre-approved."""
    client_id = await web_client(h)
    await remember(h, client_id)
    attacker = (await h.register(redirect_uris=["https://attacker.example/cb"]))["client_id"]
    response = await h.http.get(
        authorize_url(attacker, redirect_uri="https://attacker.example/cb"), headers={"Sec-Fetch-Site": "same-origin"}
    )
    assert_consent_redirect(response)
    assert urlsplit(response.headers["location"]).netloc == urlsplit(PUBLIC).netloc
    assert_error_page(
        await h.http.get(authorize_url(client_id, redirect_uri="https://attacker.example/cb"), headers=SAME_ORIGIN)
    )

"""The browser leg: /authorize → consent → Spotify sign-in → /callback → our code, and its refusals."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import httpx2
import pytest

from tests.support import CLIENT_REDIRECT, EMULATOR, PUBLIC, Harness, parse_form, pkce

pytestmark = pytest.mark.anyio


def authorize_url(client_id: str, **overrides: str | None) -> str:
    _, challenge = pkce()
    params: dict[str, str | None] = {
        "response_type": "code",
        "client_id": client_id,
        "redirect_uri": CLIENT_REDIRECT,
        "code_challenge": challenge,
        "code_challenge_method": "S256",
        "state": "s1",
        **overrides,
    }
    return str(httpx2.URL(f"{PUBLIC}/authorize", params={k: v for k, v in params.items() if v is not None}))


async def test_the_full_browser_leg_returns_our_code_with_state_and_iss(h: Harness) -> None:
    client = await h.register()
    query, _ = await h.authorize(client["client_id"])
    assert query["code"][0].startswith("smcp_ac_")
    assert query["state"] == ["client-state-123"]
    assert query["iss"] == [PUBLIC]


async def test_authorize_goes_to_our_consent_page_before_spotify(h: Harness) -> None:
    client = await h.register(client_name="<b>Evil & Co</b>")
    response = await h.http.get(authorize_url(client["client_id"]))
    assert response.status_code == 302
    assert response.headers["location"].startswith(f"{PUBLIC}/consent?request=")
    page = await h.http.get(response.headers["location"])
    assert page.status_code == 200
    assert "&lt;b&gt;Evil &amp; Co&lt;/b&gt;" in page.text
    assert "127.0.0.1" in page.text
    assert "your own computer" in page.text
    assert "<button type=submit name=action value=approve>" in page.text
    assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
    assert page.headers["x-frame-options"] == "DENY"
    assert page.headers["cache-control"] == "no-store"
    assert h.world.api_calls == []


@pytest.mark.parametrize(
    "redirect_uri",
    [
        "https://attacker.example/callback",
        "http://127.0.0.1:3030/callback/",
        "http://127.0.0.1:3030/callbacks",
        "http://127.0.0.1:3030/callback?x=1",
        "http://127.0.0.2:3030/callback",
    ],
)
async def test_an_unregistered_or_near_miss_redirect_uri_gets_an_error_page_and_no_redirect(
    h: Harness, redirect_uri: str
) -> None:
    client = await h.register()
    response = await h.http.get(authorize_url(client["client_id"], redirect_uri=redirect_uri))
    assert response.status_code == 400
    assert "location" not in response.headers
    assert "text/html" in response.headers["content-type"]


async def test_a_loopback_redirect_uri_may_use_any_port(h: Harness) -> None:
    client = await h.register()
    response = await h.http.get(authorize_url(client["client_id"], redirect_uri="http://127.0.0.1:49152/callback"))
    assert response.status_code == 302
    assert response.headers["location"].startswith(f"{PUBLIC}/consent")


async def test_an_unknown_client_gets_an_error_page(h: Harness) -> None:
    response = await h.http.get(authorize_url("smcp_client_nobody"))
    assert response.status_code == 400
    assert "location" not in response.headers


def error_of(response: httpx2.Response) -> dict[str, list[str]]:
    assert response.status_code == 302
    location = response.headers["location"]
    assert location.startswith(CLIENT_REDIRECT)
    return parse_qs(urlsplit(location).query)


async def test_missing_pkce_is_refused(h: Harness) -> None:
    client = await h.register()
    query = error_of(await h.http.get(authorize_url(client["client_id"], code_challenge=None)))
    assert query["error"] == ["invalid_request"]
    assert query["state"] == ["s1"]
    assert query["iss"] == [PUBLIC]


async def test_plain_pkce_is_refused(h: Harness) -> None:
    client = await h.register()
    query = error_of(await h.http.get(authorize_url(client["client_id"], code_challenge_method="plain")))
    assert query["error"] == ["invalid_request"]


async def test_a_wrong_resource_is_refused_as_invalid_target(h: Harness) -> None:
    client = await h.register()
    response = await h.http.get(authorize_url(client["client_id"], resource="https://other.example/mcp"))
    assert error_of(response)["error"] == ["invalid_target"]


async def test_an_unknown_scope_is_refused(h: Harness) -> None:
    client = await h.register()
    response = await h.http.get(authorize_url(client["client_id"], scope="user-read-private admin"))
    assert error_of(response)["error"] == ["invalid_scope"]


async def test_an_unsupported_response_type_is_refused(h: Harness) -> None:
    client = await h.register()
    response = await h.http.get(authorize_url(client["client_id"], response_type="token"))
    assert error_of(response)["error"] == ["unsupported_response_type"]


async def consent_page(h: Harness) -> tuple[str, dict[str, str]]:
    client = await h.register()
    response = await h.http.get(authorize_url(client["client_id"]))
    page = await h.http.get(response.headers["location"])
    return client["client_id"], parse_form(page.text).fields


async def test_a_consent_post_without_the_csrf_token_is_refused(h: Harness) -> None:
    _, fields = await consent_page(h)
    response = await h.http.post(f"{PUBLIC}/consent", data={"request": fields["request"], "action": "approve"})
    assert response.status_code == 403
    assert not response.headers.get("location")


async def test_a_consent_post_with_another_requests_csrf_token_is_refused(h: Harness) -> None:
    _, first = await consent_page(h)
    _, second = await consent_page(h)
    response = await h.http.post(
        f"{PUBLIC}/consent", data={"request": second["request"], "csrf": first["csrf"], "action": "approve"}
    )
    assert response.status_code == 403


async def test_a_consent_post_from_another_browser_is_refused(h: Harness) -> None:
    _, fields = await consent_page(h)
    h.http.cookies.clear()
    response = await h.http.post(f"{PUBLIC}/consent", data={**fields, "action": "approve"})
    assert response.status_code == 403


async def test_a_cross_site_consent_post_is_refused(h: Harness) -> None:
    _, fields = await consent_page(h)
    response = await h.http.post(
        f"{PUBLIC}/consent", data={**fields, "action": "approve"}, headers={"Origin": "https://evil.example"}
    )
    assert response.status_code == 403


async def test_consent_is_single_use(h: Harness) -> None:
    _, fields = await consent_page(h)
    first = await h.http.post(f"{PUBLIC}/consent", data={**fields, "action": "approve"})
    assert first.status_code == 302
    assert first.headers["location"].startswith(f"{EMULATOR}/authorize?")
    again = await h.http.post(f"{PUBLIC}/consent", data={**fields, "action": "approve"})
    assert again.status_code in (400, 403)


async def test_denying_consent_returns_access_denied_to_the_client(h: Harness) -> None:
    _, fields = await consent_page(h)
    response = await h.http.post(f"{PUBLIC}/consent", data={**fields, "action": "deny"})
    query = error_of(response)
    assert query["error"] == ["access_denied"]
    assert query["iss"] == [PUBLIC]


async def approved_spotify_redirect(h: Harness) -> str:
    """Approve consent and sign in at the emulator; return the /callback URL Spotify redirects to."""
    _, fields = await consent_page(h)
    to_spotify = await h.http.post(f"{PUBLIC}/consent", data={**fields, "action": "approve"})
    sign_in = await h.http.get(to_spotify.headers["location"])
    form = parse_form(sign_in.text)
    back = await h.http.post(f"{EMULATOR}{form.action}", data={**form.fields, "action": "approve"})
    location = back.headers["location"]
    assert location.startswith(f"{PUBLIC}/callback?")
    return location


async def test_a_callback_with_a_wrong_state_is_refused(h: Harness) -> None:
    location = await approved_spotify_redirect(h)
    query = parse_qs(urlsplit(location).query)
    response = await h.http.get(f"{PUBLIC}/callback", params={"code": query["code"][0], "state": "forged"})
    assert response.status_code == 400
    assert "location" not in response.headers


async def test_a_callback_without_the_binding_cookie_is_refused(h: Harness) -> None:
    location = await approved_spotify_redirect(h)
    h.http.cookies.clear()
    response = await h.http.get(location)
    assert response.status_code == 403
    assert "location" not in response.headers


async def test_a_callback_is_single_use(h: Harness) -> None:
    location = await approved_spotify_redirect(h)
    assert (await h.http.get(location)).status_code == 302
    assert (await h.http.get(location)).status_code == 400


async def test_a_spotify_denial_is_returned_to_the_client(h: Harness) -> None:
    _, fields = await consent_page(h)
    to_spotify = await h.http.post(f"{PUBLIC}/consent", data={**fields, "action": "approve"})
    sign_in = await h.http.get(to_spotify.headers["location"])
    form = parse_form(sign_in.text)
    back = await h.http.post(f"{EMULATOR}{form.action}", data={**form.fields, "action": "deny"})
    query = error_of(await h.http.get(back.headers["location"]))
    assert query["error"] == ["access_denied"]
    assert query["state"] == ["s1"]


async def test_an_account_not_on_the_allow_list_gets_a_page_explaining_the_fix(h: Harness) -> None:
    _, fields = await consent_page(h)
    to_spotify = await h.http.post(f"{PUBLIC}/consent", data={**fields, "action": "approve"})
    sign_in = await h.http.get(to_spotify.headers["location"])
    form = parse_form(sign_in.text)
    back = await h.http.post(
        f"{EMULATOR}{form.action}", data={**form.fields, "user": "unlisted-user", "action": "approve"}
    )
    page = await h.http.get(back.headers["location"])
    assert page.status_code == 403
    assert "User Management" in page.text

"""Catalogue group C: the authorization endpoint's client, redirect_uri and parameter handling.

Policies pinned here:

* C6: with ``redirect_uri`` omitted and exactly one URI registered, that URI is used (OAuth 2.1 allows it).
* C7: a repeated ``client_id`` or ``redirect_uri`` is an error page; any other repeated parameter we define
  (``response_type``, ``scope``, ``state``, ``code_challenge[_method]``, ``resource``, ``prompt``) is
  redirected as ``invalid_request`` (and a repeated ``state`` is not echoed: there is no one value to echo).
* C8: an empty parameter counts as absent (so an empty ``state`` is not echoed); unknown parameters are
  ignored, even repeated.
* C11: scope errors are redirected immediately once the client and its redirect URI are validated. A
  phishing client gains nothing over a direct link to its own registered site: the redirect carries only
  ``error``, ``state`` and ``iss``. OAuth 2.1 requires the redirect, so there is no interstitial.
* C14: ``prompt`` is not supported and changes nothing: every request goes through our consent page
  (``prompt=none`` never yields a silent code). The one exception, a consent remembered by this browser for
  this client and redirect URI, is in ``test_e_consent.py``; it never applies to a cross-site navigation.
* C15: ``state`` is optional; up to 1024 characters are echoed byte-exact, longer is an error page, and
  a query over 8 KiB is an error page too.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlencode

import httpx2
import pytest

from tests.attacks.conftest import (
    approve,
    assert_consent_redirect,
    assert_error_page,
    authorize_url,
    consent_form,
    redirect_query,
    sign_in_at_spotify,
)
from tests.support import CLIENT_REDIRECT, EMULATOR, PUBLIC, Harness, harness, pkce

pytestmark = pytest.mark.anyio

APP = "https://app.example/cb?a=1&b=2"


async def register_app(h: Harness, *uris: str) -> str:
    client = await h.register(redirect_uris=list(uris or [APP]))
    return str(client["client_id"])


async def test_c01_an_unknown_client_gets_an_error_page_and_no_redirect(h: Harness) -> None:
    for client_id in ("smcp_client_nobody", "x" * 5000, "https://", "<script>"):
        assert_error_page(await h.http.get(authorize_url(client_id, redirect_uri="https://attacker.example/cb")))


async def test_c02_a_missing_client_id_gets_an_error_page(h: Harness) -> None:
    assert_error_page(await h.http.get(authorize_url(None)))
    assert_error_page(await h.http.get(authorize_url("")))


async def test_c03_an_unregistered_redirect_uri_gets_an_error_page(h: Harness) -> None:
    client_id = await register_app(h)
    for uri in ("https://attacker.example/cb", "javascript:alert(1)", "http://127.0.0.1:3030/callback"):
        assert_error_page(await h.http.get(authorize_url(client_id, redirect_uri=uri)))


async def test_c04_near_miss_redirect_uris_get_an_error_page_and_no_redirect(h: Harness) -> None:
    client_id = await register_app(h)
    near_misses = [
        "https://app.example/cb/?a=1&b=2",
        "https://app.example/CB?a=1&b=2",
        "https://APP.example/cb?a=1&b=2",
        "https://app.example/cb?b=2&a=1",
        "https://app.example/cb?a=1&b=2&c=3",
        "https://app.example/cb?a=1",
        "https://app.example/cb",
        "https://app.example%2Fcb?a=1&b=2",
        "https://app.example/%63b?a=1&b=2",
        "https://app.example:443/cb?a=1&b=2",
        "https://app.example/cb/../cb?a=1&b=2",
        "https://app.example/x/%2E%2E/cb?a=1&b=2",
        "https://app.example/x/%252E%252E/cb?a=1&b=2",
        "https://app.example./cb?a=1&b=2",
        "https://app.example/cb?a=1&b=2#",
        "https://app.example/cb?a=1&b=2#frag",
        "https://user@app.example/cb?a=1&b=2",
        "http://app.example/cb?a=1&b=2",
        "https://app.example.evil.example/cb?a=1&b=2",
        " https://app.example/cb?a=1&b=2",
    ]
    for uri in near_misses:
        response = await h.http.get(authorize_url(client_id, redirect_uri=uri))
        assert response.status_code == 400, uri
        assert "location" not in response.headers, uri
    assert_consent_redirect(await h.http.get(authorize_url(client_id, redirect_uri=APP)))


async def test_c05_a_loopback_redirect_may_change_only_its_port(h: Harness) -> None:
    client_id = await register_app(h, "http://127.0.0.1/cb", "http://[::1]:8080/cb")
    for uri in ("http://127.0.0.1/cb", "http://127.0.0.1:51004/cb", "http://[::1]/cb", "http://[::1]:9/cb"):
        assert_consent_redirect(await h.http.get(authorize_url(client_id, redirect_uri=uri)))
    for uri in (
        "http://127.0.0.1:51004/cb/",
        "http://127.0.0.1:51004/other",
        "http://localhost:51004/cb",
        "https://127.0.0.1:51004/cb",
        "http://127.0.0.2:51004/cb",
        "http://127.0.0.1:51004/cb?x=1",
        "http://[::1]:9/CB",
    ):
        assert_error_page(await h.http.get(authorize_url(client_id, redirect_uri=uri)))


async def test_c06_an_omitted_redirect_uri_defaults_only_when_one_is_registered(h: Harness) -> None:
    """Policy: one registered URI is the default; with several, the request is an error page."""
    several = await register_app(h, "https://app.example/a", "https://app.example/b")
    assert_error_page(await h.http.get(authorize_url(several, redirect_uri=None)))
    one = (await h.register())["client_id"]
    assert_consent_redirect(await h.http.get(authorize_url(one, redirect_uri=None)))
    error = redirect_query(await h.http.get(authorize_url(one, redirect_uri=None, response_type="token")))
    assert error["error"] == ["unsupported_response_type"]


def raw_authorize(**params: str | list[str]) -> str:
    pairs: list[tuple[str, str]] = []
    for name, value in params.items():
        pairs.extend((name, v) for v in (value if isinstance(value, list) else [value]))
    return f"{PUBLIC}/authorize?{urlencode(pairs)}"


async def test_c07_a_repeated_client_or_redirect_uri_is_an_error_page(h: Harness) -> None:
    client_id = (await h.register())["client_id"]
    _, challenge = pkce()
    base = {"response_type": "code", "code_challenge": challenge, "code_challenge_method": "S256", "state": "s"}
    both_ids = raw_authorize(**base, client_id=[client_id, client_id], redirect_uri=CLIENT_REDIRECT)
    assert_error_page(await h.http.get(both_ids))
    both_uris = raw_authorize(**base, client_id=client_id, redirect_uri=[CLIENT_REDIRECT, "https://evil.example/cb"])
    assert_error_page(await h.http.get(both_uris))


async def test_c07_any_other_repeated_parameter_is_redirected_as_invalid_request(h: Harness) -> None:
    client_id = (await h.register())["client_id"]
    _, challenge = pkce()
    base = {
        "response_type": "code",
        "client_id": client_id,
        "redirect_uri": CLIENT_REDIRECT,
        "code_challenge": challenge,
        "code_challenge_method": "S256",
        "state": "s",
    }
    for name in ("state", "code_challenge", "scope", "response_type", "resource"):
        params: dict[str, str | list[str]] = {**base, name: [base.get(name, "user-read-private")] * 2}
        query = redirect_query(await h.http.get(raw_authorize(**params)))
        assert query["error"] == ["invalid_request"], name
        assert query["iss"] == [PUBLIC]
        assert query.get("state") == (None if name == "state" else ["s"]), name


async def test_c07_a_repeated_parameter_in_a_posted_request_is_handled_the_same_way(h: Harness) -> None:
    client_id = (await h.register())["client_id"]
    _, challenge = pkce()
    body = urlencode(
        [
            ("response_type", "code"),
            ("client_id", client_id),
            ("redirect_uri", CLIENT_REDIRECT),
            ("code_challenge", challenge),
            ("code_challenge_method", "S256"),
            ("state", "s"),
            ("scope", "user-read-private"),
            ("scope", "user-top-read"),
        ]
    )
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    query = redirect_query(await h.http.post(f"{PUBLIC}/authorize", content=body, headers=headers))
    assert query["error"] == ["invalid_request"]
    repeated_id = body + f"&client_id={client_id}"
    assert_error_page(await h.http.post(f"{PUBLIC}/authorize", content=repeated_id, headers=headers))


async def test_c08_empty_parameters_are_absent_and_unknown_ones_are_ignored(h: Harness) -> None:
    client_id = (await h.register())["client_id"]
    accepted = await h.http.get(authorize_url(client_id, scope="", foo="bar", nonce="n", display="page"))
    assert_consent_redirect(accepted)
    assert_consent_redirect(await h.http.get(authorize_url(client_id) + "&foo=1&foo=2&utm=&utm="))
    refused = redirect_query(await h.http.get(authorize_url(client_id, state="", code_challenge_method="")))
    assert refused["error"] == ["invalid_request"]
    assert "state" not in refused


async def test_c09_token_and_hybrid_response_types_are_unsupported(h: Harness) -> None:
    client_id = (await h.register())["client_id"]
    for response_type in ("token", "id_token", "code token", "code id_token", "none"):
        query = redirect_query(await h.http.get(authorize_url(client_id, response_type=response_type)))
        assert query["error"] == ["unsupported_response_type"], response_type
        assert query["state"] == ["s1"]
        assert "code" not in query
        assert "access_token" not in query


async def test_c10_a_missing_response_type_is_invalid_request_and_garbage_is_unsupported(h: Harness) -> None:
    client_id = (await h.register())["client_id"]
    missing = redirect_query(await h.http.get(authorize_url(client_id, response_type=None)))
    assert missing["error"] == ["invalid_request"]
    for garbage in ("CODE", "c0de", "code\x00", "\u2603"):
        query = redirect_query(await h.http.get(authorize_url(client_id, response_type=garbage)))
        assert query["error"] == ["unsupported_response_type"], garbage


async def test_c11_a_bad_scope_is_redirected_only_after_the_client_and_redirect_are_validated(h: Harness) -> None:
    client_id = (await h.register())["client_id"]
    query = redirect_query(await h.http.get(authorize_url(client_id, scope="user-read-private admin")))
    assert query["error"] == ["invalid_scope"]
    assert query["state"] == ["s1"]
    bad_redirect = authorize_url(client_id, scope="admin", redirect_uri="https://phish.example/cb")
    assert_error_page(await h.http.get(bad_redirect))
    assert_error_page(await h.http.get(authorize_url("smcp_client_nobody", scope="admin")))


async def test_c12_every_redirect_has_state_and_iss_once_byte_exact_and_never_the_challenge(h: Harness) -> None:
    client_id = (await h.register())["client_id"]
    state = "a b&c=d%20é/?#☃+"
    verifier, challenge = pkce()
    error = await h.http.get(authorize_url(client_id, challenge=challenge, state=state, scope="admin"))
    denied_fields = await consent_form(h, client_id, challenge=challenge, state=state)
    denied = await h.http.post(f"{PUBLIC}/consent", data={**denied_fields, "action": "deny"})
    fields = await consent_form(h, client_id, challenge=challenge, state=state)
    success = await h.http.get(await sign_in_at_spotify(h, await approve(h, fields)))
    for response in (error, denied, success):
        query = redirect_query(response)
        assert query["state"] == [state]
        assert query["iss"] == [PUBLIC]
        assert challenge not in response.headers["location"]
        assert verifier not in response.headers["location"]
        assert "code_challenge" not in query


async def test_c12_a_registered_query_cannot_smuggle_a_second_state_or_code(h: Harness) -> None:
    """Policy: a redirect URI whose query uses a response parameter name is refused at registration."""
    for uri in ("https://app.example/cb?state=x", "https://app.example/cb?code=1", "https://app.example/cb?iss=a"):
        response = await h.http.post(f"{PUBLIC}/register", json={"redirect_uris": [uri]})
        assert response.status_code == 400, uri
        assert response.json()["error"] == "invalid_redirect_uri"


async def test_c13_authorize_never_answers_cors(h: Harness) -> None:
    client_id = (await h.register())["client_id"]
    origin = {"Origin": "https://evil.example"}
    preflight = {**origin, "Access-Control-Request-Method": "GET", "Access-Control-Request-Headers": "authorization"}
    responses = [
        await h.http.options(f"{PUBLIC}/authorize", headers=preflight),
        await h.http.get(authorize_url(client_id), headers=origin),
        await h.http.get(authorize_url("nobody"), headers=origin),
        await h.http.post(f"{PUBLIC}/authorize", data={"client_id": client_id}, headers=origin),
    ]
    for response in responses:
        assert not any(name.lower().startswith("access-control-") for name in response.headers)


async def test_c14_prompt_none_never_yields_a_silent_code(h: Harness) -> None:
    client_id = (await h.register())["client_id"]
    await h.tokens(client_id)
    for prompt in ("none", "login", "consent", "select_account"):
        response = await h.http.get(authorize_url(client_id, prompt=prompt))
        consent = await h.http.get(assert_consent_redirect(response))
        assert consent.status_code == 200
        assert "<form" in consent.text
    assert not (await h.http.get(authorize_url(client_id, prompt="none"))).headers["location"].startswith(EMULATOR)


async def test_c15_state_is_optional_long_state_is_echoed_and_over_the_cap_is_refused(h: Harness) -> None:
    client_id = (await h.register())["client_id"]
    fields = await consent_form(h, client_id, state=None)
    no_state = redirect_query(await h.http.get(await sign_in_at_spotify(h, await approve(h, fields))))
    assert "state" not in no_state
    assert "code" in no_state
    long_state = "L" * 1024
    query = redirect_query(await h.http.get(authorize_url(client_id, state=long_state, response_type="token")))
    assert query["state"] == [long_state]
    assert_error_page(await h.http.get(authorize_url(client_id, state="L" * 2048)))
    assert_error_page(await h.http.get(authorize_url(client_id, state="L" * 60_000)))
    huge = str(httpx2.URL(authorize_url(client_id), params={"junk": "x" * 10_000}))
    assert_error_page(await h.http.get(f"{huge}&client_id={client_id}"))


async def test_c_a_redirect_host_allow_list_also_binds_clients_registered_before_it(tmp_path: Path) -> None:
    """``SPOTIFY_MCP_REDIRECT_HOST_ALLOWLIST`` is checked again at /authorize (a page, never a redirect)."""
    async with harness(tmp_path) as before:
        outside = await register_app(before, "https://outside.example/cb")
        inside = await register_app(before, "https://app.example/cb")
    async with harness(tmp_path, redirect_host_allowlist="*.example.org, app.example") as h:
        page = await h.http.get(authorize_url(outside, redirect_uri="https://outside.example/cb"))
        assert_error_page(page)
        assert "outside.example" in page.text
        assert_consent_redirect(await h.http.get(authorize_url(inside, redirect_uri="https://app.example/cb")))


async def test_c_a_cimd_domain_allow_list_refuses_other_client_ids_before_fetching(tmp_path: Path) -> None:
    """``SPOTIFY_MCP_CIMD_DOMAIN_ALLOWLIST``: a client_id URL on another host is refused without a fetch."""
    async with harness(tmp_path, cimd_domain_allowlist=("127.0.0.1", "*.good.example")) as h:
        for client_id in ("https://evil.example/client.json", "https://good.example/client.json"):
            page = await h.http.get(authorize_url(client_id))
            assert_error_page(page)
            assert "does not accept applications published by" in page.text, client_id
        allowed = await h.http.get(authorize_url("https://127.0.0.1/client.json"))
        assert_error_page(allowed)
        assert "metadata document could not be used" in allowed.text

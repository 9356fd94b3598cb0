"""Catalogue group D: PKCE (RFC 7636 as profiled by OAuth 2.1 and RFC 9700).

Policies pinned here:

* D2–D5: every PKCE problem at /authorize is redirected as ``invalid_request`` (OAuth 2.1's form), never a
  direct JSON error. A challenge must be exactly 43 base64url characters, the only shape S256 produces.
* D6: a token request without ``code_verifier`` is ``invalid_request`` and leaves the code usable.
* D11: reusing one challenge across transactions is accepted, not flagged: each code stays bound to its
  own transaction and is single-use, so a constant challenge gives an attacker nothing extra (RFC 9700
  §2.1.1 only asks for a "reasonable effort", which the per-transaction binding is).

Not applicable:

* D10 (a verifier sent for a code issued without a challenge): no code is ever issued without one; D1
  refuses such requests before consent.
"""

from __future__ import annotations

import pytest

from spotify_mcp.crypto import pkce_challenge
from tests.attacks.conftest import approve, authorize_url, consent_form, redirect_query, sign_in_at_spotify
from tests.support import PUBLIC, Harness, code_form, pkce

pytestmark = pytest.mark.anyio

TOKEN = f"{PUBLIC}/token"


async def code_for(h: Harness, client_id: str, challenge: str) -> str:
    fields = await consent_form(h, client_id, challenge=challenge)
    query = redirect_query(await h.http.get(await sign_in_at_spotify(h, await approve(h, fields))))
    return query["code"][0]


async def authorize_error(h: Harness, client_id: str, **overrides: str | None) -> dict[str, list[str]]:
    return redirect_query(await h.http.get(authorize_url(client_id, **overrides)))


async def test_d01_a_public_client_without_a_challenge_is_refused(h: Harness) -> None:
    client_id = (await h.register())["client_id"]
    for overrides in ({"code_challenge": None}, {"code_challenge": None, "code_challenge_method": None}):
        query = await authorize_error(h, client_id, **overrides)
        assert query["error"] == ["invalid_request"]
        assert query["state"] == ["s1"]
        assert query["iss"] == [PUBLIC]


async def test_d01_a_confidential_client_without_a_challenge_is_refused_too(h: Harness) -> None:
    client_id = (await h.register(token_endpoint_auth_method="client_secret_basic"))["client_id"]
    assert (await authorize_error(h, client_id, code_challenge=None))["error"] == ["invalid_request"]


async def test_d02_the_plain_method_is_refused(h: Harness) -> None:
    client_id = (await h.register())["client_id"]
    verifier, _ = pkce()
    query = await authorize_error(h, client_id, challenge=verifier[:43], code_challenge_method="plain")
    assert query["error"] == ["invalid_request"]


async def test_d03_a_challenge_without_a_method_is_refused_as_implicitly_plain(h: Harness) -> None:
    client_id = (await h.register())["client_id"]
    assert (await authorize_error(h, client_id, code_challenge_method=None))["error"] == ["invalid_request"]


async def test_d04_unsupported_methods_are_refused(h: Harness) -> None:
    client_id = (await h.register())["client_id"]
    for method in ("S512", "s256", "S256 ", "sha256", "S256,plain"):
        assert (await authorize_error(h, client_id, code_challenge_method=method))["error"] == ["invalid_request"]


async def test_d05_malformed_challenges_are_refused(h: Harness) -> None:
    client_id = (await h.register())["client_id"]
    good = pkce()[1]
    for challenge in (
        good[:42],
        good + "A",
        "A" * 128,
        "A" * 129,
        good[:42] + "=",
        good[:41] + "+/",
        good[:42] + "~",
        good[:42] + ".",
        good[:42] + "é",
        good[:42] + " ",
    ):
        query = await authorize_error(h, client_id, challenge=challenge)
        assert query["error"] == ["invalid_request"], challenge


async def test_d06_a_token_request_without_a_verifier_is_refused_and_keeps_the_code(h: Harness) -> None:
    client_id = (await h.register())["client_id"]
    verifier, challenge = pkce()
    code = await code_for(h, client_id, challenge)
    form = code_form(code, verifier, client_id)
    for missing in ({k: v for k, v in form.items() if k != "code_verifier"}, {**form, "code_verifier": ""}):
        response = await h.http.post(TOKEN, data=missing)
        assert response.status_code == 400
        assert response.json()["error"] == "invalid_request"
    assert (await h.http.post(TOKEN, data=form)).status_code == 200


async def test_d07_a_wrong_verifier_is_invalid_grant(h: Harness) -> None:
    client_id = (await h.register())["client_id"]
    verifier, challenge = pkce()
    code = await code_for(h, client_id, challenge)
    other, _ = pkce()
    response = await h.http.post(TOKEN, data=code_form(code, other, client_id))
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"
    assert (await h.http.post(TOKEN, data=code_form(code, verifier, client_id))).status_code == 200


async def test_d08_malformed_verifiers_are_invalid_grant_without_an_exception(h: Harness) -> None:
    client_id = (await h.register())["client_id"]
    verifier, challenge = pkce()
    code = await code_for(h, client_id, challenge)
    for bad in ("a" * 42, "a" * 129, verifier[:42] + "%", verifier[:42] + " ", verifier[:42] + "é", "\x00" * 50):
        response = await h.http.post(TOKEN, data=code_form(code, bad, client_id))
        assert response.status_code == 400, bad
        assert response.json()["error"] == "invalid_grant", bad
    assert (await h.http.post(TOKEN, data=code_form(code, verifier, client_id))).status_code == 200


async def test_d09_sending_the_challenge_as_the_verifier_is_invalid_grant(h: Harness) -> None:
    client_id = (await h.register())["client_id"]
    _, challenge = pkce()
    code = await code_for(h, client_id, challenge)
    response = await h.http.post(TOKEN, data=code_form(code, challenge, client_id))
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"


async def test_d11_a_reused_challenge_still_gives_separate_single_use_codes(h: Harness) -> None:
    client_id = (await h.register())["client_id"]
    verifier = "v" * 43
    challenge = pkce_challenge(verifier)
    first, second = await code_for(h, client_id, challenge), await code_for(h, client_id, challenge)
    assert first != second
    assert (await h.http.post(TOKEN, data=code_form(first, verifier, client_id))).status_code == 200
    assert (await h.http.post(TOKEN, data=code_form(second, verifier, client_id))).status_code == 200
    assert (await h.http.post(TOKEN, data=code_form(second, verifier, client_id))).json()["error"] == "invalid_grant"

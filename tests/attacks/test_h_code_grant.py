"""Catalogue group H: the authorization-code grant.

Covered elsewhere (``tests/flow/test_tokens.py``):

* H1 (a valid code gives ``access_token``, ``token_type=Bearer``, ``expires_in``, a refresh token and
  ``scope``, never cached): ``test_a_code_is_exchanged_for_our_own_tokens``.
* H2 (a second valid redemption is ``invalid_grant`` and revokes what the first one issued):
  ``test_a_replayed_code_fails_and_revokes_what_it_issued``.
* H4 (a code redeemed under another client): ``test_another_clients_code_is_refused``.
* H5 (a code past its five-minute lifetime): ``test_an_expired_code_is_refused``; the exact boundary is in
  ``test_r_faults.py`` (R8).

Policies:

* H3: only a replay that proves possession of the PKCE verifier, from the client the code was issued to,
  with the right ``redirect_uri``, counts as a replay and revokes the grant. Anything less is a plain
  ``invalid_grant`` and leaves the legitimate tokens alone (no attacker-triggered revocation).
* H8: racing redemptions are replays too: exactly one wins, every other one is ``invalid_grant`` and
  revokes the winner's grant (the code leaked), so the store ends with no live grant for it.
"""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator
from pathlib import Path

import anyio
import httpx2
import pytest

from spotify_mcp.clock import ManualClock
from spotify_mcp.oauth.tokens import CODE_PREFIX
from tests.attacks.support_gm import MCP, TOKEN, mcp_status, refresh, serve
from tests.support import CLIENT_REDIRECT, Harness, code_form

pytestmark = pytest.mark.anyio


@pytest.fixture
def clock() -> ManualClock:
    """A clock the test moves by hand."""
    return ManualClock()


@pytest.fixture
async def h(tmp_path: Path, clock: ManualClock) -> AsyncIterator[Harness]:
    """A running server wired to the emulator."""
    async with serve(tmp_path, clock=clock) as running:
        yield running


async def test_h03_a_replay_without_the_verifier_or_from_another_client_revokes_nothing(h: Harness) -> None:
    mine, other = await h.register(), await h.register()
    query, verifier = await h.authorize(mine["client_id"])
    form = code_form(query["code"][0], verifier, mine["client_id"], resource=MCP)
    first = await h.http.post(TOKEN, data=form)
    assert first.status_code == 200
    tokens = first.json()
    attempts = [
        {**form, "code_verifier": "w" * 43},
        {**form, "code_verifier": ""},
        {**form, "client_id": other["client_id"]},
        {**form, "redirect_uri": "http://127.0.0.1:3031/callback"},
    ]
    for attempt in attempts:
        response = await h.http.post(TOKEN, data=attempt)
        assert response.status_code == 400, attempt
        assert response.json()["error"] in ("invalid_grant", "invalid_request")
        assert await mcp_status(h, tokens["access_token"]) != 401, attempt
    # The same replay with the verifier is a real one: the grant goes (H2).
    assert (await h.http.post(TOKEN, data=form)).json()["error"] == "invalid_grant"
    assert await mcp_status(h, tokens["access_token"]) == 401
    assert (await refresh(h, mine["client_id"], tokens["refresh_token"])).status_code == 400


@pytest.mark.parametrize("redirect_uri", ["http://127.0.0.1:3031/callback", f"{CLIENT_REDIRECT}/", None])
async def test_h06_a_different_redirect_uri_is_invalid_grant_and_the_code_survives(
    h: Harness, redirect_uri: str | None
) -> None:
    client = await h.register()
    query, verifier = await h.authorize(client["client_id"])
    form = code_form(query["code"][0], verifier, client["client_id"])
    wrong = {k: v for k, v in {**form, "redirect_uri": redirect_uri}.items() if v is not None}
    response = await h.http.post(TOKEN, data=wrong)
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"
    assert (await h.http.post(TOKEN, data=form)).status_code == 200


@pytest.mark.parametrize(
    "code",
    [
        "garbage",
        CODE_PREFIX,
        "smcp_ac_" + "A" * 42,
        "smcp_ac_" + "A" * 10_000,
        "smcp_ac_\x00\x00",
        "smcp_ac_%00'; DROP TABLE auth_codes; --",
        "\u202e\ufeff😀",
    ],
)
async def test_h07_garbage_codes_are_invalid_grant_never_a_crash(h: Harness, code: str) -> None:
    client = await h.register()
    query, verifier = await h.authorize(client["client_id"])
    response = await h.http.post(TOKEN, data=code_form(code, verifier, client["client_id"]))
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"
    # A truncated real code is garbage too.
    truncated = await h.http.post(TOKEN, data=code_form(query["code"][0][:-1], verifier, client["client_id"]))
    assert truncated.json()["error"] == "invalid_grant"
    assert (
        await h.http.post(TOKEN, data=code_form(query["code"][0], verifier, client["client_id"]))
    ).status_code == 200


async def test_h08_fifty_concurrent_redemptions_give_exactly_one_token_response(h: Harness) -> None:
    client = await h.register()
    query, verifier = await h.authorize(client["client_id"])
    form = code_form(query["code"][0], verifier, client["client_id"])
    responses: list[httpx2.Response] = []

    async def redeem() -> None:
        responses.append(await h.http.post(TOKEN, data=form))

    async with anyio.create_task_group() as group:
        for _ in range(50):
            group.start_soon(redeem)
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [200] + [400] * 49
    assert {r.json()["error"] for r in responses if r.status_code == 400} == {"invalid_grant"}
    winner = next(r.json() for r in responses if r.status_code == 200)
    # The store is consistent: one code, used once; the grant it made was revoked by the racing replays.
    store = h.app.state.runtime.services.store
    assert await store.list_grants() == []
    assert await mcp_status(h, winner["access_token"]) == 401


async def test_h09_codes_carry_at_least_128_random_bits_and_never_repeat(h: Harness) -> None:
    client = await h.register()
    codes = [(await h.authorize(client["client_id"]))[0]["code"][0] for _ in range(3)]
    assert len(set(codes)) == 3
    for code in codes:
        assert code.startswith(CODE_PREFIX)
        random_part = code.removeprefix(CODE_PREFIX)
        raw = base64.urlsafe_b64decode(random_part + "=" * (-len(random_part) % 4))
        assert len(raw) * 8 >= 128

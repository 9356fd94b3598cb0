"""Catalogue group I: refresh tokens.

Covered elsewhere (``tests/flow/test_tokens.py``):

* I1 (a refresh rotates the refresh token): ``test_refresh_rotates_the_refresh_token``.
* I2 (reusing a rotated refresh token revokes the whole grant):
  ``test_reusing_a_rotated_refresh_token_revokes_the_grant``.
* I4, wider half (a refresh cannot add scopes): ``test_a_refresh_cannot_widen_the_scope``.

Policies:

* I2: strict rotation, no grace window: a rotated refresh token presented again is reuse, whether or not its
  successor has been used yet, and revokes the grant. A client that lost a refresh response must sign in again
  (see ``test_r_faults.py`` R3 and ``docs/security.md``).
* I6: the refresh-token lifetime (``SPOTIFY_MCP_REFRESH_TOKEN_TTL``, 30 days by default) is also the inactivity
  limit: every rotation issues a successor with a fresh lifetime, and an unused one expires.
* I8: concurrent refreshes with one token are reuse: one wins, the others revoke the grant, so no successor
  chain survives the race.
* I9/I10: our refresh grant never calls Spotify (the user's Spotify token is refreshed on demand by tool
  calls), so Spotify's answers only matter on the tool-call path: ``invalid_grant`` from Spotify ends every
  grant of that user; a transient failure is a tool error that revokes nothing.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import anyio
import httpx2
import pytest

from spotify_mcp.clock import ManualClock
from tests.attacks.support_gm import TOKEN, mcp_post, mcp_status, refresh, revoke, serve, tokens_for
from tests.support import Harness, mcp_client

pytestmark = pytest.mark.anyio

THIRTY_DAYS = 30 * 86400


@pytest.fixture
def clock() -> ManualClock:
    """A clock the test moves by hand."""
    return ManualClock()


@pytest.fixture
async def h(tmp_path: Path, clock: ManualClock) -> AsyncIterator[Harness]:
    """A running server wired to the emulator."""
    async with serve(tmp_path, clock=clock) as running:
        yield running


async def test_i03_a_refresh_token_presented_by_another_client_is_invalid_grant(h: Harness) -> None:
    client_id, tokens = await tokens_for(h)
    other = (await h.register())["client_id"]
    stolen = await refresh(h, other, tokens["refresh_token"])
    assert stolen.status_code == 400
    assert stolen.json()["error"] == "invalid_grant"
    assert "access_token" not in stolen.text
    # The owner's grant is untouched.
    assert await mcp_status(h, tokens["access_token"]) != 401
    assert (await refresh(h, client_id, tokens["refresh_token"])).status_code == 200


async def test_i04_a_narrower_refresh_narrows_the_access_token_but_not_the_refresh_token(h: Harness) -> None:
    client_id, tokens = await tokens_for(h)
    granted = tokens["scope"].split()
    narrow = await refresh(h, client_id, tokens["refresh_token"], scope="user-read-private")
    assert narrow.status_code == 200, narrow.text
    assert narrow.json()["scope"] == "user-read-private"
    # The successor refresh token still carries the whole grant (RFC 6749 §6).
    again = await refresh(h, client_id, narrow.json()["refresh_token"])
    assert again.status_code == 200
    assert again.json()["scope"].split() == granted


async def test_i05_the_refresh_token_of_a_revoked_grant_is_invalid_grant(h: Harness) -> None:
    client_id, tokens = await tokens_for(h)
    assert (await revoke(h, client_id, tokens["access_token"])).status_code == 200
    response = await refresh(h, client_id, tokens["refresh_token"])
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"


async def test_i06_an_unused_refresh_token_expires_and_each_rotation_restarts_its_lifetime(
    h: Harness, clock: ManualClock
) -> None:
    client_id, tokens = await tokens_for(h)
    clock.advance(THIRTY_DAYS - 60)
    rotated = await refresh(h, client_id, tokens["refresh_token"])
    assert rotated.status_code == 200
    clock.advance(THIRTY_DAYS - 60)  # the successor's own lifetime, not the first token's
    rotated = await refresh(h, client_id, rotated.json()["refresh_token"])
    assert rotated.status_code == 200
    clock.advance(THIRTY_DAYS)
    expired = await refresh(h, client_id, rotated.json()["refresh_token"])
    assert expired.status_code == 400
    assert expired.json()["error"] == "invalid_grant"


async def test_i07_a_tampered_refresh_token_is_invalid_grant_and_harms_nothing(h: Harness) -> None:
    client_id, tokens = await tokens_for(h)
    token = tokens["refresh_token"]
    flipped = [
        token[:-1] + ("A" if token[-1] != "A" else "B"),
        token[:12] + ("x" if token[12] != "x" else "y") + token[13:],
        token.upper(),
        token + "A",
        token[:-1],
        token.replace("smcp_rt_", "smcp_at_"),
    ]
    for forged in flipped:
        response = await refresh(h, client_id, forged)
        assert response.status_code == 400, forged
        assert response.json()["error"] == "invalid_grant"
    assert (await refresh(h, client_id, token)).status_code == 200


async def test_i08_twenty_concurrent_refreshes_leave_no_surviving_chain_and_no_error(h: Harness) -> None:
    client_id, tokens = await tokens_for(h)
    responses: list[httpx2.Response] = []

    async def one() -> None:
        responses.append(await refresh(h, client_id, tokens["refresh_token"]))

    async with anyio.create_task_group() as group:
        for _ in range(20):
            group.start_soon(one)
    assert sorted(r.status_code for r in responses) == [200] + [400] * 19
    assert {r.json()["error"] for r in responses if r.status_code == 400} == {"invalid_grant"}
    winner = next(r.json() for r in responses if r.status_code == 200)
    assert await mcp_status(h, winner["access_token"]) == 401
    assert (await refresh(h, client_id, winner["refresh_token"])).status_code == 400
    assert await h.app.state.runtime.services.store.list_grants() == []


async def test_i09_spotify_refusing_the_upstream_refresh_token_ends_our_grant(h: Harness) -> None:
    client_id, tokens = await tokens_for(h)
    h.world.revoke_user_consent("premium-user")
    h.world.expire_access_tokens()
    async with mcp_client(h, tokens["access_token"]) as client:
        assert (await client.call_tool("getCurrentUserProfile", {})).is_error
    denied = await mcp_post(h, tokens["access_token"])
    assert denied.status_code == 401
    assert 'error="invalid_token"' in denied.headers["www-authenticate"]
    response = await refresh(h, client_id, tokens["refresh_token"])
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"


async def test_i10_a_transient_spotify_failure_revokes_nothing_and_a_retry_succeeds(
    h: Harness, clock: ManualClock
) -> None:
    client_id, tokens = await tokens_for(h)
    # Our refresh grant does not depend on Spotify at all: it works while Spotify's token endpoint is down.
    h.world.fail_next("/api/token", 503)
    refreshed = await h.http.post(
        TOKEN, data={"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"], "client_id": client_id}
    )
    assert refreshed.status_code == 200
    assert h.world.take_fault("/api/token") is not None, "the refresh grant called Spotify"
    access = refreshed.json()["access_token"]
    # A tool call that must refresh the user's Spotify token while Spotify answers 503: a tool error, no revocation.
    clock.advance(3500)
    h.world.fail_next("/api/token", 503)
    async with mcp_client(h, access) as client:
        failed = await client.call_tool("getCurrentUserProfile", {})
        assert failed.is_error
        assert await mcp_status(h, access) != 401
        retried = await client.call_tool("getCurrentUserProfile", {})
        assert not retried.is_error, retried
    assert h.world.token_requests["refresh_token"] == 1
    assert len(await h.app.state.runtime.services.store.list_grants()) == 1

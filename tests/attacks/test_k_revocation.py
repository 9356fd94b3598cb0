"""Catalogue group K: token revocation (RFC 7009).

Covered elsewhere:

* K2 (revoking a refresh token invalidates the grant's access tokens):
  ``tests/flow/test_tokens.py::test_a_public_client_can_revoke_without_a_secret``.
* K6 (client B cannot revoke client A's token; 200 and no effect):
  ``tests/flow/test_tokens.py::test_another_client_cannot_revoke_my_token``.
* K9 (store unavailable: 503 ``temporarily_unavailable`` with ``Retry-After``): ``test_r_faults.py`` (R4).

Policies:

* K1: revoking either token of a grant revokes the grant: the access token *and* the refresh token stop
  working (RFC 7009 lets the refresh token survive; we do not keep half a grant).
* K3/K5: any token this client does not own, whatever it is, gets 200 and nothing happens (no validity
  oracle); ``token_type_hint`` is ignored (both kinds are looked up by hash anyway).
* Like /token, /revoke takes no parameters in the URL (``invalid_request``).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from spotify_mcp.clock import ManualClock
from tests.attacks.support_gm import REVOKE, basic, mcp_status, refresh, revoke, serve, tokens_for
from tests.support import Harness, code_form

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


async def test_k01_revoking_the_access_token_ends_the_whole_grant(h: Harness) -> None:
    client_id, tokens = await tokens_for(h)
    response = await revoke(h, client_id, tokens["access_token"])
    assert response.status_code == 200
    assert response.content == b""
    assert await mcp_status(h, tokens["access_token"]) == 401
    assert (await refresh(h, client_id, tokens["refresh_token"])).json()["error"] == "invalid_grant"


async def test_k03_unknown_garbage_and_already_revoked_tokens_get_200(h: Harness) -> None:
    client_id, tokens = await tokens_for(h)
    assert (await revoke(h, client_id, tokens["refresh_token"])).status_code == 200
    for token in (
        tokens["refresh_token"],
        tokens["access_token"],
        "smcp_at_" + "A" * 43,
        "garbage",
        "x" * 10_000,
        "\x00",
        "é😀",
    ):
        response = await revoke(h, client_id, token)
        assert response.status_code == 200, token
        assert response.content == b""
        assert response.headers["cache-control"] == "no-store"


@pytest.mark.parametrize("form", [{}, {"token": ""}, {"token_type_hint": "access_token"}])
async def test_k04_a_missing_token_is_invalid_request(h: Harness, form: dict[str, str]) -> None:
    client = await h.register()
    response = await h.http.post(REVOKE, data={"client_id": client["client_id"], **form})
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"


@pytest.mark.parametrize(
    ("which", "hint"),
    [("access_token", "bogus_type"), ("refresh_token", "access_token"), ("access_token", "refresh_token")],
)
async def test_k05_the_token_type_hint_is_only_a_hint(h: Harness, which: str, hint: str) -> None:
    client_id, tokens = await tokens_for(h)
    response = await revoke(h, client_id, tokens[which], token_type_hint=hint)
    assert response.status_code == 200
    assert await mcp_status(h, tokens["access_token"]) == 401


async def test_k07_a_confidential_client_with_bad_credentials_gets_invalid_client_and_revokes_nothing(
    h: Harness,
) -> None:
    client = await h.register(token_endpoint_auth_method="client_secret_basic")
    query, verifier = await h.authorize(client["client_id"])
    good = basic(client["client_id"], client["client_secret"])
    tokens = (
        await h.http.post(f"{h.settings.public_url}/token", data=code_form(query["code"][0], verifier), headers=good)
    ).json()
    attempts = [
        ({"token": tokens["access_token"]}, basic(client["client_id"], "smcp_cs_wrong")),
        ({"token": tokens["access_token"], "client_id": client["client_id"]}, {}),
        ({"token": tokens["access_token"], "client_id": client["client_id"], "client_secret": "smcp_cs_wrong"}, {}),
    ]
    for form, headers in attempts:
        response = await h.http.post(REVOKE, data=form, headers=headers)
        assert response.status_code == 401, form
        assert response.json()["error"] == "invalid_client"
        assert await mcp_status(h, tokens["access_token"]) != 401
    assert (await h.http.post(REVOKE, data={"token": tokens["access_token"]}, headers=good)).status_code == 200
    assert await mcp_status(h, tokens["access_token"]) == 401


async def test_k08_revocation_is_post_only_and_no_answer_is_cached(h: Harness) -> None:
    client_id, tokens = await tokens_for(h)
    assert (
        await h.http.get(REVOKE, params={"token": tokens["access_token"], "client_id": client_id})
    ).status_code == 405
    in_url = await h.http.post(REVOKE, params={"token": tokens["access_token"]}, data={"client_id": client_id})
    assert in_url.status_code == 400
    assert in_url.json()["error"] == "invalid_request"
    assert await mcp_status(h, tokens["access_token"]) != 401
    answers = [
        in_url,
        await revoke(h, client_id, "unknown"),
        await h.http.post(REVOKE, data={"client_id": client_id}),
        await h.http.post(REVOKE, data={"token": "x", "client_id": "smcp_client_nobody"}),
        await h.http.post(
            REVOKE, content=b"token=" + b"a" * 70_000, headers={"Content-Type": "application/x-www-form-urlencoded"}
        ),
        await revoke(h, client_id, tokens["access_token"]),
    ]
    assert [a.status_code for a in answers] == [400, 200, 400, 401, 413, 200]
    for answer in answers:
        assert answer.headers["cache-control"] == "no-store", answer.status_code

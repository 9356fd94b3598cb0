"""Catalogue group L: the MCP endpoint as an OAuth resource server (RFC 6750, RFC 9728, MCP).

Covered elsewhere:

* L5 (a raw Spotify access token as the bearer gets 401):
  ``tests/flow/test_tool_calls.py::test_a_spotify_token_is_never_accepted_as_a_bearer``.
* L7 (a valid token lacking a scope gets 403 ``insufficient_scope`` with ``scope`` and ``resource_metadata``):
  ``tests/tools/test_step_up.py``.
* L8 (another principal's ``Mcp-Session-Id``): ``tests/flow/test_sessions.py``.

Policies:

* L1/L2: a request with no bearer credentials at all (no ``Authorization``, or another scheme such as Basic)
  gets the bare challenge (RFC 6750 §3.1: no error code when the client did not try Bearer). A Bearer attempt
  that is empty or malformed (several tokens) gets ``invalid_token``. Two ``Authorization`` headers are an
  ambiguous request: 400 ``invalid_request``. Spaces between ``Bearer`` and the token are allowed
  (``1*SP`` in RFC 6750's grammar) and surrounding whitespace is not part of the token.
* L6: a token in the query is 400 ``invalid_request`` (RFC 6750 forbids that method here, and the URL may
  already be in a log); a token in a form body is simply not a credential (401).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx2
import pytest

from spotify_mcp.app import create_app
from spotify_mcp.clock import ManualClock
from tests.attacks.support_gm import MCP, MCP_HEADERS, RPC, mcp_post, mcp_status, revoke, serve, tokens_for
from tests.support import PUBLIC, Harness, make_settings

pytestmark = pytest.mark.anyio

PRM = f"{PUBLIC}/.well-known/oauth-protected-resource/mcp"


@pytest.fixture
def clock() -> ManualClock:
    """A clock the test moves by hand."""
    return ManualClock()


@pytest.fixture
async def h(tmp_path: Path, clock: ManualClock) -> AsyncIterator[Harness]:
    """A running server wired to the emulator."""
    async with serve(tmp_path, clock=clock) as running:
        yield running


def challenge(response: httpx2.Response) -> str:
    value: str = response.headers["www-authenticate"]
    assert value.startswith("Bearer "), value
    assert f'resource_metadata="{PRM}"' in value
    return value


async def post_with(h: Harness, headers: list[tuple[str, str]]) -> httpx2.Response:
    return await h.http.post(MCP, json=RPC, headers=[*MCP_HEADERS.items(), *headers])


async def test_l01_no_credentials_get_the_bare_challenge(h: Harness) -> None:
    for response in (await post_with(h, []), await h.http.get(f"{PUBLIC}/sse")):
        assert response.status_code == 401
        assert "error=" not in challenge(response)
        assert response.headers["cache-control"] == "no-store"


async def test_l02_malformed_bearer_credentials(h: Harness) -> None:
    _, tokens = await tokens_for(h)
    token = tokens["access_token"]
    invalid = [
        [("Authorization", "Bearer")],
        [("Authorization", "Bearer ")],
        [("Authorization", f"Bearer {token} {token}")],
        [("Authorization", f"Bearer {token},{token}")],
        [("Authorization", f"Bearer\t{token}x")],
        [("Authorization", f'Bearer token="{token}"')],
    ]
    for headers in invalid:
        response = await post_with(h, headers)
        assert response.status_code == 401, headers
        assert 'error="invalid_token"' in challenge(response), headers
    not_bearer = await post_with(h, [("Authorization", "Basic dXNlcjpwYXNz")])
    assert not_bearer.status_code == 401
    assert "error=" not in challenge(not_bearer)
    twice = await post_with(h, [("Authorization", f"Bearer {token}"), ("Authorization", "Bearer smcp_at_other")])
    assert twice.status_code == 400
    assert 'error="invalid_request"' in challenge(twice)
    for spaced in (f"Bearer   {token}", f"Bearer {token}  "):
        assert (await post_with(h, [("Authorization", spaced)])).status_code != 401, spaced


async def test_l03_expired_revoked_and_unknown_tokens_get_invalid_token(h: Harness, clock: ManualClock) -> None:
    client_id, revoked = await tokens_for(h)
    assert (await revoke(h, client_id, revoked["access_token"])).status_code == 200
    _, expiring = await tokens_for(h, client_id)
    clock.advance(3600)
    for token in (revoked["access_token"], expiring["access_token"], "smcp_at_" + "A" * 43, "x" * 5000):
        response = await mcp_post(h, token)
        assert response.status_code == 401
        assert 'error="invalid_token"' in challenge(response)


async def test_l04_a_token_minted_for_another_resource_is_refused(h: Harness, tmp_path: Path) -> None:
    """A second deployment at another URL on the same database: the token exists there, but not for it."""
    _, tokens = await tokens_for(h)
    other_url = "http://127.0.0.1:8001"
    other = create_app(make_settings(tmp_path, public_url=other_url), clock=h.clock, keys=h.keys)
    async with (
        other.router.lifespan_context(other),
        httpx2.AsyncClient(transport=httpx2.ASGITransport(app=other), base_url=other_url) as http,
    ):
        response = await http.post(
            "/mcp", json=RPC, headers={**MCP_HEADERS, "Authorization": f"Bearer {tokens['access_token']}"}
        )
        assert response.status_code == 401
        assert 'error="invalid_token"' in response.headers["www-authenticate"]
    assert await mcp_status(h, tokens["access_token"]) != 401


async def test_l06_a_token_in_the_query_or_the_body_is_never_accepted(h: Harness) -> None:
    _, tokens = await tokens_for(h)
    token = tokens["access_token"]
    in_query = await h.http.post(MCP, params={"access_token": token}, json=RPC, headers=MCP_HEADERS)
    assert in_query.status_code == 400
    assert 'error="invalid_request"' in challenge(in_query)
    in_body = await h.http.post(
        MCP,
        data={"access_token": token},
        headers={"Accept": MCP_HEADERS["Accept"], "Content-Type": "application/x-www-form-urlencoded"},
    )
    assert in_body.status_code == 401
    assert "error=" not in challenge(in_body)


@pytest.mark.parametrize("scheme", ["bearer", "BEARER", "BeArEr"])
async def test_l09_the_scheme_name_is_case_insensitive(h: Harness, scheme: str) -> None:
    _, tokens = await tokens_for(h)
    response = await post_with(h, [("Authorization", f"{scheme} {tokens['access_token']}")])
    assert response.status_code != 401

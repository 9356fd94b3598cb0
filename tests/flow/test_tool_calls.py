"""Tool calls through the bearer: the user's Spotify tokens are used, refreshed, and their loss handled."""

from __future__ import annotations

import pytest

from spotify_mcp.clock import ManualClock
from tests.support import EMULATOR, PUBLIC, Harness, mcp_client

pytestmark = pytest.mark.anyio


async def test_a_tool_call_acts_for_the_user_who_signed_in(h: Harness) -> None:
    tokens = await h.tokens((await h.register())["client_id"])
    async with mcp_client(h, tokens["access_token"]) as client:
        result = await client.call_tool("getCurrentUserProfile", {})
    assert not result.is_error
    assert result.structured_content is not None
    assert result.structured_content["id"] == "premium-user"


async def test_search_pages_internally_within_spotifys_limit_of_ten(h: Harness) -> None:
    tokens = await h.tokens((await h.register())["client_id"])
    async with mcp_client(h, tokens["access_token"]) as client:
        result = await client.call_tool("searchTracks", {"query": "year:1900-2100", "limit": 15})
    assert not result.is_error
    assert result.structured_content is not None
    searches = [path for method, path in h.world.api_calls if path == "/v1/search"]
    assert len(searches) == 2
    assert len(result.structured_content["items"]) == 15
    assert result.structured_content["next_offset"] == 15


async def test_an_expiring_spotify_token_is_refreshed_once_on_the_server(h: Harness, clock: ManualClock) -> None:
    tokens = await h.tokens((await h.register())["client_id"])
    clock.advance(3500)
    async with mcp_client(h, tokens["access_token"]) as client:
        for _ in range(3):
            assert not (await client.call_tool("getCurrentUserProfile", {})).is_error
    assert h.world.refreshes_by_user["premium-user"] == 1


async def test_revoked_spotify_consent_ends_the_grant_and_asks_to_reconnect(h: Harness) -> None:
    tokens = await h.tokens((await h.register())["client_id"])
    h.world.revoke_user_consent("premium-user")
    h.world.expire_access_tokens()
    async with mcp_client(h, tokens["access_token"]) as client:
        result = await client.call_tool("getCurrentUserProfile", {})
    assert result.is_error
    assert "reconnect" in str(result.content[0]).lower()
    after = await h.http.post(f"{PUBLIC}/mcp", json={}, headers={"Authorization": f"Bearer {tokens['access_token']}"})
    assert after.status_code == 401


async def test_a_spotify_token_is_never_accepted_as_a_bearer(h: Harness) -> None:
    await h.tokens((await h.register())["client_id"])
    spotify_token = next(iter(h.world.access_tokens))
    response = await h.http.post(f"{PUBLIC}/mcp", json={}, headers={"Authorization": f"Bearer {spotify_token}"})
    assert response.status_code == 401
    assert EMULATOR

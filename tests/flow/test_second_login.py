"""A second MCP client signing the same Spotify user in with fewer permissions must not narrow the first one's."""

from __future__ import annotations

import pytest

from spotify_mcp.store.records import SpotifyCredentials
from tests.support import PUBLIC, Harness, mcp_client

pytestmark = pytest.mark.anyio

BROAD = "user-read-private user-read-playback-state offline_access"
NARROW = "user-read-private offline_access"


async def stored(h: Harness) -> SpotifyCredentials:
    creds = await h.app.state.runtime.services.store.get_spotify_credentials("premium-user")
    assert creds is not None
    return creds


async def test_a_narrower_login_keeps_the_broader_spotify_authorization_the_first_client_uses(h: Harness) -> None:
    first = await h.tokens((await h.register(client_name="Broad"))["client_id"], scope=BROAD)
    broad_scopes = set((await stored(h)).scopes)
    second = await h.tokens((await h.register(client_name="Narrow"))["client_id"], scope=NARROW)
    assert set((await stored(h)).scopes) == broad_scopes >= {"user-read-playback-state"}
    async with mcp_client(h, first["access_token"]) as client:
        assert not (await client.call_tool("getCurrentPlayback", {})).is_error
    async with mcp_client(h, second["access_token"]) as client:
        assert not (await client.call_tool("getCurrentUserProfile", {})).is_error


async def test_keeping_the_broader_authorization_first_proves_it_alive_with_one_refresh(h: Harness) -> None:
    await h.tokens((await h.register())["client_id"], scope=BROAD)
    before = h.world.refreshes_by_user["premium-user"]
    await h.tokens((await h.register())["client_id"], scope=NARROW)
    assert h.world.refreshes_by_user["premium-user"] == before + 1


async def test_a_broader_authorization_spotify_no_longer_honours_is_replaced_by_the_narrower_login(
    h: Harness,
) -> None:
    first = await h.tokens((await h.register())["client_id"], scope=BROAD)
    h.world.revoke_user_consent("premium-user")
    second = await h.tokens((await h.register())["client_id"], scope=NARROW)
    assert "user-read-playback-state" not in (await stored(h)).scopes
    async with mcp_client(h, second["access_token"]) as client:
        assert not (await client.call_tool("getCurrentUserProfile", {})).is_error
    # The first grant rested on the dead authorization: it is gone, so its client re-authorizes.
    response = await h.http.post(f"{PUBLIC}/mcp", json={}, headers={"Authorization": f"Bearer {first['access_token']}"})
    assert response.status_code == 401


async def test_a_broader_second_login_replaces_the_stored_authorization(h: Harness) -> None:
    await h.tokens((await h.register())["client_id"], scope=NARROW)
    await h.tokens((await h.register())["client_id"], scope=BROAD)
    assert "user-read-playback-state" in (await stored(h)).scopes

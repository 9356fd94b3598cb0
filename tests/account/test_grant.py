"""Granting more permissions from the account page: a Spotify sign-in for the union of the user's scopes and the
server's, whose tokens (a superset) replace the stored ones; and a Spotify token is never a bearer at /mcp."""

from __future__ import annotations

import httpx2
import pytest

from tests.account.conftest import (
    ACCOUNT,
    form,
    forms,
    mcp_status,
    post,
    services,
    sign_in,
    to_spotify_and_back,
)
from tests.support import Harness
from tests.tools.conftest import connect

pytestmark = pytest.mark.anyio


async def test_without_stored_credentials_the_page_offers_to_grant_permissions_first(h: Harness) -> None:
    page = await sign_in(h)
    assert "holds no Spotify permissions for you yet" in page
    assert "/account/tokens" not in [f.action for f in forms(page)]
    to_spotify = await post(h.http, "grant", form(page, "grant").fields)
    back = await to_spotify_and_back(h.http, to_spotify, "premium-user")
    assert back.status_code == 303
    stored = await services(h).store.get_spotify_credentials("premium-user")
    assert stored is not None
    assert set(h.settings.scopes) <= set(stored.scopes)
    page = (await h.http.get(ACCOUNT)).text
    assert form(page, "tokens").checkboxes == [f"scope:{s}" for s in h.settings.scopes]
    assert "/account/grant" not in [f.action for f in forms(page)]


async def test_granting_more_asks_for_the_union_and_keeps_existing_clients_working(h: Harness) -> None:
    narrow = await h.tokens((await h.register())["client_id"], scope="user-top-read user-library-read")
    page = await sign_in(h)
    to_spotify = await post(h.http, "grant", form(page, "grant").fields)
    asked = httpx2.URL(to_spotify.headers["location"]).params["scope"].split()
    assert asked == ["user-top-read", "user-library-read", *(s for s in h.settings.scopes if s not in asked[:2])]
    await to_spotify_and_back(h.http, to_spotify, "premium-user")
    stored = await services(h).store.get_spotify_credentials("premium-user")
    assert stored is not None
    assert set(asked) == set(stored.scopes)
    async with connect(h, narrow["access_token"]) as client:
        assert not (await client.call_tool("getTopTracks", {"limit": 1})).is_error


async def test_the_grant_form_needs_a_session_and_its_csrf_token(h: Harness) -> None:
    page = await sign_in(h)
    fields = form(page, "grant").fields
    assert (await post(h.http, "grant", {"csrf": "forged"})).status_code == 403
    assert (await post(h.http, "grant", fields, {"Origin": "https://evil.example"})).status_code == 403
    h.http.cookies.clear()
    assert (await post(h.http, "grant", fields)).status_code == 403


async def test_a_spotify_access_token_is_never_accepted_at_mcp(h: Harness) -> None:
    await sign_in(h)
    spotify_tokens = list(h.world.access_tokens)
    assert spotify_tokens
    for spotify_token in spotify_tokens:
        assert await mcp_status(h, spotify_token) == 401

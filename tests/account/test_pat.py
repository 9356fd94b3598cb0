"""Personal access tokens: named, scoped, expiring, shown once, stored hashed, accepted at /mcp like our access
tokens within their scopes, revocable (page or /revoke), refused by every OAuth endpoint as a client."""

from __future__ import annotations

import re
from pathlib import Path

import httpx2
import pytest

from spotify_mcp.account.pat import MAX_TOKENS_PER_USER
from spotify_mcp.clock import ManualClock
from spotify_mcp.crypto import hash_secret
from spotify_mcp.oauth.clients import is_pat_client_id
from spotify_mcp.oauth.tokens import GRANT_TOUCH_INTERVAL
from spotify_mcp.store.sweeper import sweep_once
from tests.account.conftest import (
    ACCOUNT,
    create_token,
    form,
    mcp_status,
    post,
    services,
    sign_in,
)
from tests.support import PUBLIC, Harness, harness
from tests.tools.conftest import connect

pytestmark = pytest.mark.anyio

TOKEN = re.compile(r"<pre id=token>(smcp_pat_[A-Za-z0-9_-]{43})</pre>")
DAY = 86400


async def signed_in_with_credentials(h: Harness) -> str:
    """A user whose Spotify credentials the server holds (an MCP client connected), signed in to /account."""
    await h.tokens((await h.register(client_name="Claude"))["client_id"])
    return await sign_in(h)


async def new_token(h: Harness, scopes: list[str], days: str = "30", name: str = "LibreChat") -> str:
    """Create a token through the page; return it as shown."""
    response = await create_token(h.http, (await h.http.get(ACCOUNT)).text, name, scopes, days)
    assert response.status_code == 200, response.text
    found = TOKEN.search(response.text)
    assert found is not None, response.text
    return found.group(1)


async def token_clients(h: Harness) -> list[str]:
    """The ids of the personal access tokens' clients still stored."""
    return [c.client_id for c in await services(h).store.list_clients() if is_pat_client_id(c.client_id)]


async def call(h: Harness, token: str, tool: str) -> httpx2.Response:
    """A bare tools/call to /mcp with ``token`` (stateless request, so no session is needed for the status)."""
    body = {"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": tool, "arguments": {}}}
    headers = {"Authorization": f"Bearer {token}", "Accept": "application/json, text/event-stream"}
    return await h.http.post(f"{PUBLIC}/mcp", json=body, headers=headers)


async def test_a_token_is_shown_once_ready_to_paste_and_listed_without_its_value(h: Harness) -> None:
    page = await signed_in_with_credentials(h)
    response = await create_token(h.http, page, "LibreChat", ["user-top-read"], "90")
    assert response.headers["cache-control"] == "no-store"
    token = TOKEN.search(response.text)
    assert token is not None
    value = token.group(1)
    assert f"<pre id=header>Authorization: Bearer {value}</pre>" in response.text
    assert f'    url: {PUBLIC}/mcp\n    headers:\n      Authorization: "Bearer {value}"' in response.text
    listed = (await h.http.get(ACCOUNT)).text
    assert value not in listed
    assert "<strong>LibreChat</strong> <span class=muted>personal access token</span>" in listed
    assert "Created 2027-01-15 08:00 UTC · expires 2027-04-15 08:00 UTC · last used never" in listed
    assert "Revoke LibreChat" in listed


async def test_only_the_tokens_hash_is_stored(h: Harness) -> None:
    await signed_in_with_credentials(h)
    token = await new_token(h, ["user-top-read"])
    record = await services(h).store.get_token(hash_secret(token))
    assert record is not None
    assert is_pat_client_id(record.client_id)
    assert record.expires_at == h.clock.now() + 30 * DAY
    database = (h.settings.data_dir / "store.db").read_bytes()
    assert token.encode() not in database
    assert token.removeprefix("smcp_pat_").encode() not in database


async def test_a_token_calls_tools_within_its_scopes_and_gets_403_insufficient_scope_beyond(h: Harness) -> None:
    await signed_in_with_credentials(h)
    token = await new_token(h, ["user-top-read"])
    async with connect(h, token) as client:
        top = await client.call_tool("getTopTracks", {"limit": 2})
    assert not top.is_error
    beyond = await call(h, token, "getCurrentPlayback")
    assert beyond.status_code == 403
    assert 'error="insufficient_scope"' in beyond.headers["www-authenticate"]


async def test_a_token_records_when_it_was_last_used(h: Harness, clock: ManualClock) -> None:
    await signed_in_with_credentials(h)
    token = await new_token(h, ["user-top-read"])
    clock.advance(60)
    async with connect(h, token) as client:
        assert not (await client.call_tool("getTopTracks", {"limit": 1})).is_error
    assert "last used 2027-01-15 08:01 UTC" in (await h.http.get(ACCOUNT)).text
    clock.advance(GRANT_TOUCH_INTERVAL - 1)
    async with connect(h, token) as client:
        assert not (await client.call_tool("getTopTracks", {"limit": 1})).is_error
    assert "last used 2027-01-15 08:01 UTC" in (await h.http.get(ACCOUNT)).text


NAME_61 = "x" * 61


@pytest.mark.parametrize(
    ("name", "scopes", "days", "error"),
    [
        ("", ["user-top-read"], "30", "name of 1 to 60 characters"),
        ("   ", ["user-top-read"], "30", "name of 1 to 60 characters"),
        (NAME_61, ["user-top-read"], "30", "name of 1 to 60 characters"),
        ("bad\u202ename", ["user-top-read"], "30", "control or formatting"),
        ("ok", ["user-top-read"], "0", "expiry of 7, 30, 90, 365 days"),
        ("ok", ["user-top-read"], "14", "expiry of 7, 30, 90, 365 days"),
        ("ok", ["user-top-read"], "never", "expiry of 7, 30, 90, 365 days"),
        ("ok", ["user-top-read"], "3650", "expiry of 7, 30, 90, 365 days"),
        ("ok", [], "30", "at least one permission"),
        ("ok", ["ugc-image-upload"], "30", "cannot be given to a token: ugc-image-upload"),
        ("ok", ["admin"], "30", "cannot be given to a token: admin"),
    ],
)
async def test_an_out_of_range_request_is_refused_clearly_and_writes_nothing(
    h: Harness, name: str, scopes: list[str], days: str, error: str
) -> None:
    page = await signed_in_with_credentials(h)
    store = services(h).store
    clients_before, grants_before = len(await store.list_clients()), len(await store.list_grants())
    refused = await create_token(h.http, page, name, scopes, days)
    assert refused.status_code == 400
    assert error in refused.text
    assert "smcp_pat_" not in refused.text
    assert len(await store.list_clients()) == clients_before
    assert len(await store.list_grants()) == grants_before


async def test_a_scope_the_stored_credentials_lack_cannot_be_given(h: Harness) -> None:
    await h.tokens((await h.register())["client_id"], scope="user-top-read")
    page = await sign_in(h)
    assert form(page, "tokens").checkboxes == ["scope:user-top-read"]
    refused = await create_token(h.http, page, "ok", ["user-top-read", "user-library-read"])
    assert refused.status_code == 400
    assert "cannot be given to a token: user-library-read" in refused.text


async def test_a_user_holds_at_most_twenty_five_tokens(tmp_path: Path) -> None:
    async with harness(tmp_path, rate_limits="off") as h:
        await signed_in_with_credentials(h)
        for number in range(MAX_TOKENS_PER_USER):
            await new_token(h, ["user-top-read"], name=f"token {number}")
        refused = await create_token(h.http, (await h.http.get(ACCOUNT)).text, "one more", ["user-top-read"])
        assert refused.status_code == 400
        assert "revoke one first" in refused.text
        assert len(await token_clients(h)) == MAX_TOKENS_PER_USER


async def test_a_revoked_token_gets_401_and_its_client_goes(h: Harness) -> None:
    await signed_in_with_credentials(h)
    token = await new_token(h, ["user-top-read"])
    revoked = await post(h.http, "revoke", form((await h.http.get(ACCOUNT)).text, "revoke", "Revoke LibreChat").fields)
    assert revoked.status_code == 303
    assert await mcp_status(h, token) == 401
    assert await token_clients(h) == []


async def test_an_expired_token_gets_401_and_the_sweep_deletes_its_client_and_grant(
    h: Harness, clock: ManualClock
) -> None:
    await signed_in_with_credentials(h)
    token = await new_token(h, ["user-top-read"], days="7")
    store = services(h).store
    clock.advance(7 * DAY - 1)
    await sweep_once(store, clock, unused_client_ttl=DAY)
    assert await mcp_status(h, token) == 200
    clock.advance(1)
    assert await mcp_status(h, token) == 401
    await sweep_once(store, clock)
    assert await token_clients(h) == []
    assert not [g for g in await store.list_grants() if is_pat_client_id(g.client_id)]


async def test_the_token_itself_revokes_it_at_revoke(h: Harness, clock: ManualClock) -> None:
    await signed_in_with_credentials(h)
    token = await new_token(h, ["user-top-read"])
    unknown = await h.http.post(f"{PUBLIC}/revoke", data={"token": "smcp_pat_" + "A" * 43})
    assert unknown.status_code == 200
    assert await mcp_status(h, token) == 200
    assert (await h.http.post(f"{PUBLIC}/revoke", data={"token": token})).status_code == 200
    assert await mcp_status(h, token) == 401
    clock.advance(3601)
    await sweep_once(services(h).store, clock)
    assert await token_clients(h) == []


async def test_a_token_and_its_client_id_are_refused_by_authorize_token_and_revoke_as_a_client(h: Harness) -> None:
    await signed_in_with_credentials(h)
    token = await new_token(h, ["user-top-read"])
    record = await services(h).store.get_token(hash_secret(token))
    assert record is not None
    authorize = await h.http.get(f"{PUBLIC}/authorize", params={"client_id": record.client_id, "response_type": "code"})
    assert authorize.status_code == 400
    assert "location" not in authorize.headers
    as_client = {"client_id": record.client_id, "grant_type": "refresh_token", "refresh_token": token}
    assert (await h.http.post(f"{PUBLIC}/token", data=as_client)).json()["error"] == "invalid_client"
    self_authenticated = {"token": token, "grant_type": "refresh_token", "refresh_token": token}
    assert (await h.http.post(f"{PUBLIC}/token", data=self_authenticated)).json()["error"] == "unauthorized_client"
    named = await h.http.post(f"{PUBLIC}/revoke", data={"client_id": record.client_id, "token": token})
    assert named.status_code == 401
    assert await mcp_status(h, token) == 200

"""The account page lists every application holding access to the signed-in user's Spotify and revokes any one
(its tokens then fail at /mcp and /token), never another user's; "disconnect everything" deletes it all."""

from __future__ import annotations

import httpx2
import pytest

from spotify_mcp.account.session import SESSION_COOKIE
from spotify_mcp.clock import ManualClock
from spotify_mcp.crypto import hash_secret
from spotify_mcp.oauth.tokens import GRANT_TOUCH_INTERVAL
from spotify_mcp.store.records import AuthCodeRecord, GrantRecord
from tests.account.conftest import ACCOUNT, form, mcp_status, new_browser, post, services, sign_in
from tests.support import PUBLIC, Harness, mcp_client

pytestmark = pytest.mark.anyio


async def refresh(h: Harness, client_id: str, refresh_token: str) -> httpx2.Response:
    """Use a refresh token at /token."""
    form_data = {"grant_type": "refresh_token", "refresh_token": refresh_token, "client_id": client_id}
    return await h.http.post(f"{PUBLIC}/token", data=form_data)


async def test_the_page_lists_each_client_with_its_name_dates_and_permissions(h: Harness, clock: ManualClock) -> None:
    desktop = (await h.register(client_name="Claude Desktop"))["client_id"]
    inspector = (await h.register(client_name="MCP Inspector"))["client_id"]
    await h.tokens(desktop)
    clock.advance(86400)
    tokens = await h.tokens(inspector, scope="user-top-read")
    clock.advance(3600)
    assert (await refresh(h, inspector, tokens["refresh_token"])).status_code == 200
    page = await sign_in(h)
    assert page.index("Claude Desktop") < page.index("MCP Inspector")
    assert "Connected 2027-01-15 08:00 UTC · last used never" in page
    assert "Connected 2027-01-16 08:00 UTC · last used 2027-01-16 09:00 UTC" in page
    assert "1 permission<" in page
    assert "See your top artists and tracks" in page
    assert "Control playback: play, pause, skip, volume, queue, devices" in page
    assert form(page, "revoke", "Revoke Claude Desktop").fields["grant"]
    assert form(page, "revoke", "Revoke MCP Inspector").fields["grant"]


async def test_a_tool_call_shows_as_the_clients_last_use_within_the_touch_interval(
    h: Harness, clock: ManualClock
) -> None:
    tokens = await h.tokens((await h.register(client_name="Claude Desktop"))["client_id"])
    clock.advance(600)
    async with mcp_client(h, tokens["access_token"]) as client:
        assert not (await client.call_tool("getCurrentUserProfile", {})).is_error
    assert "last used 2027-01-15 08:10 UTC" in await sign_in(h)
    clock.advance(GRANT_TOUCH_INTERVAL - 1)  # another call this soon writes nothing
    async with mcp_client(h, tokens["access_token"]) as client:
        assert not (await client.call_tool("getCurrentUserProfile", {})).is_error
    assert "last used 2027-01-15 08:10 UTC" in (await h.http.get(ACCOUNT)).text


async def test_an_application_whose_authorization_expired_is_marked_so(h: Harness, clock: ManualClock) -> None:
    await h.tokens((await h.register(client_name="Old Laptop"))["client_id"])
    clock.advance(h.settings.refresh_token_ttl + 1)
    await h.tokens((await h.register(client_name="New Phone"))["client_id"])
    page = await sign_in(h)
    old, new = page.split("Old Laptop", 1)[1].split("New Phone", 1)
    assert "expired: it will ask you again next time" in old
    assert "expired" not in new


async def test_client_names_are_escaped(h: Harness) -> None:
    client_id = (await h.register(client_name='<script>alert("x")</script>'))["client_id"]
    await h.tokens(client_id)
    page = await sign_in(h)
    assert "<script>" not in page
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in page


async def test_a_metadata_document_client_shows_its_host_and_nothing_is_fetched(h: Harness) -> None:
    store = services(h).store
    now = h.clock.now()
    client_id = "https://app.example/oauth/client.json"
    code = AuthCodeRecord(hash_secret("c"), client_id, "https://app.example/cb", ("user-top-read",), "x" * 43,
                          f"{PUBLIC}/mcp", "premium-user", now, now + 60)  # fmt: skip
    await store.add_code(code)
    grant = GrantRecord("cimd-grant", client_id, "premium-user", ("user-top-read",), f"{PUBLIC}/mcp", now)
    await store.redeem_code(code.code_hash, grant, [], now)
    page = await sign_in(h)
    assert "<strong>app.example</strong> <span class=muted>identity published by app.example</span>" in page


async def test_revoking_a_client_ends_its_access_and_refresh_tokens_and_keeps_the_others(h: Harness) -> None:
    gone = (await h.register(client_name="Gone"))["client_id"]
    kept = (await h.register(client_name="Kept"))["client_id"]
    gone_tokens, kept_tokens = await h.tokens(gone), await h.tokens(kept)
    assert await mcp_status(h, gone_tokens["access_token"]) == 200
    page = await sign_in(h)
    revoked = await post(h.http, "revoke", form(page, "revoke", "Revoke Gone").fields)
    assert revoked.status_code == 303
    assert revoked.headers["location"] == ACCOUNT
    assert await mcp_status(h, gone_tokens["access_token"]) == 401
    assert (await refresh(h, gone, gone_tokens["refresh_token"])).json()["error"] == "invalid_grant"
    assert await mcp_status(h, kept_tokens["access_token"]) == 200
    after = (await h.http.get(ACCOUNT)).text
    assert "Revoke Gone" not in after
    assert "Revoke Kept" in after


async def test_revoking_another_users_grant_is_not_found_and_changes_nothing(h: Harness) -> None:
    victim_client = (await h.register(client_name="Victim App"))["client_id"]
    victim_tokens = await h.tokens(victim_client)
    victim_grant = form(await sign_in(h), "revoke", "Revoke Victim App").fields["grant"]
    async with new_browser(h) as attacker:
        attacker_page = await sign_in(h, attacker, user="free-user")
        csrf = form(attacker_page, "signout").fields["csrf"]
        refused = await post(attacker, "revoke", {"csrf": csrf, "grant": victim_grant})
        assert refused.status_code == 404
        assert (await post(attacker, "revoke", {"csrf": csrf, "grant": "no-such-grant"})).status_code == 404
    assert await services(h).store.get_grant(victim_grant) is not None
    assert await mcp_status(h, victim_tokens["access_token"]) == 200


async def test_a_form_with_another_sessions_csrf_token_is_refused(h: Harness) -> None:
    client_id = (await h.register(client_name="App"))["client_id"]
    await h.tokens(client_id)
    grant = form(await sign_in(h), "revoke", "Revoke App").fields["grant"]
    async with new_browser(h) as attacker:
        foreign = form(await sign_in(h, attacker), "signout").fields["csrf"]
    for csrf in (foreign, "", "forged.token"):
        assert (await post(h.http, "revoke", {"csrf": csrf, "grant": grant})).status_code == 403
    assert await services(h).store.get_grant(grant) is not None


async def test_a_cross_origin_post_is_refused_even_with_the_right_token(h: Harness) -> None:
    client_id = (await h.register(client_name="App"))["client_id"]
    await h.tokens(client_id)
    fields = form(await sign_in(h), "revoke", "Revoke App").fields
    for headers in (
        {"Origin": "https://evil.example", "Sec-Fetch-Site": "cross-site"},
        {"Origin": "http://127.0.0.1:9999"},
        {"Origin": PUBLIC, "Sec-Fetch-Site": "same-site"},
        {"Referer": "https://evil.example/"},
        {},
    ):
        refused = await post(h.http, "revoke", fields, headers)
        assert refused.status_code == 403, headers
        assert "access-control-allow-origin" not in refused.headers
    assert await services(h).store.get_grant(fields["grant"]) is not None


async def test_a_post_after_the_session_expired_is_refused(h: Harness, clock: ManualClock) -> None:
    client_id = (await h.register(client_name="App"))["client_id"]
    await h.tokens(client_id)
    fields = form(await sign_in(h), "revoke", "Revoke App").fields
    clock.advance(1801)
    refused = await post(h.http, "revoke", fields)
    assert refused.status_code == 403
    assert "sign in again" in refused.text
    assert await services(h).store.get_grant(fields["grant"]) is not None


async def test_disconnecting_everything_needs_the_confirmation_then_deletes_it_all(h: Harness) -> None:
    client_id = (await h.register(client_name="App"))["client_id"]
    tokens = await h.tokens(client_id)
    store = services(h).store
    page = await sign_in(h)
    fields = form(page, "delete").fields
    unconfirmed = await post(h.http, "delete", fields)
    assert unconfirmed.status_code == 400
    assert "Tick the box" in unconfirmed.text
    assert await store.get_spotify_credentials("premium-user") is not None
    done = await post(h.http, "delete", {**fields, "confirm": "yes"})
    assert done.status_code == 200
    assert "Everything is disconnected" in done.text
    assert SESSION_COOKIE not in h.http.cookies
    assert await store.get_spotify_credentials("premium-user") is None
    assert await store.list_grants("premium-user") == []
    assert await mcp_status(h, tokens["access_token"]) == 401
    assert (await refresh(h, client_id, tokens["refresh_token"])).json()["error"] == "invalid_grant"
    assert "Sign in with Spotify" in (await h.http.get(ACCOUNT)).text

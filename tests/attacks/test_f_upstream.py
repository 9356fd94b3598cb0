"""Catalogue group F: the upstream leg, our redirect to Spotify and Spotify's redirect to ``/callback``.

Policies pinned here:

* F5: ``/callback`` consumes the upstream state before it checks the browser binding, so a refused
  callback also ends that sign-in: the attacker's transaction cannot be retried from either browser.
* F7: a failed code exchange is redirected as ``server_error`` with a fixed description; F8: a timeout,
  refused connection or 5xx is ``temporarily_unavailable``. Spotify's own error text is never reflected.
* F10: a response with a repeated parameter, both ``code`` and ``error``, or an ``iss`` other than
  Spotify's accounts URL is an error page, and does not consume the sign-in.
* F11: the grant records the scopes Spotify actually granted (plus ``offline_access`` if asked for).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx2
import pytest

from spotify_mcp.clock import ManualClock
from tests.attacks.conftest import (
    approve,
    assert_error_page,
    consent_form,
    redirect_query,
    sign_in_at_spotify,
    spotify_callback,
)
from tests.support import EMULATOR, PUBLIC, Harness, code_form, parse_form, pkce

pytestmark = pytest.mark.anyio

CALLBACK = f"{PUBLIC}/callback"


def split(callback: str) -> dict[str, str]:
    return {name: values[0] for name, values in parse_qs(urlsplit(callback).query).items()}


async def test_f01_a_callback_without_state_is_an_error_page(h: Harness) -> None:
    client_id = (await h.register())["client_id"]
    code = split(await spotify_callback(h, client_id))["code"]
    for params in ({"code": code}, {"code": code, "state": ""}, {"error": "access_denied"}, {}):
        assert_error_page(await h.http.get(CALLBACK, params=params))


async def test_f02_a_forged_or_unknown_state_is_an_error_page(h: Harness) -> None:
    client_id = (await h.register())["client_id"]
    real = split(await spotify_callback(h, client_id))
    for state in ("forged", real["state"][:-1], real["state"] + "x", "x" * 5000):
        assert_error_page(await h.http.get(CALLBACK, params={"code": real["code"], "state": state}))
    assert "code" in redirect_query(await h.http.get(CALLBACK, params=real))


async def test_f03_a_replayed_state_is_an_error_page(h: Harness) -> None:
    client_id = (await h.register())["client_id"]
    callback = await spotify_callback(h, client_id)
    assert "code" in redirect_query(await h.http.get(callback))
    assert_error_page(await h.http.get(callback))


async def test_f04_a_state_older_than_ten_minutes_is_an_error_page(h: Harness, clock: ManualClock) -> None:
    client_id = (await h.register())["client_id"]
    callback = await spotify_callback(h, client_id)
    clock.advance(601)
    assert_error_page(await h.http.get(callback))


async def test_f05_a_callback_in_a_browser_without_the_binding_cookie_is_refused(h: Harness) -> None:
    """Login CSRF: the attacker's own Spotify callback URL, opened in the victim's browser."""
    attacker_client = (await h.register())["client_id"]
    attackers_callback = await spotify_callback(h, attacker_client)
    async with httpx2.AsyncClient(mounts={PUBLIC: httpx2.ASGITransport(app=h.app)}) as victim:
        refused = await victim.get(attackers_callback)
        assert_error_page(refused, 403)
    store = h.app.state.runtime.services.store
    assert await store.list_grants() == []
    assert_error_page(await h.http.get(attackers_callback))


async def test_f05_a_callback_with_another_sign_ins_binding_cookie_is_refused(h: Harness) -> None:
    client_id = (await h.register())["client_id"]
    mine = await spotify_callback(h, client_id)
    theirs = split(await spotify_callback(h, client_id))
    swapped = {**split(mine), "state": theirs["state"]}
    h.http.cookies.clear()
    async with httpx2.AsyncClient(mounts={PUBLIC: httpx2.ASGITransport(app=h.app)}) as other:
        assert_error_page(await other.get(CALLBACK, params=swapped), 403)


async def test_f06_a_spotify_denial_reaches_the_client_with_its_original_state_and_iss(h: Harness) -> None:
    client_id = (await h.register())["client_id"]
    to_spotify = await approve(h, await consent_form(h, client_id, state="original-state"))
    sign_in = await h.http.get(to_spotify.headers["location"])
    form = parse_form(sign_in.text)
    back = await h.http.post(f"{EMULATOR}{form.action}", data={**form.fields, "action": "deny"})
    query = redirect_query(await h.http.get(back.headers["location"]))
    assert query["error"] == ["access_denied"]
    assert query["state"] == ["original-state"]
    assert query["iss"] == [PUBLIC]


async def test_f07_a_failed_code_exchange_is_server_error_without_the_upstream_text(h: Harness) -> None:
    client_id = (await h.register())["client_id"]
    callback = await spotify_callback(h, client_id)
    upstream = {"error": "invalid_grant", "error_description": "UPSTREAM-SECRET-DETAIL"}
    h.world.fail_next("/api/token", 400, body=upstream)
    response = await h.http.get(callback)
    query = redirect_query(response)
    assert query["error"] == ["server_error"]
    assert query["state"] == ["s1"]
    assert "UPSTREAM-SECRET-DETAIL" not in response.headers["location"]
    assert "UPSTREAM-SECRET-DETAIL" not in response.text


class FailingToken(httpx2.AsyncBaseTransport):
    """Spotify's token endpoint failing at the transport level; everything else passes through."""

    def __init__(self, inner: httpx2.AsyncBaseTransport, error: Callable[[httpx2.Request], Exception]) -> None:
        self.inner = inner
        self.error = error

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        if request.url.path == "/api/token":
            raise self.error(request)
        return await self.inner.handle_async_request(request)


async def test_f08_timeouts_refused_connections_and_5xx_are_temporarily_unavailable(h: Harness) -> None:
    client_id = (await h.register())["client_id"]
    errors: list[Callable[[httpx2.Request], Exception]] = [
        lambda request: httpx2.ReadTimeout("timed out", request=request),
        lambda request: httpx2.ConnectTimeout("timed out", request=request),
        lambda request: httpx2.ConnectError("connection refused", request=request),
    ]
    inner = h.upstream.transport
    for error in errors:
        callback = await spotify_callback(h, client_id)
        h.upstream.transport = FailingToken(inner, error)
        try:
            query = redirect_query(await h.http.get(callback))
        finally:
            h.upstream.transport = inner
        assert query["error"] == ["temporarily_unavailable"]
        assert query["iss"] == [PUBLIC]
    for status in (500, 502, 503):
        callback = await spotify_callback(h, client_id)
        h.world.fail_next("/api/token", status, body="<html>upstream stack trace</html>")
        response = await h.http.get(callback)
        assert redirect_query(response)["error"] == ["temporarily_unavailable"], status
        assert "stack trace" not in response.headers["location"]


async def test_f08_the_spotify_client_has_bounded_timeouts(h: Harness) -> None:
    timeout = h.app.state.runtime.services.spotify_http.timeout
    for value in (timeout.connect, timeout.read, timeout.write, timeout.pool):
        assert value is not None
        assert 0 < value <= 30


async def test_f09_an_injected_upstream_code_fails_our_spotify_pkce(h: Harness) -> None:
    """The attacker's Spotify code (from their own sign-in) with the victim's valid state."""
    client_id = (await h.register())["client_id"]
    attackers = split(await spotify_callback(h, client_id))
    victims = split(await spotify_callback(h, client_id))
    query = redirect_query(await h.http.get(CALLBACK, params={"code": attackers["code"], "state": victims["state"]}))
    assert query["error"] == ["server_error"]
    assert "code" not in query
    assert await h.app.state.runtime.services.store.list_grants() == []


async def test_f10_malformed_callbacks_are_error_pages_and_do_not_consume_the_sign_in(h: Harness) -> None:
    client_id = (await h.register())["client_id"]
    callback = await spotify_callback(h, client_id)
    real = split(callback)
    malformed = [
        urlencode({**real, "error": "access_denied"}),
        urlencode([("code", real["code"]), ("code", "other"), ("state", real["state"])]),
        urlencode([("code", real["code"]), ("state", real["state"]), ("state", real["state"])]),
        urlencode({**real, "iss": "https://evil.example"}),
    ]
    for query in malformed:
        assert_error_page(await h.http.get(f"{CALLBACK}?{query}"))
    with_iss = urlencode({**real, "iss": EMULATOR})
    assert "code" in redirect_query(await h.http.get(f"{CALLBACK}?{with_iss}"))


async def test_f11_fewer_scopes_granted_upstream_are_what_the_grant_and_token_get(h: Harness) -> None:
    client_id = (await h.register())["client_id"]
    verifier, challenge = pkce()
    fields = await consent_form(
        h, client_id, challenge=challenge, scope="user-read-private user-top-read offline_access"
    )
    callback = await sign_in_at_spotify(h, await approve(h, fields), scope="user-read-private")
    code = redirect_query(await h.http.get(callback))["code"][0]
    response = await h.http.post(f"{PUBLIC}/token", data=code_form(code, verifier, client_id))
    assert response.status_code == 200
    assert set(response.json()["scope"].split()) == {"user-read-private", "offline_access"}
    call = {"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": "getTopTracks", "arguments": {}}}
    headers = {
        "Authorization": f"Bearer {response.json()['access_token']}",
        "Accept": "application/json, text/event-stream",
    }
    refused = await h.http.post(f"{PUBLIC}/mcp", json=call, headers=headers)
    assert refused.status_code == 403
    assert 'error="insufficient_scope"' in refused.headers["www-authenticate"]
    assert "user-top-read" in refused.headers["www-authenticate"]


async def test_f12_no_response_or_log_line_carries_a_spotify_token(
    h: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    seen: list[str] = []

    async def record(response: httpx2.Response) -> None:
        await response.aread()
        seen.append(str(response.headers) + response.text)

    h.http.event_hooks = {"request": [], "response": [record]}
    caplog.set_level(logging.DEBUG)
    client_id = (await h.register())["client_id"]
    tokens = await h.tokens(client_id)
    refreshed = await h.http.post(
        f"{PUBLIC}/token",
        data={"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"], "client_id": client_id},
    )
    assert refreshed.status_code == 200
    await h.http.post(f"{PUBLIC}/mcp", json={}, headers={"Authorization": "Bearer smcp_at_unknown"})
    upstream_secrets = [*h.world.access_tokens, *h.world.refresh_tokens]
    assert upstream_secrets
    logged = "\n".join(record.getMessage() for record in caplog.records)
    for secret in upstream_secrets:
        assert all(secret not in text for text in seen)
        assert secret not in logged

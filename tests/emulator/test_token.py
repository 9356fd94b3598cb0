"""The accounts service's /api/token: code exchange (confidential and PKCE), refresh, and every error."""

from __future__ import annotations

import base64

import httpx2
import pytest

from spotify_mcp.clock import ManualClock
from spotify_mcp.emulator import EmulatorConfig, World, create_emulator_app
from tests.emulator.flow import (
    CLIENT_ID,
    CLIENT_SECRET,
    REDIRECT_URI,
    bearer,
    exchange,
    get_code,
    pkce_pair,
    refresh,
    sign_in,
)

pytestmark = pytest.mark.anyio
SIX_MONTHS = 180 * 24 * 3600


def oauth_error(response: httpx2.Response, status: int, error: str, description: str | None = None) -> None:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["error"] == error
    if description is not None:
        assert body["error_description"] == description


async def test_a_code_is_exchanged_for_spotify_shaped_tokens(client: httpx2.AsyncClient) -> None:
    code = await get_code(client, scope="user-read-private user-top-read")
    response = await exchange(client, code)
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    body = response.json()
    assert set(body) == {"access_token", "token_type", "scope", "expires_in", "refresh_token"}
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 3600
    assert body["scope"] == "user-read-private user-top-read"
    assert body["access_token"].startswith("BQ")
    me = await client.get("/v1/me", headers=bearer(body["access_token"]))
    assert me.json()["id"] == "premium-user"


async def test_client_credentials_may_also_come_in_the_body(client: httpx2.AsyncClient) -> None:
    code = await get_code(client)
    data = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": REDIRECT_URI,
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
    }
    assert (await client.post("/api/token", data=data)).status_code == 200


async def test_a_code_works_only_once(client: httpx2.AsyncClient) -> None:
    code = await get_code(client)
    assert (await exchange(client, code)).status_code == 200
    oauth_error(await exchange(client, code), 400, "invalid_grant", "Invalid authorization code")


async def test_a_code_expires_after_ten_minutes(client: httpx2.AsyncClient, clock: ManualClock) -> None:
    code = await get_code(client)
    clock.advance(600)
    oauth_error(await exchange(client, code), 400, "invalid_grant", "Invalid authorization code")


async def test_an_unknown_code_is_an_invalid_grant(client: httpx2.AsyncClient) -> None:
    oauth_error(await exchange(client, "AQnope"), 400, "invalid_grant", "Invalid authorization code")


async def test_the_redirect_uri_must_equal_the_authorize_one(client: httpx2.AsyncClient) -> None:
    code = await get_code(client, redirect_uri="http://127.0.0.1:9999/callback")
    oauth_error(await exchange(client, code), 400, "invalid_grant", "Invalid redirect URI")


async def test_an_unknown_client_is_refused(client: httpx2.AsyncClient) -> None:
    code = await get_code(client)
    data = {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT_URI}
    response = await client.post("/api/token", data=data, auth=("someone-else", CLIENT_SECRET))
    oauth_error(response, 401, "invalid_client", "Invalid client")


async def test_a_wrong_client_secret_is_refused(client: httpx2.AsyncClient) -> None:
    code = await get_code(client)
    data = {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT_URI}
    response = await client.post("/api/token", data=data, auth=(CLIENT_ID, "wrong"))
    oauth_error(response, 401, "invalid_client", "Invalid client secret")


@pytest.mark.parametrize(
    "header", ["Basic !!!notbase64", "Basic " + base64.b64encode(b"no-colon").decode(), "Bearer x"]
)
async def test_a_malformed_authorization_header_is_an_invalid_client(client: httpx2.AsyncClient, header: str) -> None:
    data = {"grant_type": "refresh_token", "refresh_token": "AQx"}
    response = await client.post("/api/token", data=data, headers={"Authorization": header})
    oauth_error(response, 401, "invalid_client", "Invalid client")


async def test_without_a_secret_or_pkce_the_client_is_not_authenticated(client: httpx2.AsyncClient) -> None:
    code = await get_code(client)
    data = {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT_URI, "client_id": CLIENT_ID}
    oauth_error(await client.post("/api/token", data=data), 401, "invalid_client")


async def test_a_public_client_exchanges_a_code_with_its_pkce_verifier(client: httpx2.AsyncClient) -> None:
    verifier, challenge = pkce_pair()
    code = await get_code(client, code_challenge=challenge)
    data = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": REDIRECT_URI,
        "client_id": CLIENT_ID,
        "code_verifier": verifier,
    }
    response = await client.post("/api/token", data=data)
    assert response.status_code == 200
    assert "refresh_token" in response.json()


async def test_a_wrong_pkce_verifier_is_an_invalid_grant(client: httpx2.AsyncClient) -> None:
    _, challenge = pkce_pair()
    code = await get_code(client, code_challenge=challenge)
    other_verifier, _ = pkce_pair("w" * 50)
    response = await exchange(client, code, code_verifier=other_verifier)
    oauth_error(response, 400, "invalid_grant", "code_verifier was incorrect")


async def test_a_confidential_client_must_still_prove_pkce_when_a_challenge_was_given(
    client: httpx2.AsyncClient,
) -> None:
    verifier, challenge = pkce_pair()
    code = await get_code(client, code_challenge=challenge)
    oauth_error(await exchange(client, code), 400, "invalid_request")
    code = await get_code(client, code_challenge=challenge)
    assert (await exchange(client, code, code_verifier=verifier)).status_code == 200


@pytest.mark.parametrize(
    ("data", "error", "description"),
    [
        ({}, "unsupported_grant_type", "grant_type parameter is missing"),
        ({"grant_type": "password"}, "unsupported_grant_type", None),
        ({"grant_type": "client_credentials"}, "unsupported_grant_type", None),
        ({"grant_type": "refresh_token"}, "invalid_request", "refresh_token must be supplied"),
    ],
)
async def test_malformed_token_requests_are_refused(
    client: httpx2.AsyncClient, data: dict[str, str], error: str, description: str | None
) -> None:
    response = await client.post("/api/token", data=data, auth=(CLIENT_ID, CLIENT_SECRET))
    oauth_error(response, 400, error, description)


async def test_a_json_body_is_not_understood(client: httpx2.AsyncClient) -> None:
    response = await client.post("/api/token", json={"grant_type": "refresh_token"}, auth=(CLIENT_ID, CLIENT_SECRET))
    oauth_error(response, 400, "unsupported_grant_type", "grant_type parameter is missing")


async def test_a_refresh_gives_a_new_access_token_and_keeps_the_refresh_token(client: httpx2.AsyncClient) -> None:
    tokens = await sign_in(client, scope="user-read-private")
    response = await refresh(client, tokens["refresh_token"])
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"access_token", "token_type", "scope", "expires_in"}
    assert body["access_token"] != tokens["access_token"]
    assert body["scope"] == "user-read-private"
    assert (await client.get("/v1/me", headers=bearer(body["access_token"]))).status_code == 200
    assert (await refresh(client, tokens["refresh_token"])).status_code == 200


async def test_rotating_refresh_tokens_retires_the_old_one(clock: ManualClock) -> None:
    config = EmulatorConfig(CLIENT_ID, CLIENT_SECRET, [REDIRECT_URI], rotate_refresh_tokens=True)
    app = create_emulator_app(config, clock=clock)
    async with httpx2.AsyncClient(transport=httpx2.ASGITransport(app=app), base_url="http://e") as c:
        tokens = await sign_in(c)
        first = await refresh(c, tokens["refresh_token"])
        assert first.status_code == 200
        rotated = first.json()["refresh_token"]
        assert rotated != tokens["refresh_token"]
        oauth_error(await refresh(c, tokens["refresh_token"]), 400, "invalid_grant", "Invalid refresh token")
        assert (await refresh(c, rotated)).status_code == 200


async def test_a_public_clients_refresh_token_rotates(client: httpx2.AsyncClient) -> None:
    verifier, challenge = pkce_pair()
    code = await get_code(client, code_challenge=challenge)
    data = {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT_URI}
    tokens = (await client.post("/api/token", data={**data, "client_id": CLIENT_ID, "code_verifier": verifier})).json()
    refreshed = await client.post(
        "/api/token",
        data={"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"], "client_id": CLIENT_ID},
    )
    assert refreshed.status_code == 200
    assert refreshed.json()["refresh_token"] != tokens["refresh_token"]


async def test_a_confidential_grant_cannot_be_refreshed_without_the_secret(client: httpx2.AsyncClient) -> None:
    tokens = await sign_in(client)
    data = {"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"], "client_id": CLIENT_ID}
    oauth_error(await client.post("/api/token", data=data), 401, "invalid_client")


async def test_an_unknown_refresh_token_is_an_invalid_grant(client: httpx2.AsyncClient) -> None:
    oauth_error(await refresh(client, "AQunknown"), 400, "invalid_grant", "Invalid refresh token")


async def test_an_expired_refresh_token_gets_invalid_grant(client: httpx2.AsyncClient, clock: ManualClock) -> None:
    tokens = await sign_in(client)
    clock.advance(SIX_MONTHS - 1)
    assert (await refresh(client, tokens["refresh_token"])).status_code == 200
    clock.advance(1)
    oauth_error(await refresh(client, tokens["refresh_token"]), 400, "invalid_grant", "Refresh token revoked")


async def test_refreshing_does_not_extend_the_six_months(clock: ManualClock) -> None:
    config = EmulatorConfig(CLIENT_ID, CLIENT_SECRET, [REDIRECT_URI], rotate_refresh_tokens=True)
    app = create_emulator_app(config, clock=clock)
    async with httpx2.AsyncClient(transport=httpx2.ASGITransport(app=app), base_url="http://e") as c:
        current = (await sign_in(c))["refresh_token"]
        for _ in range(6):
            clock.advance(30 * 24 * 3600)
            response = await refresh(c, current)
            if response.status_code != 200:
                break
            current = response.json()["refresh_token"]
        oauth_error(response, 400, "invalid_grant", "Refresh token revoked")


async def test_signing_in_again_starts_a_new_six_months(client: httpx2.AsyncClient, clock: ManualClock) -> None:
    old = await sign_in(client)
    clock.advance(SIX_MONTHS - 10)
    new = await sign_in(client)
    clock.advance(20)
    oauth_error(await refresh(client, old["refresh_token"]), 400, "invalid_grant")
    assert (await refresh(client, new["refresh_token"])).status_code == 200


async def test_a_refresh_token_lifetime_can_be_configured_short(clock: ManualClock) -> None:
    config = EmulatorConfig(CLIENT_ID, CLIENT_SECRET, [REDIRECT_URI], refresh_token_lifetime=60, access_token_ttl=10)
    app = create_emulator_app(config, clock=clock)
    async with httpx2.AsyncClient(transport=httpx2.ASGITransport(app=app), base_url="http://e") as c:
        tokens = await sign_in(c)
        assert tokens["expires_in"] == 10
        clock.advance(60)
        oauth_error(await refresh(c, tokens["refresh_token"]), 400, "invalid_grant", "Refresh token revoked")


async def test_revoked_consent_makes_refresh_fail_with_invalid_grant(client: httpx2.AsyncClient, world: World) -> None:
    tokens = await sign_in(client)
    world.revoke_user_consent("premium-user")
    oauth_error(await refresh(client, tokens["refresh_token"]), 400, "invalid_grant", "Refresh token revoked")
    me = await client.get("/v1/me", headers=bearer(tokens["access_token"]))
    assert me.status_code == 401
    again = await sign_in(client)
    assert (await refresh(client, again["refresh_token"])).status_code == 200


async def test_revoking_one_user_leaves_the_others_alone(client: httpx2.AsyncClient, world: World) -> None:
    premium = await sign_in(client)
    free = await sign_in(client, user="free-user")
    world.revoke_user_consent("free-user")
    assert (await refresh(client, premium["refresh_token"])).status_code == 200
    assert (await refresh(client, free["refresh_token"])).status_code == 400


async def test_token_requests_and_refreshes_are_counted(client: httpx2.AsyncClient, world: World) -> None:
    premium = await sign_in(client)
    free = await sign_in(client, user="free-user")
    await refresh(client, premium["refresh_token"])
    await refresh(client, premium["refresh_token"])
    await refresh(client, free["refresh_token"])
    await refresh(client, "AQunknown")
    world.revoke_user_consent("free-user")
    await refresh(client, free["refresh_token"])
    await client.post("/api/token", data={})
    assert world.token_requests == {"authorization_code": 2, "refresh_token": 5, "": 1}
    assert world.refreshes_by_user == {"premium-user": 2, "free-user": 2}

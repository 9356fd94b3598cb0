"""Bearer authentication, the dev-mode allow-list and scopes, in front of every Web API endpoint."""

from __future__ import annotations

import httpx2
import pytest

from spotify_mcp.clock import ManualClock
from spotify_mcp.emulator import EmulatorConfig, World, create_emulator_app
from tests.emulator.flow import CLIENT_ID, CLIENT_SECRET, REDIRECT_URI, bearer, refresh, sign_in
from tests.emulator.openapi import assert_conforms

pytestmark = pytest.mark.anyio
NOT_REGISTERED = (
    "The user is not registered for this application. "
    "Please check your settings on https://developer.spotify.com/dashboard."
)
ENDPOINTS = [
    "/v1/me",
    "/v1/search?q=luna&type=track",
    "/v1/me/player",
    "/v1/me/player/devices",
    "/v1/me/player/recently-played",
    "/v1/me/playlists",
    "/v1/me/top/artists",
    "/v1/me/top/tracks",
]


def api_error(response: httpx2.Response, status: int, message: str) -> None:
    assert response.status_code == status, response.text
    assert response.json() == {"error": {"status": status, "message": message}}


async def test_a_request_without_a_token_is_unauthorized(client: httpx2.AsyncClient) -> None:
    response = await client.get("/v1/me")
    api_error(response, 401, "No token provided")
    assert_conforms(response)


async def test_an_unknown_token_is_an_invalid_access_token(client: httpx2.AsyncClient) -> None:
    response = await client.get("/v1/me", headers=bearer("BQnonsense"))
    api_error(response, 401, "Invalid access token")
    assert_conforms(response)


async def test_basic_authentication_is_not_accepted_by_the_web_api(client: httpx2.AsyncClient) -> None:
    response = await client.get("/v1/me", auth=(CLIENT_ID, CLIENT_SECRET))
    api_error(response, 400, "Only valid bearer authentication supported")


async def test_an_access_token_expires_after_an_hour(client: httpx2.AsyncClient, clock: ManualClock) -> None:
    tokens = await sign_in(client)
    clock.advance(3599)
    assert (await client.get("/v1/me", headers=bearer(tokens["access_token"]))).status_code == 200
    clock.advance(1)
    response = await client.get("/v1/me", headers=bearer(tokens["access_token"]))
    api_error(response, 401, "The access token expired")
    assert_conforms(response)
    fresh = (await refresh(client, tokens["refresh_token"])).json()
    assert (await client.get("/v1/me", headers=bearer(fresh["access_token"]))).status_code == 200


async def test_the_expire_hook_expires_tokens_at_once(client: httpx2.AsyncClient, world: World) -> None:
    premium = await sign_in(client)
    free = await sign_in(client, user="free-user")
    world.expire_access_tokens("free-user")
    assert (await client.get("/v1/me", headers=bearer(premium["access_token"]))).status_code == 200
    api_error(await client.get("/v1/me", headers=bearer(free["access_token"])), 401, "The access token expired")
    world.expire_access_tokens()
    api_error(await client.get("/v1/me", headers=bearer(premium["access_token"])), 401, "The access token expired")


@pytest.mark.parametrize("path", ENDPOINTS)
async def test_a_user_not_on_the_allow_list_gets_403_everywhere(client: httpx2.AsyncClient, path: str) -> None:
    tokens = await sign_in(client, user="unlisted-user")
    response = await client.get(path, headers=bearer(tokens["access_token"]))
    api_error(response, 403, NOT_REGISTERED)
    assert_conforms(response)


async def test_the_allow_list_can_be_configured(clock: ManualClock) -> None:
    config = EmulatorConfig(CLIENT_ID, CLIENT_SECRET, [REDIRECT_URI], allow_listed_users=["unlisted-user"])
    app = create_emulator_app(config, clock=clock)
    async with httpx2.AsyncClient(transport=httpx2.ASGITransport(app=app), base_url="http://e") as c:
        premium = await sign_in(c)
        unlisted = await sign_in(c, user="unlisted-user")
        api_error(await c.get("/v1/me", headers=bearer(premium["access_token"])), 403, NOT_REGISTERED)
        assert (await c.get("/v1/me", headers=bearer(unlisted["access_token"]))).status_code == 200


async def test_the_allow_list_can_change_while_running(client: httpx2.AsyncClient, world: World) -> None:
    tokens = await sign_in(client, user="unlisted-user")
    world.allow_listed_users.add("unlisted-user")
    assert (await client.get("/v1/me", headers=bearer(tokens["access_token"]))).status_code == 200


@pytest.mark.parametrize(
    ("path", "scope"),
    [
        ("/v1/me/player", "user-read-playback-state"),
        ("/v1/me/player/devices", "user-read-playback-state"),
        ("/v1/me/player/currently-playing", "user-read-currently-playing"),
        ("/v1/me/player/recently-played", "user-read-recently-played"),
        ("/v1/me/top/tracks", "user-top-read"),
    ],
)
async def test_an_endpoint_needs_its_scope(client: httpx2.AsyncClient, path: str, scope: str) -> None:
    without = await sign_in(client, scope="user-read-private")
    response = await client.get(path, headers=bearer(without["access_token"]))
    api_error(response, 403, "Insufficient client scope")
    with_scope = await sign_in(client, scope=scope)
    assert (await client.get(path, headers=bearer(with_scope["access_token"]))).status_code in (200, 204)


async def test_profile_and_search_need_no_scope(client: httpx2.AsyncClient) -> None:
    tokens = await sign_in(client, scope="")
    assert tokens["scope"] == ""
    headers = bearer(tokens["access_token"])
    assert (await client.get("/v1/me", headers=headers)).status_code == 200
    assert (await client.get("/v1/search?q=owl&type=track", headers=headers)).status_code == 200


async def test_an_unknown_endpoint_answers_with_spotifys_error_object(
    client: httpx2.AsyncClient, premium: dict[str, str]
) -> None:
    api_error(await client.get("/v1/no/such/thing", headers=premium), 404, "Service not found")
    response = await client.post("/v1/me", headers=premium)
    assert response.status_code == 405
    assert response.json()["error"]["status"] == 405


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("GET", "/v1/tracks?ids=a,b", 403),
        ("GET", "/v1/browse/new-releases", 403),
        ("GET", "/v1/artists/0TnOYISbd1XYRBk9myaseg/top-tracks", 403),
        ("GET", "/v1/users/sam-curator/playlists", 403),
        ("GET", "/v1/playlists/0TnOYISbd1XYRBk9myaseg/tracks", 403),
        ("GET", "/v1/audio-features/0TnOYISbd1XYRBk9myaseg", 403),
        ("GET", "/v1/recommendations?seed_genres=pop", 404),
        ("POST", "/v1/users/premium-user/playlists", 403),
    ],
)
async def test_endpoints_removed_for_dev_mode_apps_are_refused(
    client: httpx2.AsyncClient, premium: dict[str, str], method: str, path: str, status: int
) -> None:
    response = await client.request(method, path, headers=premium)
    assert response.status_code == status
    assert response.json()["error"]["status"] == status

"""Every JSON body the emulated Web API returns validates against Spotify's OpenAPI description."""

from __future__ import annotations

import httpx2
import pytest

from spotify_mcp.emulator import World
from tests.emulator.flow import bearer, sign_in
from tests.emulator.openapi import assert_conforms

pytestmark = pytest.mark.anyio


def requests_for(world: World) -> list[str]:
    """A sweep of the implemented endpoints, with every playlist and parameter variant."""
    paths = [
        "/v1/me",
        "/v1/me/player",
        "/v1/me/player?market=ES&additional_types=track,episode",
        "/v1/me/player/currently-playing",
        "/v1/me/player/devices",
        "/v1/me/player/recently-played",
        "/v1/me/player/recently-played?limit=50",
        "/v1/me/player/recently-played?after=0",
        "/v1/me/playlists?limit=50",
        "/v1/search?q=a&type=album,artist,playlist,track,show,episode,audiobook&limit=10",
        "/v1/search?q=tag:new&type=album&market=from_token",
        "/v1/search?q=year:2000-2030&type=artist,track&offset=5&limit=10&include_external=audio",
    ]
    for time_range in ("short_term", "medium_term", "long_term"):
        paths += [f"/v1/me/top/artists?time_range={time_range}", f"/v1/me/top/tracks?time_range={time_range}&limit=50"]
    for playlist in world.playlists.values():
        paths += [f"/v1/playlists/{playlist.id}", f"/v1/playlists/{playlist.id}/items?limit=50&market=US"]
    return paths


@pytest.mark.parametrize("user", ["premium-user", "free-user", "unlisted-user"])
async def test_every_response_validates_against_the_openapi_schemas(
    client: httpx2.AsyncClient, world: World, user: str
) -> None:
    headers = bearer((await sign_in(client, user=user))["access_token"])
    statuses = set()
    for path in requests_for(world):
        response = await client.get(path, headers=headers)
        statuses.add(response.status_code)
        assert_conforms(response)
    expected = {403} if user == "unlisted-user" else ({200, 403, 404} | ({204} if user == "free-user" else set()))
    assert statuses == expected


async def test_error_responses_validate_too(client: httpx2.AsyncClient, premium: dict[str, str], world: World) -> None:
    world.fail_next("/v1/me/top", 429, headers={"Retry-After": "1"})
    for path in ["/v1/search?q=a", "/v1/me/top/tracks", "/v1/playlists/x", "/v1/me/player/recently-played?limit=99"]:
        response = await client.get(path, headers=premium)
        assert response.status_code >= 400
        assert_conforms(response)

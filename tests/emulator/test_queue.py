"""The queue: adding tracks, and what GET /me/player/queue says plays next (queued tracks, then the context)."""

from __future__ import annotations

from typing import Any

import httpx2
import pytest

from spotify_mcp.clock import ManualClock
from spotify_mcp.emulator import FREE_USER, PREMIUM_USER, World
from tests.emulator.flow import ALL_READ_SCOPES, bearer, sign_in
from tests.emulator.openapi import assert_conforms
from tests.emulator.test_player_commands import PLAYER_SCOPES, command, player_error, state, uri_of

pytestmark = pytest.mark.anyio
ROAD_TRIP = "Pia's Road Trip"


@pytest.fixture
async def pia(client: httpx2.AsyncClient) -> dict[str, str]:
    """The Premium user, signed in with the read scopes and ``user-modify-playback-state``."""
    return bearer((await sign_in(client, scope=PLAYER_SCOPES))["access_token"])


async def queue(client: httpx2.AsyncClient, headers: dict[str, str]) -> Any:
    """``GET /me/player/queue``, which must answer 200."""
    response = await client.get("/v1/me/player/queue", headers=headers)
    assert response.status_code == 200, response.text
    assert_conforms(response)
    return response.json()


def ids(page: dict[str, Any]) -> list[str]:
    """The ids of the tracks in the queue."""
    return [item["id"] for item in page["queue"]]


def roadtrip(world: World) -> list[str]:
    """The tracks of the playlist the Premium user is playing."""
    return [entry.track_id for entry in world.playlist_by_name(ROAD_TRIP).entries]


async def test_the_queue_is_the_rest_of_the_context(
    client: httpx2.AsyncClient, pia: dict[str, str], world: World
) -> None:
    page = await queue(client, pia)
    assert page["currently_playing"]["id"] == roadtrip(world)[2]
    assert ids(page) == roadtrip(world)[3:]


async def test_queued_tracks_play_before_the_context_goes_on(
    client: httpx2.AsyncClient, pia: dict[str, str], world: World
) -> None:
    first, second = world.track_by_name("Kente Swing"), world.track_by_name("Tramontana")
    for track in (first, second):
        await command(client, pia, "POST", "/v1/me/player/queue", uri=uri_of(track.id))
    assert ids(await queue(client, pia)) == [first.id, second.id, *roadtrip(world)[3:]]
    await command(client, pia, "POST", "/v1/me/player/next")
    playing = await state(client, pia)
    assert playing["item"]["id"] == first.id
    assert playing["context"]["uri"] == f"spotify:playlist:{world.playlist_by_name(ROAD_TRIP).id}"
    await command(client, pia, "POST", "/v1/me/player/next")
    await command(client, pia, "POST", "/v1/me/player/next")
    page = await queue(client, pia)
    assert page["currently_playing"]["id"] == roadtrip(world)[3]
    assert ids(page) == roadtrip(world)[4:]


async def test_a_queued_track_plays_when_the_current_one_ends(
    client: httpx2.AsyncClient, pia: dict[str, str], world: World, clock: ManualClock
) -> None:
    queued = world.track_by_name("Dust")
    current = world.tracks[roadtrip(world)[2]]
    await command(client, pia, "POST", "/v1/me/player/queue", uri=uri_of(queued.id))
    await command(client, pia, "PUT", "/v1/me/player/seek", position_ms=current.duration_ms - 1_000)
    clock.advance(5)
    playing = await state(client, pia)
    assert (playing["item"]["id"], playing["progress_ms"]) == (queued.id, 4_000)
    clock.advance(queued.duration_ms / 1000)
    assert (await state(client, pia))["item"]["id"] == roadtrip(world)[3]


async def test_previous_from_a_queued_track_returns_to_the_track_before_it(
    client: httpx2.AsyncClient, pia: dict[str, str], world: World
) -> None:
    queued = world.track_by_name("Dust")
    await command(client, pia, "POST", "/v1/me/player/queue", uri=uri_of(queued.id))
    await command(client, pia, "POST", "/v1/me/player/next")
    await command(client, pia, "POST", "/v1/me/player/previous")
    page = await queue(client, pia)
    assert page["currently_playing"]["id"] == roadtrip(world)[2]
    assert ids(page) == roadtrip(world)[3:]


async def test_the_queue_survives_starting_a_new_context(
    client: httpx2.AsyncClient, pia: dict[str, str], world: World
) -> None:
    queued = world.track_by_name("Dust")
    album = world.album_by_name("Orbit")
    await command(client, pia, "POST", "/v1/me/player/queue", uri=uri_of(queued.id))
    await command(client, pia, "PUT", "/v1/me/player/play", json={"context_uri": f"spotify:album:{album.id}"})
    page = await queue(client, pia)
    assert page["currently_playing"]["id"] == album.track_ids[0]
    assert ids(page) == [queued.id, album.track_ids[1]]


async def test_the_queue_goes_round_when_repeating_the_context(
    client: httpx2.AsyncClient, pia: dict[str, str], world: World
) -> None:
    album = world.album_by_name("Orbit")
    await command(client, pia, "PUT", "/v1/me/player/play", json={"context_uri": f"spotify:album:{album.id}"})
    await command(client, pia, "PUT", "/v1/me/player/repeat", state="context")
    upcoming = ids(await queue(client, pia))
    assert len(upcoming) == 20
    assert upcoming[:3] == [album.track_ids[1], album.track_ids[0], album.track_ids[1]]


async def test_the_queue_ends_with_the_context_when_not_repeating(
    client: httpx2.AsyncClient, pia: dict[str, str], world: World
) -> None:
    album = world.album_by_name("Orbit")
    body = {"context_uri": f"spotify:album:{album.id}", "offset": {"position": 1}}
    await command(client, pia, "PUT", "/v1/me/player/play", json=body)
    assert ids(await queue(client, pia)) == []


async def test_nothing_playing_means_an_empty_queue(client: httpx2.AsyncClient, free: dict[str, str]) -> None:
    assert await queue(client, free) == {"currently_playing": None, "queue": []}


@pytest.mark.parametrize("scope", ["user-read-playback-state", "user-read-currently-playing"])
async def test_reading_the_queue_needs_both_playback_read_scopes(client: httpx2.AsyncClient, scope: str) -> None:
    headers = bearer((await sign_in(client, scope=scope))["access_token"])
    response = await client.get("/v1/me/player/queue", headers=headers)
    player_error(response, 403, None, "Insufficient client scope")
    assert_conforms(response)
    both = bearer((await sign_in(client, scope=ALL_READ_SCOPES))["access_token"])
    assert (await client.get("/v1/me/player/queue", headers=both)).status_code == 200


async def test_reading_the_queue_needs_a_token(client: httpx2.AsyncClient) -> None:
    response = await client.get("/v1/me/player/queue")
    player_error(response, 401, None, "No token provided")
    assert_conforms(response)


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({}, "Required parameter uri missing"),
        ({"uri": "spotify:track:0000000000000000000000"}, "Invalid track uri: spotify:track:0000000000000000000000"),
        (
            {"uri": "spotify:episode:0000000000000000000000"},
            "Invalid track uri: spotify:episode:0000000000000000000000",
        ),
        ({"uri": "spotify:album:0000000000000000000000"}, "Invalid track uri: spotify:album:0000000000000000000000"),
        ({"uri": "Dust"}, "Invalid track uri: Dust"),
    ],
)
async def test_only_a_track_uri_can_be_queued(
    client: httpx2.AsyncClient, pia: dict[str, str], params: dict[str, str], message: str
) -> None:
    response = await command(client, pia, "POST", "/v1/me/player/queue", status=400, **params)
    player_error(response, 400, None, message)


async def test_adding_to_the_queue_without_an_active_device_says_no_active_device(
    client: httpx2.AsyncClient, pia: dict[str, str], world: World
) -> None:
    world.go_idle(PREMIUM_USER)
    uri = uri_of(world.track_by_name("Dust").id)
    response = await command(client, pia, "POST", "/v1/me/player/queue", status=404, uri=uri)
    player_error(response, 404, "NO_ACTIVE_DEVICE", "Player command failed: No active device found")


async def test_a_free_user_cannot_add_to_the_queue_but_can_read_it(client: httpx2.AsyncClient, world: World) -> None:
    frank = bearer((await sign_in(client, user=FREE_USER, scope=PLAYER_SCOPES))["access_token"])
    uri = uri_of(world.track_by_name("Dust").id)
    response = await command(client, frank, "POST", "/v1/me/player/queue", status=403, uri=uri)
    player_error(response, 403, "PREMIUM_REQUIRED", "Player command failed: Premium required")
    assert (await queue(client, frank))["queue"] == []

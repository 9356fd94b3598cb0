"""Commanding the player: play, pause, skip, seek, volume, shuffle, repeat and transfer, as GET /me/player sees it."""

from __future__ import annotations

from typing import Any

import httpx2
import pytest

from spotify_mcp.clock import ManualClock
from spotify_mcp.emulator import FREE_USER, PREMIUM_USER, World
from spotify_mcp.emulator.model import Device, spotify_id
from tests.emulator.flow import ALL_READ_SCOPES, bearer, sign_in
from tests.emulator.openapi import assert_conforms

pytestmark = pytest.mark.anyio

PLAYER_SCOPES = f"{ALL_READ_SCOPES} user-modify-playback-state"
RESTRICTED = "Player command failed: Restriction violated"
GLASS_SATELLITES = f"spotify:track:{spotify_id('track', 'satellites', 'Glass Satellites')}"
COMMANDS: list[tuple[str, str, dict[str, str]]] = [
    ("PUT", "/v1/me/player/play", {}),
    ("PUT", "/v1/me/player/pause", {}),
    ("POST", "/v1/me/player/next", {}),
    ("POST", "/v1/me/player/previous", {}),
    ("PUT", "/v1/me/player/seek", {"position_ms": "1000"}),
    ("PUT", "/v1/me/player/volume", {"volume_percent": "50"}),
    ("PUT", "/v1/me/player/shuffle", {"state": "true"}),
    ("PUT", "/v1/me/player/repeat", {"state": "context"}),
    ("POST", "/v1/me/player/queue", {"uri": GLASS_SATELLITES}),
]


@pytest.fixture
async def pia(client: httpx2.AsyncClient) -> dict[str, str]:
    """The Premium user, signed in with the read scopes and ``user-modify-playback-state``."""
    return bearer((await sign_in(client, scope=PLAYER_SCOPES))["access_token"])


async def command(
    client: httpx2.AsyncClient,
    headers: dict[str, str],
    method: str,
    path: str,
    *,
    status: int = 204,
    json: Any = None,
    **params: str | int,
) -> httpx2.Response:
    """Send a player command, expect ``status`` and a body that conforms to the OpenAPI description."""
    response = await client.request(method, path, params=params, json=json, headers=headers)
    assert response.status_code == status, response.text
    assert_conforms(response)
    return response


async def state(client: httpx2.AsyncClient, headers: dict[str, str]) -> Any:
    """``GET /me/player``, which must answer 200."""
    response = await client.get("/v1/me/player", headers=headers)
    assert response.status_code == 200, response.text
    assert_conforms(response)
    return response.json()


async def devices(client: httpx2.AsyncClient, headers: dict[str, str]) -> dict[str, Any]:
    """The user's devices by name."""
    response = await client.get("/v1/me/player/devices", headers=headers)
    assert_conforms(response)
    return {d["name"]: d for d in response.json()["devices"]}


def player_error(response: httpx2.Response, status: int, reason: str | None, message: str = RESTRICTED) -> None:
    """The response is Spotify's error object with that status, message and (player) reason."""
    error: dict[str, Any] = {"status": status, "message": message}
    if reason is not None:
        error["reason"] = reason
    assert response.status_code == status, response.text
    assert response.json() == {"error": error}


def uri_of(track_id: str) -> str:
    """A track's URI."""
    return f"spotify:track:{track_id}"


def device(world: World, name: str) -> Device:
    """The Premium user's device called ``name``."""
    return next(d for d in world.devices[PREMIUM_USER] if d.name == name)


async def test_playing_a_list_of_tracks_starts_the_first_and_moves_with_the_clock(
    client: httpx2.AsyncClient, pia: dict[str, str], world: World, clock: ManualClock
) -> None:
    first, second = world.track_by_name("Aurora"), world.track_by_name("Olive Groves")
    await command(client, pia, "PUT", "/v1/me/player/play", json={"uris": [uri_of(first.id), uri_of(second.id)]})
    playing = await state(client, pia)
    assert playing["item"]["id"] == first.id
    assert (playing["is_playing"], playing["progress_ms"], playing["context"]) == (True, 0, None)
    assert playing["timestamp"] == int(clock.now() * 1000)
    assert playing["device"]["name"] == "Pia's MacBook"
    clock.advance(10)
    assert (await state(client, pia))["progress_ms"] == 10_000
    clock.advance(first.duration_ms / 1000)
    assert (await state(client, pia))["item"]["id"] == second.id


async def test_playing_an_album_from_an_offset_uri_plays_that_track_in_the_album(
    client: httpx2.AsyncClient, pia: dict[str, str], world: World
) -> None:
    album = world.album_by_name("Blue Harmattan")
    body = {"context_uri": f"spotify:album:{album.id}", "offset": {"uri": uri_of(album.track_ids[2])}}
    await command(client, pia, "PUT", "/v1/me/player/play", json=body)
    playing = await state(client, pia)
    assert playing["item"]["id"] == album.track_ids[2]
    assert playing["context"]["uri"] == f"spotify:album:{album.id}"
    assert playing["context"]["type"] == "album"


async def test_playing_a_playlist_from_an_offset_position_and_a_position_ms(
    client: httpx2.AsyncClient, pia: dict[str, str], world: World
) -> None:
    focus = world.playlist_by_name("Late Night Focus")
    body = {"context_uri": f"spotify:playlist:{focus.id}", "offset": {"position": 4}, "position_ms": 30_000}
    await command(client, pia, "PUT", "/v1/me/player/play", json=body)
    playing = await state(client, pia)
    assert playing["item"]["id"] == focus.entries[4].track_id
    assert playing["progress_ms"] == 30_000


async def test_a_position_past_the_end_of_the_track_starts_the_next_one(
    client: httpx2.AsyncClient, pia: dict[str, str], world: World
) -> None:
    album = world.album_by_name("Olive Groves")
    body = {"context_uri": f"spotify:album:{album.id}", "position_ms": 10_000_000}
    await command(client, pia, "PUT", "/v1/me/player/play", json=body)
    playing = await state(client, pia)
    assert (playing["item"]["id"], playing["progress_ms"]) == (album.track_ids[1], 0)


async def test_playing_an_artist_plays_their_albums_and_takes_no_offset(
    client: httpx2.AsyncClient, pia: dict[str, str], world: World
) -> None:
    owls = world.artist_by_name("The Midnight Owls")
    context = f"spotify:artist:{owls.id}"
    await command(client, pia, "PUT", "/v1/me/player/play", json={"context_uri": context})
    playing = await state(client, pia)
    assert playing["item"]["id"] == world.album_by_name("Nocturne Avenue").track_ids[0]
    assert playing["context"]["type"] == "artist"
    response = await command(
        client, pia, "PUT", "/v1/me/player/play", status=400, json={"context_uri": context, "offset": {"position": 1}}
    )
    player_error(response, 400, None, "Can't have offset for context type: ARTIST")


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"uris": ["spotify:track:0000000000000000000000"]}, "Invalid track uri: spotify:track:0000000000000000000000"),
        ({"uris": ["Glass Satellites"]}, "Invalid track uri: Glass Satellites"),
        ({"uris": ["spotify:album:0000000000000000000000"]}, "Invalid track uri: spotify:album:0000000000000000000000"),
        ({"uris": []}, "Invalid uris"),
        ({"uris": "spotify:track:x"}, "Malformed json"),
        ({"context_uri": GLASS_SATELLITES}, "Non supported context uri"),
        ({"context_uri": "spotify:album:0000000000000000000000"}, "Invalid context uri"),
        ({"context_uri": "spotify:show:0000000000000000000000"}, "Invalid context uri"),
        ({"context_uri": "https://open.spotify.com/album/x"}, "Invalid context uri"),
        ({"context_uri": 7}, "Malformed json"),
        (
            {"context_uri": "spotify:artist:x", "uris": [GLASS_SATELLITES]},
            "Only one of context_uri and uris can be given",
        ),
        ({"uris": [GLASS_SATELLITES], "offset": {"position": 1}}, "position out of range"),
        ({"uris": [GLASS_SATELLITES], "offset": {"position": "first"}}, "Malformed json"),
        ({"uris": [GLASS_SATELLITES], "offset": 0}, "Malformed json"),
        ({"uris": [GLASS_SATELLITES], "position_ms": -1}, "Invalid position_ms"),
        ({"uris": [GLASS_SATELLITES], "position_ms": "soon"}, "Malformed json"),
        ([GLASS_SATELLITES], "Malformed json"),
    ],
)
async def test_a_malformed_play_request_is_400_with_spotifys_message(
    client: httpx2.AsyncClient, pia: dict[str, str], body: Any, message: str
) -> None:
    response = await command(client, pia, "PUT", "/v1/me/player/play", status=400, json=body)
    player_error(response, 400, None, message)


async def test_a_body_that_is_not_json_is_malformed(client: httpx2.AsyncClient, pia: dict[str, str]) -> None:
    response = await client.put("/v1/me/player/play", content=b"{uris:", headers=pia)
    player_error(response, 400, None, "Malformed json")
    assert_conforms(response)


async def test_an_offset_uri_outside_the_context_says_no_specific_track(
    client: httpx2.AsyncClient, pia: dict[str, str], world: World
) -> None:
    album = world.album_by_name("Blue Harmattan")
    body = {"context_uri": f"spotify:album:{album.id}", "offset": {"uri": GLASS_SATELLITES}}
    response = await command(client, pia, "PUT", "/v1/me/player/play", status=403, json=body)
    player_error(response, 403, "NO_SPECIFIC_TRACK")


async def test_someone_elses_private_playlist_is_not_a_playable_context(
    client: httpx2.AsyncClient, pia: dict[str, str], world: World
) -> None:
    stash = world.playlist_by_name("Sam's Secret Stash")
    body = {"context_uri": f"spotify:playlist:{stash.id}"}
    response = await command(client, pia, "PUT", "/v1/me/player/play", status=400, json=body)
    player_error(response, 400, None, "Invalid context uri")


async def test_an_empty_playlist_cannot_be_played(
    client: httpx2.AsyncClient, pia: dict[str, str], world: World
) -> None:
    focus = world.playlist_by_name("Late Night Focus")
    focus.entries.clear()
    body = {"context_uri": f"spotify:playlist:{focus.id}"}
    response = await command(client, pia, "PUT", "/v1/me/player/play", status=403, json=body)
    player_error(response, 403, "UNKNOWN")


async def test_pausing_stops_the_progress_and_playing_resumes_it(
    client: httpx2.AsyncClient, pia: dict[str, str], clock: ManualClock
) -> None:
    await command(client, pia, "PUT", "/v1/me/player/pause")
    paused = await state(client, pia)
    assert (paused["is_playing"], paused["progress_ms"]) == (False, 42_000)
    assert paused["timestamp"] == int(clock.now() * 1000)
    assert paused["actions"]["disallows"] == {"pausing": True}
    clock.advance(60)
    assert (await state(client, pia))["progress_ms"] == 42_000
    await command(client, pia, "PUT", "/v1/me/player/play")
    clock.advance(3)
    resumed = await state(client, pia)
    assert (resumed["is_playing"], resumed["progress_ms"]) == (True, 45_000)
    assert resumed["actions"]["disallows"] == {"resuming": True}


async def test_pausing_when_already_paused_says_already_paused(client: httpx2.AsyncClient, pia: dict[str, str]) -> None:
    await command(client, pia, "PUT", "/v1/me/player/pause")
    response = await command(client, pia, "PUT", "/v1/me/player/pause", status=403)
    player_error(response, 403, "ALREADY_PAUSED")


async def test_resuming_while_playing_says_not_paused(client: httpx2.AsyncClient, pia: dict[str, str]) -> None:
    response = await command(client, pia, "PUT", "/v1/me/player/play", status=403)
    player_error(response, 403, "NOT_PAUSED")


async def test_resuming_with_a_position_while_playing_seeks(client: httpx2.AsyncClient, pia: dict[str, str]) -> None:
    await command(client, pia, "PUT", "/v1/me/player/play", json={"position_ms": 1_000})
    assert (await state(client, pia))["progress_ms"] == 1_000


async def test_resuming_a_context_that_ended_starts_it_over(
    client: httpx2.AsyncClient, pia: dict[str, str], world: World, clock: ManualClock
) -> None:
    clock.advance(3000)
    assert (await state(client, pia))["is_playing"] is False
    await command(client, pia, "PUT", "/v1/me/player/play")
    playing = await state(client, pia)
    roadtrip = world.playlist_by_name("Pia's Road Trip")
    assert (playing["item"]["id"], playing["progress_ms"], playing["is_playing"]) == (
        roadtrip.entries[0].track_id,
        0,
        True,
    )


async def test_play_without_an_active_device_says_no_active_device(
    client: httpx2.AsyncClient, pia: dict[str, str], world: World
) -> None:
    world.go_idle(PREMIUM_USER)
    response = await command(client, pia, "PUT", "/v1/me/player/play", status=404, json={"uris": [GLASS_SATELLITES]})
    assert response.json() == {
        "error": {
            "status": 404,
            "message": "Player command failed: No active device found",
            "reason": "NO_ACTIVE_DEVICE",
        }
    }
    assert (await client.get("/v1/me/player", headers=pia)).status_code == 204


@pytest.mark.parametrize(("method", "path", "params"), COMMANDS)
async def test_every_command_needs_an_active_device(
    client: httpx2.AsyncClient, pia: dict[str, str], world: World, method: str, path: str, params: dict[str, str]
) -> None:
    world.go_idle(PREMIUM_USER)
    response = await command(client, pia, method, path, status=404, **params)
    player_error(response, 404, "NO_ACTIVE_DEVICE", "Player command failed: No active device found")


@pytest.mark.parametrize(("method", "path", "params"), COMMANDS)
async def test_an_unknown_device_id_is_not_found(
    client: httpx2.AsyncClient, pia: dict[str, str], method: str, path: str, params: dict[str, str]
) -> None:
    response = await command(client, pia, method, path, status=404, device_id="no-such-device", **params)
    player_error(response, 404, None, "Device not found")


async def test_a_command_for_a_device_that_is_not_playing_says_no_active_device(
    client: httpx2.AsyncClient, pia: dict[str, str], world: World
) -> None:
    kitchen = device(world, "Kitchen Speaker")
    response = await command(client, pia, "PUT", "/v1/me/player/pause", status=404, device_id=kitchen.id)
    player_error(response, 404, "NO_ACTIVE_DEVICE", "Player command failed: No active device found")
    macbook = device(world, "Pia's MacBook")
    await command(client, pia, "PUT", "/v1/me/player/pause", device_id=macbook.id)


async def test_playing_on_an_idle_device_wakes_it(
    client: httpx2.AsyncClient, pia: dict[str, str], world: World
) -> None:
    world.go_idle(PREMIUM_USER)
    kitchen = device(world, "Kitchen Speaker")
    await command(client, pia, "PUT", "/v1/me/player/play", json={"uris": [GLASS_SATELLITES]}, device_id=kitchen.id)
    playing = await state(client, pia)
    assert (playing["device"]["name"], playing["device"]["is_active"]) == ("Kitchen Speaker", True)
    assert playing["item"]["uri"] == GLASS_SATELLITES
    assert [name for name, d in (await devices(client, pia)).items() if d["is_active"]] == ["Kitchen Speaker"]


async def test_resuming_on_an_idle_device_picks_up_the_last_played_track(
    client: httpx2.AsyncClient, pia: dict[str, str], world: World
) -> None:
    world.go_idle(PREMIUM_USER)
    last = world.history[PREMIUM_USER][0]
    await command(client, pia, "PUT", "/v1/me/player/play", device_id=device(world, "Kitchen Speaker").id)
    playing = await state(client, pia)
    assert playing["item"]["id"] == last.track_id
    assert playing["context"]["uri"] == last.context_uri
    assert playing["is_playing"] is True


async def test_playing_on_another_device_moves_playback_there(
    client: httpx2.AsyncClient, pia: dict[str, str], world: World
) -> None:
    kitchen = device(world, "Kitchen Speaker")
    await command(client, pia, "PUT", "/v1/me/player/play", json={"uris": [GLASS_SATELLITES]}, device_id=kitchen.id)
    listed = await devices(client, pia)
    assert (listed["Kitchen Speaker"]["is_active"], listed["Pia's MacBook"]["is_active"]) == (True, False)


async def test_a_restricted_device_cannot_be_controlled(
    client: httpx2.AsyncClient, pia: dict[str, str], world: World
) -> None:
    device(world, "Pia's MacBook").is_restricted = True
    response = await command(client, pia, "POST", "/v1/me/player/next", status=403)
    player_error(response, 403, "DEVICE_NOT_CONTROLLABLE")


@pytest.mark.parametrize(("method", "path", "params"), [*COMMANDS, ("PUT", "/v1/me/player", {})])
async def test_a_free_user_gets_premium_required_for_every_command(
    client: httpx2.AsyncClient, method: str, path: str, params: dict[str, str]
) -> None:
    frank = bearer((await sign_in(client, user=FREE_USER, scope=PLAYER_SCOPES))["access_token"])
    body = {"device_ids": ["any"]} if path == "/v1/me/player" else None
    response = await command(client, frank, method, path, status=403, json=body, **params)
    player_error(response, 403, "PREMIUM_REQUIRED", "Player command failed: Premium required")


@pytest.mark.parametrize(("method", "path", "params"), [*COMMANDS, ("PUT", "/v1/me/player", {})])
async def test_commands_need_the_modify_playback_scope(
    client: httpx2.AsyncClient, premium: dict[str, str], method: str, path: str, params: dict[str, str]
) -> None:
    response = await command(client, premium, method, path, status=403, **params)
    player_error(response, 403, None, "Insufficient client scope")


@pytest.mark.parametrize(("method", "path", "params"), [*COMMANDS, ("PUT", "/v1/me/player", {})])
async def test_commands_without_a_token_are_unauthorized(
    client: httpx2.AsyncClient, method: str, path: str, params: dict[str, str]
) -> None:
    response = await command(client, {}, method, path, status=401, **params)
    player_error(response, 401, None, "No token provided")


async def test_next_and_previous_move_through_the_context(
    client: httpx2.AsyncClient, pia: dict[str, str], world: World, clock: ManualClock
) -> None:
    roadtrip = world.playlist_by_name("Pia's Road Trip")
    await command(client, pia, "POST", "/v1/me/player/next")
    playing = await state(client, pia)
    assert (playing["item"]["id"], playing["progress_ms"]) == (roadtrip.entries[3].track_id, 0)
    assert playing["timestamp"] == int(clock.now() * 1000)
    await command(client, pia, "POST", "/v1/me/player/previous")
    await command(client, pia, "POST", "/v1/me/player/previous")
    assert (await state(client, pia))["item"]["id"] == roadtrip.entries[1].track_id


async def test_next_at_the_end_says_no_next_track_unless_repeating_the_context(
    client: httpx2.AsyncClient, pia: dict[str, str], world: World
) -> None:
    first, last = world.track_by_name("Aurora"), world.track_by_name("Polar Night")
    body = {"uris": [uri_of(first.id), uri_of(last.id)], "offset": {"uri": uri_of(last.id)}}
    await command(client, pia, "PUT", "/v1/me/player/play", json=body)
    response = await command(client, pia, "POST", "/v1/me/player/next", status=403)
    player_error(response, 403, "NO_NEXT_TRACK")
    await command(client, pia, "PUT", "/v1/me/player/repeat", state="context")
    await command(client, pia, "POST", "/v1/me/player/next")
    playing = await state(client, pia)
    assert (playing["item"]["id"], playing["repeat_state"]) == (first.id, "context")


async def test_previous_at_the_start_says_no_prev_track_unless_repeating_the_context(
    client: httpx2.AsyncClient, pia: dict[str, str], world: World
) -> None:
    album = world.album_by_name("Orbit")
    await command(client, pia, "PUT", "/v1/me/player/play", json={"context_uri": f"spotify:album:{album.id}"})
    assert (await state(client, pia))["actions"]["disallows"] == {"resuming": True, "skipping_prev": True}
    response = await command(client, pia, "POST", "/v1/me/player/previous", status=403)
    player_error(response, 403, "NO_PREV_TRACK")
    await command(client, pia, "PUT", "/v1/me/player/repeat", state="context")
    assert (await state(client, pia))["actions"]["disallows"] == {"resuming": True}
    await command(client, pia, "POST", "/v1/me/player/previous")
    assert (await state(client, pia))["item"]["id"] == album.track_ids[-1]


async def test_repeating_the_track_plays_it_again(
    client: httpx2.AsyncClient, pia: dict[str, str], world: World, clock: ManualClock
) -> None:
    current = world.track_by_name("Aurora")
    await command(client, pia, "PUT", "/v1/me/player/repeat", state="track")
    await command(client, pia, "PUT", "/v1/me/player/seek", position_ms=current.duration_ms - 3_000)
    clock.advance(10)
    playing = await state(client, pia)
    assert (playing["item"]["id"], playing["progress_ms"], playing["repeat_state"]) == (current.id, 7_000, "track")


async def test_repeating_the_context_goes_round_at_its_end(
    client: httpx2.AsyncClient, pia: dict[str, str], world: World, clock: ManualClock
) -> None:
    album = world.album_by_name("Orbit")
    last = world.tracks[album.track_ids[-1]]
    body = {"context_uri": f"spotify:album:{album.id}", "offset": {"uri": uri_of(last.id)}}
    await command(client, pia, "PUT", "/v1/me/player/play", json={**body, "position_ms": last.duration_ms - 1_000})
    await command(client, pia, "PUT", "/v1/me/player/repeat", state="context")
    clock.advance(3)
    playing = await state(client, pia)
    assert (playing["item"]["id"], playing["progress_ms"], playing["is_playing"]) == (album.track_ids[0], 2_000, True)


@pytest.mark.parametrize(
    ("path", "params", "message"),
    [
        ("/v1/me/player/repeat", {"state": "all"}, "Parameter state must be one of the following: track, context, off"),
        ("/v1/me/player/repeat", {}, "Required parameter state missing"),
        ("/v1/me/player/shuffle", {"state": "yes"}, "Invalid state"),
        ("/v1/me/player/shuffle", {}, "Required parameter state missing"),
        ("/v1/me/player/seek", {"position_ms": "-5"}, "Invalid position_ms"),
        ("/v1/me/player/seek", {"position_ms": "1.5"}, "Invalid position_ms"),
        ("/v1/me/player/seek", {}, "Required parameter position_ms missing"),
        ("/v1/me/player/volume", {"volume_percent": "101"}, "Invalid volume_percent"),
        ("/v1/me/player/volume", {"volume_percent": "53.9"}, "Invalid volume_percent"),
        ("/v1/me/player/volume", {}, "Required parameter volume_percent missing"),
    ],
)
async def test_bad_command_parameters_are_400(
    client: httpx2.AsyncClient, pia: dict[str, str], path: str, params: dict[str, str], message: str
) -> None:
    response = await command(client, pia, "PUT", path, status=400, **params)
    player_error(response, 400, None, message)


async def test_seeking_moves_the_progress(
    client: httpx2.AsyncClient, pia: dict[str, str], world: World, clock: ManualClock
) -> None:
    await command(client, pia, "PUT", "/v1/me/player/seek", position_ms=100_000)
    clock.advance(1)
    playing = await state(client, pia)
    assert (playing["item"]["name"], playing["progress_ms"]) == ("Aurora", 101_000)


async def test_seeking_past_the_end_of_the_track_plays_the_next(
    client: httpx2.AsyncClient, pia: dict[str, str], world: World
) -> None:
    await command(client, pia, "PUT", "/v1/me/player/seek", position_ms=10_000_000)
    playing = await state(client, pia)
    roadtrip = world.playlist_by_name("Pia's Road Trip")
    assert (playing["item"]["id"], playing["progress_ms"]) == (roadtrip.entries[3].track_id, 0)


async def test_setting_the_volume_shows_on_the_device(client: httpx2.AsyncClient, pia: dict[str, str]) -> None:
    await command(client, pia, "PUT", "/v1/me/player/volume", volume_percent=0)
    assert (await state(client, pia))["device"]["volume_percent"] == 0
    assert (await devices(client, pia))["Pia's MacBook"]["volume_percent"] == 0


async def test_a_device_without_volume_control_refuses_the_volume(
    client: httpx2.AsyncClient, pia: dict[str, str], world: World
) -> None:
    phone = device(world, "Pia's iPhone")
    await command(client, pia, "PUT", "/v1/me/player", json={"device_ids": [phone.id]})
    response = await command(client, pia, "PUT", "/v1/me/player/volume", status=403, volume_percent=50)
    player_error(response, 403, "VOLUME_CONTROL_DISALLOW", "Player command failed: Cannot control device volume")
    assert (await devices(client, pia))["Pia's iPhone"]["volume_percent"] is None


async def test_shuffling_keeps_the_current_track_and_unshuffling_restores_the_order(
    client: httpx2.AsyncClient, pia: dict[str, str], world: World
) -> None:
    roadtrip = [e.track_id for e in world.playlist_by_name("Pia's Road Trip").entries]
    await command(client, pia, "PUT", "/v1/me/player/shuffle", state="true")
    playing = await state(client, pia)
    assert (playing["item"]["id"], playing["shuffle_state"]) == (roadtrip[2], True)
    upcoming = [t["id"] for t in (await client.get("/v1/me/player/queue", headers=pia)).json()["queue"]]
    assert sorted(upcoming) == sorted(roadtrip[:2] + roadtrip[3:])
    assert upcoming != roadtrip[3:] + roadtrip[:2]
    await command(client, pia, "POST", "/v1/me/player/next")
    await command(client, pia, "PUT", "/v1/me/player/shuffle", state="false")
    playing = await state(client, pia)
    assert (playing["item"]["id"], playing["shuffle_state"]) == (upcoming[0], False)
    after = [t["id"] for t in (await client.get("/v1/me/player/queue", headers=pia)).json()["queue"]]
    assert after == roadtrip[roadtrip.index(upcoming[0]) + 1 :]


async def test_a_new_context_starts_shuffled_when_shuffle_is_on(
    client: httpx2.AsyncClient, pia: dict[str, str], world: World
) -> None:
    album = world.album_by_name("Glass Satellites")
    await command(client, pia, "PUT", "/v1/me/player/shuffle", state="true")
    body = {"context_uri": f"spotify:album:{album.id}", "offset": {"position": 3}}
    await command(client, pia, "PUT", "/v1/me/player/play", json=body)
    playing = await state(client, pia)
    assert (playing["item"]["id"], playing["shuffle_state"]) == (album.track_ids[3], True)


async def test_transfer_moves_playback_to_the_new_device_as_it_was(
    client: httpx2.AsyncClient, pia: dict[str, str], world: World, clock: ManualClock
) -> None:
    kitchen = device(world, "Kitchen Speaker")
    clock.advance(5)
    await command(client, pia, "PUT", "/v1/me/player", json={"device_ids": [kitchen.id]})
    clock.advance(5)
    playing = await state(client, pia)
    assert (playing["device"]["name"], playing["device"]["is_active"]) == ("Kitchen Speaker", True)
    assert (playing["item"]["name"], playing["progress_ms"], playing["is_playing"]) == ("Aurora", 52_000, True)
    assert not (await devices(client, pia))["Pia's MacBook"]["is_active"]


@pytest.mark.parametrize(("play", "is_playing"), [(True, True), (False, False), (None, False)])
async def test_transfer_plays_on_the_new_device_only_when_asked(
    client: httpx2.AsyncClient, pia: dict[str, str], world: World, play: bool | None, is_playing: bool
) -> None:
    await command(client, pia, "PUT", "/v1/me/player/pause")
    body: dict[str, Any] = {"device_ids": [device(world, "Kitchen Speaker").id]}
    if play is not None:
        body["play"] = play
    await command(client, pia, "PUT", "/v1/me/player", json=body)
    assert (await state(client, pia))["is_playing"] is is_playing


async def test_transfer_to_an_idle_device_loads_the_last_played_track(
    client: httpx2.AsyncClient, pia: dict[str, str], world: World
) -> None:
    world.go_idle(PREMIUM_USER)
    body = {"device_ids": [device(world, "Kitchen Speaker").id], "play": False}
    await command(client, pia, "PUT", "/v1/me/player", json=body)
    playing = await state(client, pia)
    assert (playing["item"]["id"], playing["is_playing"]) == (world.history[PREMIUM_USER][0].track_id, False)
    assert playing["device"]["name"] == "Kitchen Speaker"


@pytest.mark.parametrize(
    ("body", "status", "message"),
    [
        ({}, 400, "Required field device_ids missing"),
        ({"device_ids": []}, 400, "Required field device_ids missing"),
        ({"device_ids": "abc"}, 400, "Malformed json"),
        ({"device_ids": ["a", "b"]}, 400, "Only one device id is supported"),
        ({"device_ids": ["no-such-device"], "play": "yes"}, 400, "Malformed json"),
        ({"device_ids": ["no-such-device"]}, 404, "Device not found"),
    ],
)
async def test_a_bad_transfer_is_refused(
    client: httpx2.AsyncClient, pia: dict[str, str], body: dict[str, Any], status: int, message: str
) -> None:
    response = await command(client, pia, "PUT", "/v1/me/player", status=status, json=body)
    player_error(response, status, None, message)

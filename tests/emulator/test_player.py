"""Reading the player: playback state (moving with the clock), currently playing, devices, history."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx2
import pytest

from spotify_mcp.clock import ManualClock
from spotify_mcp.emulator import World
from tests.emulator.flow import bearer, sign_in
from tests.emulator.openapi import assert_conforms

pytestmark = pytest.mark.anyio


async def get(client: httpx2.AsyncClient, headers: dict[str, str], path: str, **params: str | int) -> Any:
    response = await client.get(path, params=params, headers=headers)
    assert response.status_code == 200, response.text
    assert_conforms(response)
    return response.json()


async def test_the_premium_user_is_playing_on_the_active_device(
    client: httpx2.AsyncClient, premium: dict[str, str], world: World
) -> None:
    state = await get(client, premium, "/v1/me/player")
    roadtrip = world.playlist_by_name("Pia's Road Trip")
    assert state["is_playing"] is True
    assert state["device"]["name"] == "Pia's MacBook"
    assert state["device"]["is_active"] is True
    assert state["context"]["uri"] == f"spotify:playlist:{roadtrip.id}"
    assert state["item"]["id"] == roadtrip.entries[2].track_id
    assert state["progress_ms"] == 42_000
    assert state["currently_playing_type"] == "track"
    assert state["actions"] == {"disallows": {"resuming": True}}
    assert (state["shuffle_state"], state["repeat_state"]) == (False, "off")


async def test_playback_moves_on_with_the_clock(
    client: httpx2.AsyncClient, premium: dict[str, str], world: World, clock: ManualClock
) -> None:
    roadtrip = world.playlist_by_name("Pia's Road Trip")
    current = world.tracks[roadtrip.entries[2].track_id]
    clock.advance(10)
    assert (await get(client, premium, "/v1/me/player"))["progress_ms"] == 52_000
    clock.advance((current.duration_ms - 52_000) / 1000 + 5)
    state = await get(client, premium, "/v1/me/player")
    assert state["item"]["id"] == roadtrip.entries[3].track_id
    assert state["progress_ms"] == 5_000
    assert state["timestamp"] == int((clock.now() - 5) * 1000)


async def test_playback_stops_at_the_end_of_the_context(
    client: httpx2.AsyncClient, world: World, clock: ManualClock
) -> None:
    clock.advance(3000)
    headers = bearer((await sign_in(client))["access_token"])
    state = await get(client, headers, "/v1/me/player")
    last = world.tracks[world.playlist_by_name("Pia's Road Trip").entries[-1].track_id]
    assert state["is_playing"] is False
    assert state["item"]["id"] == last.id
    assert state["progress_ms"] == last.duration_ms
    assert state["actions"]["disallows"] == {"pausing": True}


async def test_nothing_playing_is_204(client: httpx2.AsyncClient, free: dict[str, str]) -> None:
    for path in ("/v1/me/player", "/v1/me/player/currently-playing"):
        response = await client.get(path, headers=free)
        assert response.status_code == 204
        assert response.content == b""


async def test_currently_playing_is_the_state_without_the_device(
    client: httpx2.AsyncClient, premium: dict[str, str]
) -> None:
    playing = await get(client, premium, "/v1/me/player/currently-playing")
    assert "device" not in playing
    assert playing["is_playing"] is True
    assert playing["item"]["type"] == "track"


async def test_the_premium_user_has_three_devices(client: httpx2.AsyncClient, premium: dict[str, str]) -> None:
    devices = (await get(client, premium, "/v1/me/player/devices"))["devices"]
    assert [d["name"] for d in devices] == ["Pia's MacBook", "Kitchen Speaker", "Pia's iPhone"]
    assert [d["is_active"] for d in devices] == [True, False, False]
    phone = devices[2]
    assert (phone["volume_percent"], phone["supports_volume"]) == (None, False)
    assert all(len(d["id"]) == 40 for d in devices)


async def test_the_free_user_has_an_inactive_device(client: httpx2.AsyncClient, free: dict[str, str]) -> None:
    devices = (await get(client, free, "/v1/me/player/devices"))["devices"]
    assert [(d["name"], d["is_active"]) for d in devices] == [("Frank's Android", False)]


async def test_recently_played_is_newest_first_with_cursors(
    client: httpx2.AsyncClient, premium: dict[str, str]
) -> None:
    page = await get(client, premium, "/v1/me/player/recently-played", limit=5)
    played = [item["played_at"] for item in page["items"]]
    assert len(played) == 5
    assert played == sorted(played, reverse=True)
    assert page["limit"] == 5
    assert page["cursors"]["before"] < page["cursors"]["after"]
    assert page["items"][0]["context"]["type"] == "playlist"
    next_query = parse_qs(urlsplit(page["next"]).query)
    assert next_query == {"before": [page["cursors"]["before"]], "limit": ["5"]}


async def test_recently_played_pages_back_through_fifty_plays(
    client: httpx2.AsyncClient, premium: dict[str, str]
) -> None:
    seen = []
    page = await get(client, premium, "/v1/me/player/recently-played", limit=20)
    while True:
        seen += [item["played_at"] for item in page["items"]]
        if page["next"] is None:
            break
        response = await client.get(page["next"], headers=premium)
        assert_conforms(response)
        page = response.json()
    assert len(seen) == len(set(seen)) == 50


async def test_recently_played_after_a_cursor_returns_newer_plays(
    client: httpx2.AsyncClient, premium: dict[str, str]
) -> None:
    newest = await get(client, premium, "/v1/me/player/recently-played", limit=3)
    older = await get(client, premium, "/v1/me/player/recently-played", limit=3, before=newest["cursors"]["before"])
    back = await get(client, premium, "/v1/me/player/recently-played", limit=3, after=older["cursors"]["after"])
    assert back["items"] == newest["items"]
    beyond = await get(client, premium, "/v1/me/player/recently-played", after=newest["cursors"]["after"])
    assert beyond["items"] == []
    assert beyond["cursors"] is None
    assert beyond["next"] is None


@pytest.mark.parametrize(
    "params",
    [{"after": "1", "before": "2"}, {"limit": "0"}, {"limit": "51"}, {"before": "yesterday"}],
)
async def test_bad_recently_played_requests_are_400(
    client: httpx2.AsyncClient, premium: dict[str, str], params: dict[str, str]
) -> None:
    response = await client.get("/v1/me/player/recently-played", params=params, headers=premium)
    assert response.status_code == 400
    assert_conforms(response)

"""Playback commands and the queue: each one changes what the emulated Spotify plays, or says what to do instead."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import parse_qs, urljoin, urlsplit

import httpx2
import pytest
from mcp.client import Client
from mcp.types import CallToolResult

from spotify_mcp.emulator.model import Device
from spotify_mcp.emulator.playback import Playback
from tests.support import CLIENT_REDIRECT, EMULATOR, PUBLIC, Harness, code_form, parse_form, pkce, walk
from tests.tools.conftest import Call, connect, data, text

pytestmark = pytest.mark.anyio

USER = "premium-user"


def playing(h: Harness) -> Playback:
    playback = h.world.current_playback(USER)
    assert playback is not None, "nothing is playing"
    return playback


def device(h: Harness, name: str) -> Device:
    return next(d for d in h.world.devices[USER] if d.name == name)


def track_uri(h: Harness, name: str) -> str:
    return f"spotify:track:{h.world.track_by_name(name).id}"


def calls_to(h: Harness, path: str) -> int:
    return sum(1 for _, p in h.world.api_calls if p == path)


async def sign_in_as(h: Harness, user: str) -> str:
    """An access token for ``user``, chosen on the emulator's sign-in page (the harness picks the Premium user)."""
    client_id = (await h.register())["client_id"]
    verifier, challenge = pkce()
    params = {
        "response_type": "code",
        "client_id": client_id,
        "redirect_uri": CLIENT_REDIRECT,
        "code_challenge": challenge,
        "code_challenge_method": "S256",
        "state": "s",
        "resource": f"{PUBLIC}/mcp",
    }
    to_spotify = await walk(h.http, str(httpx2.URL(f"{PUBLIC}/authorize", params=params)), (PUBLIC,))
    sign_in = await h.http.get(to_spotify.headers["location"])
    form = parse_form(sign_in.text)
    assert "user" in form.fields
    back = await h.http.post(
        urljoin(str(sign_in.url), form.action or ""),
        data={**form.fields, "user": user, "action": "approve"},
        headers={"Origin": EMULATOR},
    )
    final = await walk(h.http, back.headers["location"], (PUBLIC, EMULATOR))
    assert final.headers["location"].startswith(CLIENT_REDIRECT), final.text
    code = parse_qs(urlsplit(final.headers["location"]).query)["code"][0]
    response = await h.http.post(f"{PUBLIC}/token", data=code_form(code, verifier, client_id, resource=f"{PUBLIC}/mcp"))
    assert response.status_code == 200, response.text
    token: str = response.json()["access_token"]
    return token


@pytest.fixture
async def free_call(h: Harness) -> AsyncIterator[Call]:
    """Call a tool as ``free-user`` (Spotify Free)."""
    token = await sign_in_as(h, "free-user")
    async with connect(h, token) as client:

        async def run(name: str, **arguments: Any) -> CallToolResult:
            return await client.call_tool(name, arguments)

        yield run


# startPlayback


async def test_start_playback_plays_the_given_tracks_in_order_from_the_first(call: Call, h: Harness) -> None:
    first, second = h.world.track_by_name("Owl Eyes"), h.world.track_by_name("Tramontana")
    result = await call(
        "startPlayback", uris=[f"spotify:track:{first.id}", f"https://open.spotify.com/track/{second.id}"]
    )
    assert data(result)["message"] == "Playing 2 tracks."
    now = playing(h)
    assert now.context_uri is None
    assert now.track_ids == [first.id, second.id]
    assert now.track_id == first.id
    assert now.is_playing
    assert now.progress_ms == 0


async def test_start_playback_plays_an_album_from_a_position_and_a_time_into_the_track(call: Call, h: Harness) -> None:
    album = h.world.album_by_name("Olive Groves")
    result = await call("startPlayback", contextUri=f"spotify:album:{album.id}", offset=2, positionMs=30_000)
    assert not result.is_error, text(result)
    now = playing(h)
    assert now.context_uri == f"spotify:album:{album.id}"
    assert now.track_id == album.track_ids[2]
    assert now.progress_ms == 30_000
    assert text(result) == f"Playing spotify:album:{album.id}."


async def test_start_playback_of_a_playlist_link_can_start_at_one_of_its_tracks(call: Call, h: Harness) -> None:
    playlist = h.world.playlist_by_name("Late Night Focus")
    wanted = playlist.entries[3].track_id
    result = await call(
        "startPlayback",
        contextUri=f"https://open.spotify.com/playlist/{playlist.id}?si=x",
        offsetUri=f"spotify:track:{wanted}",
    )
    assert not result.is_error, text(result)
    assert playing(h).context_uri == f"spotify:playlist:{playlist.id}"
    assert playing(h).track_id == wanted


async def test_an_artist_plays_as_a_context(call: Call, h: Harness) -> None:
    artist = h.world.artist_by_name("Kofi Mensah Quartet")
    assert not (await call("startPlayback", contextUri=f"spotify:artist:{artist.id}")).is_error
    assert playing(h).context_uri == f"spotify:artist:{artist.id}"
    assert playing(h).track_id == h.world.album_by_name("Blue Harmattan").track_ids[0]


async def test_start_playback_on_another_device_moves_playback_there(call: Call, h: Harness) -> None:
    kitchen = device(h, "Kitchen Speaker")
    result = await call("startPlayback", uris=[track_uri(h, "Poolside")], deviceId=kitchen.id)
    assert not result.is_error, text(result)
    assert playing(h).device_id == kitchen.id
    assert kitchen.is_active
    assert not device(h, "Pia's MacBook").is_active


@pytest.mark.parametrize(
    "arguments",
    [{}, {"uris": ["spotify:track:4uLU6hMCjMI75M1A2tKUQC"], "contextUri": "spotify:album:1DFixLWuPkv3KT3TnV35m3"}],
    ids=["neither", "both"],
)
async def test_start_playback_needs_exactly_one_of_tracks_and_a_context(
    call: Call, h: Harness, arguments: dict[str, Any]
) -> None:
    before = len(h.world.api_calls)
    result = await call("startPlayback", **arguments)
    assert result.is_error
    assert "uris" in text(result)
    assert "contextUri" in text(result)
    assert len(h.world.api_calls) == before


@pytest.mark.parametrize(
    ("arguments", "expected"),
    [
        ({"contextUri": "spotify:track:4uLU6hMCjMI75M1A2tKUQC"}, "contextUri must refer to"),
        ({"uris": ["spotify:track:4uLU6hMCjMI75M1A2tKUQC", "spotify:album:1DFixLWuPkv3KT3TnV35m3"]}, "uris[1]"),
        ({"uris": ["not a track"]}, "uris[0]"),
        ({"contextUri": "spotify:artist:0OdUWJ0sBjDrqHygGUXeCF", "offset": 1}, "album or playlist"),
        ({"uris": ["spotify:track:4uLU6hMCjMI75M1A2tKUQC"], "offsetUri": "4uLU6hMCjMI75M1A2tKUQC"}, "contextUri"),
        ({"contextUri": "spotify:album:1DFixLWuPkv3KT3TnV35m3", "offset": 1, "offsetUri": "x"}, "not both"),
        ({"contextUri": "spotify:album:1DFixLWuPkv3KT3TnV35m3", "offset": -1}, "offset"),
        ({"uris": ["spotify:track:4uLU6hMCjMI75M1A2tKUQC"], "deviceId": "../me"}, "deviceId"),
    ],
    ids=[
        "track-as-context",
        "album-in-uris",
        "garbage",
        "offset-on-artist",
        "offset-on-tracks",
        "two-offsets",
        "negative",
        "device",
    ],
)
async def test_bad_play_arguments_are_refused_before_spotify_is_asked(
    call: Call, h: Harness, arguments: dict[str, Any], expected: str
) -> None:
    before = len(h.world.api_calls)
    result = await call("startPlayback", **arguments)
    assert result.is_error
    assert expected in text(result)
    assert len(h.world.api_calls) == before


async def test_a_track_the_context_lacks_gets_advice(call: Call, h: Harness) -> None:
    album = h.world.album_by_name("Olive Groves")
    result = await call("startPlayback", contextUri=album.id, offsetUri=track_uri(h, "Poolside"))
    assert result.is_error
    assert "could not find that track" in text(result)


async def test_an_unknown_device_says_where_to_find_the_right_id(call: Call, h: Harness) -> None:
    result = await call("startPlayback", uris=[track_uri(h, "Poolside")], deviceId="no-such-device")
    assert result.is_error
    assert "getAvailableDevices" in text(result)


# pause, resume, skip, seek


async def test_pause_pauses_and_pausing_again_is_still_a_success(call: Call, h: Harness) -> None:
    first = await call("pausePlayback")
    assert data(first)["message"] == "Playback paused."
    assert not playing(h).is_playing
    again = await call("pausePlayback")
    assert data(again)["message"] == "Playback was already paused."
    assert text(again) == "Playback was already paused."


async def test_resume_plays_on_where_it_paused_and_resuming_again_is_still_a_success(call: Call, h: Harness) -> None:
    await call("pausePlayback")
    paused_at = playing(h).progress_ms
    result = await call("resumePlayback")
    assert data(result)["message"] == "Playback resumed."
    assert playing(h).is_playing
    assert playing(h).progress_ms == paused_at
    assert data(await call("resumePlayback"))["message"] == "Playback was already playing."


async def test_skipping_moves_through_the_playing_playlist(call: Call, h: Harness) -> None:
    entries = h.world.playlist_by_name("Pia's Road Trip").entries
    assert playing(h).track_id == entries[2].track_id
    assert data(await call("skipToNext"))["message"] == "Skipped to the next track."
    assert playing(h).track_id == entries[3].track_id
    assert data(await call("skipToPrevious"))["message"] == "Skipped to the previous track."
    assert data(await call("skipToPrevious"))["message"] == "Skipped to the previous track."
    assert playing(h).track_id == entries[1].track_id


async def test_skipping_past_either_end_says_there_is_no_such_track(call: Call, h: Harness) -> None:
    assert not (await call("startPlayback", uris=[track_uri(h, "Poolside")])).is_error
    after = await call("skipToNext")
    assert after.is_error
    assert "no next track" in text(after)
    before = await call("skipToPrevious")
    assert before.is_error
    assert "no previous track" in text(before)


async def test_seek_moves_within_the_playing_track(call: Call, h: Harness) -> None:
    result = await call("seekToPosition", positionMs=90_500)
    assert data(result)["message"] == "Moved to 1:30."
    assert playing(h).progress_ms == 90_500


async def test_a_negative_seek_is_refused(call: Call) -> None:
    result = await call("seekToPosition", positionMs=-1)
    assert result.is_error
    assert "positionMs" in text(result)


# volume, shuffle, repeat


async def test_set_volume_changes_the_active_devices_volume(call: Call, h: Harness) -> None:
    result = await call("setVolume", volumePercent=40)
    assert data(result)["message"] == "Volume set to 40%."
    assert device(h, "Pia's MacBook").volume == 40


async def test_a_phone_without_volume_control_gets_advice_instead(call: Call, h: Harness) -> None:
    iphone = device(h, "Pia's iPhone")
    assert not (await call("transferPlayback", deviceId=iphone.id)).is_error
    result = await call("setVolume", volumePercent=80)
    assert result.is_error
    assert "does not let apps set its volume" in text(result)
    assert "on the device" in text(result)
    assert iphone.volume is None


async def test_a_volume_above_100_is_refused(call: Call, h: Harness) -> None:
    result = await call("setVolume", volumePercent=101)
    assert result.is_error
    assert "volumePercent" in text(result)
    assert device(h, "Pia's MacBook").volume == 62


async def test_shuffle_turns_on_and_off_keeping_the_current_track(call: Call, h: Harness) -> None:
    current = playing(h).track_id
    assert data(await call("setShuffle", state=True))["message"] == "Shuffle on."
    assert playing(h).shuffle
    assert playing(h).track_id == current
    assert data(await call("setShuffle", state=False))["message"] == "Shuffle off."
    assert not playing(h).shuffle
    assert playing(h).track_ids == [e.track_id for e in h.world.playlist_by_name("Pia's Road Trip").entries]


@pytest.mark.parametrize("state", ["track", "context", "off"])
async def test_repeat_takes_track_context_or_off(call: Call, h: Harness, state: str) -> None:
    result = await call("setRepeat", state=state)
    assert data(result)["message"] == f"Repeat set to {state}."
    assert playing(h).repeat == state


async def test_an_unknown_repeat_state_is_refused(call: Call, h: Harness) -> None:
    result = await call("setRepeat", state="all")
    assert result.is_error
    assert "state" in text(result)
    assert playing(h).repeat == "off"


# transfer


async def test_transfer_moves_playback_to_the_kitchen_speaker(call: Call, h: Harness) -> None:
    kitchen = device(h, "Kitchen Speaker")
    result = await call("transferPlayback", deviceId=kitchen.id)
    assert not result.is_error, text(result)
    assert data(result)["message"] == f"Playback moved to device {kitchen.id}."
    assert kitchen.is_active
    assert not device(h, "Pia's MacBook").is_active
    assert playing(h).device_id == kitchen.id
    assert playing(h).is_playing
    state = data(await call("getCurrentPlayback"))
    assert state["device"]["name"] == "Kitchen Speaker"


async def test_transfer_keeps_a_paused_state_unless_asked_to_play(call: Call, h: Harness) -> None:
    kitchen = device(h, "Kitchen Speaker")
    await call("pausePlayback")
    assert not (await call("transferPlayback", deviceId=kitchen.id)).is_error
    assert not playing(h).is_playing
    assert not (await call("transferPlayback", deviceId=kitchen.id, play=True)).is_error
    assert playing(h).is_playing


async def test_transfer_to_an_unknown_device_says_where_to_find_the_right_id(call: Call, h: Harness) -> None:
    result = await call("transferPlayback", deviceId="0123456789abcdef")
    assert result.is_error
    assert "getAvailableDevices" in text(result)
    assert device(h, "Pia's MacBook").is_active


# queue


async def test_a_queued_track_shows_first_in_the_queue(call: Call, h: Harness) -> None:
    queued = h.world.track_by_name("Harvest Song")
    result = await call("addToQueue", uri=f"https://open.spotify.com/track/{queued.id}")
    assert data(result)["message"] == f"Queued spotify:track:{queued.id}."
    assert playing(h).queue == [queued.id]
    queue = data(await call("getQueue", limit=3))
    assert queue["currently_playing"]["id"] == playing(h).track_id
    assert [t["id"] for t in queue["queue"]] == [
        queued.id,
        *[e.track_id for e in h.world.playlist_by_name("Pia's Road Trip").entries[3:5]],
    ]


async def test_the_queue_renders_short_with_what_plays_now(call: Call, h: Harness) -> None:
    result = await call("getQueue", limit=2)
    lines = text(result).splitlines()
    assert lines[0].startswith("Now playing: Aurora — DJ Polaris")
    assert lines[1] == "Up next (2):"
    assert len(lines) == 4


async def test_only_tracks_can_be_queued(call: Call, h: Harness) -> None:
    before = len(h.world.api_calls)
    result = await call("addToQueue", uri="spotify:album:1DFixLWuPkv3KT3TnV35m3")
    assert result.is_error
    assert "uri must refer to a track or episode" in text(result)
    assert len(h.world.api_calls) == before


async def test_the_queue_asks_for_both_scopes_spotify_wants_for_it(mcp: Client) -> None:
    tools = {t.name: t for t in (await mcp.list_tools()).tools}
    assert tools["getQueue"].meta == {"spotify-mcp/scopes": ["user-read-playback-state", "user-read-currently-playing"]}


async def test_with_nothing_playing_the_queue_is_empty(call: Call, h: Harness) -> None:
    h.world.go_idle(USER)
    result = await call("getQueue")
    assert data(result) == {"currently_playing": None, "queue": []}
    assert "Up next: nothing." in text(result)


# Free accounts and idle devices


@pytest.mark.parametrize(
    ("tool", "arguments"),
    [
        ("startPlayback", {"uris": ["spotify:track:4uLU6hMCjMI75M1A2tKUQC"]}),
        ("pausePlayback", {}),
        ("setVolume", {"volumePercent": 10}),
        ("addToQueue", {"uri": "spotify:track:4uLU6hMCjMI75M1A2tKUQC"}),
    ],
)
async def test_a_free_account_is_told_playback_control_needs_premium(
    free_call: Call, tool: str, arguments: dict[str, Any]
) -> None:
    result = await free_call(tool, **arguments)
    assert result.is_error
    assert "needs Spotify Premium" in text(result)
    assert "still work" in text(result)


async def test_a_free_account_still_reads_its_queue(free_call: Call) -> None:
    assert data(await free_call("getQueue"))["currently_playing"] is None


async def test_with_no_active_device_play_lists_the_devices_and_a_retry_with_one_plays_there(
    call: Call, h: Harness
) -> None:
    h.world.go_idle(USER)
    uri = track_uri(h, "Poolside")
    refused = await call("startPlayback", uris=[uri])
    assert refused.is_error
    advice = text(refused)
    assert "No Spotify device is active" in advice
    for each in h.world.devices[USER]:
        assert f"{each.name} [{each.type}] deviceId={each.id}" in advice
    assert "Retry with deviceId" in advice
    kitchen = device(h, "Kitchen Speaker")
    retried = await call("startPlayback", uris=[uri], deviceId=kitchen.id)
    assert data(retried)["message"] == "Playing 1 track."
    assert playing(h).device_id == kitchen.id
    assert playing(h).track_id == h.world.track_by_name("Poolside").id
    assert kitchen.is_active


async def test_with_no_active_device_resume_on_a_device_picks_up_the_last_played(call: Call, h: Harness) -> None:
    h.world.go_idle(USER)
    assert "deviceId=" in text(await call("resumePlayback"))
    macbook = device(h, "Pia's MacBook")
    assert data(await call("resumePlayback", deviceId=macbook.id))["message"] == "Playback resumed."
    assert playing(h).track_id == h.world.history[USER][0].track_id
    assert playing(h).is_playing


async def test_with_no_active_device_other_commands_say_to_start_playback_on_a_device_first(
    call: Call, h: Harness
) -> None:
    h.world.go_idle(USER)
    result = await call("skipToNext")
    assert result.is_error
    advice = text(result)
    assert "Kitchen Speaker" in advice
    assert "transferPlayback" in advice
    kitchen = device(h, "Kitchen Speaker")
    assert not (await call("transferPlayback", deviceId=kitchen.id, play=True)).is_error
    assert not (await call("skipToNext")).is_error


async def test_a_command_may_name_the_active_device(call: Call, h: Harness) -> None:
    macbook = device(h, "Pia's MacBook")
    assert not (await call("pausePlayback", deviceId=macbook.id)).is_error
    assert calls_to(h, "/v1/me/player/pause") == 1
    assert not playing(h).is_playing

"""Profile, history, top items, current playback and devices, as compact results."""

from __future__ import annotations

import pytest

from spotify_mcp.clock import ManualClock
from tests.support import Harness
from tests.tools.conftest import Call, data, text

pytestmark = pytest.mark.anyio


async def test_the_profile_names_the_user(call: Call) -> None:
    result = await call("getCurrentUserProfile")
    profile = data(result)
    assert (profile["id"], profile["display_name"], profile["uri"]) == (
        "premium-user",
        "Pia Premium",
        "spotify:user:premium-user",
    )
    assert profile["product"] is None, "development-mode apps no longer get the plan"
    assert text(result) == "Pia Premium (spotify:user:premium-user)"


async def test_recently_played_lists_tracks_with_when_they_were_played(call: Call) -> None:
    result = await call("getRecentlyPlayed", limit=3)
    history = data(result)
    assert len(history["items"]) == 3
    assert all(t["played_at"] for t in history["items"])
    assert history["cursor_param"] == "before"


async def test_recently_played_pages_backwards_with_the_cursor(call: Call) -> None:
    first = data(await call("getRecentlyPlayed", limit=2))
    assert first["next_cursor"] is not None
    older = data(await call("getRecentlyPlayed", limit=2, before=first["next_cursor"]))
    assert older["items"][0]["played_at"] <= first["items"][-1]["played_at"]
    assert {t["played_at"] for t in older["items"]}.isdisjoint({t["played_at"] for t in first["items"]})


async def test_top_tracks_and_artists_take_the_seed_time_range(call: Call, h: Harness) -> None:
    tracks = data(await call("getTopTracks", limit=5, timeRange="short_term"))
    artists = data(await call("getTopArtists", limit=5))
    assert tracks["items"]
    assert all(t["uri"].startswith("spotify:track:") for t in tracks["items"])
    assert artists["items"]
    assert all(a["uri"].startswith("spotify:artist:") for a in artists["items"])
    assert "last 4 weeks" in tracks["title"]


async def test_an_unknown_time_range_is_refused(call: Call) -> None:
    result = await call("getTopTracks", timeRange="forever")
    assert result.is_error
    assert "timeRange" in text(result)


async def test_current_playback_says_what_where_and_how(call: Call, clock: ManualClock) -> None:
    result = await call("getCurrentPlayback")
    state = data(result)
    assert state["is_playing"] is True
    assert state["device"]["name"] == "Pia's MacBook"
    assert state["track"]["uri"].startswith("spotify:track:")
    assert state["context_uri"].startswith("spotify:playlist:")
    assert text(result).startswith("Playing on Pia's MacBook")


async def test_with_nothing_playing_playback_says_so(h: Harness, call: Call) -> None:
    h.world.playback.pop("premium-user", None)
    result = await call("getCurrentPlayback")
    assert data(result)["is_playing"] is False
    assert "Nothing is playing" in text(result)


async def test_devices_are_listed_with_their_ids(call: Call) -> None:
    result = await call("getAvailableDevices")
    devices = data(result)["items"]
    assert [d["name"] for d in devices] == ["Pia's MacBook", "Kitchen Speaker", "Pia's iPhone"]
    assert all(d["id"] for d in devices)
    assert "device_id" in text(result)

"""Reading playlists: the user's list and a playlist's tracks, by ID, URI or link."""

from __future__ import annotations

import pytest

from tests.support import Harness
from tests.tools.conftest import Call, data, text

pytestmark = pytest.mark.anyio


async def test_the_users_playlists_are_listed_with_counts(call: Call) -> None:
    result = await call("getUserPlaylists")
    names = [p["name"] for p in data(result)["items"]]
    assert names == ["Pia's Road Trip", "Late Night Focus", "Shared Party Mix", "Jazz Classics"]
    assert data(result)["items"][0]["tracks"] == 12


@pytest.mark.parametrize("form", ["id", "uri", "url", "intl-url"])
async def test_playlist_tracks_accept_an_id_a_uri_or_a_link(call: Call, h: Harness, form: str) -> None:
    playlist = h.world.playlist_by_name("Pia's Road Trip")
    reference = {
        "id": playlist.id,
        "uri": f"spotify:playlist:{playlist.id}",
        "url": f"https://open.spotify.com/playlist/{playlist.id}?si=abc",
        "intl-url": f"https://open.spotify.com/intl-de/playlist/{playlist.id}",
    }[form]
    found = data(await call("getPlaylistTracks", playlistId=reference, limit=5))
    assert [t["id"] for t in found["items"]] == [e.track_id for e in playlist.entries[:5]]
    assert found["next_offset"] == 5
    assert all(t["added_at"] for t in found["items"])


async def test_a_malformed_playlist_id_never_reaches_spotify(call: Call, h: Harness) -> None:
    before = len(h.world.api_calls)
    for bad in ("../../me", "spotify:track:4uLU6hMCjMI75M1A2tKUQC", "https://evil.example/playlist/x", "abc"):
        result = await call("getPlaylistTracks", playlistId=bad)
        assert result.is_error, bad
    assert len(h.world.api_calls) == before
    assert "is a track" in text(await call("getPlaylistTracks", playlistId="spotify:track:4uLU6hMCjMI75M1A2tKUQC"))


async def test_an_unknown_playlist_says_how_to_find_the_right_one(call: Call) -> None:
    result = await call("getPlaylistTracks", playlistId="0000000000000000000000")
    assert result.is_error
    assert "getUserPlaylists" in text(result)

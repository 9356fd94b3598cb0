"""Search tools: compact results, URIs for the other tools, paging that says how to go on."""

from __future__ import annotations

import pytest

from tests.support import Harness
from tests.tools.conftest import Call, data, text

pytestmark = pytest.mark.anyio


async def test_search_tracks_returns_compact_tracks_with_uris(call: Call) -> None:
    result = await call("searchTracks", query="Satellites", limit=3)
    found = data(result)
    first = found["items"][0]
    assert set(first) >= {"id", "uri", "name", "artists", "album", "duration", "duration_ms"}
    assert first["uri"].startswith("spotify:track:")
    assert "available_markets" not in first
    assert first["uri"] in text(result)


async def test_a_page_bigger_than_spotifys_ten_is_gathered_in_steps_and_says_how_to_continue(
    call: Call, h: Harness
) -> None:
    result = await call("searchTracks", query="year:1900-2100", limit=15)
    found = data(result)
    assert len(found["items"]) == 15
    assert found["next_offset"] == 15
    assert "offset=15" in text(result)
    limits = [q for m, q in h.world.api_calls if q == "/v1/search"]
    assert len(limits) == 2


async def test_the_last_page_has_no_next_offset(call: Call) -> None:
    first = data(await call("searchArtists", query="year:1900-2100", limit=50))
    total = first["total"]
    last = data(await call("searchArtists", query="year:1900-2100", limit=5, offset=max(total - 2, 0)))
    assert last["next_offset"] is None


async def test_artists_albums_and_playlists_are_searched_by_their_type(call: Call) -> None:
    artists = data(await call("searchArtists", query="a", limit=2))["items"]
    albums = data(await call("searchAlbums", query="a", limit=2))["items"]
    playlists = data(await call("searchPlaylists", query="Jazz", limit=2))["items"]
    assert all(a["uri"].startswith("spotify:artist:") for a in artists)
    assert all(a["uri"].startswith("spotify:album:") for a in albums)
    assert playlists
    assert all(p["uri"].startswith("spotify:playlist:") for p in playlists)


async def test_new_releases_use_the_tag_new_album_search(call: Call, h: Harness) -> None:
    found = data(await call("getNewReleases", limit=5))
    assert found["items"], "the emulator's catalogue has recent albums"
    assert all(a["uri"].startswith("spotify:album:") for a in found["items"])
    assert ("GET", "/v1/browse/new-releases") not in h.world.api_calls


async def test_a_limit_above_fifty_is_refused_before_spotify_is_asked(call: Call, h: Harness) -> None:
    before = len(h.world.api_calls)
    result = await call("searchTracks", query="x", limit=51)
    assert result.is_error
    assert "limit" in text(result)
    assert len(h.world.api_calls) == before


async def test_a_market_must_be_a_country_code(call: Call) -> None:
    result = await call("searchTracks", query="x", market="germany")
    assert result.is_error

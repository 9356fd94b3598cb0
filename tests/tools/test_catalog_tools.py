"""Catalog details: a track, an album and its tracks, an artist and their albums, by ID, URI or link."""

from __future__ import annotations

from datetime import date

import pytest

from spotify_mcp.emulator.model import Album, spotify_id
from tests.support import Harness
from tests.tools.conftest import Call, data, text

pytestmark = pytest.mark.anyio

UNKNOWN = "0000000000000000000000"


def reference(kind: str, id_: str, form: str) -> str:
    return {
        "id": id_,
        "uri": f"spotify:{kind}:{id_}",
        "url": f"https://open.spotify.com/{kind}/{id_}?si=abc",
        "intl-url": f"https://open.spotify.com/intl-de/{kind}/{id_}",
    }[form]


FORMS = ["id", "uri", "url", "intl-url"]


def calls_to(h: Harness, path: str) -> int:
    return sum(1 for _, p in h.world.api_calls if p == path)


@pytest.mark.parametrize("form", FORMS)
async def test_a_track_is_found_by_id_uri_or_link_and_shown_compactly(call: Call, h: Harness, form: str) -> None:
    neon = h.world.track_by_name("Neon Tide")
    result = await call("getTrack", trackId=reference("track", neon.id, form))
    found = data(result)
    assert found == {
        "id": neon.id,
        "uri": f"spotify:track:{neon.id}",
        "name": "Neon Tide",
        "artists": ["Luna Vega", "DJ Polaris"],
        "album": "Glass Satellites",
        "duration": "3:03",
        "duration_ms": neon.duration_ms,
        "explicit": False,
        "url": f"https://open.spotify.com/track/{neon.id}",
        "added_at": None,
        "played_at": None,
    }
    assert text(result) == f"Neon Tide — Luna Vega, DJ Polaris · Glass Satellites · 3:03 · spotify:track:{neon.id}"


async def test_an_explicit_track_says_so(call: Call, h: Harness) -> None:
    assert data(await call("getTrack", trackId=h.world.track_by_name("Polar Night").id))["explicit"] is True


@pytest.mark.parametrize("form", FORMS)
async def test_an_album_is_found_by_id_uri_or_link(call: Call, h: Harness, form: str) -> None:
    album = h.world.album_by_name("Glass Satellites")
    result = await call("getAlbum", albumId=reference("album", album.id, form))
    found = data(result)
    assert (found["name"], found["artists"], found["album_type"]) == ("Glass Satellites", ["Luna Vega"], "album")
    assert (found["release_date"], found["total_tracks"]) == ("2021-03-12", 5)
    assert "tracks" not in found
    assert text(result) == f"Glass Satellites — Luna Vega (2021) · 5 tracks · spotify:album:{album.id}"


async def test_an_albums_tracks_are_listed_in_order_a_page_at_a_time(call: Call, h: Harness) -> None:
    album = h.world.album_by_name("Glass Satellites")
    first = await call("getAlbumTracks", albumId=f"spotify:album:{album.id}", limit=3)
    found = data(first)
    assert [t["id"] for t in found["items"]] == album.track_ids[:3]
    assert [t["name"] for t in found["items"]] == ["Glass Satellites", "Neon Tide", "Zero Gravity Love"]
    assert (found["total"], found["next_offset"]) == (5, 3)
    assert text(first).splitlines()[-1] == "More: call again with offset=3."
    rest = data(await call("getAlbumTracks", albumId=album.id, offset=3))
    assert [t["id"] for t in rest["items"]] == album.track_ids[3:]
    assert rest["next_offset"] is None
    assert text(first).splitlines()[1].startswith("1. Glass Satellites — Luna Vega · 3:16 · spotify:track:")


@pytest.mark.parametrize("form", FORMS)
async def test_an_artist_is_found_by_id_uri_or_link(call: Call, h: Harness, form: str) -> None:
    artist = h.world.artist_by_name("Marta Rossi")
    result = await call("getArtist", artistId=reference("artist", artist.id, form))
    found = data(result)
    assert (found["id"], found["name"], found["uri"]) == (artist.id, "Marta Rossi", f"spotify:artist:{artist.id}")
    assert found["url"] == f"https://open.spotify.com/artist/{artist.id}"
    assert text(result) == f"Marta Rossi · spotify:artist:{artist.id}"


async def test_an_artists_albums_come_grouped_newest_first(call: Call, h: Harness) -> None:
    luna = h.world.artist_by_name("Luna Vega")
    result = await call("getArtistAlbums", artistId=luna.id)
    found = data(result)
    assert [(a["name"], a["album_type"]) for a in found["items"]] == [
        ("Glass Satellites", "album"),
        ("Orbit", "single"),
        ("Summer Sessions", "compilation"),
    ]
    assert found["next_offset"] is None
    assert text(result).startswith("Albums (3 of 3):\n1. Glass Satellites — Luna Vega (2021) · 5 tracks")


async def test_include_groups_narrows_an_artists_albums(call: Call, h: Harness) -> None:
    polaris = h.world.artist_by_name("DJ Polaris")
    singles = data(await call("getArtistAlbums", artistId=polaris.id, includeGroups="single"))
    assert [a["name"] for a in singles["items"]] == ["Northern Lights EP"]
    featured = data(await call("getArtistAlbums", artistId=polaris.id, includeGroups="appears_on,compilation"))
    assert [a["name"] for a in featured["items"]] == ["Summer Sessions", "Glass Satellites"]


async def test_an_unknown_album_group_is_refused_before_spotify_is_asked(call: Call, h: Harness) -> None:
    before = len(h.world.api_calls)
    result = await call("getArtistAlbums", artistId=h.world.artist_by_name("Luna Vega").id, includeGroups="ep")
    assert result.is_error
    assert "includeGroups" in text(result)
    assert len(h.world.api_calls) == before


async def test_an_artists_albums_are_gathered_past_spotifys_page_of_ten(call: Call, h: Harness) -> None:
    bloom = h.world.artist_by_name("Static Bloom")
    for n in range(1, 15):
        id_ = spotify_id("album", "bloom-single", str(n))
        h.world.albums[id_] = Album(
            id_, f"Bloom Single {n:02d}", (bloom.id,), "single", date(2000 + n, 1, 1), "0", False
        )
    path = f"/v1/artists/{bloom.id}/albums"
    first = data(await call("getArtistAlbums", artistId=bloom.id, limit=12))
    assert len(first["items"]) == 12
    assert (first["total"], first["next_offset"]) == (15, 12)
    assert calls_to(h, path) == 2
    assert first["items"][0]["name"] == "Dust & Reverb"
    assert first["items"][1]["name"] == "Bloom Single 14"
    rest = data(await call("getArtistAlbums", artistId=bloom.id, limit=12, offset=12))
    assert [a["name"] for a in rest["items"]] == ["Bloom Single 03", "Bloom Single 02", "Bloom Single 01"]
    assert rest["next_offset"] is None


@pytest.mark.parametrize(
    ("tool", "argument", "search"),
    [
        ("getTrack", "trackId", "searchTracks"),
        ("getAlbum", "albumId", "searchAlbums"),
        ("getAlbumTracks", "albumId", "searchAlbums"),
        ("getArtist", "artistId", "searchArtists"),
        ("getArtistAlbums", "artistId", "searchArtists"),
    ],
)
async def test_an_unknown_id_says_so_and_where_to_find_one(call: Call, tool: str, argument: str, search: str) -> None:
    result = await call(tool, **{argument: UNKNOWN})
    assert result.is_error
    assert "Spotify has no" in text(result)
    assert search in text(result)


@pytest.mark.parametrize(
    ("tool", "argument", "value", "expected"),
    [
        ("getTrack", "trackId", "spotify:album:1DFixLWuPkv3KT3TnV35m3", "trackId must refer to a track"),
        ("getAlbum", "albumId", "https://open.spotify.com/track/4uLU6hMCjMI75M1A2tKUQC", "albumId must refer to"),
        ("getArtist", "artistId", "Luna Vega", "not a valid Spotify artist reference"),
        ("getAlbumTracks", "albumId", "https://example.com/album/1DFixLWuPkv3KT3TnV35m3", "not a Spotify ID"),
    ],
)
async def test_a_reference_of_the_wrong_kind_or_shape_never_reaches_spotify(
    call: Call, h: Harness, tool: str, argument: str, value: str, expected: str
) -> None:
    before = len(h.world.api_calls)
    result = await call(tool, **{argument: value})
    assert result.is_error
    assert expected in text(result)
    assert len(h.world.api_calls) == before

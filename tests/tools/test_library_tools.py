"""The library: liked songs, saved albums and followed artists, read in pages; saving, removing and checking by URI."""

from __future__ import annotations

import pytest

from spotify_mcp.emulator.model import Library
from tests.support import Harness
from tests.tools.conftest import Call, data, text

pytestmark = pytest.mark.anyio

USER = "premium-user"
LIKED = [
    "Neon Tide",
    "Streetlight Serenade",
    "Static Hearts",
    "La Luna sul Mare",
    "Harmattan Blues",
    "Aurora",
    "Orbit",
    "Blur the Lines",
]


def library(h: Harness) -> Library:
    return h.world.library[USER]


# reading


async def test_liked_songs_are_listed_newest_first_with_when_they_were_saved(call: Call) -> None:
    result = await call("getSavedTracks", limit=3)
    found = data(result)
    assert [t["name"] for t in found["items"]] == LIKED[:3]
    assert all(t["added_at"] for t in found["items"])
    assert found["items"][0]["added_at"] > found["items"][1]["added_at"]
    assert (found["total"], found["next_offset"]) == (8, 3)
    assert text(result).splitlines()[0] == "Liked songs (3 of 8):"
    assert text(result).splitlines()[-1] == "More: call again with offset=3."


async def test_the_last_page_of_liked_songs_ends_the_listing(call: Call) -> None:
    found = data(await call("getSavedTracks", limit=5, offset=5))
    assert [t["name"] for t in found["items"]] == LIKED[5:]
    assert found["next_offset"] is None


async def test_saved_albums_are_listed_newest_first(call: Call) -> None:
    result = await call("getSavedAlbums")
    found = data(result)
    assert [a["name"] for a in found["items"]] == ["Nocturne Avenue", "Blue Harmattan", "Glass Satellites"]
    assert all(a["added_at"] for a in found["items"])
    assert found["items"][0]["total_tracks"] == 4
    assert "Nocturne Avenue — The Midnight Owls (2019) · 4 tracks" in text(result)


async def test_followed_artists_page_on_with_the_after_cursor(call: Call, h: Harness) -> None:
    first = data(await call("getFollowedArtists", limit=2))
    assert [a["name"] for a in first["items"]] == ["Kofi Mensah Quartet", "Luna Vega"]
    assert first["cursor_param"] == "after"
    assert first["next_cursor"] == h.world.artist_by_name("Luna Vega").id
    assert first["total"] == 3
    rest = await call("getFollowedArtists", limit=2, after=first["next_cursor"])
    assert [a["name"] for a in data(rest)["items"]] == ["The Midnight Owls"]
    assert data(rest)["next_cursor"] is None
    assert "More:" not in text(rest)


async def test_the_followed_artists_text_says_how_to_continue(call: Call) -> None:
    result = await call("getFollowedArtists", limit=1)
    cursor = data(result)["next_cursor"]
    assert text(result).splitlines()[0] == "Followed artists (1 of 3):"
    assert text(result).splitlines()[-1] == f"More: call again with after={cursor}."


async def test_a_malformed_cursor_is_refused(call: Call, h: Harness) -> None:
    before = len(h.world.api_calls)
    result = await call("getFollowedArtists", after="not-an-artist-id")
    assert result.is_error
    assert "after" in text(result)
    assert len(h.world.api_calls) == before


# saving, checking, removing


async def test_saving_mixed_kinds_saves_tracks_and_albums_and_follows_artists_and_playlists(
    call: Call, h: Harness
) -> None:
    track = h.world.track_by_name("Poolside")
    album = h.world.album_by_name("Olive Groves")
    artist = h.world.artist_by_name("Marta Rossi")
    playlist = h.world.playlist_by_name("Frank's Favourites")
    result = await call(
        "saveToLibrary",
        uris=[
            track.id,
            f"https://open.spotify.com/album/{album.id}",
            f"spotify:artist:{artist.id}",
            f"https://open.spotify.com/intl-fr/playlist/{playlist.id}?si=1",
        ],
    )
    assert data(result) == {"message": "Saved 4 items to the library.", "snapshot_id": None}
    assert library(h).contains("track", track.id)
    assert library(h).contains("album", album.id)
    assert library(h).contains("artist", artist.id)
    assert playlist.id in h.world.followed_playlists[USER]
    liked = data(await call("getSavedTracks", limit=1))
    assert liked["items"][0]["name"] == "Poolside"


async def test_check_library_answers_per_uri(call: Call, h: Harness) -> None:
    liked = h.world.track_by_name("Neon Tide")
    other = h.world.track_by_name("Poolside")
    followed = h.world.artist_by_name("Luna Vega")
    playlist = h.world.playlist_by_name("Jazz Classics")
    uris = [
        f"spotify:track:{liked.id}",
        f"spotify:track:{other.id}",
        f"spotify:artist:{followed.id}",
        f"spotify:playlist:{playlist.id}",
    ]
    result = await call("checkLibrary", uris=uris)
    assert data(result)["items"] == dict(zip(uris, [True, False, True, True], strict=True))
    assert text(result).splitlines() == [
        f"{uris[0]}: saved",
        f"{uris[1]}: not saved",
        f"{uris[2]}: saved",
        f"{uris[3]}: saved",
    ]


async def test_removing_mixed_kinds_removes_and_unfollows(call: Call, h: Harness) -> None:
    track = h.world.track_by_name("Neon Tide")
    album = h.world.album_by_name("Nocturne Avenue")
    artist = h.world.artist_by_name("The Midnight Owls")
    playlist = h.world.playlist_by_name("Jazz Classics")
    uris = [
        f"spotify:track:{track.id}",
        f"spotify:album:{album.id}",
        f"spotify:artist:{artist.id}",
        f"spotify:playlist:{playlist.id}",
    ]
    result = await call("removeFromLibrary", uris=uris)
    assert data(result)["message"] == "Removed 4 items from the library."
    assert not library(h).contains("track", track.id)
    assert not library(h).contains("album", album.id)
    assert not library(h).contains("artist", artist.id)
    assert playlist.id not in h.world.followed_playlists[USER]
    assert set(data(await call("checkLibrary", uris=uris))["items"].values()) == {False}
    assert data(await call("getSavedTracks"))["total"] == 7


async def test_one_item_is_counted_in_the_singular(call: Call, h: Harness) -> None:
    result = await call("saveToLibrary", uris=[h.world.track_by_name("Poolside").id])
    assert text(result) == "Saved 1 item to the library."


async def test_saving_something_spotify_does_not_have_says_so(call: Call, h: Harness) -> None:
    known = h.world.track_by_name("Poolside")
    result = await call("saveToLibrary", uris=[f"spotify:track:{known.id}", "spotify:album:0000000000000000000000"])
    assert result.is_error
    assert "does not exist" in text(result)
    assert not library(h).contains("track", known.id)


@pytest.mark.parametrize("tool", ["saveToLibrary", "removeFromLibrary", "checkLibrary"])
async def test_more_than_40_uris_are_refused_before_spotify_is_asked(call: Call, h: Harness, tool: str) -> None:
    uris = [f"spotify:track:{t}" for t in list(h.world.tracks)] + [f"spotify:album:{a}" for a in h.world.albums]
    uris = [*uris, *uris][:41]
    assert len(uris) == 41
    before = len(h.world.api_calls)
    result = await call(tool, uris=uris)
    assert result.is_error
    assert "40" in text(result)
    assert len(h.world.api_calls) == before


@pytest.mark.parametrize("tool", ["saveToLibrary", "removeFromLibrary", "checkLibrary"])
async def test_a_bad_uri_is_refused_naming_its_position(call: Call, h: Harness, tool: str) -> None:
    good = f"spotify:track:{h.world.track_by_name('Poolside').id}"
    before = len(h.world.api_calls)
    result = await call(tool, uris=[good, good, "spotify:track:tooShort"])
    assert result.is_error
    assert "uris[2]" in text(result)
    assert len(h.world.api_calls) == before
    assert library(h).contains("track", h.world.track_by_name("Poolside").id) is False


async def test_a_user_uri_is_not_a_library_item(call: Call, h: Harness) -> None:
    result = await call("saveToLibrary", uris=["spotify:user:free-user"])
    assert result.is_error
    assert "uris[0] must refer to" in text(result)


async def test_an_empty_list_is_refused(call: Call) -> None:
    result = await call("checkLibrary", uris=[])
    assert result.is_error
    assert "uris" in text(result)

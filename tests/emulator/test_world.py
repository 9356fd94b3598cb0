"""The fake world's content is consistent: stable ids, a catalog of ~30 tracks, users as documented."""

from __future__ import annotations

from spotify_mcp.clock import ManualClock
from spotify_mcp.emulator import FREE_USER, PREMIUM_USER, UNLISTED_USER, World
from spotify_mcp.emulator.model import is_spotify_id, spotify_id


def test_ids_are_stable_base62_of_22_characters() -> None:
    assert spotify_id("track", "x") == spotify_id("track", "x")
    assert spotify_id("track", "x") != spotify_id("track", "y")
    assert is_spotify_id(spotify_id("anything"))
    assert not is_spotify_id("too-short")


def test_two_worlds_share_ids(world: World) -> None:
    other = World(ManualClock(start=1_900_000_000.0))
    assert list(other.tracks) == list(world.tracks)
    assert list(other.playlists) == list(world.playlists)


def test_the_catalog_has_about_thirty_tracks_across_artists_and_albums(world: World) -> None:
    assert len(world.tracks) == 30
    assert len(world.artists) == 6
    assert len(world.albums) == 9
    for track in world.tracks.values():
        assert track.id in world.albums[track.album_id].track_ids
        assert all(a in world.artists for a in track.artist_ids)
        assert track.duration_ms > 100_000
    assert len({t.isrc for t in world.tracks.values()}) == 30


def test_the_test_users_are_as_documented(world: World) -> None:
    assert [u.id for u in world.test_users] == [PREMIUM_USER, FREE_USER, UNLISTED_USER]
    assert world.users[PREMIUM_USER].product == "premium"
    assert world.users[FREE_USER].product == "free"
    assert world.allow_listed_users == {PREMIUM_USER, FREE_USER}


def test_playlists_reference_real_tracks_and_users(world: World) -> None:
    for playlist in world.playlists.values():
        assert playlist.owner_id in world.users
        assert all(e.track_id in world.tracks and e.added_by in world.users for e in playlist.entries)
        assert not (playlist.collaborative and playlist.public)
    for user_id, playlist_ids in world.followed_playlists.items():
        assert user_id in world.users
        assert all(p in world.playlists for p in playlist_ids)


def test_history_is_in_the_past_and_newest_first(world: World, clock: ManualClock) -> None:
    plays = world.history[PREMIUM_USER]
    assert len(plays) == 50
    moments = [p.played_at_ms for p in plays]
    assert moments == sorted(moments, reverse=True)
    assert moments[0] < clock.now() * 1000


def test_only_the_premium_user_is_playing(world: World) -> None:
    assert world.current_playback(PREMIUM_USER) is not None
    assert world.current_playback(FREE_USER) is None
    assert [d.is_active for d in world.devices[PREMIUM_USER]].count(True) == 1
